/**
 * Planning: the MI request -> a CommandPlan. Runs once per MI request (the first attempt, or a
 * retry that re-executes a request that failed before any vendor effect). It reads the device
 * where the commands need its state, checks every command against the device's profile, builds
 * each part's first vendor request now (so a Toggle's target is fixed here) and combines the
 * requests the mapping declares batchable.
 */
import { requireReadableBody } from "../../vendor/unusable.ts";
import type { SendCommandPayload } from "../../mi/protocol.ts";
import type { CompiledAction, CompiledProfile } from "../../mapping/compiled.ts";
import { parseMatterId, READ_STATE, UPDATE_STATE } from "../../matter/ids.ts";
import { bindings, type EvalContext } from "../../runtime/context.ts";
import { endpointsOf, hasDynamicEndpoints, matchProfile } from "../../runtime/device-model.ts";
import { sanitizeMessage } from "../../mi/event-normalize.ts";
import { readDevice as readJoinedDevice } from "../get-device.ts";
import { KnownDevices, type KnownDevice } from "../../events/known-devices.ts";
import { VendorError } from "../../vendor/types.ts";
import type { OperationEnv } from "../environment.ts";
import { baseContext } from "../environment.ts";
import { errorToStatus, isTransient, safeMessage } from "../errors.ts";
import { keys, TTL } from "../keys.ts";
import { combine, batchKey, type BatchMember } from "./batch.ts";
import type { CommandPlan, PlannedCommand, PlanPart, PlanStep, StoredRequest } from "./plan.ts";
import { HandOffCommand } from "./hand-off.ts";
import { commandEntries, partDefinition, planEndpoint, requestCommands, safeId } from "./request.ts";
import { checkCommandFields, checkDeviceLimits, checkWrittenValue, limitedValues, limitsNeedDevice, type MatterRefusal } from "./value-checks.ts";

/** A command that cannot be carried out as asked; nothing is sent for it. */
export class CommandRefused extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Matter status name (e.g. "CONSTRAINT_ERROR") for the response's `errors.code`. */
    readonly code?: string,
  ) {
    super(message);
  }

  static matter(refusal: MatterRefusal): CommandRefused {
    return new CommandRefused(refusal.status, refusal.message, refusal.code);
  }
}

/**
 * `canHandOff`: the synchronous attempt with a dispatcher; a device read too slow for the ACK
 * budget hands the whole command to a job, which plans it anew (a read has no vendor effect).
 */
export async function buildPlan(env: OperationEnv, opts: { canHandOff?: boolean } = {}): Promise<CommandPlan> {
  const p = env.request.payload as SendCommandPayload;
  const plan: CommandPlan = { version: 1, traceId: p.traceId, commands: [], steps: [] };
  const ctx: EvalContext = { ...baseContext(env), deviceId: p.connectorDeviceId };
  let profile: CompiledProfile | undefined;
  try {
    const resolved = await resolveDevice(env, ctx, p);
    profile = resolved.profile;
    if (resolved.device !== undefined) plan.device = resolved.device;
    const generated = profile && (await generatedEndpoints(env, ctx, profile, resolved.device, resolved.known, p));
    if (generated) plan.endpoints = generated;
  } catch (err) {
    if (opts.canHandOff && err instanceof VendorError && (err.kind === "timeout" || err.kind === "deadline")) throw new HandOffCommand();
    // Over a quota the read was not sent: the job plans the command once the quota has room.
    if (opts.canHandOff && err instanceof VendorError && err.kind === "quota") throw new HandOffCommand(undefined, err.retryAfterMs);
    plan.failure = describeFailure(err, env);
    env.logger.warn("device could not be resolved for the command", { status: plan.failure.status, error: err });
    plan.commands = requestCommands(p).map((c) => ({ ...c, failure: plan.failure, parts: [] }));
    return plan;
  }
  if (profile) plan.profileId = profile.id;

  for (const c of requestCommands(p)) {
    const pc: PlannedCommand = { ...c, parts: [] };
    plan.commands.push(pc);
    try {
      pc.parts = partsOf(profile, plan, pc);
      await checkLimits(env, ctx, profile!, plan, pc, plan.device);
    } catch (err) {
      pc.failure = describeFailure(err, env);
    }
  }
  await buildFirstRequests(env, plan);
  return plan;
}

