/**
 * The local stack behind `c2c dev`: on loopback, a Lambda-style invoke endpoint (the Lambda
 * runtime interface emulator's `POST /2015-03-31/functions/function/invocations`), a webhook
 * endpoint that turns any request under /webhook into a function-URL event, the vendor simulator
 * replaying the bundle's fixtures, and the MI emulator, which reports each event it accepts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Socket } from "node:net";
import type { CompiledBundle } from "../mapping/compiled.ts";
import type { LogSink } from "../log/json-logger.ts";
import type { Logger } from "../log/logger.ts";
import { SecretRegistry } from "../log/redact.ts";
import { startMiEmulator, type MiEmulator, type ReceivedEvent } from "../local/mi-emulator.ts";
import { FIXTURE_REGION } from "../testing/fixture-runner.ts";
import { VendorSimulator, type Exchange } from "../testing/vendor-simulator.ts";
import { createLocalEngine, type LocalEngine } from "./local-engine.ts";

export const INVOKE_PATH = "/2015-03-31/functions/function/invocations";
export const WEBHOOK_PATH = "/webhook";
const MAX_BODY_BYTES = 6 * 1024 * 1024; // Lambda's synchronous payload limit

export interface DevStackOptions {
  bundle: CompiledBundle;
  /** Exchanges the vendor simulator replays (usually every fixture's). */
  exchanges: Exchange[];
  /** 0 picks a free port. */
  port?: number;
  /** Called for every event MI accepts, and every one it rejects. */
  onEvent?: (event: ReceivedEvent) => void;
  onRejected?: (reason: string) => void;
  /** Called for every invocation, with its result. */
  onInvoke?: (kind: "invoke" | "webhook", event: unknown, result: unknown, ms: number) => void;
  logSink?: LogSink;
}

export interface DevStack {
  /** http://127.0.0.1:<port> */
  url: string;
  invokeUrl: string;
  webhookUrl: string;
  mi: MiEmulator;
  vendor: VendorSimulator;
  /** The engine serving requests now (replaced by `reload`). */
  readonly local: LocalEngine;
  /** Serves a new build of the bundle (live reload after an edit) and its recorded exchanges. */
  reload(bundle: CompiledBundle, exchanges: Exchange[]): Promise<void>;
  close(): Promise<void>;
}

export async function startDevStack(opts: DevStackOptions): Promise<DevStack> {
  let mi!: MiEmulator;
  // The emulator logs after recording an accepted event: the last recorded one is it.
  const miLogger: Logger = {
    debug() {},
    warn() {},
    error() {},
    info(message, fields) {
      if (message === "mi-emulator accepted event") opts.onEvent?.(mi.events[mi.events.length - 1]);
      if (message === "mi-emulator rejected request") opts.onRejected?.(mi.rejected[mi.rejected.length - 1]?.reason ?? String(fields?.errorType));
    },
    child() {
      return miLogger;
    },
  };
  mi = await startMiEmulator({ region: FIXTURE_REGION, logger: miLogger });
  const vendor = await VendorSimulator.start();
  vendor.load(opts.exchanges, "replay");
  let bundle = opts.bundle;
  const engineFor = (b: CompiledBundle) =>
    createLocalEngine(b, {
      vendorOrigin: vendor.origin,
      miUrl: mi.url,
      region: FIXTURE_REGION,
      secrets: new SecretRegistry(),
      logSink: opts.logSink ?? (() => {}),
    });
  let local = engineFor(bundle);

  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => send(res, 500, { errorMessage: (err as Error).message, errorType: "DevStackError" }));
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const raw = await readBody(req);
    if (raw === undefined) return send(res, 413, { errorMessage: "request body over 6 MB", errorType: "RequestTooLarge" });
    if (url.pathname === INVOKE_PATH) {
      if (req.method !== "POST") return send(res, 405, { errorMessage: "POST the Lambda event as the body", errorType: "MethodNotAllowed" });
      let event: unknown;
      try {
        event = raw.length ? JSON.parse(raw.toString("utf8")) : {};
      } catch {
        return send(res, 400, { errorMessage: "the body must be the Lambda event as JSON", errorType: "InvalidRequestContent" });
      }
      const started = Date.now();
      const result = await local.engine.handle(event, lambdaContext());
      opts.onInvoke?.("invoke", event, result, Date.now() - started);
      return send(res, 200, result);
    }
    if (url.pathname === WEBHOOK_PATH || url.pathname.startsWith(WEBHOOK_PATH + "/")) {
      if (!bundle.webhooks) return send(res, 404, { errorMessage: "this bundle declares no webhooks", errorType: "NotFound" });
      const event = functionUrlEvent(req, url, raw);
      const started = Date.now();
      const result = (await local.engine.handle(event, lambdaContext())) as { statusCode?: number; headers?: Record<string, string>; body?: string };
      opts.onInvoke?.("webhook", event, result, Date.now() - started);
      if (result && typeof result.statusCode === "number") {
        res.writeHead(result.statusCode, result.headers ?? {}).end(result.body ?? "");
        return;
      }
      return send(res, 200, result);
    }
    send(res, 404, { errorMessage: `use POST ${INVOKE_PATH} (Lambda invoke) or ${WEBHOOK_PATH} (vendor webhooks)`, errorType: "NotFound" });
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    invokeUrl: url + INVOKE_PATH,
    webhookUrl: url + WEBHOOK_PATH,
    mi,
    vendor,
    get local() {
      return local;
    },
    async reload(next: CompiledBundle, exchanges: Exchange[]) {
      // Work the old engine handed off finishes on it; new requests go to the new one.
      const previous = local;
      bundle = next;
      local = engineFor(next);
      vendor.load(exchanges, "replay");
      await previous.drain().catch(() => undefined);
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      await local.drain().catch(() => undefined);
      await Promise.all([mi.close(), vendor.close()]);
    },
  };
}

function lambdaContext() {
  const deadline = Date.now() + 30_000;
  return { getRemainingTimeInMillis: () => deadline - Date.now(), awsRequestId: `dev-${Date.now().toString(36)}` };
}

/** A Lambda function URL (payload 2.0) event, as AWS builds it for an HTTP request. */
export function functionUrlEvent(req: IncomingMessage, url: URL, body: Buffer): Record<string, unknown> {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    if (k === "cookie") cookies.push(...String(v).split(/;\s*/));
    else headers[k] = Array.isArray(v) ? v.join(",") : v;
  }
  const text = body.toString("utf8");
  const isText = Buffer.from(text, "utf8").equals(body);
  const now = new Date();
  const event: Record<string, unknown> = {
    version: "2.0",
    routeKey: "$default",
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    requestContext: {
      accountId: "anonymous",
      apiId: "c2c-dev",
      domainName: headers.host ?? "127.0.0.1",
      domainPrefix: "c2c-dev",
      http: { method: req.method ?? "GET", path: url.pathname, protocol: `HTTP/${req.httpVersion}`, sourceIp: req.socket.remoteAddress ?? "127.0.0.1", userAgent: headers["user-agent"] ?? "" },
      requestId: `dev-${now.getTime().toString(36)}`,
      routeKey: "$default",
      stage: "$default",
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded: !isText,
  };
  if (cookies.length) event.cookies = cookies;
  if (url.search) event.queryStringParameters = Object.fromEntries(url.searchParams);
  if (body.length) event.body = isText ? text : body.toString("base64");
  return event;
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body ?? null));
}
