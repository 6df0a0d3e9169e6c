/**
 * The event runner: one verified webhook delivery -> DEVICE_EVENTs, with nothing lost and nothing
 * doubled. The caller acknowledges the vendor only when this returns "done": every event of the
 * delivery reached MI (or was deliberately dropped: ignored, duplicate, stale, unchanged, user
 * deactivated, unmappable). On "retry" the caller answers 5xx and the vendor redelivers; events
 * already accepted by MI are marked done, so the redelivery sends only what is missing.
 *
 * Deduplication by event id is two-phase: an event id is first claimed with a short lease
 * ("pending"), and marked "done" only after MI accepted its events. A failure releases the claim;
 * a crash leaves a lease that expires, after which a redelivery takes the event over. A redelivery
 * that arrives while another invocation holds a live lease is answered "retry", not acknowledged.
 *
 * With an event buffer (mapping `webhooks.buffer`), an MI failure does not fail the delivery: the
 * event MI refused and every later one of the delivery go to the buffer queue (without trying MI
 * again), and the delivery is "done" once the queue took them. Their event ids are marked done
 * only then; if the queue fails too, the claims are released and the answer is "retry". The engine's
 * outbox (the SQS job queue) serves as that buffer when the mapping declares none.
 *
 * With a deadline (the time the vendor and the Lambda leave), every MI request is bounded by what is
 * left, and no vendor event is started once it has passed: what was done is kept (claims marked
 * done, queued events written), and the answer is "retry" with a Retry-After, so the vendor
 * redelivers and the claims let only the events not yet handled through.
 */
import { DEFAULT_DUPLICATE_WINDOW_SECONDS, type CompiledBundle, type CompiledWebhooks } from "../mapping/compiled.ts";
import { InvalidEventError } from "../mi/event-errors.ts";
import type { EventPublisher } from "../operations/publisher.ts";
import { keys, TTL } from "../operations/keys.ts";
import type { StateStore } from "../store/store.ts";
import { addLogContext, withLogContext } from "../log/context.ts";
import type { Logger } from "../log/logger.ts";
import { bindings, type EvalContext } from "../runtime/context.ts";
import type { Evaluator } from "../runtime/expressions.ts";
import { bufferedEvent, type BufferedEvent, type EventBuffer } from "./buffer.ts";
import { ChangeTracker } from "./change-tracker.ts";
import { planDeviceEvents, UnmappedEventError } from "./device-events.ts";
import { KnownDevices } from "./known-devices.ts";
import { createHash } from "node:crypto";
import type { Deadline } from "../runtime/deadline.ts";

/** SHA-256 of the event's JSON with object keys sorted, so key order in a redelivery does not matter. */
function contentDigest(event: unknown): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(canonical)
    : v !== null && typeof v === "object" ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]))
    : v;
  return createHash("sha256").update(JSON.stringify(canonical(event)) ?? "null").digest("base64url");
}

export interface DeliveryDeps {
  bundle: CompiledBundle;
  webhooks: CompiledWebhooks;
  evaluator: Evaluator;
  store: StateStore;
  /** A publisher WITHOUT a deferral fallback: a failed send must surface so the vendor redelivers. */
  publisher: EventPublisher;
  logger: Logger;
  connectorId: string;
  /** How long a claimed event id blocks other invocations. Default 60 s. */
  leaseMs?: number;
  now?: () => number;
  /** Where events go when MI does not take them (mapping `webhooks.buffer`); without one the delivery is retried. */
  buffer?: EventBuffer;
  /** What the delivery may take (the HTTP caller's wait, the Lambda's remaining time); none: unbounded. */
  deadline?: Deadline;
}

/** Seconds the vendor is asked to wait before redelivering a delivery that did not fit its budget. */
export const OVER_BUDGET_RETRY_AFTER_SECONDS = 1;

export interface DeliveryCounts {
  /** Vendor events in the delivery. */
  received: number;
  /** DEVICE_EVENTs MI accepted. */
  sent: number;
  ignored: number;
  duplicates: number;
  unmapped: number;
  /** DEVICE_EVENTs not sent because the user is deactivated. */
  suppressed: number;
  /** Attribute values dropped as older than what MI holds. */
  stale: number;
  /** Attribute values MI holds already. */
  unchanged: number;
  /** DEVICE_EVENTs MI refused as invalid (logged as lost; a retry cannot fix them). */
  rejected: number;
  /** DEVICE_EVENTs written to the event buffer queue, to reach MI later. */
  buffered: number;
}

export interface DeliveryResult {
  outcome: "done" | "retry";
  counts: DeliveryCounts;
  /** With "retry": why, without values. */
  reason?: string;
  /** With "retry": when the vendor may redeliver (the answer's Retry-After). */
  retryAfterSeconds?: number;
  /** Vendor events not started because the time budget ran out (a redelivery handles them). */
  notStarted?: number;
}