/** Device limits of the command's values (before any vendor call); throws CONSTRAINT_ERROR. */
async function checkLimits(env: OperationEnv, ctx: EvalContext, profile: CompiledProfile, plan: CommandPlan, pc: PlannedCommand, device: unknown): Promise<void> {
  const cluster = planEndpoint(profile, plan, pc.endpointId)?.clusters.find((c) => c.id === safeId(pc.clusterRef));
  if (!cluster) return;
  const values = limitedValues(cluster, safeId(pc.key), pc.fields);
  const refusal = await checkDeviceLimits(cluster, values, device, env.evaluator, { ...ctx, device, endpointId: pc.endpointId }, env.logger);
  if (refusal) throw CommandRefused.matter(refusal);
}

/** The mapping's refusals of an action, checked before any vendor request: the first that holds answers. */
async function refuseIfDeclared(env: OperationEnv, ctx: EvalContext, action: CompiledAction): Promise<void> {
  for (const r of action.refuse ?? []) {
    if ((await env.evaluator.evaluate(r.when, ctx, bindings(ctx))) !== true) continue;
    const message = r.message ? await env.evaluator.evaluate(r.message, ctx, bindings(ctx)) : undefined;
    const text = typeof message === "string" || typeof message === "number" ? sanitizeMessage(String(message)) : "";
    throw new CommandRefused(r.status, text || `refused by the mapping (${r.when.at})`);
  }
}

function describeFailure(err: unknown, env: OperationEnv): { status: number; message: string; transient: boolean; code?: string } {
  if (err instanceof CommandRefused) return { status: err.status, message: err.message, transient: false, ...(err.code ? { code: err.code } : {}) };
  return { status: errorToStatus(err, env.bundle), message: safeMessage(err), transient: isTransient(err, env.bundle) };
}

/** The actions an MI command becomes, or a refusal naming why the profile cannot do it. */
function partsOf(profile: CompiledProfile | undefined, plan: CommandPlan, pc: PlannedCommand): PlanPart[] {
  if (!profile) throw new CommandRefused(404, "no profile of this connector supports the device");
  const endpoint = planEndpoint(profile, plan, pc.endpointId);
  if (!endpoint) throw new CommandRefused(404, `endpoint is not part of the device profile ${profile.id}`);
  const cluster = endpoint.clusters.find((c) => c.id === safeId(pc.clusterRef));
  if (!cluster) throw new CommandRefused(404, `cluster ${pc.clusterRef} is not supported on this endpoint`);
  let commandId: number;
  try {
    commandId = parseMatterId(pc.key);
  } catch {
    throw new CommandRefused(400, `command id ${pc.key} is not a Matter id`);
  }
  if (commandId === READ_STATE) return [{ kind: "read", steps: [] }];
  if (commandId === UPDATE_STATE) {
    const parts = Object.keys(pc.fields).map((k): PlanPart => {
      const attr = cluster.attributes.find((a) => a.id === safeId(k));
      if (!attr) throw new CommandRefused(400, `attribute ${k} is not part of cluster ${cluster.name} in this profile`);
      if (!attr.write) throw new CommandRefused(405, `attribute ${attr.name} of cluster ${cluster.name} cannot be written`);
      const refusal = checkWrittenValue(cluster, attr, pc.fields[k]);
      if (refusal) throw CommandRefused.matter(refusal);
      return { kind: "write", attributeId: attr.id, steps: [] };
    });
    if (!parts.length) throw new CommandRefused(400, "UpdateState names no attribute");
    return parts;
  }
  const cmd = cluster.commands.find((c) => c.id === commandId);
  if (!cmd) throw new CommandRefused(501, `command ${pc.key} of cluster ${cluster.name} is not supported`);
  const refusal = checkCommandFields(cluster, cmd, pc.fields);
  if (refusal) throw CommandRefused.matter(refusal);
  return [{ kind: "invoke", steps: [] }];
}

/**
 * Every part's first request is built now, from the device as read at planning; batchable ones
 * are combined. Later requests of a multi-request action depend on earlier answers and are built
 * when due (from the same recorded state).
 */
