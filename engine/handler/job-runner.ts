/**
 * One attempt of a deferred job: the tail of a discovery, a command whose vendor was slow, a
 * read-back, a poll, or events MI did not take. A failure a retry can fix answers "retry" with the
 * backoff before the next attempt (the job queue hides the message that long; the in-process
 * runner sleeps); when attempts are exhausted, or a retry cannot help, the failure is reported to
 * MI with a non-2xx StatusCode, never dropped.
 */
import type { CompiledBundle } from "../mapping/compiled.ts";
import { InvalidEventError, SendConnectorEventError } from "../mi/event-errors.ts";
import type { ConnectorRequest } from "../mi/protocol.ts";
import { defaultBackoffMs, type DeferredJob } from "../handoff/job.ts";
import { Deadline } from "../runtime/deadline.ts";
import type { Logger } from "../log/logger.ts";
import type { RedactingLogger } from "../log/json-logger.ts";
import { addLogContext } from "../log/context.ts";
import { VendorError } from "../vendor/types.ts";
import type { OperationEnv } from "../operations/environment.ts";
import type { EventPublisher } from "../operations/publisher.ts";
import { reportDiscoveryFailure, runDiscovery } from "../operations/discover-devices.ts";
import { reportCommandFailure, resumeCommand } from "../operations/send-command.ts";
import { readBackCommand } from "../operations/command/read-back.ts";
import { errorToStatus, isTransient, safeMessage } from "../operations/errors.ts";
import { POLL_JOB } from "../polling/schedule.ts";
import type { PollingService, PollJobWork } from "../polling/polling-service.ts";
import { EVENT_JOB, JobStateMissing, READ_BACK_JOB, type DeferredWork, type JobWork } from "./job-work.ts";
import { EVENT_JOB_MAX_BACKOFF_MS, type Outbox } from "./outbox.ts";
import type { HandOffs } from "./hand-offs.ts";
import { correlationIdsOf } from "./mi-requests.ts";

/** What became of one attempt of a deferred job. */
export type JobResult =
  | { jobId: string; status: "done" | "failed" | "refused" }
  /** Failed for now: run it again after `delayMs` (the caller's queue or loop does). */
  | { jobId: string; status: "retry"; delayMs: number };

/** What running jobs needs of the engine. */
export interface JobRunnerParts {
  bundle: CompiledBundle;
  logger: RedactingLogger;
  work: DeferredWork;
  outbox: Outbox;
  /** Sends without deferral: what event jobs use (deactivation is still checked before each send). */
  directPublisher: EventPublisher;
  environment(request: ConnectorRequest, deadline: Deadline, logger: Logger, opts?: { account?: boolean }): Promise<OperationEnv>;
  /** A command job schedules its read-back here; a discovery job hands its own tail off again (with a dispatcher). */
  handOffs: HandOffs;
  /** Whether there is a dispatcher to hand work to. */
  dispatching: boolean;
  polling?: PollingService;
  /** Budget of a job when no Lambda context says otherwise (default 60 s). */
  jobBudgetMs?: number;
}

export class JobRunner {
  constructor(private readonly parts: JobRunnerParts) {}

  /** One attempt; `attempt` is the queue's receive count when it knows better than the job. */
  async attempt(job: DeferredJob, context: { getRemainingTimeInMillis(): number } | undefined, attempt: number): Promise<JobResult> {
    const p = this.parts;
    const logger = p.logger.child({ jobId: job.jobId, operation: job.operation, attempt });
    if (!(await p.work.isAuthentic(job))) {
      logger.error("deferred job refused: it was not written by this deployment");
      return { jobId: job.jobId, status: "refused" };
    }
    const deadline = Deadline.fromLambdaContext(context, { budgetMs: p.jobBudgetMs ?? 60_000 });
    try {
      await this.execute(job, deadline, logger, attempt);
      await p.work.forget(job);
      return { jobId: job.jobId, status: "done" };
    } catch (err) {
      if (attempt < job.maxAttempts && isRetryable(err, p.bundle)) {
        const backoff = job.operation === EVENT_JOB ? Math.min(EVENT_JOB_MAX_BACKOFF_MS, 1000 * 2 ** Math.min(attempt - 1, 20)) : defaultBackoffMs(attempt);
        // Over a vendor quota: no sooner than it has room again.
        const delayMs = err instanceof VendorError && err.kind === "quota" && err.retryAfterMs !== undefined ? Math.max(backoff, err.retryAfterMs) : backoff;
        logger.warn("deferred job failed, retrying", { error: err, delayMs });
        return { jobId: job.jobId, status: "retry", delayMs };
      }
      logger.error("deferred job failed for good", { error: err });
      await this.reportFailure(job, err, deadline, logger);
      await p.work.forget(job);
      return { jobId: job.jobId, status: "failed" };
    }
  }

