/**
 * The engine: one object per container, built from a compiled bundle and its dependencies.
 * `handle()` classifies a Lambda event (MI request, deferred job, event buffer batch, vendor
 * webhook) and answers it.
 * It never throws: every failure becomes a proper ACK, event or HTTP answer.
 */
import { randomUUID } from "node:crypto";
import type { CompiledBundle } from "../mapping/compiled.ts";
import { keys, TTL } from "../operations/keys.ts";
import { ack, type ConnectorRequest, type ConnectorResponse, type SendCommandPayload } from "../mi/protocol.ts";
import type { EventSink, SendConnectorEventInput } from "../mi/send-connector-event.ts";
import { InvalidEventError, SendConnectorEventError } from "../mi/event-errors.ts";
import type { StateStore } from "../store/store.ts";
import type { Logger } from "../log/logger.ts";
import { SecretRegistry } from "../log/redact.ts";
import { RedactingLogger } from "../log/json-logger.ts";
import type { SecretReader } from "../auth/secrets.ts";
import { createDeferredJob, defaultBackoffMs, isDeferredJob, type DeferredJob, type DispatchOptions, type JobDispatcher } from "../handoff/job.ts";
import { JobSigner } from "../handoff/job-auth.ts";
import { consumeJobRecords, isJobRecord, type JobQueueControl } from "../handoff/job-consumer.ts";
import { Deadline } from "../runtime/deadline.ts";
import { Evaluator, type ExpressionTracer } from "../runtime/expressions.ts";
import { CallRunner } from "../runtime/calls.ts";
import type { SigningClock } from "../runtime/signing.ts";
import { prepareAccount } from "../account/account.ts";
import { accountKeyFromEnv } from "../account/sealed.ts";
import type { AuthMaterial } from "../runtime/credentials.ts";
import type { VendorClient } from "../vendor/client.ts";
import { VendorError } from "../vendor/types.ts";
import { RequestLimit } from "../vendor/request-limit.ts";
import { commandCount, limitsOf } from "../operations/limits.ts";
import { validateMiRequest } from "../validation/validators.ts";
import { EventPublisher } from "../operations/publisher.ts";
import type { OperationEnv } from "../operations/environment.ts";
import { activateUser } from "../operations/activate-user.ts";
import { deactivateUser } from "../operations/deactivate-user.ts";
import { discoverDevices, reportDiscoveryFailure, runDiscovery, type DiscoveryProgress } from "../operations/discover-devices.ts";
import { reportCommandFailure, resumeCommand, sendCommand, type CommandPlan } from "../operations/send-command.ts";
import { errorToStatus, isTransient, safeMessage } from "../operations/errors.ts";
import { isSqsEvent, type BatchResponse, type SqsEvent } from "../events/buffer-consumer.ts";
import type { BufferedEvent, EventBuffer } from "../events/buffer.ts";
import { ChangeTracker } from "../events/change-tracker.ts";
import { valuesCarriedBy, withoutStaleValues, type TrackedValue } from "../events/stale-values.ts";
import { normalizeEvent } from "../mi/event-normalize.ts";
import { isPollTick, POLL_JOB } from "../polling/schedule.ts";
import { PollingService, type PollJobWork } from "../polling/polling-service.ts";
import { QuotaGate } from "../quota/quota-gate.ts";
import { readBackCommand } from "../operations/command/read-back.ts";
import { addLogContext, withLogContext, type CorrelationIds } from "../log/context.ts";
import { countMetric, Metric, withMetrics, type MetricsPublisher } from "../metrics/recorder.ts";
import type { InvocationTracer } from "../tracing/tracing.ts";
import type { WebhookHandlerOptions } from "../webhook/ingress.ts";

/** The read-back of a command the vendor only accepted (mapping `readBack`). */
export const READ_BACK_JOB = "c2c.read-back";

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

export const DEFAULT_ACK_BUDGET_MS = 1500;
/**
 * Kept back from the operation's budget for what follows it before the ACK: writing a hand-off
 * (state store + queue) or an outbox entry when the vendor or MI used the budget up.
 */
export const ACK_RESERVE_MS = 300;

/** What became of one attempt of a deferred job. */
export type JobResult =
  | { jobId: string; status: "done" | "failed" | "refused" }
  /** Failed for now: run it again after `delayMs` (the caller's queue or loop does). */
  | { jobId: string; status: "retry"; delayMs: number };

