/**
 * The engine: one object per container, built from a compiled bundle and its dependencies.
 * `handle()` classifies a Lambda event (MI request, deferred job, queue batch, poll tick, vendor
 * webhook) and hands it to the part that answers it:
 *  - mi-requests.ts: MI's requests, within the ACK budget
 *  - job-runner.ts: one attempt of a deferred job from the job queue
 *  - outbox.ts: events MI did not take now, delivered later
 *  - hand-offs.ts, job-work.ts: work put on the job queue, and where its payload is kept
 *  - operation-environment.ts: the per-invocation environment of an operation
 * It never throws: every failure becomes a proper ACK, event or HTTP answer.
 */
import type { CompiledBundle } from "../mapping/compiled.ts";
import { ack, type ConnectorResponse } from "../mi/protocol.ts";
import type { EventSink } from "../mi/send-connector-event.ts";
import type { StateStore } from "../store/store.ts";
import type { Logger } from "../log/logger.ts";
import type { RedactingLogger } from "../log/json-logger.ts";
import type { SecretReader } from "../auth/secrets.ts";
import { isDeferredJob, type DeferredJob, type DispatchOptions, type JobDispatcher } from "../handoff/job.ts";
import { JobSigner } from "../handoff/job-auth.ts";
import { consumeJobRecords, isJobRecord, type JobQueueControl } from "../handoff/job-consumer.ts";
import type { Deadline } from "../runtime/deadline.ts";
import { Evaluator, type ExpressionTracer } from "../runtime/expressions.ts";
import type { SigningClock } from "../runtime/signing.ts";
import { accountKeyFromEnv } from "../account/sealed.ts";
import type { VendorClient } from "../vendor/client.ts";
import { EventPublisher } from "../operations/publisher.ts";
import type { OperationEnv } from "../operations/environment.ts";
import type { ConnectorRequest } from "../mi/protocol.ts";
import { isSqsEvent, type BatchResponse, type SqsEvent } from "../events/buffer-consumer.ts";
import type { EventBuffer } from "../events/buffer.ts";
import { isPollTick } from "../polling/schedule.ts";
import { PollingService } from "../polling/polling-service.ts";
import { QuotaGate } from "../quota/quota-gate.ts";
import { withLogContext } from "../log/context.ts";
import { withMetrics, type MetricsPublisher } from "../metrics/recorder.ts";
import type { InvocationTracer } from "../tracing/tracing.ts";
import type { WebhookHandlerOptions } from "../webhook/ingress.ts";
import { DeferredWork } from "./job-work.ts";
import { Outbox } from "./outbox.ts";
import { HandOffs } from "./hand-offs.ts";
import { OperationEnvironments } from "./operation-environment.ts";
import { isMiRequestShaped, MiRequests } from "./mi-requests.ts";
import { JobRunner, type JobResult } from "./job-runner.ts";

export { EVENT_JOB, READ_BACK_JOB } from "./job-work.ts";
export { EVENT_JOB_MAX_ATTEMPTS, EVENT_JOB_MAX_BACKOFF_MS } from "./outbox.ts";
export { ACK_RESERVE_MS, DEFAULT_ACK_BUDGET_MS, correlationIdsOf } from "./mi-requests.ts";
export type { JobResult } from "./job-runner.ts";

export interface LambdaContextLike {
  getRemainingTimeInMillis(): number;
  awsRequestId?: string;
  invokedFunctionArn?: string;
}

export interface EngineDeps {
  /** Options of the webhook handler (loaded on the first delivery): tooling gives key sets here. */
  webhookOptions?: WebhookHandlerOptions;
  bundle: CompiledBundle;
  sink: EventSink;
  store: StateStore;
  logger: RedactingLogger;
  vendor: VendorClient;
  secrets: SecretReader;
  /** Where work that does not fit before the ACK goes; without one, work runs to the end synchronously. */
  dispatcher?: JobDispatcher;
  /** The SQS job queue the dispatcher writes to, for retries of received jobs (visibility timeout). */
  jobQueue?: JobQueueControl;
  /** Signs and verifies jobs whose work travels inline (engine/handoff/job-auth.ts). Default: a per-container key. */
  jobSigner?: JobSigner;
  /** The ACK budget (MI waits 2 s; default 1500 ms). */
  ackBudgetMs?: number;
  /** Budget of a deferred job when no Lambda context says otherwise (default 60 s). */
  jobBudgetMs?: number;
  tracer?: ExpressionTracer;
  /** Handles events that are not MI requests or jobs (vendor webhooks); see engine/webhook. */
  webhook?: (event: unknown, context: LambdaContextLike | undefined) => Promise<unknown>;
  /** Key that encrypts account values in the store (default: from C2C_ACCOUNT_KEY; see engine/account/sealed.ts). */
  accountKey?: Buffer;
  /** Clock and nonce of request signing (tests pin them). */
  signingClock?: SigningClock;
  /** Clock of polling (credential expiry) and of the vendor quotas' windows; tests move it. */
  now?: () => number;
  /** Handles SQS batches of the event buffer (mapping `webhooks.buffer`); see engine/events/buffer-consumer.ts. */
  queue?: (event: unknown, context: LambdaContextLike | undefined) => Promise<unknown>;
  /** Where each invocation's metrics go when it ends (EMF on Lambda, engine/metrics); without one none are recorded. */
  metrics?: MetricsPublisher;
  /** Loads the X-Ray tracer (engine/tracing); called once, on the first unit of work. Without it nothing is traced. */
  tracing?: () => Promise<InvocationTracer | undefined>;
}

