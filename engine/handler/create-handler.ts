/**
 * Wires an Engine with production defaults, read from the environment once per container:
 *  - events: SendConnectorEventClient (SigV4, default credential chain; C2C_MI_ENDPOINT overrides the host)
 *  - state: DynamoDB when C2C_STATE_TABLE is set, else in memory
 *  - hand-off: asynchronous self-invocation inside Lambda, in-process elsewhere
 *  - event buffer (bundles declaring `webhooks.buffer`): SQS, C2C_SQS_ENDPOINT overrides the host
 *  - secrets: Secrets Manager (C2C_SECRETS_MANAGER_ENDPOINT overrides the host)
 *  - vendor: C2C_VENDOR_ORIGIN points every vendor URL at another origin (local simulator)
 */
import type { CompiledBundle } from "../mapping/compiled.ts";
import { SendConnectorEventClient } from "../mi/client.ts";
import { createStateStore } from "../store/index.ts";
import { powertoolsSink, RedactingLogger } from "../log/json-logger.ts";
import { SecretRegistry } from "../log/redact.ts";
import { SecretReader } from "../auth/secrets.ts";
import { InProcessDispatcher } from "../handoff/in-process-dispatcher.ts";
import type { JobDispatcher } from "../handoff/job.ts";
import { VendorClient } from "../vendor/client.ts";
import { Engine, type EngineDeps, type LambdaContextLike } from "./engine.ts";
import { ack } from "../mi/protocol.ts";
import { createWebhookHandler } from "../webhook/ingress.ts";
import { createBufferConsumer } from "../events/buffer-consumer.ts";

export type LambdaHandler = (event: unknown, context?: LambdaContextLike) => Promise<unknown>;

export function createEngine(bundle: CompiledBundle, overrides: Partial<EngineDeps> = {}, env: NodeJS.ProcessEnv = process.env): Engine {
  const logger =
    overrides.logger ??
    new RedactingLogger(powertoolsSink(`c2c-${bundle.vendor.id}`), new SecretRegistry(), {}, (env.C2C_LOG_LEVEL as "info") ?? "info");
  const deps: EngineDeps = {
    bundle,
    logger,
    sink: overrides.sink ?? new SendConnectorEventClient({ logger, maxAttempts: 3, maxDelayMs: 1000 }),
    store: overrides.store ?? createStateStore(env),
    secrets: overrides.secrets ?? new SecretReader(),
    vendor: overrides.vendor ?? new VendorClient({ retry: bundle.api.retry, logger, originOverride: env.C2C_VENDOR_ORIGIN }),
    ...overrides,
  } as EngineDeps;
  let engine: Engine;
  if (!("dispatcher" in overrides)) {
    deps.dispatcher = env.AWS_LAMBDA_FUNCTION_NAME
      ? lazyDispatcher(() => import("../handoff/lambda-dispatcher.ts").then((m) => new m.LambdaSelfInvokeDispatcher({ env })))
      : new InProcessDispatcher({ run: (job) => engine.runJob(job).then(() => undefined), logger });
  }
  engine = new Engine(deps);
  if (!deps.webhook && bundle.webhooks) deps.webhook = createWebhookHandler(engine);
  if (!deps.queue && bundle.webhooks?.buffer) deps.queue = createBufferConsumer(engine);
  return engine;
}

/** The Lambda client loads on the first hand-off, not at cold start. */
function lazyDispatcher(create: () => Promise<JobDispatcher>): JobDispatcher {
  let d: Promise<JobDispatcher> | undefined;
  return { dispatch: async (job) => (await (d ??= create())).dispatch(job) };
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