async function buildFirstRequests(env: OperationEnv, plan: CommandPlan): Promise<void> {
  const responses: Record<string, unknown> = {};
  type Built = { ci: number; pi: number; request: StoredRequest; name: string; idempotent: boolean; batchable: boolean; rest: number };
  const built: Built[] = [];
  for (const [ci, pc] of plan.commands.entries()) {
    if (pc.failure) continue;
    try {
      const made: Built[] = [];
      for (const [pi, part] of pc.parts.entries()) {
        if (part.kind === "read") continue;
        const def = partDefinition(env, plan, pc, part, responses);
        // The mapping's refusals come before any request: a refused part fails its whole command.
        await refuseIfDeclared(env, def.ctx, def.action!);
        const call = def.action!.requests[0];
        const { auth: _auth, ...request } = await env.calls.buildSpec(call, def.ctx, undefined, { storable: true });
        const single = def.action!.requests.length === 1;
        made.push({ ci, pi, request, name: call.name, idempotent: call.idempotent === true, batchable: single && !!call.batch, rest: def.action!.requests.length - 1 });
      }
      built.push(...made);
    } catch (err) {
      pc.failure = describeFailure(err, env);
    }
  }
  // Group batchable requests; each group (or chunk of it) becomes one step at its first member's place.
  const groups = new Map<string, Built[]>();
  for (const b of built) {
    if (!b.batchable || plan.commands[b.ci].failure) continue;
    const k = batchKey(b.name, b.request);
    groups.set(k, [...(groups.get(k) ?? []), b]);
  }
  const placed = new Set<Built>();
  for (const b of built) {
    if (placed.has(b) || plan.commands[b.ci].failure) continue;
    const pc = plan.commands[b.ci];
    const call = partDefinitionCall(env, plan, b.ci, b.pi);
    const group = b.batchable ? groups.get(batchKey(b.name, b.request))! : [b];
    const members: BatchMember[] = group.map((m, i) => ({ id: i, request: m.request }));
    for (const out of call.batch && group.length > 1 ? combine(call.batch, members) : members.map((m) => ({ request: m.request, members: [m.id] }))) {
      const step: PlanStep = {
        owner: { command: group[out.members[0]].ci, part: group[out.members[0]].pi, request: 0 },
        name: b.name,
        idempotent: b.idempotent,
        request: out.request,
        state: "planned",
        resends: 0,
      };
      const index = plan.steps.push(step) - 1;
      for (const m of out.members) plan.commands[group[m].ci].parts[group[m].pi].steps.push(index);
    }
    for (const m of group) placed.add(m);
    // Later requests of a multi-request action follow its first, unbuilt until due.
    for (let r = 1; r <= b.rest; r++) {
      const later = partDefinitionCall(env, plan, b.ci, b.pi, r);
      const index = plan.steps.push({ owner: { command: b.ci, part: b.pi, request: r }, name: later.name, idempotent: later.idempotent === true, state: "planned", resends: 0 }) - 1;
      pc.parts[b.pi].steps.push(index);
    }
  }
}

function partDefinitionCall(env: OperationEnv, plan: CommandPlan, ci: number, pi: number, request = 0) {
  const pc = plan.commands[ci];
  return partDefinition(env, plan, pc, pc.parts[pi], {}).action!.requests[request];
}

async function resolveDevice(
  env: OperationEnv,
  ctx: EvalContext,
  p: SendCommandPayload,
): Promise<{ profile?: CompiledProfile; device?: unknown; known?: KnownDevice }> {
  // The profile the device was discovered with wins: a later read may be partial, or match
  // another kind of device, and must not change what the device is.
  const known = (await new KnownDevices(env.store, p.connectorId).get(p.connectorDeviceId)) ?? (await profileMatchedBefore(env, p));
  const knownP = known && env.bundle.profiles.find((pr) => pr.id === known.profile);
  const get = env.bundle.operations.getDevice;
  if (get) {
    // Commands that do not read the device's state skip the extra vendor read once the profile is
    // known (one request less per command, and less rate limit).
    if (knownP && !needsDeviceState(env, p) && !needsElements(knownP, known!, p)) return { profile: knownP, known };
    const device = await readDevice(env, ctx);
    if (device === undefined || device === null) throw new CommandRefused(404, "device not found at the vendor");
    const profile = knownP ?? (await matchProfile(env.bundle, device, env.evaluator, { ...ctx, device }));
    if (profile && !knownP) await env.store.put(keys.profileOf(p.connectorId, p.connectorDeviceId), profile.id, TTL.profileOf);
    return { profile, device, known };
  }
  if (knownP) return { profile: knownP, known };
  // Without a device read, the first profile that has every targeted cluster on its endpoint.
  const targets = p.endpoints.flatMap((e) => e.clusters.map((c) => [e.id, parseMatterId(c.id)] as const));
  const profile = env.bundle.profiles.find((pr) =>
    targets.every(([epId, cid]) => pr.endpoints.some((e) => e.id === epId && e.clusters.some((c) => c.id === cid))),
  );
  return { profile };
}

