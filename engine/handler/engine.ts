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
import { InvalidEventError } from "../mi/event-errors.ts";
import type { StateStore } from "../store/store.ts";
import type { Logger } from "../log/logger.ts";
import { SecretRegistry } from "../log/redact.ts";
import { RedactingLogger } from "../log/json-logger.ts";
import type { SecretReader } from "../auth/secrets.ts";
import { createDeferredJob, isDeferredJob, nextAttempt, type DeferredJob, type JobDispatcher } from "../handoff/job.ts";
import { Deadline } from "../runtime/deadline.ts";
import { Evaluator, type ExpressionTracer } from "../runtime/expressions.ts";
import { CallRunner } from "../runtime/calls.ts";
import type { AuthMaterial } from "../runtime/credentials.ts";
import type { VendorClient } from "../vendor/client.ts";
import { VendorError } from "../vendor/types.ts";
import { validateMiRequest } from "../validation/validators.ts";
import { EventPublisher } from "../operations/publisher.ts";
import type { OperationEnv } from "../operations/environment.ts";
import { activateUser } from "../operations/activate-user.ts";
import { deactivateUser } from "../operations/deactivate-user.ts";
import { discoverDevices, reportDiscoveryFailure, runDiscovery, type DiscoveryProgress } from "../operations/discover-devices.ts";
import { reportCommandFailure, sendCommand, HandOffCommand } from "../operations/send-command.ts";
import { errorToStatus, isTransient, safeMessage } from "../operations/errors.ts";
import { isSqsEvent } from "../events/buffer-consumer.ts";

export interface LambdaContextLike {
  getRemainingTimeInMillis(): number;
  awsRequestId?: string;
  invokedFunctionArn?: string;
}

export interface EngineDeps {
  bundle: CompiledBundle;
  sink: EventSink;
  store: StateStore;
  logger: RedactingLogger;
  vendor: VendorClient;
  secrets: SecretReader;
  /** Where work that does not fit before the ACK goes; without one, work runs to the end synchronously. */
  dispatcher?: JobDispatcher;
  /** The ACK budget (MI waits 2 s; default 1500 ms). */
  ackBudgetMs?: number;
  /** Budget of a deferred job when no Lambda context says otherwise (default 60 s). */
  jobBudgetMs?: number;
  tracer?: ExpressionTracer;
  /** Handles events that are not MI requests or jobs (vendor webhooks); see engine/webhook. */
  webhook?: (event: unknown, context: LambdaContextLike | undefined) => Promise<unknown>;
  /** Handles SQS batches of the event buffer (mapping `webhooks.buffer`); see engine/events/buffer-consumer.ts. */
  queue?: (event: unknown, context: LambdaContextLike | undefined) => Promise<unknown>;
}

export const DEFAULT_ACK_BUDGET_MS = 1500;

export class Engine {
  readonly evaluator: Evaluator;
  readonly publisher: EventPublisher;

  constructor(readonly deps: EngineDeps) {
    this.evaluator = new Evaluator(deps.tracer);
    const dispatcher = deps.dispatcher;
    this.publisher = new EventPublisher(
      deps.sink,
      deps.store,
      deps.logger,
      dispatcher ? (input) => dispatcher.dispatch(createDeferredJob({ operation: EVENT_JOB, payload: input, maxAttempts: 5 })) : undefined,
    );
  }

  async handle(event: unknown, context?: LambdaContextLike): Promise<unknown> {
    if (isDeferredJob(event)) return this.runJob(event, context);
    if (isMiRequestShaped(event)) return this.handleMiRequest(event, context);
    if (this.deps.queue && isSqsEvent(event)) return this.deps.queue(event, context);
    if (this.deps.webhook) return this.deps.webhook(event, context);
    return ack(400, "event is neither a managed integrations request nor a webhook delivery");
  }

  async handleMiRequest(event: unknown, context?: LambdaContextLike): Promise<ConnectorResponse> {
    const checked = validateMiRequest(event);
    if (!checked.ok) {
      const first = checked.errors.slice(0, 3).map((e) => `${e.path} ${e.message}`).join("; ");
      this.deps.logger.warn("malformed MI request", { problems: checked.errors.length });
      return ack(400, `malformed request: ${first}`);
    }
    const request = event as ConnectorRequest;
    const deadline = Deadline.fromLambdaContext(context, { budgetMs: this.deps.ackBudgetMs ?? DEFAULT_ACK_BUDGET_MS });
    const logger = this.deps.logger.child({ operation: request.payload.operationName, requestId: context?.awsRequestId });
    const started = Date.now();
    try {
      const env = await this.environment(request, deadline, logger);
      const response = await this.dispatch(env);
      // One line per invocation at info; vendor calls and events are logged at debug.
      logger.info("operation answered", { responseCode: response.header.responseCode, durationMs: Date.now() - started });
      return response;
    } catch (err) {
      const status = errorToStatus(err, this.deps.bundle);
      logger.error("operation failed", { error: err, status });
      return ack(status, `${request.payload.operationName} failed: ${safeMessage(err)}`);
    }
  }

  private async dispatch(env: OperationEnv): Promise<ConnectorResponse> {
    const payload = env.request.payload;
    switch (payload.operationName) {
      case "AWS.ActivateUser":
        return activateUser(env);
      case "AWS.DeactivateUser":
        return deactivateUser(env);
      case "AWS.DiscoverDevices":
        return discoverDevices(env, this.deps.dispatcher ? { handOff: (progress) => this.handOff(env.request, progress) } : {});
      case "AWS.SendCommand":
        try {
          return await sendCommand(env, { handOffOnTimeout: !!this.deps.dispatcher });
        } catch (err) {
          if (!(err instanceof HandOffCommand)) throw err;
          await this.handOff(env.request);
          return ack(200, `Command ${(payload as SendCommandPayload).traceId} accepted, the vendor is slow: its result follows as an event`);
        }
    }
  }

