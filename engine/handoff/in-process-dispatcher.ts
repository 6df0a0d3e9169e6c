import type { Logger } from "../log/logger.ts";
import { silentLogger } from "../log/json-logger.ts";
import { assertDeferredJob, defaultBackoffMs, nextAttempt, type DeferredJob, type DispatchOptions, type JobDispatcher } from "./job.ts";

/** Thrown by `run` for a failed attempt that names its own backoff (the engine's job results do). */
export class RetryJobLater extends Error {
  constructor(readonly retryAfterMs: number) {
    super(`retry in ${retryAfterMs} ms`);
    this.name = "RetryJobLater";
  }
}

export interface InProcessDispatcherOptions {
  /** Carries out one attempt of a job; a throw or rejection counts as a failed attempt. */
  run(job: DeferredJob): Promise<void> | void;
  /** Called once when the last attempt has failed. */
  onExhausted?(job: DeferredJob, error: unknown): Promise<void> | void;
  /** Delay in ms after failed attempt `attempt` before the next one. */
  backoffMs?(attempt: number): number;
  /** Clock in epoch ms, for honouring `notBefore`. */
  now?: () => number;
  sleep?(ms: number): Promise<void>;
  logger?: Logger;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs deferred jobs in this process, after the current tick: for local runs and tests, and for
 * a runtime that keeps working after the ACK. `drain()` waits for everything dispatched,
 * including retries and jobs dispatched while draining.
 */
export class InProcessDispatcher implements JobDispatcher {
  private readonly pending = new Set<Promise<void>>();
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly backoffMs: (attempt: number) => number;
  private readonly logger: Logger;

  constructor(private readonly options: InProcessDispatcherOptions) {
    if (typeof options?.run !== "function") throw new TypeError("InProcessDispatcher needs a run(job) callback");
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? realSleep;
    this.backoffMs = options.backoffMs ?? defaultBackoffMs;
    this.logger = options.logger ?? silentLogger;
  }

  /** Jobs dispatched and not yet finished (succeeded or exhausted). */
  get pendingCount(): number {
    return this.pending.size;
  }

  async dispatch(job: DeferredJob, options: DispatchOptions = {}): Promise<void> {
    assertDeferredJob(job);
    if (options.delayMs && options.delayMs > 0) job = { ...job, notBefore: Math.max(job.notBefore ?? 0, this.now() + options.delayMs) };
    const task = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.execute(job))
      .catch((err: unknown) => {
        // Only a failing clock or sleep gets here; a job's own failures are handled in execute.
        this.logger.error("deferred job runner failed", { jobId: job.jobId, errorName: errorName(err) });
      });
    this.pending.add(task);
    void task.finally(() => this.pending.delete(task));
  }

  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** A job's failures end in a retry or in onExhausted, never in a rejection. */
  private async execute(first: DeferredJob): Promise<void> {
    let job: DeferredJob | undefined = first;
    while (job) {
      const wait = (job.notBefore ?? 0) - this.now();
      if (wait > 0) await this.sleep(wait);
      try {
        await this.options.run(job);
        return;
      } catch (error) {
        const fields = { jobId: job.jobId, operation: job.operation, attempt: job.attempt, errorName: errorName(error) };
        const named = error instanceof RetryJobLater ? error.retryAfterMs : undefined;
        const retry = nextAttempt(job, this.now(), named !== undefined ? () => named : this.backoffMs);
        if (!retry) {
          this.logger.warn("deferred job exhausted its attempts", fields);
          await this.exhausted(job, error);
          return;
        }
        this.logger.info("deferred job attempt failed; retrying", fields);
        job = retry;
      }
    }
  }

  private async exhausted(job: DeferredJob, error: unknown): Promise<void> {
    try {
      await this.options.onExhausted?.(job, error);
    } catch (hookError) {
      this.logger.error("onExhausted callback failed", { jobId: job.jobId, errorName: errorName(hookError) });
    }
  }
}

function errorName(err: unknown): string {
  const name = (err as { name?: unknown } | null)?.name;
  return typeof name === "string" ? name : typeof err;
}
