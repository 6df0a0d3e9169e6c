/**
 * Correlation ids of the unit of work in progress (an MI request, a deferred job, an outbox
 * delivery, a webhook delivery), added to every log line written while it runs, by any logger:
 * the engine's, the vendor client's and MI client's alike, which are shared by the container.
 *
 * The ids live in an AsyncLocalStorage scope rather than in the logger's state: a scope ends with
 * its invocation, so a warm container never carries one request's ids into the next, and work that
 * overlaps in one process (in-process hand-offs, tests) keeps its own ids. Only ids that correlate
 * go here (MI's traceId, deviceDiscoveryId, connectorDeviceId, operation, job and delivery ids),
 * never a user id or a token: every line still passes through redaction.
 */
import { AsyncLocalStorage } from "node:async_hooks";

export interface CorrelationIds {
  operation?: string;
  traceId?: string;
  deviceDiscoveryId?: string;
  connectorDeviceId?: string;
  /** Lambda's request id. */
  requestId?: string;
  jobId?: string;
  /** A webhook delivery (the Lambda request id, or one made up when there is none). */
  deliveryId?: string;
  /** A vendor event of a delivery: its id as the mapping reads it. */
  eventId?: string;
}

const scopes = new AsyncLocalStorage<CorrelationIds>();

/** Runs `fn` in a scope whose lines carry `ids` (and the enclosing scope's, unless `fresh`). */
export function withLogContext<T>(ids: CorrelationIds, fn: () => T, opts: { fresh?: boolean } = {}): T {
  const base = opts.fresh ? {} : (scopes.getStore() ?? {});
  return scopes.run(compact({ ...base, ...ids }), fn);
}

/** Adds ids to the current scope (e.g. once a job's request is loaded); outside a scope, nothing. */
export function addLogContext(ids: CorrelationIds): void {
  const scope = scopes.getStore();
  if (scope) Object.assign(scope, compact(ids));
}

/** The ids of the current scope ({} outside any). */
export function logContext(): Readonly<CorrelationIds> {
  return scopes.getStore() ?? {};
}

function compact(ids: CorrelationIds): CorrelationIds {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(ids)) if (typeof v === "string" && v !== "") out[k] = v;
  return out;
}
