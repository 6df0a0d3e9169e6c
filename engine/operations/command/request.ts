/**
 * The MI side of a command: how SendCommand's endpoints, clusters and commands are read, and how
 * a plan's command finds its compiled definition and evaluation context again (in the attempt
 * that planned it and in any job that resumes it).
 */
import type { InboundCluster, SendCommandPayload } from "../../mi/protocol.ts";
import type { CompiledAction, CompiledBundle, CompiledCluster, CompiledCommand, CompiledEndpoint, CompiledField, CompiledProfile } from "../../mapping/compiled.ts";
import { parseMatterId } from "../../matter/ids.ts";
import type { EvalContext } from "../../runtime/context.ts";
import { endpointContext, type DeviceEndpoint } from "../../runtime/device-model.ts";
import { baseContext, type OperationEnv } from "../environment.ts";
import type { CommandPlan, PlannedCommand, PlanPart } from "./plan.ts";

/** Commands arrive as an array of single-key objects (documented) or as a map; accept both. */
export function commandEntries(c: InboundCluster): Array<[string, Record<string, unknown>]> {
  const raw = c.commands;
  if (!raw) return [];
  const maps = Array.isArray(raw) ? raw : [raw];
  return maps.flatMap((m) => Object.entries(m).map(([k, v]) => [k, (v ?? {}) as Record<string, unknown>] as [string, Record<string, unknown>]));
}

/** Every command of the request in order: endpoint, cluster, command. */
export function requestCommands(p: SendCommandPayload): Array<{ endpointId: string; clusterRef: string; key: string; fields: Record<string, unknown> }> {
  return p.endpoints.flatMap((ep) =>
    ep.clusters.flatMap((c) => commandEntries(c).map(([key, fields]) => ({ endpointId: ep.id, clusterRef: c.id, key, fields }))),
  );
}

const NON_NUMERIC = /str|string|bool|struct|list/i;

/** MI sends numbers as strings ("3"); Matter numeric types get numbers, bools get booleans. */
export function coerce(value: unknown, type?: string): unknown {
  if (typeof value !== "string" || !type) return value;
  if (/^bool/i.test(type)) return value === "true" ? true : value === "false" ? false : value;
  if (!NON_NUMERIC.test(type) && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  return value;
}

/** Command fields by Matter name and by canonical and received id. */
export function fieldValues(defs: CompiledField[], raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    const def = defs.find((f) => f.id === safeId(k) || f.name.toLowerCase() === k.toLowerCase());
    const value = coerce(v, def?.type);
    out[k] = value;
    if (def) out[def.name] = out[def.hexId] = value;
  }
  return out;
}

export function safeId(k: string): number {
  try {
    return parseMatterId(k);
  } catch {
    return -1;
  }
}

export interface PartDefinition {
  endpoint: CompiledEndpoint;
  cluster: CompiledCluster;
  command?: CompiledCommand;
  /** The action the part runs (undefined for ReadState). */
  action?: CompiledAction;
  ctx: EvalContext;
}

/** The endpoint of the device with this id: declared, or generated (its element recorded in the plan). */
export function planEndpoint(profile: CompiledProfile, plan: CommandPlan, id: string): DeviceEndpoint | undefined {
  const declared = profile.endpoints.find((e) => !e.forEach && e.id === id);
  if (declared) return declared;
  const rec = plan.endpoints?.[id];
  const template = rec && profile.endpoints.find((e) => e.id === rec.template);
  return template && rec ? { ...template, id, element: rec.element, elementIndex: rec.elementIndex, template: template.id } : undefined;
}

export function planProfile(bundle: CompiledBundle, plan: CommandPlan): CompiledProfile | undefined {
  return bundle.profiles.find((p) => p.id === plan.profileId);
}

/**
 * The compiled definition and evaluation context of one part. Deterministic from the MI request
 * and the plan (the device snapshot included), so a job evaluates exactly what the attempt did.
 */
export function partDefinition(env: OperationEnv, plan: CommandPlan, pc: PlannedCommand, part: PlanPart, responses: Record<string, unknown>): PartDefinition {
  const profile = planProfile(env.bundle, plan)!;
  const endpoint = planEndpoint(profile, plan, pc.endpointId)!;
  const cluster = endpoint.clusters.find((c) => c.id === parseMatterId(pc.clusterRef))!;
  const base: EvalContext = { ...baseContext(env), responses, deviceId: (env.request.payload as SendCommandPayload).connectorDeviceId };
  const ctx: EvalContext = endpointContext(base, endpoint);
  if (plan.device !== undefined) ctx.device = plan.device;
  if (part.kind === "read") return { endpoint, cluster, ctx };
  if (part.kind === "write") {
    const attr = cluster.attributes.find((a) => a.id === part.attributeId)!;
    const attributes: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(pc.fields)) {
      const a = cluster.attributes.find((x) => x.id === safeId(k));
      if (a) attributes[a.name] = attributes[a.hexId] = coerce(v, a.type);
    }
    const value = attributes[attr.hexId];
    return {
      endpoint,
      cluster,
      action: attr.write,
      ctx: { ...ctx, value, attributes, command: { id: "0xFF01", name: "UpdateState", cluster: cluster.hexId } },
    };
  }
  const command = cluster.commands.find((c) => c.id === parseMatterId(pc.key))!;
  return {
    endpoint,
    cluster,
    command,
    action: command.action,
    ctx: { ...ctx, command: { id: command.hexId, name: command.name, cluster: cluster.hexId }, fields: fieldValues(command.fields, pc.fields) },
  };
}
