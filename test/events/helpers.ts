/**
 * Test wiring for webhook tests: the acme test bundle, a real engine whose events go through the
 * signed SendConnectorEvent client to the loopback MI emulator, and a vendor that signs deliveries.
 */
import { createHmac } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadAndValidateBundle } from "../../engine/mapping/bundle.ts";
import type { CompiledBundle } from "../../engine/mapping/compiled.ts";
import { createEngine } from "../../engine/handler/create-handler.ts";
import type { Engine, LambdaContextLike } from "../../engine/handler/engine.ts";
import { SendConnectorEventClient } from "../../engine/mi/client.ts";
import type { EventSink } from "../../engine/mi/send-connector-event.ts";
import { LOCAL_TEST_CREDENTIALS, type MiEmulator } from "../../engine/local/mi-emulator.ts";
import { RedactingLogger, memorySink, type LogRecord } from "../../engine/log/json-logger.ts";
import { MemoryStateStore } from "../../engine/store/memory-store.ts";
import type { StateStore } from "../../engine/store/store.ts";
import { createWebhookHandler, type WebhookHandlerOptions } from "../../engine/webhook/ingress.ts";
import type { HttpResponse } from "../../engine/webhook/http-event.ts";

export const ACME_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "bundles", "acme");
export const ACME_SECRET = "acme-test-webhook-secret-0001";
export const CONNECTOR_ID = "acme-connector";

export async function acmeBundle(): Promise<CompiledBundle> {
  const { bundle, diagnostics } = await loadAndValidateBundle(ACME_DIR);
  if (!bundle) throw new Error(`acme bundle invalid: ${JSON.stringify(diagnostics)}`);
  return bundle;
}

export interface Rig {
  engine: Engine;
  store: StateStore;
  logs: LogRecord[];
  deliver(body: unknown, opts?: { timestamp?: number; secret?: string; query?: Record<string, string>; signature?: string; contentType?: string; context?: LambdaContextLike }): Promise<HttpResponse>;
}

export function rig(
  bundle: CompiledBundle,
  mi: MiEmulator,
  opts: {
    store?: StateStore;
    env?: Record<string, string | undefined>;
    handler?: Partial<WebhookHandlerOptions>;
    wrapSink?: (inner: EventSink) => EventSink;
    /** The engine's own environment (the job queue, for the outbox); default none: an in-process dispatcher. */
    engineEnv?: NodeJS.ProcessEnv;
    /** The SendConnectorEvent client's attempts (default 3). */
    miAttempts?: number;
  } = {},
): Rig {
  const logs: LogRecord[] = [];
  const logger = new RedactingLogger(memorySink(logs));
  const store = opts.store ?? new MemoryStateStore();
  const client = new SendConnectorEventClient({
    endpoint: mi.url,
    region: mi.region,
    credentials: async () => ({ ...LOCAL_TEST_CREDENTIALS }),
    maxAttempts: opts.miAttempts ?? 3,
    baseDelayMs: 5,
    maxDelayMs: 20,
  });
  const sink = opts.wrapSink ? opts.wrapSink(client) : client;
  // The default (in-process) dispatcher stays: an event wrongly deferred to a job would show up.
  const engine = createEngine(bundle, { store, logger, sink }, opts.engineEnv ?? {});
  engine.deps.webhook = createWebhookHandler(engine, {
    env: opts.env ?? { ACME_WEBHOOK_SECRET: ACME_SECRET, C2C_CONNECTOR_ID: CONNECTOR_ID },
    ...opts.handler,
  });
  return {
    engine,
    store,
    logs,
    async deliver(body, d = {}) {
      const raw = typeof body === "string" ? body : JSON.stringify(body);
      const ts = String(d.timestamp ?? Math.floor(Date.now() / 1000));
      const signature = d.signature ?? createHmac("sha256", d.secret ?? ACME_SECRET).update(`${ts}.${raw}`).digest("hex");
      const event = {
        version: "2.0",
        rawPath: "/hooks/acme",
        rawQueryString: new URLSearchParams(d.query ?? {}).toString(),
        headers: { "content-type": d.contentType ?? "application/json", "x-acme-timestamp": ts, "x-acme-signature": `sha256=${signature}` },
        requestContext: { http: { method: "POST", path: "/hooks/acme", sourceIp: "127.0.0.1" } },
        body: raw,
        isBase64Encoded: false,
      };
      return (await engine.handle(event, d.context)) as HttpResponse;
    },
  };
}

export function contactEvent(id: string, open: boolean, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { event_id: id, type: "contact", kind: "contact", device_id: "door-1", user_id: "acme-user-1", open, ...extra };
}

export const json = (r: HttpResponse): any => JSON.parse(r.body);
