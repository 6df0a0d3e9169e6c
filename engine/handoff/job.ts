import { randomUUID } from "node:crypto";

/**
 * Work that did not fit before the ACK deadline, described so that a later invocation (or a
 * later tick of this one) can carry it out. It travels as JSON, so `payload` must be plain data.
 */
export interface DeferredJob {
  kind: "deferred-job";
  version: 1;
  jobId: string;
  /** What to do, e.g. the connector operation whose tail is being finished. */
  operation: string;
  /** 1-based number of this attempt. */
  attempt: number;
  maxAttempts: number;
  /** Epoch milliseconds before which the job should not start (backoff between attempts). */
  notBefore?: number;
  payload: unknown;
  /**
   * HMAC-SHA256 (base64url) of the job under the deployment's job key (engine/handoff/job-auth.ts):
   * how a job whose work travels inline proves this deployment wrote it.
   */
  mac?: string;
}

export interface DispatchOptions {
  /** Run the job no earlier than this many ms from now (SQS: DelaySeconds, at most 15 minutes). */
  delayMs?: number;
}

export interface JobDispatcher {
  /**
   * True when a dispatched job outlives the container (a queue): only then may work that must not
   * be lost, such as webhook events MI did not take, be handed over instead of refused.
   */
  readonly durable?: boolean;
  /** Resolves once the job has been handed over (durably, for a queue), not when it has run. */
  dispatch(job: DeferredJob, options?: DispatchOptions): Promise<void>;
  /**
   * Starts loading what a dispatch needs (a queue client), without waiting: called when a request
   * that may hand work off begins, so a hand-off at the end of the budget does not pay for it.
   */
  prepare?(): void;
}

export const DEFAULT_MAX_ATTEMPTS = 3;

export class InvalidDeferredJobError extends TypeError {
  constructor(reason: string) {
    super(`not a deferred job: ${reason}`);
    this.name = "InvalidDeferredJobError";
  }
}

/** Why `value` is not a DeferredJob, or undefined when it is one. */
export function deferredJobProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return "not an object";
  const job = value as Record<string, unknown>;
  if (job.kind !== "deferred-job") return "kind must be \"deferred-job\"";
  if (job.version !== 1) return "unsupported version";
  if (typeof job.jobId !== "string" || job.jobId.length === 0) return "jobId must be a non-empty string";
  if (typeof job.operation !== "string" || job.operation.length === 0) return "operation must be a non-empty string";
  if (!Number.isInteger(job.maxAttempts) || (job.maxAttempts as number) < 1) return "maxAttempts must be an integer >= 1";
  if (!Number.isInteger(job.attempt) || (job.attempt as number) < 1) return "attempt must be an integer >= 1";
  if ((job.attempt as number) > (job.maxAttempts as number)) return "attempt exceeds maxAttempts";
  if (job.notBefore !== undefined && !Number.isFinite(job.notBefore)) return "notBefore must be epoch milliseconds";
  if (job.mac !== undefined && typeof job.mac !== "string") return "mac must be a string";
  return undefined;
}

/** Tells a hand-off event apart from an MI request arriving at the same handler. */
export function isDeferredJob(event: unknown): event is DeferredJob {
  return deferredJobProblem(event) === undefined;
}

export function assertDeferredJob(value: unknown): asserts value is DeferredJob {
  const problem = deferredJobProblem(value);
  if (problem) throw new InvalidDeferredJobError(problem);
}

export function createDeferredJob(input: {
  operation: string;
  payload: unknown;
  maxAttempts?: number;
  notBefore?: number;
  jobId?: string;
}): DeferredJob {
  const job: DeferredJob = {
    kind: "deferred-job",
    version: 1,
    jobId: input.jobId ?? randomUUID(),
    operation: input.operation,
    attempt: 1,
    maxAttempts: input.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    payload: input.payload,
  };
  if (input.notBefore !== undefined) job.notBefore = input.notBefore;
  assertDeferredJob(job);
  return job;
}

/** Exponential backoff before attempt `attempt + 1`: 500 ms, 1 s, 2 s ... capped at 30 s. */
export function defaultBackoffMs(attempt: number): number {
  return Math.min(30_000, 500 * 2 ** Math.max(0, attempt - 1));
}

/**
 * The retry of a failed job, due after its backoff; undefined when attempts are exhausted.
 * Used both in-process and by a handler that re-dispatches a failed job to a later invocation.
 */
export function nextAttempt(
  job: DeferredJob,
  nowMs: number,
  backoffMs: (attempt: number) => number = defaultBackoffMs,
): DeferredJob | undefined {
  if (job.attempt >= job.maxAttempts) return undefined;
  const delay = Math.max(0, backoffMs(job.attempt));
  return { ...job, attempt: job.attempt + 1, notBefore: nowMs + delay };
}