export class Engine {
  readonly evaluator: Evaluator;
  readonly publisher: EventPublisher;
  readonly jobSigner: JobSigner;
  /** Bundles with `polling`: the roster, the sealed credentials and the rounds. */
  private readonly polling?: PollingService;
  private readonly work: DeferredWork;
  private readonly outbox: Outbox;
  private readonly environments: OperationEnvironments;
  private readonly miRequests: MiRequests;
  private readonly jobs: JobRunner;
  private tracer?: Promise<InvocationTracer | undefined>;

  constructor(readonly deps: EngineDeps) {
    this.evaluator = new Evaluator(deps.tracer);
    this.jobSigner = deps.jobSigner ?? new JobSigner();
    const dispatcher = deps.dispatcher;
    this.work = new DeferredWork(deps.store, this.jobSigner, dispatcher);
    this.outbox = new Outbox(this.work, deps.store, deps.logger);
    const handOffs = new HandOffs(this.work, deps.store, deps.logger);
    // Polling keeps the last credential per user sealed under the same key as account values.
    const accountKey = deps.bundle.account || deps.bundle.polling ? (deps.accountKey ?? accountKeyFromEnv(process.env, deps.store.durable === true)) : undefined;
    if (deps.bundle.polling) {
      this.polling = new PollingService({
        polling: deps.bundle.polling,
        store: deps.store,
        vendorId: deps.bundle.vendor.id,
        requestsPerPoll: deps.bundle.operations.discoverDevices.requests.length + 1,
        accountKey,
        now: deps.now ?? Date.now,
        logger: deps.logger,
        enqueue: dispatcher ? (operation, work, options) => this.work.enqueue(operation, work, options) : undefined,
      });
    }
    this.publisher = new EventPublisher(deps.sink, deps.store, deps.logger, dispatcher ? (parts) => this.outbox.defer(parts) : undefined);
    this.environments = new OperationEnvironments({
      bundle: deps.bundle,
      store: deps.store,
      logger: deps.logger,
      secrets: deps.secrets,
      vendor: deps.vendor,
      // The bundle's vendor quotas, counted in the state store (shared by every container).
      quotaGate: new QuotaGate(deps.store, deps.bundle.vendor.id, deps.now),
      evaluator: this.evaluator,
      publisher: this.publisher,
      accountKey,
      signingClock: deps.signingClock,
    });
    const traced = <T>(name: string, fn: () => Promise<T>) => this.traced(name, fn);
    this.miRequests = new MiRequests({
      bundle: deps.bundle,
      logger: deps.logger,
      environments: this.environments,
      handOffs: dispatcher ? handOffs : undefined,
      polling: this.polling,
      ackBudgetMs: deps.ackBudgetMs,
      prepare: () => this.deps.dispatcher?.prepare?.(),
      traced,
    });
    this.jobs = new JobRunner({
      bundle: deps.bundle,
      logger: deps.logger,
      work: this.work,
      outbox: this.outbox,
      directPublisher: this.publisher.direct(),
      environment: (request, deadline, logger, opts) => this.environments.build(request, deadline, logger, opts),
      handOffs,
      dispatching: !!dispatcher,
      polling: this.polling,
      jobBudgetMs: deps.jobBudgetMs,
    });
  }

  /**
   * One invocation: its log lines carry its correlation ids (and only its own: the scope ends with
   * it), and its metrics are published once, when it ends.
   */
  async handle(event: unknown, context?: LambdaContextLike): Promise<unknown> {
    return withLogContext({ requestId: context?.awsRequestId }, () => withMetrics(this.deps.metrics, () => this.route(event, context)), { fresh: true });
  }

