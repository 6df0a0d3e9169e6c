/**
 * The engine wired for local runs (`c2c invoke`, `c2c dev`): events go to a loopback MI emulator
 * with its local key pair, vendor calls to the simulator or a given origin, handed-off work runs
 * in this process so the caller can wait for it, state stays in memory.
 */
import type { CompiledBundle } from "../mapping/compiled.ts";
import { Engine } from "../handler/engine.ts";
import { createEngine, inProcessRunner } from "../handler/create-handler.ts";
import type { EngineDeps } from "../handler/engine.ts";
import { InProcessDispatcher } from "../handoff/in-process-dispatcher.ts";
import { RedactingLogger, type LogSink } from "../log/json-logger.ts";
import { SecretRegistry } from "../log/redact.ts";
import { LOCAL_TEST_CREDENTIALS } from "../local/mi-emulator.ts";
import { SendConnectorEventClient } from "../mi/client.ts";
import type { EventSink, SendConnectorEventInput } from "../mi/send-connector-event.ts";
import { MemoryStateStore } from "../store/memory-store.ts";
import type { ExpressionTracer } from "../runtime/expressions.ts";
import { VendorClient } from "../vendor/client.ts";
import { loadFixtures } from "../testing/fixtures.ts";
import type { Exchange } from "../testing/vendor-simulator.ts";

export interface LocalEngineOptions {
  /** Origin every vendor URL is pointed at (the simulator, or a vendor's staging host). */
  vendorOrigin?: string;
  miUrl: string;
  region: string;
  logSink: LogSink;
  secrets: SecretRegistry;
  tracer?: ExpressionTracer;
  /** Replaces global fetch for vendor calls (tracing). */
  vendorFetch?: typeof fetch;
  /**
   * Sign events with the default AWS credential chain instead of the emulator's local key pair:
   * for an MI endpoint that is not the local emulator (C2C_MI_ENDPOINT).
   */
  defaultCredentials?: boolean;
  /** Webhook handler options (a fixture's sender keys: engine/testing/engine-target.ts). */
  webhookOptions?: EngineDeps["webhookOptions"];
}

export interface LocalEngine {
  engine: Engine;
  /** Resolves when every handed-off job (discovery tail, slow command, late event) has finished. */
  drain(): Promise<void>;
  /** Every event MI accepted, as the engine handed it over. */
  sent: SendConnectorEventInput[];
}

export function createLocalEngine(bundle: CompiledBundle, opts: LocalEngineOptions): LocalEngine {
  const logger = new RedactingLogger(opts.logSink, opts.secrets);
  let engine!: Engine;
  const dispatcher = new InProcessDispatcher({ run: inProcessRunner(() => engine), logger });
  const client = new SendConnectorEventClient({
    region: opts.region,
    endpoint: opts.miUrl,
    ...(opts.defaultCredentials ? {} : { credentials: async () => ({ ...LOCAL_TEST_CREDENTIALS }) }),
    logger,
    maxAttempts: 2,
    maxDelayMs: 200,
  });
  const sent: SendConnectorEventInput[] = [];
  const sink: EventSink = {
    send: async (input, options) => {
      const out = await client.send(input, options);
      sent.push(structuredClone(input));
      return out;
    },
  };
  engine = createEngine(bundle, {
    logger,
    store: new MemoryStateStore(),
    dispatcher,
    sink,
    vendor: new VendorClient({ retry: bundle.api.retry, logger, originOverride: opts.vendorOrigin, fetch: opts.vendorFetch }),
    ...(opts.tracer ? { tracer: opts.tracer } : {}),
    ...(opts.webhookOptions ? { webhookOptions: opts.webhookOptions } : {}),
  });
  return { engine, drain: () => dispatcher.drain(), sent };
}

/**
 * Every vendor exchange recorded in the bundle's fixtures, for the simulator's replay mode
 * (first match wins). Successful answers go first so a request gets the happy-path answer
 * rather than the 401 or 503 a failure fixture recorded for the same path.
 */
export async function replayExchanges(bundleDir: string): Promise<Exchange[]> {
  const all = (await loadFixtures(bundleDir)).flatMap((f) => f.vendor);
  const rank = (e: Exchange) => (e.response.status >= 200 && e.response.status < 300 ? (e.response.delayMs ? 1 : 0) : 2);
  return [0, 1, 2].flatMap((r) => all.filter((e) => rank(e) === r));
}