interface EventClaim {
  state: "pending" | "done";
  until?: number;
}

/** One delivery's progress. */
interface DeliveryRun {
  counts: DeliveryCounts;
  /** Set once MI failed and a buffer exists: the rest of the delivery goes straight to the buffer. */
  buffering: boolean;
  queued: BufferedEvent[];
  /** Event claims (key and how long they hold) to mark done once `queued` is in the buffer. */
  queuedClaims: Array<{ key: string; ttl: number }>;
}

export async function runDelivery(deps: DeliveryDeps, body: unknown): Promise<DeliveryResult> {
  const counts: DeliveryCounts = { received: 0, sent: 0, ignored: 0, duplicates: 0, unmapped: 0, suppressed: 0, stale: 0, unchanged: 0, rejected: 0, buffered: 0 };
  const run: DeliveryRun = { counts, buffering: false, queued: [], queuedClaims: [] };
  const w = deps.webhooks;
  const ctx: EvalContext = { settings: deps.bundle.settings, responses: {}, body };
  const listed = await deps.evaluator.evaluate(w.events, body, bindings(ctx));
  const events = listed === undefined || listed === null ? [] : Array.isArray(listed) ? listed : [listed];
  counts.received = events.length;

  for (let i = 0; i < events.length; i++) {
    if (deps.deadline?.expired) {
      // Partial progress is kept: a redelivery finds these events claimed done and sends only the rest.
      const flushed = await flushQueued(deps, run);
      if (flushed) return flushed;
      const notStarted = events.length - i;
      deps.logger.warn("webhook delivery did not fit in the time budget: the vendor is asked to redeliver", { ...counts, notStarted });
      return { outcome: "retry", counts, reason: "the delivery did not fit in the time budget", retryAfterSeconds: OVER_BUDGET_RETRY_AFTER_SECONDS, notStarted };
    }
    const outcome = await withLogContext({}, () => runEvent(deps, run, body, events[i], i));
    if (outcome !== undefined) {
      await releaseClaims(deps, run.queuedClaims);
      return { outcome: "retry", counts, reason: outcome };
    }
  }
  const flushed = await flushQueued(deps, run);
  if (flushed) return flushed;
  deps.logger.info("webhook delivery processed", { ...counts });
  return { outcome: "done", counts };
}

/** Writes the queued events to the buffer and marks their claims done; a "retry" result when it failed. */
async function flushQueued(deps: DeliveryDeps, run: DeliveryRun): Promise<DeliveryResult | undefined> {
  if (run.queued.length === 0) return undefined;
  const counts = run.counts;
  try {
    await deps.buffer!.write(run.queued);
  } catch (err) {
    deps.logger.error("the event buffer did not take the events either: the delivery will be retried", { error: err, events: run.queued.length });
    await releaseClaims(deps, run.queuedClaims);
    return { outcome: "retry", counts, reason: "neither managed integrations nor the event buffer accepted the events" };
  }
  counts.buffered += run.queued.length;
  for (const c of run.queuedClaims) await deps.store.put(c.key, { state: "done" } satisfies EventClaim, c.ttl);
  deps.logger.warn("managed integrations unavailable: events buffered for later delivery", { buffered: counts.buffered });
  run.queued = [];
  run.queuedClaims = [];
  return undefined;
}

