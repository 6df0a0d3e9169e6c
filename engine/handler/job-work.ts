/**
 * The work of deferred jobs: what each kind of job carries, where it is kept, and how a job is
 * put on the queue. With a durable store the work (an MI request, credentials included) stays in
 * the state store and the job carries only a reference; jobs whose work travels inline are signed.
 */
import { randomUUID } from "node:crypto";
import type { ConnectorRequest } from "../mi/protocol.ts";
import type { SendConnectorEventInput } from "../mi/send-connector-event.ts";
import { keys, TTL } from "../operations/keys.ts";
import type { DiscoveryProgress } from "../operations/discover-devices.ts";
import type { CommandPlan } from "../operations/send-command.ts";
import type { TrackedValue } from "../events/stale-values.ts";
import type { StateStore } from "../store/store.ts";
import { createDeferredJob, type DeferredJob, type DispatchOptions, type JobDispatcher } from "../handoff/job.ts";
import type { JobSigner } from "../handoff/job-auth.ts";

/** Job kind for an event MI did not accept in time (throttling, outage): delivered later. */
export const EVENT_JOB = "SendConnectorEvent";

/** The read-back of a command the vendor only accepted (mapping `readBack`). */
export const READ_BACK_JOB = "c2c.read-back";

/** The work of a hand-off (discovery tail, slow command) and of a read-back. */
export interface JobWork {
  request: ConnectorRequest;
  progress?: DiscoveryProgress;
  /** The command's plan, carried only when the state store is not shared (memory). */
  plan?: CommandPlan;
}

/** The outbox's work: events MI has not taken yet, each one request (already split and checked). */
export interface EventJobWork {
  events: SendConnectorEventInput[];
  /** Webhook events only, one per request: what to record once MI accepted it, and its order position. */
  tracking?: EventTracking[];
}

export interface EventTracking {
  commits: TrackedValue[];
  order?: number;
}

/** What the state store holds for a job reference: the work, and the operation it is for. */
interface StoredJobWork {
  operation: string;
  work: unknown;
}

/** The work a job refers to is gone from the store (expired): a retry cannot bring it back. */
export class JobStateMissing extends Error {
  constructor() {
    super("the work of this deferred job is no longer in the state store");
    this.name = "JobStateMissing";
  }
}

export interface EnqueueOptions {
  maxAttempts?: number;
  delayMs?: number;
}

/** Puts work on the job queue and reads it back when the job runs. */
export class DeferredWork {
  constructor(
    private readonly store: StateStore,
    private readonly signer: JobSigner,
    private readonly dispatcher: JobDispatcher | undefined,
  ) {}

  /** Hands `job` to the dispatcher, signed so the consumer can tell it was written here. */
  async dispatch(job: DeferredJob, options?: DispatchOptions): Promise<void> {
    await this.dispatcher!.dispatch(this.signer.sign(job), options);
  }

  /** Puts `work` on the job queue: stored in the state store (see payloadOf), then dispatched signed. */
  async enqueue(operation: string, work: object, options: EnqueueOptions = {}): Promise<DeferredJob> {
    const job = createDeferredJob({ operation, payload: await this.payloadOf(work, operation), ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}) });
    await this.dispatch(job, options.delayMs !== undefined ? { delayMs: options.delayMs } : undefined);
    return job;
  }

  /** The work `job` carries or refers to; JobStateMissing when its reference expired. */
  async workOf<W>(job: DeferredJob): Promise<W> {
    const payload = job.payload as W | { ref: string };
    if (!isRefPayload(payload)) return payload as W;
    const stored = await this.store.get<StoredJobWork>(keys.job(payload.ref));
    if (!stored) throw new JobStateMissing();
    return stored.work as W;
  }

  /**
   * Whether this deployment wrote the job: a reference to work it stored for the same operation,
   * or a valid MAC under the job key. Anything else (a forged or altered job) is refused.
   */
  async isAuthentic(job: DeferredJob): Promise<boolean> {
    if (isRefPayload(job.payload)) {
      const stored = await this.store.get<StoredJobWork>(keys.job(job.payload.ref));
      // A missing ref is left to the run, which logs the loss (expired) rather than a forgery.
      return stored === undefined || stored.operation === job.operation;
    }
    return this.signer.verify(job);
  }

  /** Deletes what the store keeps for a job that ended (its work, the outbox's progress). */
  async forget(job: DeferredJob): Promise<void> {
    if (isRefPayload(job.payload)) await this.store.delete(keys.job(job.payload.ref));
    if (job.operation === EVENT_JOB) await this.store.delete(keys.jobProgress(job.jobId));
  }

  /**
   * The work of a job carries the MI request, credentials included. With a durable store it is
   * kept there (encrypted at rest, with a TTL, deleted when the job ends) and the job carries only
   * a reference, so neither the queue message nor a dead-letter copy of it holds a token.
   * An in-memory store is per container, so there the work has to travel with the job.
   */
  private async payloadOf<W extends object>(work: W, operation: string): Promise<W | { ref: string }> {
    if (!this.store.durable) return work;
    const ref = randomUUID();
    await this.store.put(keys.job(ref), { operation, work } satisfies StoredJobWork, TTL.job);
    return { ref };
  }
}

function isRefPayload(payload: unknown): payload is { ref: string } {
  return !!payload && typeof payload === "object" && typeof (payload as { ref?: unknown }).ref === "string";
}