  private async route(event: unknown, context?: LambdaContextLike): Promise<unknown> {
    if (isDeferredJob(event)) {
      // Jobs arrive only through the job queue (or in-process); a job invoked directly is someone else's.
      this.deps.logger.error("deferred job refused: jobs are accepted from the job queue only", { jobId: event.jobId });
      return ack(403, "deferred jobs are accepted from the job queue only");
    }
    if (isMiRequestShaped(event)) return this.handleMiRequest(event, context);
    if (isPollTick(event)) return this.startPollRound();
    if (isSqsEvent(event)) return this.handleQueueBatch(event, context);
    if (this.deps.webhook) return this.deps.webhook(event, context);
    return ack(400, "event is neither a managed integrations request nor a webhook delivery");
  }

  /** The EventBridge Scheduler's tick: a round of polls, one job per user. */
  private async startPollRound(): Promise<unknown> {
    try {
      if (!this.polling) {
        this.deps.logger.error("poll tick refused: the bundle declares no polling", { source: "polling" });
        return { status: "refused", reason: "the bundle declares no polling" };
      }
      return await this.polling.startRound();
    } catch (err) {
      // Users not reached this round are polled by the next one.
      this.deps.logger.error("poll round not started", { error: err });
      return { status: "failed" };
    }
  }

  /** An SQS batch: jobs of the job queue and, for bundles with `webhooks.buffer`, buffered events. */
  private async handleQueueBatch(event: SqsEvent, context?: LambdaContextLike): Promise<BatchResponse> {
    const jobs = event.Records.filter(isJobRecord);
    const others = event.Records.filter((r) => !isJobRecord(r));
    if (jobs.length === 0 && !this.deps.queue) return ack(400, "queue messages that are neither jobs nor buffered events") as unknown as BatchResponse;
    const failures: BatchResponse["batchItemFailures"] = [];
    if (jobs.length > 0) failures.push(...(await consumeJobRecords(this, jobs, context)));
    if (others.length > 0) {
      if (this.deps.queue) {
        const res = (await this.deps.queue({ Records: others }, context)) as BatchResponse;
        failures.push(...(res?.batchItemFailures ?? []));
      } else {
        // Nothing here can ever process them: logged and deleted, not redelivered forever.
        this.deps.logger.error("queue messages that are neither jobs nor buffered events dropped", { records: others.length });
      }
    }
    return { batchItemFailures: failures };
  }

  /** An MI request: its ACK, within the ACK budget (mi-requests.ts). */
  async handleMiRequest(event: unknown, context?: LambdaContextLike): Promise<ConnectorResponse> {
    return this.miRequests.handle(event, context);
  }

  /** Hands `job` to the dispatcher, signed so the consumer can tell it was written here. */
  async dispatchJob(job: DeferredJob, options?: DispatchOptions): Promise<void> {
    await this.work.dispatch(job, options);
  }

  /**
   * The outbox as a webhook delivery's event buffer (outbox.ts). Only with a durable dispatcher
   * (the SQS job queue): in-process work dies with the container, and then the delivery is
   * refused so that the vendor redelivers.
   */
  webhookOutbox(): EventBuffer | undefined {
    if (!this.deps.dispatcher?.durable) return undefined;
    return this.outbox.asEventBuffer();
  }

  /**
   * Runs a unit of work in a trace subsegment when tracing is on (the Tracer is loaded on first use,
   * never when it is off); a tracer that cannot load leaves the work untraced, never failed.
   */
  async traced<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const load = this.deps.tracing;
    if (!load) return fn();
    this.tracer ??= load().catch((err: unknown) => {
      this.deps.logger.error("tracing could not be started: operations run untraced", { error: err });
      return undefined;
    });
    const tracer = await this.tracer;
    return tracer ? tracer.trace(name, fn) : fn();
  }

  /** Builds the per-invocation environment: credentials, secrets to mask, call runner (operation-environment.ts). */
  async environment(request: ConnectorRequest, deadline: Deadline, logger: Logger, opts: { account?: boolean } = {}): Promise<OperationEnv> {
    return this.environments.build(request, deadline, logger, opts);
  }

  /**
   * One attempt of a deferred job (job-runner.ts). `attempt` is the queue's receive count when it
   * knows better. A job is a unit of work of its own: its ids (the MI request's, once loaded) and
   * its metrics, whether it runs from a queue batch or in-process after the ACK that made it.
   */
  async runJob(job: DeferredJob, context?: LambdaContextLike, attempt: number = job.attempt): Promise<JobResult> {
    const ids = { requestId: context?.awsRequestId, jobId: job.jobId, operation: job.operation };
    return withLogContext(ids, () => withMetrics(this.deps.metrics, () => this.traced(job.operation, () => this.jobs.attempt(job, context, attempt))), { fresh: true });
  }
}