/**
 * Attempts of an event MI did not take: with backoff capped at 15 minutes, 200 attempts keep
 * trying for about two days, within the job queue's retention (engine/deploy/template.ts).
 */
export const EVENT_JOB_MAX_ATTEMPTS = 200;
export const EVENT_JOB_MAX_BACKOFF_MS = 15 * 60_000;

export class Engine {
  readonly evaluator: Evaluator;
  readonly publisher: EventPublisher;
  /** Sends without deferral: what deferred event jobs use (deactivation is still checked before each send). */
  private readonly directPublisher: EventPublisher;
  readonly jobSigner: JobSigner;
  private readonly accountKey?: Buffer;
  /** The bundle's vendor quotas, counted in the state store (shared by every container). */
  private readonly quotaGate: QuotaGate;
  /** Bundles with `polling`: the roster, the sealed credentials and the rounds. */
  private readonly polling?: PollingService;
  private tracer?: Promise<InvocationTracer | undefined>;

  constructor(readonly deps: EngineDeps) {
    this.evaluator = new Evaluator(deps.tracer);
    this.jobSigner = deps.jobSigner ?? new JobSigner();
    // Polling keeps the last credential per user sealed under the same key as account values.
    this.accountKey = deps.bundle.account || deps.bundle.polling ? (deps.accountKey ?? accountKeyFromEnv(process.env, deps.store.durable === true)) : undefined;
    this.quotaGate = new QuotaGate(deps.store, deps.bundle.vendor.id, deps.now);
    if (deps.bundle.polling) {
      this.polling = new PollingService({
        polling: deps.bundle.polling,
        store: deps.store,
        vendorId: deps.bundle.vendor.id,
        requestsPerPoll: deps.bundle.operations.discoverDevices.requests.length + 1,
        accountKey: this.accountKey,
        now: deps.now ?? Date.now,
        logger: deps.logger,
        enqueue: deps.dispatcher ? (operation, work, options) => this.enqueue(operation, work, options) : undefined,
      });
    }
    const dispatcher = deps.dispatcher;
    this.publisher = new EventPublisher(deps.sink, deps.store, deps.logger, dispatcher ? (parts) => this.deferEvents(parts) : undefined);
    this.directPublisher = this.publisher.direct();
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
    if (isPollTick(event)) {
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
    if (isSqsEvent(event)) return this.handleQueueBatch(event, context);
    if (this.deps.webhook) return this.deps.webhook(event, context);
    return ack(400, "event is neither a managed integrations request nor a webhook delivery");
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

  /** Hands `job` to the dispatcher, signed so the consumer can tell it was written here. */
  async dispatchJob(job: DeferredJob, options?: DispatchOptions): Promise<void> {
    await this.deps.dispatcher!.dispatch(this.jobSigner.sign(job), options);
  }

  /** Puts `work` on the job queue: stored in the state store (see jobPayload), then dispatched signed. */
  private async enqueue(operation: string, work: object, options: { maxAttempts?: number; delayMs?: number } = {}): Promise<DeferredJob> {
    const job = createDeferredJob({ operation, payload: await this.jobPayload(work, operation), ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}) });
    await this.dispatchJob(job, options.delayMs !== undefined ? { delayMs: options.delayMs } : undefined);
    return job;
  }

  /** Parts of an event MI did not take now go to the outbox: a deferred job that delivers them later. */
  private async deferEvents(parts: SendConnectorEventInput[]): Promise<void> {
    await this.enqueue(EVENT_JOB, { events: parts } satisfies EventJobWork, { maxAttempts: EVENT_JOB_MAX_ATTEMPTS });
  }

  /**
   * The outbox as a webhook delivery's event buffer: DEVICE_EVENTs MI did not take now (and the rest
   * of their delivery) become ONE outbox job, each request carrying the attribute values to record
   * once MI accepted it and its order position, so a value a newer event overtook is not sent.
   * Only with a durable dispatcher (the SQS job queue): in-process work dies with the container,
   * and then the delivery is refused so that the vendor redelivers.
   */
  webhookOutbox(): EventBuffer | undefined {
    if (!this.deps.dispatcher?.durable) return undefined;
    return { write: (events) => this.deferWebhookEvents(events) };
  }