  private async handOff(request: ConnectorRequest, progress?: DiscoveryProgress): Promise<void> {
    const job = createDeferredJob({ operation: request.payload.operationName, payload: await this.jobPayload({ request, progress }) });
    await this.deps.dispatcher!.dispatch(job);
    this.deps.logger.info("work handed off", { operation: job.operation, jobId: job.jobId });
  }

  /**
   * The work of a job carries the MI request, credentials included. With a durable store it is
   * kept there (encrypted at rest, with a TTL, deleted when the job ends) and the job carries only
   * a reference, so neither the asynchronous invocation nor a dead-letter copy of it holds a token.
   * An in-memory store is per container, so there the work has to travel with the job.
   */
  private async jobPayload(work: JobWork): Promise<JobWork | { ref: string }> {
    if (!this.deps.store.durable) return work;
    const ref = randomUUID();
    await this.deps.store.put(keys.job(ref), work, TTL.job);
    return { ref };
  }

  private async jobWork(job: DeferredJob): Promise<JobWork> {
    const payload = job.payload as JobWork | { ref: string };
    if (!("ref" in payload)) return payload;
    const work = await this.deps.store.get<JobWork>(keys.job(payload.ref));
    if (!work) throw new JobStateMissing();
    return work;
  }

  private async forgetJobWork(job: DeferredJob): Promise<void> {
    const payload = job.payload as { ref?: unknown } | undefined;
    if (payload && typeof payload.ref === "string") await this.deps.store.delete(keys.job(payload.ref));
  }

  /** Builds the per-invocation environment: credentials, secrets to mask, call runner. */
  async environment(request: ConnectorRequest, deadline: Deadline, logger: Logger): Promise<OperationEnv> {
    const auth = await this.authMaterial(request);
    const evaluator = this.evaluator;
    return {
      bundle: this.deps.bundle,
      request,
      auth,
      evaluator,
      calls: new CallRunner(this.deps.bundle, this.deps.vendor, evaluator, auth),
      vendor: this.deps.vendor,
      publisher: this.publisher,
      store: this.deps.store,
      logger,
      deadline,
    };
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
   * A deferred job: the tail of a discovery, a command whose vendor was slow, or an event MI did
   * not take. Failures are retried (re-dispatched with backoff); when attempts are exhausted the
   * failure is reported to MI with a non-2xx StatusCode, never dropped.
   */
  async runJob(job: DeferredJob, context?: LambdaContextLike): Promise<{ jobId: string; status: string }> {
    const logger = this.deps.logger.child({ jobId: job.jobId, operation: job.operation, attempt: job.attempt });
    const deadline = Deadline.fromLambdaContext(context, { budgetMs: this.deps.jobBudgetMs ?? 60_000 });
    const wait = (job.notBefore ?? 0) - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, Math.min(wait, Math.max(0, deadline.remainingMs() - 1000))));
    try {
      await this.executeJob(job, deadline, logger);
      await this.forgetJobWork(job);
      return { jobId: job.jobId, status: "done" };
    } catch (err) {
      const retry = nextAttempt(job, Date.now());
      if (retry && this.deps.dispatcher && isRetryable(err)) {
        logger.warn("deferred job failed, retrying", { error: err });
        await this.deps.dispatcher.dispatch(retry);
        return { jobId: job.jobId, status: "retrying" };
      }
      logger.error("deferred job failed for good", { error: err });
      await this.reportJobFailure(job, err, deadline, logger);
      await this.forgetJobWork(job);
      return { jobId: job.jobId, status: "failed" };
    }
  }

  private async executeJob(job: DeferredJob, deadline: Deadline, logger: Logger): Promise<void> {
    if (job.operation === EVENT_JOB) {
      await this.deps.sink.send(job.payload as SendConnectorEventInput);
      return;
    }
    const { request, progress } = await this.jobWork(job);
    const env = await this.environment(request, deadline, logger);
    if (request.payload.operationName === "AWS.DiscoverDevices") {
      await runDiscovery(env, progress, this.deps.dispatcher ? (p) => this.handOff(request, p) : undefined);
    } else if (request.payload.operationName === "AWS.SendCommand") {
      await sendCommand(env, { skipDedupe: true, throwTransient: job.attempt < job.maxAttempts });
    } else {
      throw new Error(`deferred job for unsupported operation ${request.payload.operationName}`);
    }
  }

  private async reportJobFailure(job: DeferredJob, err: unknown, deadline: Deadline, logger: Logger): Promise<void> {
    if (job.operation === EVENT_JOB) {
      // MI refused the event for good: it cannot be reported to MI, so it is logged as lost with its kind.
      logger.error("event could not be delivered to managed integrations", { eventOperation: (job.payload as SendConnectorEventInput).Operation });
      return;
    }
    if (err instanceof JobStateMissing) {
      // Without the request there is nothing to report to: the loss is logged, by job id only.
      logger.error("deferred job lost: its work expired from the state store");
      return;
    }
    const { request } = await this.jobWork(job);
    const env = await this.environment(request, deadline, logger);
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
function isRetryable(err: unknown): boolean {
  if (err instanceof InvalidEventError || err instanceof JobStateMissing) return false;
  if (err instanceof VendorError) return isTransient(err);
  return true;
}

function isMiRequestShaped(event: unknown): boolean {
  return !!event && typeof event === "object" && ("payload" in event || "header" in event) && !("requestContext" in event) && !("httpMethod" in event);
}

