/**
 * Wires an Engine with production defaults, read from the environment once per container:
 *  - events: SendConnectorEventClient (SigV4, default credential chain; C2C_MI_ENDPOINT overrides the host)
 *  - state: DynamoDB when C2C_STATE_TABLE is set, else in memory (on Lambda only with C2C_STATE_STORE=memory:
 *    deactivation markers and idempotency must outlive the container)
 *  - hand-off: the SQS job queue when C2C_JOB_QUEUE_URL is set (required on Lambda), in-process elsewhere
 *  - event buffer (bundles declaring `webhooks.buffer`): SQS, C2C_SQS_ENDPOINT overrides the host
 *  - secrets: Secrets Manager (C2C_SECRETS_MANAGER_ENDPOINT overrides the host)
 *  - vendor: C2C_VENDOR_ORIGIN points every vendor URL at another origin (local simulator)
 *  - metrics: EMF on stdout on Lambda (POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_SERVICE_NAME); elsewhere only
 *    with C2C_METRICS=emf, so the CLI's output stays its own
 *  - tracing: Powertools Tracer (X-Ray) only with C2C_TRACING=true, loaded on the first invocation
 */
import type { CompiledBundle } from "../mapping/compiled.ts";
import { SendConnectorEventClient } from "../mi/client.ts";
import { createStateStore } from "../store/index.ts";
import { logLevelFrom, powertoolsSink, RedactingLogger } from "../log/json-logger.ts";
import { SecretRegistry } from "../log/redact.ts";
import { SecretReader } from "../auth/secrets.ts";
import { InProcessDispatcher, RetryJobLater } from "../handoff/in-process-dispatcher.ts";
import type { DeferredJob } from "../handoff/job.ts";
import { JobSigner } from "../handoff/job-auth.ts";
import { JOB_QUEUE_URL_ENV, sqsJobQueueFromEnv } from "../handoff/sqs-dispatcher.ts";
import { VendorClient } from "../vendor/client.ts";
import { Engine, type EngineDeps, type LambdaContextLike } from "./engine.ts";
import { ack } from "../mi/protocol.ts";
import type { WebhookHandler } from "../webhook/ingress.ts";
import { createBufferConsumer } from "../events/buffer-consumer.ts";
import { emfPublisherFromEnv } from "../metrics/emf.ts";
import { loadTracer, tracingEnabled } from "../tracing/tracing.ts";

export type LambdaHandler = (event: unknown, context?: LambdaContextLike) => Promise<unknown>;

/** C2C_STATE_STORE=memory: the explicit choice of per-container state on Lambda (tests, throwaway stacks). */
export const STATE_STORE_ENV = "C2C_STATE_STORE";

/** C2C_METRICS=emf: EMF metric lines on stdout outside Lambda too (on Lambda they always are). */
export const METRICS_ENV = "C2C_METRICS";

/** The service name of log lines and metrics: POWERTOOLS_SERVICE_NAME, else `c2c-<vendor id>`. */
export function serviceNameOf(bundle: CompiledBundle, env: NodeJS.ProcessEnv = process.env): string {
  return env.POWERTOOLS_SERVICE_NAME?.trim() || `c2c-${bundle.vendor.id}`;
}

export function createEngine(bundle: CompiledBundle, overrides: Partial<EngineDeps> = {}, env: NodeJS.ProcessEnv = process.env): Engine {
  const onLambda = !!env.AWS_LAMBDA_FUNCTION_NAME;
  if (onLambda && !overrides.store && !env.C2C_STATE_TABLE?.trim() && env[STATE_STORE_ENV] !== "memory") {
    // A memory store forgets deactivations and idempotency claims with the container: refuse rather than risk it.
    throw new Error(`no durable state store: set C2C_STATE_TABLE (or ${STATE_STORE_ENV}=memory to accept per-container state)`);
  }
  const level = logLevelFrom(env.C2C_LOG_LEVEL);
  const service = serviceNameOf(bundle, env);
  const logger = overrides.logger ?? new RedactingLogger(powertoolsSink(service, level), new SecretRegistry(), {}, level);
  const deps: EngineDeps = {
    bundle,
    logger,
    sink: overrides.sink ?? new SendConnectorEventClient({ logger, maxAttempts: 3, maxDelayMs: 1000 }),
    store: overrides.store ?? createStateStore(env),
    secrets: overrides.secrets ?? new SecretReader(),
    jobSigner: overrides.jobSigner ?? JobSigner.fromEnv(env),
    vendor: overrides.vendor ?? new VendorClient({ retry: bundle.api.retry, logger, originOverride: env.C2C_VENDOR_ORIGIN }),
    tracing: tracingEnabled(env) ? () => loadTracer(service, env) : undefined,
    metrics: "metrics" in overrides ? overrides.metrics : onLambda || env[METRICS_ENV] === "emf" ? emfPublisherFromEnv(service, env) : undefined,
    ...overrides,
  } as EngineDeps;
  let engine: Engine;
  if (!("dispatcher" in overrides)) {
    if (env[JOB_QUEUE_URL_ENV]?.trim()) {
      const queue = sqsJobQueueFromEnv(env);
      deps.dispatcher = queue;
      deps.jobQueue ??= queue;
    } else if (onLambda) {
      // After the ACK a Lambda is frozen: in-process work would never finish.
      throw new Error(`${JOB_QUEUE_URL_ENV} is not set: deferred work has no queue`);
    } else {
      deps.dispatcher = new InProcessDispatcher({ run: inProcessRunner(() => engine), logger });
    }
  }
  engine = new Engine(deps);
  if (!deps.webhook && bundle.webhooks) deps.webhook = lazyWebhookHandler(engine);
  if (!deps.queue && bundle.webhooks?.buffer) deps.queue = createBufferConsumer(engine);
  return engine;
}

/**
 * The webhook stack (signature schemes, JWT and JWKS, structured headers: about a fifth of the
 * artifact's code) is loaded on the first vendor delivery, not at cold start: no MI request uses
 * it, and a delivery is not held to MI's 2 s. A failed load is tried again on the next delivery.
 */
function lazyWebhookHandler(engine: Engine): WebhookHandler {
  let loading: Promise<WebhookHandler> | undefined;
  return async (event, context) => {
    loading ??= import("../webhook/ingress.ts").then(
      (m) => m.createWebhookHandler(engine, engine.deps.webhookOptions),
      (err: unknown) => {
        loading = undefined;
        throw err;
      },
    );
    return (await loading)(event, context);
  };
}

/** Runs jobs of an InProcessDispatcher through the engine; "retry" results become the dispatcher's retries. */
export function inProcessRunner(engine: () => Engine): (job: DeferredJob) => Promise<void> {
  return async (job) => {
    const result = await engine().runJob(job);
    if (result.status === "retry") throw new RetryJobLater(result.delayMs);
  };
}

/** The Lambda entry: one engine per container, reused by every invocation. */
export function createLambdaHandler(bundle: CompiledBundle, overrides: Partial<EngineDeps> = {}): LambdaHandler {
  let engine: Engine | undefined;
  return async (event, context) => {
    try {
      engine ??= createEngine(bundle, overrides);
    } catch (err) {
      // A misconfigured container (no region, a bad endpoint) still answers, with the reason;
      // configuration errors name settings, never secret values.
      const reason = err instanceof Error ? err.message : String(err);
      console.error(JSON.stringify({ level: "ERROR", message: "connector is misconfigured", reason }));
      return ack(500, `connector is misconfigured: ${reason}`);
    }
    return engine.handle(event, context);
  };
}
