/**
 * One vendor event -> the DEVICE_EVENTs it means, one per endpoint. The event's `state` is shaped
 * like the discovery device, so the profile's read expressions give the attribute values (one
 * definition, two uses); only attributes whose value changed since MI last heard of them, and not
 * older than what MI already holds (`order`), are reported. Matter events of the profile's
 * clusters are added when their `when` holds.
 */
import type { CompiledBundle, CompiledProfile, CompiledWebhooks } from "../mapping/compiled.ts";
import type { MatterCluster, SendConnectorEventInput } from "../mi/send-connector-event.ts";
import { bindings, type EvalContext } from "../runtime/context.ts";
import { endpointContext, endpointsOf, matchProfile, readCluster } from "../runtime/device-model.ts";
import type { Evaluator } from "../runtime/expressions.ts";
import { admitValue, type ValueLog } from "../runtime/matter-values.ts";
import { orderPosition, stableJson, type AttributeRef, type ChangeTracker } from "./change-tracker.ts";
import { mergeState, type KnownDevice, type KnownDevices } from "./known-devices.ts";

/** MI's ConnectorDeviceId pattern (Smithy model). */
const DEVICE_ID = /^[a-zA-Z0-9_.,@-]{1,128}$/;

/** Why an event yields nothing to send even though it was not ignored. */
export class UnmappedEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnmappedEventError";
  }
}

export interface PlannedDeviceEvent {
  input: SendConnectorEventInput;
  /** Attribute values to record once MI accepted `input`. */
  commits: Array<{ ref: AttributeRef; value: unknown }>;
}

export interface EventPlan {
  deviceId: string;
  userId?: string;
  order?: number;
  events: PlannedDeviceEvent[];
  unchanged: number;
  stale: number;
  /** The device's known state after this event, to record once its events are out. */
  known?: KnownDevice;
  /** A vendor user id learned to belong to the device's MI user. */
  alias?: { vendorUserId: string; userId: string };
}

export interface PlanInput {
  bundle: CompiledBundle;
  /** Where an event's device id, user, state, order and profile come from (webhooks, or polling). */
  webhooks: Pick<CompiledWebhooks, "deviceId" | "state" | "userId" | "order" | "profile">;
  evaluator: Evaluator;
  tracker: ChangeTracker;
  connectorId: string;
  /** The parsed delivery body and one event of it. */
  body: unknown;
  event: unknown;
  /** Where values that do not fit their Matter type are reported (they are left out). */
  logger?: ValueLog;
  /** Known device state (profile, owner, last vendor state); without it every event is matched afresh. */
  known?: KnownDevices;
  /** Epoch ms of the event's processing, recorded with the known state. */
  at?: number;
  /** The device's id when the caller knows it (a command's read-back); else read with `deviceId`. */
  deviceId?: string;
}

