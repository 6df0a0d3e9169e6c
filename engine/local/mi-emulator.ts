/**
 * Local stand-in for the SendConnectorEvent API (c2c-protocol.md §8), on loopback only.
 *
 * It checks what the real service checks, with code independent of the client's: the SigV4 signature is
 * recomputed with the `aws4` package (not @smithy/signature-v4, which the client uses), the credential
 * scope must name this region and the service `iotmanagedintegrations`, x-amz-date must be within
 * 5 minutes; the ConnectorId label and the body are validated against the JSON Schema generated from the
 * Smithy model, and every Matter value against its Matter type (engine/local/matter-value-audit.ts). Faults (throttling, server errors, latency) can be injected to exercise retries.
 */
import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import aws4 from "aws4";
import { silentLogger } from "../log/json-logger.ts";
import type { Logger } from "../log/logger.ts";
import { validateConnectorId, validateEventBody } from "../mi/event-validation.ts";
import { STATUS_ERROR_NAMES } from "../mi/client.ts";
import { auditMatterValues } from "./matter-value-audit.ts";

export interface EmulatorCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** The key pair the emulator accepts by default. Not an AWS key: it only opens this local emulator. */
export const LOCAL_TEST_CREDENTIALS: Readonly<EmulatorCredentials> = Object.freeze({
  accessKeyId: "AKIALOCALMIEMULATOR0",
  secretAccessKey: "local-mi-emulator-secret-key-not-for-aws",
});

const SIGNING_NAME = "iotmanagedintegrations";
const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * `after`: let that many requests through first (e.g. MI failing after the first part of a split
 * event). 400 answers ValidationException, 403 AccessDeniedException, 404 ResourceNotFoundException.
 */
export type InjectedFault = { status: 400 | 403 | 404 | 429 | 500 | 503; times: number; after?: number } | { latencyMs: number; times: number; after?: number };

export interface ReceivedEvent {
  connectorId: string;
  body: any;
  receivedAt: number;
}

export interface RejectedRequest {
  status: number;
  reason: string;
}

export interface MiEmulatorOptions {
  port?: number;
  host?: "127.0.0.1";
  region?: string;
  credentials?: EmulatorCredentials;
  logger?: Logger;
}

export interface MiEmulator {
  /** Base URL, to pass as the client's `endpoint`. */
  url: string;
  region: string;
  events: ReceivedEvent[];
  /** Every non-2xx answer, injected faults included. */
  rejected: RejectedRequest[];
  /**
   * Status faults answer the next `times` requests before routing, authentication or recording;
   * latency faults delay the next `times` requests, which are then handled normally.
   */
  inject(fault: InjectedFault): void;
  /** Requests received (any answer, injected faults included). */
  readonly requests: number;
  /** Drops the faults not yet used up, keeping what was recorded. */
  clearFaults(): void;
  /** Resolves with the recorded events once there are at least `n`. */
  waitForEvents(n: number, timeoutMs?: number): Promise<ReceivedEvent[]>;
  reset(): void;
  close(): Promise<void>;
}

/** An injected fault answers with the error type MI gives its status (the one the client reads). */
const FAULT_ERROR_TYPES = STATUS_ERROR_NAMES;

export class Rejection {
  constructor(
    readonly status: number,
    readonly errorType: string,
    readonly message: string,
  ) {}
}

