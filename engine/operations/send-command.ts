/**
 * AWS.SendCommand: every Matter command of the request (standard commands, UpdateState 0xff01,
 * ReadState 0xff02) becomes the vendor request(s) its profile declares; one
 * DEVICE_COMMAND_RESPONSE per endpoint follows with the request's TraceId, carrying attributes
 * only where the vendor confirmed the new state.
 */
import { ack, type ConnectorResponse, type InboundCluster, type SendCommandPayload } from "../mi/protocol.ts";
import type { MatterCluster } from "../mi/send-connector-event.ts";
import type { CompiledAction, CompiledCluster, CompiledEndpoint, CompiledField, CompiledProfile } from "../mapping/compiled.ts";
import { formatAttributeId, formatClusterId, parseMatterId, READ_STATE, UPDATE_STATE } from "../matter/ids.ts";
import { bindings, type EvalContext } from "../runtime/context.ts";
import { matchProfile, readCluster } from "../runtime/device-model.ts";
import { VendorError } from "../vendor/types.ts";
import { baseContext, type OperationEnv } from "./environment.ts";
import { errorToStatus, isTransient, safeMessage } from "./errors.ts";
import { keys, TTL } from "./keys.ts";
import { once } from "./idempotency.ts";
import { resolveUserId } from "./user-identity.ts";

interface CommandOutcome {
  key: string;
  status: number;
  message?: string;
  /** Confirmed attributes: cluster hex id -> attribute hex id -> value. */
  attributes: Array<{ cluster: string; attribute: string; value: unknown }>;
  fields: Record<string, unknown>;
}

/** Thrown when the vendor is too slow for the ACK budget: the handler hands the command off. */
export class HandOffCommand extends Error {
  constructor() {
    super("command handed off");
    this.name = "HandOffCommand";
  }
}

export interface SendCommandOptions {
  /** A deferred job re-runs a command that was deduplicated already. */
  skipDedupe?: boolean;
  /** Sync path with a dispatcher: a vendor timeout hands the command off instead of failing it. */
  handOffOnTimeout?: boolean;
  /** Deferred job with attempts left: transient vendor failures throw, so the job is retried. */
  throwTransient?: boolean;
}

class CommandFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function sendCommand(env: OperationEnv, opts: SendCommandOptions = {}): Promise<ConnectorResponse> {
  const p = env.request.payload as SendCommandPayload;
  if (opts.skipDedupe) return executeCommand(env, opts);
  return once(
    env,
    keys.trace(p.connectorId, p.traceId),
    `Command with trace id ${p.traceId} was already received`,
    () => executeCommand(env, opts),
    (err) => err instanceof HandOffCommand,
  );
}

async function executeCommand(env: OperationEnv, opts: SendCommandOptions): Promise<ConnectorResponse> {
  const p = env.request.payload as SendCommandPayload;
  const ctx = baseContext(env);
  ctx.deviceId = p.connectorDeviceId;

  let resolved: { profile?: CompiledProfile; device?: unknown };
  try {
    resolved = await resolveDevice(env, ctx, p);
  } catch (err) {
    escalate(err, opts);
    const status = err instanceof CommandFailure ? err.status : errorToStatus(err, env.bundle);
    const message = err instanceof CommandFailure ? err.message : safeMessage(err);
    env.logger.warn("device could not be resolved for the command", { status, error: err });
    await reportCommandFailure(env, status, message);
    return ack(status, message);
  }
  const { profile, device } = resolved;
  ctx.device = device;
  const perEndpoint = new Map<string, CommandOutcome[]>();
  for (const ep of p.endpoints) {
    const cep = profile?.endpoints.find((e) => e.id === ep.id);
    const outcomes: CommandOutcome[] = [];
    for (const c of ep.clusters) {
      for (const [key, fields] of commandEntries(c)) {
        outcomes.push(await runOne(env, { ...ctx, endpointId: ep.id }, profile, cep, c.id, key, fields, device, opts));
      }
    }
    perEndpoint.set(ep.id, outcomes);
  }

  await publishResponses(env, perEndpoint);
  const all = [...perEndpoint.values()].flat();
  const failed = all.filter((o) => o.status >= 300);
  if (all.length && failed.length === all.length) {
    return ack(failed[0].status, failed[0].message ?? "command failed");
  }
  return ack(200, `Successfully received send-command request for connector ${p.connectorId} and connector-device-id ${p.connectorDeviceId}`);
}