  private async execute(job: DeferredJob, deadline: Deadline, logger: Logger, attempt: number): Promise<void> {
    const p = this.parts;
    if (job.operation === EVENT_JOB) {
      await p.outbox.deliver(job, p.directPublisher, logger);
      return;
    }
    if (job.operation === READ_BACK_JOB) {
      const { request } = await p.work.workOf<JobWork>(job);
      await readBackCommand(await p.environment(request, deadline, logger));
      return;
    }
    if (job.operation === POLL_JOB) {
      if (!p.polling) throw new Error("a poll job for a bundle without polling");
      await p.polling.poll(await p.work.workOf<PollJobWork>(job), (request) => p.environment(request, deadline, logger), logger);
      return;
    }
    const { request, progress, plan } = await p.work.workOf<JobWork>(job);
    addLogContext(correlationIdsOf(request));
    const env = await p.environment(request, deadline, logger);
    const handOffs = p.handOffs;
    if (request.payload.operationName === "AWS.DiscoverDevices") {
      await runDiscovery(env, progress, p.dispatching ? (next, delayMs) => handOffs.handOff(request, next, undefined, delayMs) : undefined);
    } else if (request.payload.operationName === "AWS.SendCommand") {
      // The last attempt records a transient failure in the plan and reports it per command.
      await resumeCommand(env, { carried: plan, retryTransient: attempt < job.maxAttempts, readBack: (delayMs) => handOffs.scheduleReadBack(request, delayMs) });
    } else {
      throw new Error(`deferred job for unsupported operation ${request.payload.operationName}`);
    }
  }

  private async reportFailure(job: DeferredJob, err: unknown, deadline: Deadline, logger: Logger): Promise<void> {
    const p = this.parts;
    if (job.operation === EVENT_JOB) {
      // MI refused the event for good: it cannot be reported to MI, so it is logged as lost, with MI's reason.
      logger.error("event could not be delivered to managed integrations", { error: err });
      return;
    }
    if (job.operation === POLL_JOB || job.operation === READ_BACK_JOB) {
      // Nothing to report to MI: the next round polls the user again.
      return;
    }
    if (err instanceof SendConnectorEventError) {
      // MI refused an event of this job for good (logged by the publisher): a failure event would be refused too.
      return;
    }
    if (err instanceof JobStateMissing) {
      // Without the request there is nothing to report to: the loss is logged, by job id only.
      logger.error("deferred job lost: its work expired from the state store");
      return;
    }
    const { request } = await p.work.workOf<JobWork>(job);
    addLogContext(correlationIdsOf(request));
    const env = await p.environment(request, deadline, logger, { account: false });
    const status = errorToStatus(err, p.bundle);
    if (request.payload.operationName === "AWS.DiscoverDevices") {
      await reportDiscoveryFailure(env, status, safeMessage(err));
    } else if (request.payload.operationName === "AWS.SendCommand") {
      await reportCommandFailure(env, status, safeMessage(err));
    }
  }
}

/** A job is retried unless its failure is one a retry cannot fix. */
function isRetryable(err: unknown, bundle: CompiledBundle): boolean {
  if (err instanceof InvalidEventError || err instanceof JobStateMissing) return false;
  // MI's 4xx (ValidationException, AccessDenied, ResourceNotFound) are final: the same body fails again.
  if (err instanceof SendConnectorEventError) return err.retryable;
  if (err instanceof VendorError) return isTransient(err, bundle);
  return true;
}