  private async deferWebhookEvents(buffered: BufferedEvent[]): Promise<void> {
    const events: SendConnectorEventInput[] = [];
    const tracking: EventTracking[] = [];
    for (const b of buffered) {
      let parts: SendConnectorEventInput[];
      try {
        parts = normalizeEvent(b.input).events;
      } catch (err) {
        if (!(err instanceof InvalidEventError)) throw err;
        // A retry cannot fix it: logged as lost, with the problems, never the values.
        this.deps.logger.error("webhook event breaks the SendConnectorEvent model: it is lost", { error: err });
        continue;
      }
      for (const part of parts) {
        events.push(part);
        tracking.push({ commits: valuesCarriedBy(part, b.commits), ...(b.order !== undefined ? { order: b.order } : {}) });
      }
    }
    if (events.length === 0) return;
    const job = await this.enqueue(EVENT_JOB, { events, tracking } satisfies EventJobWork, { maxAttempts: EVENT_JOB_MAX_ATTEMPTS });
    this.deps.logger.info("webhook events handed to the outbox", { jobId: job.jobId, events: events.length });
  }

  async handleMiRequest(event: unknown, context?: LambdaContextLike): Promise<ConnectorResponse> {
    const checked = validateMiRequest(event);
    if (!checked.ok) {
      const first = checked.errors.slice(0, 3).map((e) => `${e.path} ${e.message}`).join("; ");
      this.deps.logger.warn("malformed MI request", { problems: checked.errors.length });
      return ack(400, `malformed request: ${first}`);
    }
    const request = event as ConnectorRequest;
    return withLogContext(correlationIdsOf(request), () => this.answer(request, context));
  }