async function userIdOrUndefined(env: OperationEnv): Promise<string | undefined> {
  try {
    return await resolveUserId(env);
  } catch (err) {
    env.logger.warn("user id unknown for the command response", { error: err });
    return undefined;
  }
}

/** Slow vendor on the sync path -> hand off; transient failure in a job with attempts left -> retry. */
function escalate(err: unknown, opts: SendCommandOptions): void {
  if (!(err instanceof VendorError)) return;
  if (opts.handOffOnTimeout && (err.kind === "deadline" || err.kind === "timeout")) throw new HandOffCommand();
  if (opts.throwTransient && isTransient(err)) throw err;
}

/** A DEVICE_COMMAND_RESPONSE for a command that failed as a whole (every command gets the status). */
export async function reportCommandFailure(env: OperationEnv, status: number, message: string): Promise<void> {
  const p = env.request.payload as SendCommandPayload;
  const perEndpoint = new Map<string, CommandOutcome[]>();
  for (const ep of p.endpoints) {
    perEndpoint.set(
      ep.id,
      ep.clusters.flatMap((c) => commandEntries(c).map(([key]): CommandOutcome => ({ key, status, message, attributes: [], fields: {} }))),
    );
  }
  await publishResponses(env, perEndpoint);
}

/** One DEVICE_COMMAND_RESPONSE per endpoint; its StatusCode and Message are those of its first failure. */
async function publishResponses(env: OperationEnv, perEndpoint: Map<string, CommandOutcome[]>): Promise<void> {
  const p = env.request.payload as SendCommandPayload;
  const userId = await userIdOrUndefined(env);
  for (const [endpointId, outcomes] of perEndpoint) {
    const worst = outcomes.find((o) => o.status >= 300);
    await env.publisher.publish({
      ConnectorId: p.connectorId,
      Operation: "DEVICE_COMMAND_RESPONSE",
      OperationVersion: "1.0",
      TraceId: p.traceId,
      ConnectorDeviceId: p.connectorDeviceId,
      ...(userId ? { UserId: userId } : {}),
      StatusCode: worst ? worst.status : 200,
      ...(worst?.message ? { Message: worst.message } : {}),
      MatterEndpoint: { id: endpointId, clusters: clustersOf(p, endpointId, outcomes) },
    });
  }
}

async function resolveDevice(env: OperationEnv, ctx: EvalContext, p: SendCommandPayload): Promise<{ profile?: CompiledProfile; device?: unknown }> {
  const get = env.bundle.operations.getDevice;
  if (get) {
    // A device's profile does not change: once known, commands that do not read the device's
    // state skip the extra vendor read (one request less per command, and less rate limit).
    const cacheKey = keys.profileOf(p.connectorId, p.connectorDeviceId);
    if (!needsDeviceState(env, p)) {
      const cached = await env.store.get<string>(cacheKey);
      const profile = env.bundle.profiles.find((pr) => pr.id === cached);
      if (profile) return { profile };
    }
    const res = await env.calls.run(get.request, ctx, env.deadline);
    const device = await env.evaluator.evaluate(get.device, res.body, bindings({ ...ctx, response: res.body }));
    if (device === undefined || device === null) throw new CommandFailure(404, "device not found at the vendor");
    const profile = await matchProfile(env.bundle, device, env.evaluator, { ...ctx, device });
    if (profile) await env.store.put(cacheKey, profile.id, TTL.profileOf);
    return { profile, device };
  }
  // Without a device read, the first profile that has every targeted cluster on its endpoint.
  const targets = p.endpoints.flatMap((e) => e.clusters.map((c) => [e.id, parseMatterId(c.id)] as const));
  const profile = env.bundle.profiles.find((pr) =>
    targets.every(([epId, cid]) => pr.endpoints.some((e) => e.id === epId && e.clusters.some((c) => c.id === cid))),
  );
  return { profile };
}

/**
 * Whether the request needs the device's current vendor state: ReadState does, and so does any
 * command of any profile whose expressions read `device` (e.g. Toggle confirming the opposite of
 * the previous state). Judged on the expression text, erring towards reading.
 */