/** The profile an earlier command's device read matched (no state kept with it). */
async function profileMatchedBefore(env: OperationEnv, p: SendCommandPayload): Promise<KnownDevice | undefined> {
  const profile = await env.store.get<string>(keys.profileOf(p.connectorId, p.connectorDeviceId));
  return typeof profile === "string" ? { profile, state: undefined, at: 0 } : undefined;
}

/** A targeted endpoint is generated per element, and no known state says which elements there are. */
function needsElements(profile: CompiledProfile, known: KnownDevice, p: SendCommandPayload): boolean {
  if (!hasDynamicEndpoints(profile) || (known.state !== undefined && known.state !== null)) return false;
  return p.endpoints.some((e) => !profile.endpoints.some((x) => !x.forEach && x.id === e.id));
}

/**
 * The generated (`forEach`) endpoints the request targets, with their elements: from the device
 * just read, else from its known (discovered) state. Kept in the plan so a resumed job sees the same.
 */
async function generatedEndpoints(
  env: OperationEnv,
  ctx: EvalContext,
  profile: CompiledProfile,
  device: unknown,
  known: KnownDevice | undefined,
  p: SendCommandPayload,
): Promise<CommandPlan["endpoints"]> {
  if (!hasDynamicEndpoints(profile)) return undefined;
  const wanted = new Set(p.endpoints.map((e) => e.id).filter((id) => !profile.endpoints.some((x) => !x.forEach && x.id === id)));
  if (!wanted.size) return undefined;
  const out: NonNullable<CommandPlan["endpoints"]> = {};
  const state = device ?? known?.state;
  if (state === undefined || state === null) return out;
  for (const ep of await endpointsOf(profile, state, env.evaluator, { ...ctx, device: state })) {
    if (ep.template !== undefined && wanted.has(ep.id)) out[ep.id] = { template: ep.template, element: ep.element, elementIndex: ep.elementIndex ?? 0 };
  }
  return out;
}

/** The device's vendor state through operations.getDevice (undefined: the vendor does not know it). */
export async function readDevice(env: OperationEnv, ctx: EvalContext): Promise<unknown> {
  if (!env.bundle.operations.getDevice) throw new VendorError("the mapping declares no operations.getDevice", { kind: "invalid-request" });
  return readJoinedDevice(env, ctx);
}

/**
 * Whether the request needs the device's current vendor state: ReadState does, and so does any
 * command of any profile whose expressions read `device` or `before` (e.g. Toggle confirming the
 * opposite of the previous state). Judged on the expression text, erring towards reading.
 */
function needsDeviceState(env: OperationEnv, p: SendCommandPayload): boolean {
  for (const ep of p.endpoints) {
    for (const c of ep.clusters) {
      const clusterId = safeId(c.id);
      for (const [key] of commandEntries(c)) {
        const id = safeId(key);
        if (id === READ_STATE) return true;
        for (const profile of env.bundle.profiles) {
          // A generated endpoint's id is not in the profile: any forEach template may be the one.
          const cluster = profile.endpoints.filter((e) => e.id === ep.id || e.forEach).flatMap((e) => e.clusters).find((x) => x.id === clusterId);
          const actions = id === UPDATE_STATE ? cluster?.attributes.map((a) => a.write) : [cluster?.commands.find((x) => x.id === id)?.action];
          if (actions?.some((a) => a && sources(a).some((src) => READS_DEVICE.test(src)))) return true;
          // Device limits the device reports (not constants) are read before the command is sent.
          if (cluster && limitsNeedDevice(cluster, limitedValues(cluster, id, fieldsOf(c, key)).map((v) => v.limits))) return true;
        }
      }
    }
  }
  return false;
}

function fieldsOf(c: SendCommandPayload["endpoints"][number]["clusters"][number], key: string): Record<string, unknown> {
  return commandEntries(c).find(([k]) => k === key)?.[1] ?? {};
}

const READS_DEVICE = /\b(device|before)\b/;

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