  private async answer(request: ConnectorRequest, context?: LambdaContextLike): Promise<ConnectorResponse> {
    return this.traced(request.payload.operationName, () => this.answerTraced(request, context));
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

  private async answerTraced(request: ConnectorRequest, context?: LambdaContextLike): Promise<ConnectorResponse> {
    this.deps.dispatcher?.prepare?.();
    const deadline = Deadline.fromLambdaContext(context, { budgetMs: (this.deps.ackBudgetMs ?? DEFAULT_ACK_BUDGET_MS) - ACK_RESERVE_MS });
    const logger = this.deps.logger.child({ operation: request.payload.operationName, requestId: context?.awsRequestId });
    const started = Date.now();
    try {
      const env = await this.environment(request, deadline, logger);
      const response = await this.dispatch(env);
      if (this.polling && response.header.responseCode >= 200 && response.header.responseCode < 300) await this.polling.noteAnswered(env, response);
      // One line per invocation at info; vendor calls and events are logged at debug.
      logger.info("operation answered", { responseCode: response.header.responseCode, durationMs: Date.now() - started });
      return response;
    } catch (err) {
      const status = errorToStatus(err, this.deps.bundle);
      logger.error("operation failed", { error: err, status });
      return ack(status, `${request.payload.operationName} failed: ${safeMessage(err)}`);
    }
  }

  /** A command the vendor only accepted: its device is read back by a job after `delayMs` (SQS DelaySeconds). */
  private async scheduleReadBack(request: ConnectorRequest, delayMs: number): Promise<void> {
    const job = await this.enqueue(READ_BACK_JOB, { request } satisfies JobWork, { delayMs });
    this.deps.logger.info("command read-back scheduled", { jobId: job.jobId, delayMs });
  }

  private async dispatch(env: OperationEnv): Promise<ConnectorResponse> {
    const payload = env.request.payload;
    switch (payload.operationName) {
      case "AWS.ActivateUser":
        return activateUser(env);
      case "AWS.DeactivateUser":
        return deactivateUser(env);
      case "AWS.DiscoverDevices":
        return discoverDevices(env, this.deps.dispatcher ? { handOff: (progress, delayMs) => this.handOff(env.request, progress, undefined, delayMs) } : {});
      case "AWS.SendCommand": {
        const max = limitsOf(this.deps.bundle).commandsPerRequest;
        const count = commandCount(payload as SendCommandPayload);
        if (count > max) {
          env.logger.warn("SendCommand over the command limit refused", { commands: count, limit: max });
          return ack(400, `SendCommand carries ${count} commands; at most ${max} per request (api.limits.commandsPerRequest)`);
        }
        return sendCommand(env, this.deps.dispatcher ? { handOff: (plan, delayMs) => this.handOff(env.request, undefined, plan, delayMs), readBack: (delayMs) => this.scheduleReadBack(env.request, delayMs) } : {});
      }
    }
  }

  private async handOff(request: ConnectorRequest, progress?: DiscoveryProgress, plan?: CommandPlan, delayMs?: number): Promise<void> {
    const operation = request.payload.operationName;
    // A command's plan is in the store; a store that is not shared (memory) also needs it in the job.
    const work: JobWork = { request, ...(progress ? { progress } : {}), ...(plan && !this.deps.store.durable ? { plan } : {}) };
    const job = await this.enqueue(operation, work, { delayMs });
    countMetric(Metric.HandOffs, 1, { operation });
    this.deps.logger.info("work handed off", { operation: job.operation, jobId: job.jobId, ...(delayMs !== undefined ? { delayMs } : {}) });
  }

  /**
   * The work of a job carries the MI request, credentials included. With a durable store it is
   * kept there (encrypted at rest, with a TTL, deleted when the job ends) and the job carries only
   * a reference, so neither the asynchronous invocation nor a dead-letter copy of it holds a token.
   * An in-memory store is per container, so there the work has to travel with the job.
   */
  private async jobPayload<W extends object>(work: W, operation: string): Promise<W | { ref: string }> {
    if (!this.deps.store.durable) return work;
    const ref = randomUUID();
    await this.deps.store.put(keys.job(ref), { operation, work } satisfies StoredJobWork, TTL.job);
    return { ref };
  }

  private async jobWork<W>(job: DeferredJob): Promise<W> {
    const payload = job.payload as W | { ref: string };
    if (!isRefPayload(payload)) return payload as W;
    const stored = await this.deps.store.get<StoredJobWork>(keys.job(payload.ref));
    if (!stored) throw new JobStateMissing();
    return stored.work as W;
  }

  /**
   * Whether this deployment wrote the job: a reference to work it stored for the same operation,
   * or a valid MAC under the job key. Anything else (a forged or altered job) is refused.
   */
  private async authenticJob(job: DeferredJob): Promise<boolean> {
    if (isRefPayload(job.payload)) {
      const stored = await this.deps.store.get<StoredJobWork>(keys.job(job.payload.ref));
      // A missing ref is left to the run, which logs the loss (expired) rather than a forgery.
      return stored === undefined || stored.operation === job.operation;
    }
    return this.jobSigner.verify(job);
  }

  private async forgetJobWork(job: DeferredJob): Promise<void> {
    if (isRefPayload(job.payload)) await this.deps.store.delete(keys.job(job.payload.ref));
    if (job.operation === EVENT_JOB) await this.deps.store.delete(keys.jobProgress(job.jobId));
  }

  /** Builds the per-invocation environment: credentials, secrets to mask, call runner. */
  async environment(request: ConnectorRequest, deadline: Deadline, logger: Logger, opts: { account?: boolean } = {}): Promise<OperationEnv> {
    const auth = await this.authMaterial(request);
    const evaluator = this.evaluator;
    // One view of the vendor client per invocation: it counts this invocation's requests against the limit.
    const vendor = this.deps.vendor.withRequestLimit(new RequestLimit(limitsOf(this.deps.bundle).vendorRequestsPerInvocation)).withQuotas(this.quotaGate, this.deps.bundle.api.quota);
    const env: OperationEnv = {
      bundle: this.deps.bundle,
      request,
      auth,
      evaluator,
      calls: new CallRunner(this.deps.bundle, vendor, evaluator, auth, { signingClock: this.deps.signingClock }),
      vendor,
      // Every request to MI on this path is bounded by what is left of the budget: the ACK never waits on MI.
      publisher: this.publisher.within(deadline),
      store: this.deps.store,
      logger,
      deadline,
      secrets: this.deps.logger.secretRegistry,
      accountKey: this.accountKey,
    };
    // Operations after linking read the stored account values (ActivateUser bootstraps them,
    // DeactivateUser retires them itself).
    const op = request.payload.operationName;
    if (opts.account !== false && (op === "AWS.DiscoverDevices" || op === "AWS.SendCommand")) await prepareAccount(env);
    return env;
  }

  private async authMaterial(request: ConnectorRequest): Promise<AuthMaterial> {
    const secrets: SecretRegistry = this.deps.logger.secretRegistry;
    const auth = request.header.auth;
    if (auth.type === "OAuth2.0") {
      secrets.add(auth.token);
      return { kind: "oauth", token: auth.token };
    }
    const secret = await this.deps.secrets.read(auth.secretsManager.arn, auth.secretsManager.versionId);
    for (const v of Object.values(secret)) secrets.add(v);
    return { kind: "general", secret };
  }

  /**
   * One attempt of a deferred job: the tail of a discovery, a command whose vendor was slow, or
   * events MI did not take. A failure a retry can fix answers "retry" with the backoff before the
   * next attempt (the job queue hides the message that long; the in-process runner sleeps); when
   * attempts are exhausted, or a retry cannot help, the failure is reported to MI with a non-2xx
   * StatusCode, never dropped. `attempt` is the queue's receive count when it knows better.
   */
  async runJob(job: DeferredJob, context?: LambdaContextLike, attempt: number = job.attempt): Promise<JobResult> {
    // A job is a unit of work of its own: its ids (the MI request's, once loaded) and its metrics,
    // whether it runs from a queue batch or in-process after the ACK of the request that made it.
    const ids = { requestId: context?.awsRequestId, jobId: job.jobId, operation: job.operation };
    return withLogContext(ids, () => withMetrics(this.deps.metrics, () => this.traced(job.operation, () => this.runJobAttempt(job, context, attempt))), { fresh: true });
  }

  private async runJobAttempt(job: DeferredJob, context: LambdaContextLike | undefined, attempt: number): Promise<JobResult> {
    const logger = this.deps.logger.child({ jobId: job.jobId, operation: job.operation, attempt });
    if (!(await this.authenticJob(job))) {
      logger.error("deferred job refused: it was not written by this deployment");
      return { jobId: job.jobId, status: "refused" };
    }
    const deadline = Deadline.fromLambdaContext(context, { budgetMs: this.deps.jobBudgetMs ?? 60_000 });
    try {
      await this.executeJob(job, deadline, logger, attempt);
      await this.forgetJobWork(job);
      return { jobId: job.jobId, status: "done" };
    } catch (err) {
      if (attempt < job.maxAttempts && isRetryable(err, this.deps.bundle)) {
        const backoff = job.operation === EVENT_JOB ? Math.min(EVENT_JOB_MAX_BACKOFF_MS, 1000 * 2 ** Math.min(attempt - 1, 20)) : defaultBackoffMs(attempt);
        // Over a vendor quota: no sooner than it has room again.
        const delayMs = err instanceof VendorError && err.kind === "quota" && err.retryAfterMs !== undefined ? Math.max(backoff, err.retryAfterMs) : backoff;
        logger.warn("deferred job failed, retrying", { error: err, delayMs });
        return { jobId: job.jobId, status: "retry", delayMs };
      }
      logger.error("deferred job failed for good", { error: err });
      await this.reportJobFailure(job, err, deadline, logger);
      await this.forgetJobWork(job);
      return { jobId: job.jobId, status: "failed" };
    }
  }

  private async executeJob(job: DeferredJob, deadline: Deadline, logger: Logger, attempt: number): Promise<void> {
    if (job.operation === EVENT_JOB) {
      await this.deliverEvents(job, logger);
      return;
    }
    if (job.operation === READ_BACK_JOB) {
      const { request } = await this.jobWork<JobWork>(job);
      await readBackCommand(await this.environment(request, deadline, logger));
      return;
    }
    if (job.operation === POLL_JOB) {
      if (!this.polling) throw new Error("a poll job for a bundle without polling");
      await this.polling.poll(await this.jobWork<PollJobWork>(job), (request) => this.environment(request, deadline, logger), logger);
      return;
    }
    const { request, progress, plan } = await this.jobWork<JobWork>(job);
    addLogContext(correlationIdsOf(request));
    const env = await this.environment(request, deadline, logger);
    if (request.payload.operationName === "AWS.DiscoverDevices") {
      await runDiscovery(env, progress, this.deps.dispatcher ? (p, delayMs) => this.handOff(request, p, undefined, delayMs) : undefined);
    } else if (request.payload.operationName === "AWS.SendCommand") {
      // The last attempt records a transient failure in the plan and reports it per command.
      await resumeCommand(env, { carried: plan, retryTransient: attempt < job.maxAttempts, readBack: (delayMs) => this.scheduleReadBack(request, delayMs) });
    } else {
      throw new Error(`deferred job for unsupported operation ${request.payload.operationName}`);
    }
  }

  /**
   * The outbox: sends the job's events in order, each through the deactivation check. Events MI
   * accepted are recorded (by index, under the job id), so a retry sends only the rest: a part of a
   * split event is never sent twice, except the very request whose answer was lost, re-sent
   * identically (SendConnectorEvent is @idempotent).
   */
  private async deliverEvents(job: DeferredJob, logger: Logger): Promise<void> {
    const { events, tracking } = await this.jobWork<EventJobWork>(job);
    const progressKey = keys.jobProgress(job.jobId);
    const tracker = new ChangeTracker(this.deps.store);
    let done = (await this.deps.store.get<number>(progressKey)) ?? 0;
    for (; done < events.length; done++) {
      const tracked = tracking?.[done];
      const part = tracked ? await withoutStaleValues(events[done]!, tracked.commits, tracked.order, tracker) : events[done]!;
      if (part === undefined) {
        logger.info("deferred webhook event dropped: newer values reached managed integrations meanwhile");
      } else if (!(await this.directPublisher.publishParts([part]))) {
        logger.warn("the user was deactivated: the rest of the deferred events is not sent", { notSent: events.length - done });
        return;
      }
      await this.deps.store.put(progressKey, done + 1, TTL.job);
      if (part && tracked) {
        try {
          for (const c of tracked.commits) await tracker.commit(c.ref, c.value, tracked.order);
        } catch (err) {
          // MI has it; the tracker only decides what later events repeat.
          logger.warn("deferred webhook event sent, but its values were not recorded", { error: err });
        }
      }
    }
    logger.info("deferred events delivered", { events: events.length });
  }

  private async reportJobFailure(job: DeferredJob, err: unknown, deadline: Deadline, logger: Logger): Promise<void> {
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
    const { request } = await this.jobWork<JobWork>(job);
    addLogContext(correlationIdsOf(request));
    const env = await this.environment(request, deadline, logger, { account: false });
    const status = errorToStatus(err, this.deps.bundle);
    if (request.payload.operationName === "AWS.DiscoverDevices") {
      await reportDiscoveryFailure(env, status, safeMessage(err));
    } else if (request.payload.operationName === "AWS.SendCommand") {
      await reportCommandFailure(env, status, safeMessage(err));
    }
  }
}

interface JobWork {
  request: ConnectorRequest;
  progress?: DiscoveryProgress;
  /** The command's plan, carried only when the state store is not shared (memory). */
  plan?: CommandPlan;
}

/** A poll job's work: whose devices to read (the credential is looked up when it runs). */

/** The outbox's work: events MI has not taken yet, each one request (already split and checked). */
interface EventJobWork {
  events: SendConnectorEventInput[];
  /** Webhook events only, one per request: what to record once MI accepted it, and its order position. */
  tracking?: EventTracking[];
}

interface EventTracking {
  commits: TrackedValue[];
  order?: number;
}

/** What the state store holds for a job reference: the work, and the operation it is for. */
interface StoredJobWork {
  operation: string;
  work: unknown;
}

function isRefPayload(payload: unknown): payload is { ref: string } {
  return !!payload && typeof payload === "object" && typeof (payload as { ref?: unknown }).ref === "string";
}

/** The work a job refers to is gone from the store (expired): a retry cannot bring it back. */
class JobStateMissing extends Error {
  constructor() {
    super("the work of this deferred job is no longer in the state store");
    this.name = "JobStateMissing";
  }
}

/** Job kind for an event MI did not accept in time (throttling, outage): delivered later. */
export const EVENT_JOB = "SendConnectorEvent";

/** A job is retried unless its failure is one a retry cannot fix. */
function isRetryable(err: unknown, bundle: CompiledBundle): boolean {
  if (err instanceof InvalidEventError || err instanceof JobStateMissing) return false;
  // MI's 4xx (ValidationException, AccessDenied, ResourceNotFound) are final: the same body fails again.
  if (err instanceof SendConnectorEventError) return err.retryable;
  if (err instanceof VendorError) return isTransient(err, bundle);
  return true;
}

/** The ids MI gave this request, for every log line of its work (engine/log/context.ts); never its token or user. */
export function correlationIdsOf(request: ConnectorRequest): CorrelationIds {
  const p = request.payload as Partial<Record<"traceId" | "deviceDiscoveryId" | "connectorDeviceId", unknown>> & { operationName: string };
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  return { operation: p.operationName, traceId: str(p.traceId), deviceDiscoveryId: str(p.deviceDiscoveryId), connectorDeviceId: str(p.connectorDeviceId) };
}

function isMiRequestShaped(event: unknown): boolean {
  return !!event && typeof event === "object" && ("payload" in event || "header" in event) && !("requestContext" in event) && !("httpMethod" in event);
}