function needsDeviceState(env: OperationEnv, p: SendCommandPayload): boolean {
  for (const ep of p.endpoints) {
    for (const c of ep.clusters) {
      const clusterId = safeId(c.id);
      for (const [key] of commandEntries(c)) {
        const id = safeId(key);
        if (id === READ_STATE) return true;
        for (const profile of env.bundle.profiles) {
          const cluster = profile.endpoints.find((e) => e.id === ep.id)?.clusters.find((x) => x.id === clusterId);
          const actions = id === UPDATE_STATE ? cluster?.attributes.map((a) => a.write) : [cluster?.commands.find((x) => x.id === id)?.action];
          if (actions?.some((a) => a && sources(a).some((src) => READS_DEVICE.test(src)))) return true;
        }
      }
    }
  }
  return false;
}

const READS_DEVICE = /\bdevice\b/;

/** Every expression source inside a compiled action. */
function sources(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) sources(n, out);
  else if (node && typeof node === "object") {
    const o = node as Record<string, unknown>;
    if (typeof o.src === "string" && typeof o.at === "string") out.push(o.src);
    else for (const v of Object.values(o)) sources(v, out);
  }
  return out;
}

/** Commands arrive as an array of single-key objects (documented) or as a map; accept both. */
function commandEntries(c: InboundCluster): Array<[string, Record<string, unknown>]> {
  const raw = c.commands;
  if (!raw) return [];
  const maps = Array.isArray(raw) ? raw : [raw];
  return maps.flatMap((m) => Object.entries(m).map(([k, v]) => [k, (v ?? {}) as Record<string, unknown>] as [string, Record<string, unknown>]));
}

async function runOne(
  env: OperationEnv,
  ctx: EvalContext,
  profile: CompiledProfile | undefined,
  endpoint: CompiledEndpoint | undefined,
  clusterRef: string,
  key: string,
  fields: Record<string, unknown>,
  device: unknown,
  opts: SendCommandOptions,
): Promise<CommandOutcome> {
  const outcome: CommandOutcome = { key, status: 200, attributes: [], fields: {} };
  try {
    if (!profile) throw new CommandFailure(404, "no profile of this connector supports the device");
    if (!endpoint) throw new CommandFailure(404, `endpoint is not part of the device profile ${profile.id}`);
    const cluster = endpoint.clusters.find((c) => c.id === parseMatterId(clusterRef));
    if (!cluster) throw new CommandFailure(404, `cluster ${clusterRef} is not supported on this endpoint`);
    let commandId: number;
    try {
      commandId = parseMatterId(key);
    } catch {
      throw new CommandFailure(400, `command id ${key} is not a Matter id`);
    }
    if (commandId === UPDATE_STATE) await updateState(env, ctx, endpoint, cluster, fields, outcome);
    else if (commandId === READ_STATE) await readState(env, ctx, cluster, fields, device, outcome);
    else {
      const cmd = cluster.commands.find((c) => c.id === commandId);
      if (!cmd) throw new CommandFailure(501, `command ${key} of cluster ${cluster.name} is not supported`);
      const cctx: EvalContext = {
        ...ctx,
        command: { id: cmd.hexId, name: cmd.name, cluster: cluster.hexId },
        fields: fieldValues(cmd.fields, fields),
      };
      await runAction(env, cctx, endpoint, cluster, cmd.action, outcome);
    }
  } catch (err) {
    escalate(err, opts);
    outcome.status = err instanceof CommandFailure ? err.status : errorToStatus(err, env.bundle);
    outcome.message = err instanceof CommandFailure ? err.message : safeMessage(err);
    outcome.attributes = [];
    env.logger.warn("command failed", { command: key, cluster: clusterRef, status: outcome.status, error: err });
  }
  return outcome;
}

async function runAction(
  env: OperationEnv,
  ctx: EvalContext,
  endpoint: CompiledEndpoint,
  cluster: CompiledCluster,
  action: CompiledAction,
  outcome: CommandOutcome,
): Promise<void> {
  for (const req of action.requests) {
    const res = await env.calls.run(req, ctx, env.deadline);
    ctx.response = res.body;
    ctx.status = res.status;
    ctx.headers = res.headers;
  }
  for (const c of action.confirms) {
    const v = await env.evaluator.evaluate(c.expr, ctx, bindings(ctx));
    if (v === undefined) continue;
    const target = endpoint.clusters.find((x) => x.id === c.clusterId) ?? cluster;
    const attr = target.attributes.find((a) => a.id === c.attributeId);
    outcome.attributes.push({ cluster: target.hexId, attribute: attr?.hexId ?? formatAttributeId(c.attributeId), value: v });
  }
  for (const f of action.responseFields) {
    const v = await env.evaluator.evaluate(f.expr, ctx, bindings(ctx));
    if (v !== undefined) outcome.fields[f.hexId] = v;
  }
}