export async function startMiEmulator(options: MiEmulatorOptions = {}): Promise<MiEmulator> {
  const region = options.region ?? "us-east-1";
  const credentials = options.credentials ?? LOCAL_TEST_CREDENTIALS;
  const logger = options.logger ?? silentLogger;
  const host = options.host ?? "127.0.0.1";

  const events: ReceivedEvent[] = [];
  const rejected: RejectedRequest[] = [];
  const statusFaults: { status: 400 | 403 | 404 | 429 | 500 | 503; remaining: number; skip: number }[] = [];
  const latencyFaults: { latencyMs: number; remaining: number; skip: number }[] = [];
  let requests = 0;
  /** The first fault still active; a fault with `skip` left lets this request through and counts it. */
  const due = <F extends { remaining: number; skip: number }>(faults: F[]): F | undefined => {
    const f = faults.find((x) => x.remaining > 0);
    if (f && f.skip > 0) {
      f.skip--;
      return undefined;
    }
    return f;
  };
  let waiters: { n: number; resolve: (e: ReceivedEvent[]) => void }[] = [];

  function reply(res: ServerResponse, status: number, body: unknown, errorType?: string): void {
    const headers: Record<string, string> = { "content-type": "application/json", "x-amzn-requestid": randomUUID() };
    if (errorType) headers["x-amzn-errortype"] = errorType;
    res.writeHead(status, headers).end(JSON.stringify(body));
  }

  function reject(res: ServerResponse, r: Rejection): void {
    rejected.push({ status: r.status, reason: `${r.errorType}: ${r.message}` });
    logger.info("mi-emulator rejected request", { status: r.status, errorType: r.errorType });
    reply(res, r.status, { message: r.message }, r.errorType);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    requests++;

    const latency = due(latencyFaults);
    if (latency) {
      latency.remaining--;
      // Unref'd: a long injected delay must not keep a test process alive after its client gave up.
      await new Promise((r) => setTimeout(r, latency.latencyMs).unref());
    }
    const fault = due(statusFaults);
    if (fault) {
      fault.remaining--;
      return reject(res, new Rejection(fault.status, FAULT_ERROR_TYPES[fault.status], "injected fault"));
    }

    const [rawPath] = (req.url ?? "/").split("?");
    const match = /^\/connector-event\/([^/]+)$/.exec(rawPath);
    if (req.method !== "POST" || !match) {
      return reject(res, new Rejection(404, "UnknownOperationException", `no operation at ${req.method} ${rawPath}`));
    }

    const authFailure = verifySignature(req, body, { region, credentials });
    if (authFailure) return reject(res, authFailure);

    let connectorId: string;
    try {
      connectorId = decodeURIComponent(match[1]);
    } catch {
      return reject(res, new Rejection(400, "ValidationException", "ConnectorId is not a valid URL-encoded label"));
    }
    const labelIssues = validateConnectorId(connectorId);
    if (labelIssues.length > 0) {
      return reject(res, new Rejection(400, "ValidationException", labelIssues.map((i) => `${i.path} ${i.message}`).join("; ")));
    }

    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString("utf8"));
    } catch {
      return reject(res, new Rejection(400, "ValidationException", "request body is not valid JSON"));
    }
    const issues = validateEventBody(parsed);
    if (issues.length > 0) {
      return reject(res, new Rejection(400, "ValidationException", issues.map((i) => `${i.path} ${i.message}`).join("; ")));
    }
    // Matter values are untyped documents in the Smithy model; MI still needs them to fit their type.
    const valueProblems = auditMatterValues(parsed);
    if (valueProblems.length > 0) return reject(res, new Rejection(400, "ValidationException", valueProblems.join("; ")));

    events.push({ connectorId, body: parsed, receivedAt: Date.now() });
    logger.info("mi-emulator accepted event", { status: 202, operation: (parsed as { Operation?: string }).Operation });
    waiters = waiters.filter((w) => {
      if (events.length < w.n) return true;
      w.resolve(events.slice());
      return false;
    });
    reply(res, 202, { ConnectorId: connectorId });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) return res.destroy();
      if (err instanceof Rejection) return reject(res, err);
      reject(res, new Rejection(500, "InternalServerException", `emulator error: ${(err as Error).message}`));
    });
  });
  await new Promise<void>((resolve, rejectListen) => {
    server.once("error", rejectListen);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://${host}:${port}`,
    region,
    events,
    rejected,
    inject(f) {
      if (!Number.isInteger(f.times) || f.times < 1) throw new Error("inject: times must be a positive integer");
      if ("status" in f) {
        if (!FAULT_ERROR_TYPES[f.status]) throw new Error(`inject: unsupported status ${f.status}`);
        statusFaults.push({ status: f.status, remaining: f.times, skip: f.after ?? 0 });
      } else latencyFaults.push({ latencyMs: f.latencyMs, remaining: f.times, skip: f.after ?? 0 });
    },
    get requests() {
      return requests;
    },
    clearFaults() {
      statusFaults.length = 0;
      latencyFaults.length = 0;
    },
    waitForEvents(n, timeoutMs = 5000) {
      if (events.length >= n) return Promise.resolve(events.slice());
      return new Promise((resolve, rejectWait) => {
        const waiter = {
          n,
          resolve: (e: ReceivedEvent[]) => {
            clearTimeout(timer);
            resolve(e);
          },
        };
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w !== waiter);
          rejectWait(new Error(`mi-emulator: expected ${n} events within ${timeoutMs} ms, got ${events.length}`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    reset() {
      events.length = 0;
      rejected.length = 0;
      statusFaults.length = 0;
      latencyFaults.length = 0;
      requests = 0;
    },
    close() {
      return new Promise((resolve, rejectClose) => {
        server.close((err) => (err ? rejectClose(err) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, rejectRead) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        rejectRead(new Rejection(413, "RequestEntityTooLargeException", "request body too large"));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", rejectRead);
  });
}

const AUTH_HEADER = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/;

/** Returns why the request is not properly signed, or undefined if it is. */
export function verifySignature(
  req: IncomingMessage,
  body: Buffer,
  expected: { region: string; credentials: EmulatorCredentials; now?: number },
): Rejection | undefined {
  const invalid = (message: string) => new Rejection(403, "InvalidSignatureException", message);
  const unrecognized = () => new Rejection(403, "UnrecognizedClientException", "The security token included in the request is invalid.");

  const authorization = req.headers.authorization;
  if (!authorization) return new Rejection(403, "MissingAuthenticationTokenException", "Missing Authentication Token");
  const m = AUTH_HEADER.exec(authorization);
  if (!m) return new Rejection(403, "IncompleteSignatureException", "Authorization header is not a well-formed AWS4-HMAC-SHA256 signature");
  const [, accessKeyId, scopeDate, scopeRegion, scopeService, signedHeaderList, signature] = m;

  if (accessKeyId !== expected.credentials.accessKeyId) return unrecognized();
  const token = header(req, "x-amz-security-token");
  if ((expected.credentials.sessionToken ?? undefined) !== token) return unrecognized();
  if (scopeService !== SIGNING_NAME) return invalid(`Credential should be scoped to correct service: '${SIGNING_NAME}'.`);
  if (scopeRegion !== expected.region) return invalid(`Credential should be scoped to a valid region: '${expected.region}'.`);

  const amzDate = header(req, "x-amz-date");
  const parsedDate = amzDate ? parseAmzDate(amzDate) : undefined;
  if (!amzDate || parsedDate === undefined) return invalid("x-amz-date header missing or malformed");
  if (amzDate.slice(0, 8) !== scopeDate) return invalid("Date in Credential scope does not match x-amz-date");
  if (Math.abs((expected.now ?? Date.now()) - parsedDate) > MAX_CLOCK_SKEW_MS) return invalid("Signature expired: x-amz-date is more than 5 minutes from the server time");

  const signedHeaders = signedHeaderList.split(";");
  for (const required of ["host", "x-amz-date"]) {
    if (!signedHeaders.includes(required)) return invalid(`'${required}' must be a signed header`);
  }
  if (token !== undefined && !signedHeaders.includes("x-amz-security-token")) return invalid("'x-amz-security-token' must be a signed header");
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = header(req, name);
    if (value === undefined) return invalid(`signed header '${name}' is missing from the request`);
    headers[name] = value;
  }

  // aws4 trusts a supplied x-amz-content-sha256 as the payload hash, so check it against the bytes received.
  const payloadHash = createHash("sha256").update(body).digest("hex");
  const claimedHash = headers["x-amz-content-sha256"];
  if (claimedHash !== undefined && claimedHash !== payloadHash) {
    return invalid("The request signature we calculated does not match the signature you provided (payload hash mismatch).");
  }

  const signer = new aws4.RequestSigner(
    {
      method: req.method,
      host: headers.host,
      path: req.url ?? "/",
      headers,
      body,
      service: SIGNING_NAME,
      region: scopeRegion,
      doNotModifyHeaders: true,
      extraHeadersToInclude: Object.fromEntries(signedHeaders.map((h) => [h, true])),
    } as aws4.Request,
    { accessKeyId, secretAccessKey: expected.credentials.secretAccessKey, sessionToken: token },
  );
  signer.datetime = amzDate;
  const recomputed = signer.signature();
  if (signer.signedHeaders() !== signedHeaderList || !sameHex(recomputed, signature)) {
    return invalid("The request signature we calculated does not match the signature you provided.");
  }
  return undefined;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(",") : value;
}

function parseAmzDate(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number);
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

function sameHex(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}