export async function planDeviceEvents(p: PlanInput): Promise<EventPlan> {
  const { webhooks: w, evaluator, event } = p;
  const ctx: EvalContext = { settings: p.bundle.settings, responses: {}, body: p.body, event };

  const idValue = p.deviceId ?? (await evaluator.evaluate(w.deviceId, event, bindings(ctx)));
  if (idValue === undefined || idValue === null || idValue === "" || typeof idValue === "object") {
    throw new UnmappedEventError(`${w.deviceId.at}: the event has no device id`);
  }
  const deviceId = String(idValue);
  if (!DEVICE_ID.test(deviceId)) throw new UnmappedEventError(`${w.deviceId.at}: the device id is not a valid ConnectorDeviceId`);
  ctx.deviceId = deviceId;

  const known = p.known ? await p.known.get(deviceId) : undefined;

  let vendorUserId: string | undefined;
  if (w.userId) {
    const u = await evaluator.evaluate(w.userId, event, bindings(ctx));
    if ((typeof u === "string" && u !== "") || typeof u === "number") vendorUserId = String(u);
  }
  // The MI user: the device's owner when it is known, else the one a vendor id was seen for,
  // else the vendor's id as it is (bundles whose user ids are the MI user ids).
  const aliasUser = vendorUserId !== undefined && known?.userId === undefined && p.known ? await p.known.userOfAlias(vendorUserId) : undefined;
  const userId = known?.userId ?? aliasUser ?? vendorUserId;

  const partial = await evaluator.evaluate(w.state, event, bindings(ctx));
  if (partial === undefined || partial === null || typeof partial !== "object") throw new UnmappedEventError(`${w.state.at}: the event gave no device state`);
  const state = known ? mergeState(known.state, partial) : partial;
  ctx.device = state;

  const profile = await profileOf(p, state, ctx, known);
  const order = w.order ? orderPosition(await evaluator.evaluate(w.order, event, bindings(ctx))) : undefined;
  const previous = known && known.profile === profile.id ? known.state : undefined;

  const plan: EventPlan = { deviceId, events: [], unchanged: 0, stale: 0 };
  if (userId !== undefined) plan.userId = userId;
  if (order !== undefined) plan.order = order;
  if (p.known) plan.known = { profile: profile.id, ...(userId !== undefined ? { userId } : {}), state, at: p.at ?? Date.now() };
  if (vendorUserId !== undefined && known?.userId !== undefined && vendorUserId !== known.userId) plan.alias = { vendorUserId, userId: known.userId };

  for (const ep of await endpointsOf(profile, state, evaluator, ctx)) {
    const ectx: EvalContext = endpointContext(ctx, ep);
    const clusters: MatterCluster[] = [];
    const commits: PlannedDeviceEvent["commits"] = [];
    for (const cluster of ep.clusters) {
      // Constants say nothing about what happened; only what the vendor reported is an event.
      const readable = new Set(cluster.attributes.filter((a) => a.read).map((a) => a.id));
      const values = readable.size ? await readCluster(cluster, state, evaluator, ectx, readable, p.logger) : new Map<string, unknown>();
      // With a known earlier state, only attributes whose value the event changed are candidates.
      // What the event itself reported (its partial state alone) is what the counts speak of.
      const before = previous !== undefined && readable.size ? await readCluster(cluster, previous, evaluator, { ...ectx, device: previous }, readable) : undefined;
      const reported = before !== undefined ? await readCluster(cluster, partial, evaluator, { ...ectx, device: partial }, readable) : undefined;
      const attributes: Record<string, unknown> = {};
      for (const [attributeId, value] of values) {
        if (before?.has(attributeId) && stableJson(before.get(attributeId)) === stableJson(value)) {
          if (reported?.has(attributeId)) plan.unchanged++;
          continue;
        }
        const ref: AttributeRef = { deviceId, endpointId: ep.id, clusterId: cluster.hexId, attributeId };
        const verdict = await p.tracker.check(ref, value, order);
        if (verdict === "changed") {
          attributes[attributeId] = value;
          commits.push({ ref, value });
        } else if (verdict === "stale") plan.stale++;
        else plan.unchanged++;
      }
      const matterEvents: Record<string, unknown> = {};
      for (const me of cluster.events) {
        if ((await evaluator.evaluate(me.when, event, bindings(ectx))) !== true) continue;
        const fields: Record<string, unknown> = {};
        for (const f of me.fields) {
          const v = await evaluator.evaluate(f.expr, event, bindings(ectx));
          if (admitValue(f.valueType, v, f.expr.at, `${cluster.name}.${me.name}.${f.name}`, p.logger)) fields[f.hexId] = v;
        }
        matterEvents[me.hexId] = fields;
      }
      if (!Object.keys(attributes).length && !Object.keys(matterEvents).length) continue;
      const mc: MatterCluster = { id: cluster.hexId };
      if (Object.keys(attributes).length) mc.attributes = attributes;
      if (Object.keys(matterEvents).length) mc.events = matterEvents;
      clusters.push(mc);
    }
    if (!clusters.length) continue;
    plan.events.push({
      input: {
        ConnectorId: p.connectorId,
        Operation: "DEVICE_EVENT",
        OperationVersion: "1.0",
        StatusCode: 200,
        ...(userId !== undefined ? { UserId: userId } : {}),
        ConnectorDeviceId: deviceId,
        MatterEndpoint: { id: ep.id, clusters },
      },
      commits,
    });
  }
  return plan;
}

async function profileOf(p: PlanInput, state: unknown, ctx: EvalContext, known: KnownDevice | undefined): Promise<CompiledProfile> {
  if (p.webhooks.profile) {
    const name = await p.evaluator.evaluate(p.webhooks.profile, p.event, bindings(ctx));
    const found = p.bundle.profiles.find((x) => x.id === name);
    if (!found) throw new UnmappedEventError(`${p.webhooks.profile.at}: no profile named by the event`);
    return found;
  }
  // The profile the device was discovered with; a bundle that since dropped it matches afresh.
  const discovered = known ? p.bundle.profiles.find((x) => x.id === known.profile) : undefined;
  if (discovered) return discovered;
  const matched = await matchProfile(p.bundle, state, p.evaluator, ctx);
  if (!matched) throw new UnmappedEventError("no profile matches the event's device state");
  return matched;
}