async function updateState(
  env: OperationEnv,
  ctx: EvalContext,
  endpoint: CompiledEndpoint,
  cluster: CompiledCluster,
  fields: Record<string, unknown>,
  outcome: CommandOutcome,
): Promise<void> {
  const writes = Object.entries(fields).map(([k, v]) => {
    const attr = cluster.attributes.find((a) => a.id === safeId(k));
    if (!attr) throw new CommandFailure(400, `attribute ${k} is not part of cluster ${cluster.name} in this profile`);
    if (!attr.write) throw new CommandFailure(405, `attribute ${attr.name} of cluster ${cluster.name} cannot be written`);
    return { attr, value: coerce(v, attr.type) };
  });
  if (!writes.length) throw new CommandFailure(400, "UpdateState names no attribute");
  const attributes: Record<string, unknown> = {};
  for (const w of writes) attributes[w.attr.name] = attributes[w.attr.hexId] = w.value;
  for (const w of writes) {
    const wctx: EvalContext = { ...ctx, value: w.value, attributes, command: { id: "0xFF01", name: "UpdateState", cluster: cluster.hexId } };
    await runAction(env, wctx, endpoint, cluster, w.attr.write!, outcome);
    // A successful write confirms the written value unless the mapping confirmed it otherwise.
    if (!outcome.attributes.some((a) => a.cluster === cluster.hexId && a.attribute === w.attr.hexId)) {
      outcome.attributes.push({ cluster: cluster.hexId, attribute: w.attr.hexId, value: w.value });
    }
  }
}

async function readState(
  env: OperationEnv,
  ctx: EvalContext,
  cluster: CompiledCluster,
  fields: Record<string, unknown>,
  device: unknown,
  outcome: CommandOutcome,
): Promise<void> {
  if (device === undefined) throw new CommandFailure(501, "ReadState needs operations.getDevice in the mapping");
  const ids = Object.keys(fields).filter((k) => k !== "*");
  const only = ids.length ? new Set(ids.map(safeId)) : undefined;
  const values = await readCluster(cluster, device, env.evaluator, ctx, only);
  for (const [attribute, value] of values) outcome.attributes.push({ cluster: cluster.hexId, attribute, value });
}

function clustersOf(p: SendCommandPayload, endpointId: string, outcomes: CommandOutcome[]): MatterCluster[] {
  const ep = p.endpoints.find((e) => e.id === endpointId)!;
  const byCluster = new Map<string, MatterCluster>();
  let i = 0;
  for (const c of ep.clusters) {
    const hex = formatClusterId(safeId(c.id));
    const mc: MatterCluster = byCluster.get(hex) ?? { id: hex };
    byCluster.set(hex, mc);
    for (const [key] of commandEntries(c)) {
      const o = outcomes[i++];
      const entry: Record<string, unknown> = { ...o.fields, responseCode: o.status };
      if (o.status >= 300) entry.errors = { code: String(o.status), message: o.message ?? "failed" };
      mc.commands = { ...(mc.commands ?? {}), [key]: entry };
    }
  }
  for (const o of outcomes) {
    for (const a of o.attributes) {
      const mc = byCluster.get(a.cluster) ?? { id: a.cluster };
      byCluster.set(a.cluster, mc);
      mc.attributes = { ...((mc.attributes as Record<string, unknown>) ?? {}), [a.attribute]: a.value };
    }
  }
  return [...byCluster.values()];
}

/** Command fields by Matter name and by canonical and received id. */
function fieldValues(defs: CompiledField[], raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    const def = defs.find((f) => f.id === safeId(k) || f.name.toLowerCase() === k.toLowerCase());
    const value = coerce(v, def?.type);
    out[k] = value;
    if (def) out[def.name] = out[def.hexId] = value;
  }
  return out;
}

const NON_NUMERIC = /str|string|bool|struct|list/i;

/** MI sends numbers as strings ("3"); Matter numeric types get numbers, bools get booleans. */
export function coerce(value: unknown, type?: string): unknown {
  if (typeof value !== "string" || !type) return value;
  if (/^bool/i.test(type)) return value === "true" ? true : value === "false" ? false : value;
  if (!NON_NUMERIC.test(type) && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  return value;
}

function safeId(k: string): number {
  try {
    return parseMatterId(k);
  } catch {
    return -1;
  }
}