/** Handles one vendor event; returns a reason when the delivery must be retried. */
async function runEvent(deps: DeliveryDeps, run: DeliveryRun, body: unknown, event: unknown, index: number): Promise<string | undefined> {
  const counts = run.counts;
  const w = deps.webhooks;
  const ctx: EvalContext = { settings: deps.bundle.settings, responses: {}, body, event };
  const log = deps.logger.child({ eventIndex: index });
  try {
    if (w.ignore && (await deps.evaluator.evaluate(w.ignore, event, bindings(ctx))) === true) {
      counts.ignored++;
      log.info("webhook event ignored by the mapping");
      return undefined;
    }
  } catch (err) {
    counts.unmapped++;
    log.error("webhook event could not be classified: acknowledged without events", { error: err });
    return undefined;
  }

  let claimKey: string | undefined;
  let claimTtl = TTL.webhookEvent;
  if (w.eventId) {
    let id: unknown;
    try {
      id = await deps.evaluator.evaluate(w.eventId, event, bindings(ctx));
    } catch (err) {
      log.warn("webhook event id expression failed; the event is processed without deduplication", { error: err });
    }
    if ((typeof id === "string" && id !== "") || typeof id === "number") {
      claimKey = keys.webhookEvent(String(id));
      addLogContext({ eventId: String(id) });
    }
  } else if ((w.duplicateWindowSeconds ?? DEFAULT_DUPLICATE_WINDOW_SECONDS) > 0) {
    // No id from the vendor: the event's content stands for it, for as long as a replay is plausible.
    claimKey = keys.webhookEventDigest(deps.connectorId, contentDigest(event));
    claimTtl = Math.max(w.duplicateWindowSeconds ?? DEFAULT_DUPLICATE_WINDOW_SECONDS, Math.ceil((deps.leaseMs ?? 60_000) / 1000));
  }
  if (claimKey) {
    const claim = await claimEvent(deps, claimKey, claimTtl);
    if (claim === "done") {
      counts.duplicates++;
      log.info("webhook event already delivered: not sent again");
      return undefined;
    }
    if (claim === "busy") return "an earlier delivery of the same event is still in progress";
  }

  let plan;
  try {
    plan = await planDeviceEvents({ ...deps, tracker: new ChangeTracker(deps.store), known: new KnownDevices(deps.store, deps.connectorId), at: (deps.now ?? Date.now)(), body, event, logger: log });
  } catch (err) {
    counts.unmapped++;
    // A redelivery would fail the same way: acknowledge, but say loudly why nothing was sent.
    log[err instanceof UnmappedEventError ? "warn" : "error"]("webhook event not mapped to a device event", { error: err });
    if (claimKey) await deps.store.delete(claimKey);
    return undefined;
  }
  counts.stale += plan.stale;
  counts.unchanged += plan.unchanged;
  if (plan.stale) log.info("stale attribute values dropped", { stale: plan.stale });

  const tracker = new ChangeTracker(deps.store);
  const queuedBefore = run.queued.length;
  for (const planned of plan.events) {
    if (run.buffering) {
      run.queued.push(bufferedEvent(planned.input, planned.commits, plan.order));
      continue;
    }
    let published: boolean;
    try {
      published = await deps.publisher.publish(planned.input);
    } catch (err) {
      if (err instanceof InvalidEventError) {
        counts.rejected++;
        log.error("MI refused the device event as invalid: it is lost", { error: err });
        continue;
      }
      if (deps.buffer) {
        log.warn("device event not accepted by MI: it and the rest of the delivery go to the event buffer", { error: err });
        run.buffering = true;
        run.queued.push(bufferedEvent(planned.input, planned.commits, plan.order));
        continue;
      }
      log.warn("device event not accepted by MI: the delivery will be retried", { error: err });
      if (claimKey) await deps.store.delete(claimKey).catch((e: unknown) => log.warn("event claim not released; it expires", { error: e }));
      return "managed integrations did not accept an event";
    }
    if (!published) {
      counts.suppressed++;
      continue;
    }
    counts.sent++;
    for (const c of planned.commits) await tracker.commit(c.ref, c.value, plan.order);
  }
  // Every event of this vendor event is out (sent, buffered, suppressed or refused): the device's
  // known state moves on. An event older than the known state (order) leaves it as it is.
  await recordKnown(deps, plan, log);
  if (claimKey) {
    if (run.queued.length > queuedBefore) run.queuedClaims.push({ key: claimKey, ttl: claimTtl });
    else await deps.store.put(claimKey, { state: "done" } satisfies EventClaim, claimTtl);
  }
  return undefined;
}

async function recordKnown(deps: DeliveryDeps, plan: Awaited<ReturnType<typeof planDeviceEvents>>, log: Logger): Promise<void> {
  const known = new KnownDevices(deps.store, deps.connectorId);
  try {
    if (plan.known && plan.stale === 0) await known.record(plan.deviceId, plan.known);
    if (plan.alias) await known.recordAlias(plan.alias.vendorUserId, plan.alias.userId);
  } catch (err) {
    // Only a cache of what was sent: the next event is compared with an older state.
    log.warn("known device state not recorded", { error: err });
  }
}

/** Lets a redelivery take over events whose buffering did not happen. */
async function releaseClaims(deps: DeliveryDeps, claims: Array<{ key: string }>): Promise<void> {
  for (const { key } of claims) {
    await deps.store.delete(key).catch((e: unknown) => deps.logger.warn("event claim not released; it expires", { error: e }));
  }
}

async function claimEvent(deps: DeliveryDeps, key: string, ttlSeconds: number): Promise<"claimed" | "done" | "busy"> {
  const now = (deps.now ?? Date.now)();
  const lease: EventClaim = { state: "pending", until: now + (deps.leaseMs ?? 60_000) };
  if (await deps.store.putIfAbsent(key, lease, ttlSeconds)) return "claimed";
  const existing = await deps.store.get<EventClaim>(key);
  if (existing === undefined) {
    // Released between the two calls: try once more.
    return (await deps.store.putIfAbsent(key, lease, ttlSeconds)) ? "claimed" : "busy";
  }
  if (existing.state === "done") return "done";
  if ((existing.until ?? 0) > now) return "busy";
  // The invocation holding the lease died: take the event over.
  await deps.store.put(key, lease, ttlSeconds);
  return "claimed";
}
