/**
 * SendConnectorEvent over HTTPS, SigV4-signed (c2c-protocol.md §8). A small hand-written client in place of
 * @aws-sdk/client-iot-managed-integrations: same input/output shapes, same endpoint rules, same error names.
 *
 * Every event is normalized and validated first (event-normalize.ts); an invalid event is never sent.
 * The operation is @idempotent, so throttling, server errors and network failures are retried with
 * exponential backoff and full jitter.
 */
import { silentLogger } from "../log/json-logger.ts";
import type { Logger } from "../log/logger.ts";
import { connectorEventPath, endpointOptionsFromEnv, resolveEventEndpoint, type ResolvedEndpoint } from "./endpoint.ts";
import { SendConnectorEventError } from "./event-errors.ts";
import { normalizeEvent } from "./event-normalize.ts";
import { eventBody, type EventSink, type SendConnectorEventInput, type SendConnectorEventOutput } from "./send-connector-event.ts";
import { SigV4Signer } from "./sigv4.ts";
import { defaultTransport, fetchTransport, type HttpAnswer, type HttpTransport } from "../transport/http-transport.ts";

export const SIGNING_NAME = "iotmanagedintegrations";
const OPERATION = "SendConnectorEvent";

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}
/** Structurally the AWS SDK's AwsCredentialIdentityProvider. */
export type CredentialsProvider = () => Promise<AwsCredentials>;

export interface SendConnectorEventClientOptions {
  /** Default: AWS_REGION, then AWS_DEFAULT_REGION. */
  region?: string;
  /** Base URL override (local emulator, VPC endpoint). Default: C2C_MI_ENDPOINT. */
  endpoint?: string;
  /** Default: AWS_USE_FIPS_ENDPOINT=true. */
  useFips?: boolean;
  /** Default: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN when set (as in Lambda), else the Node provider chain, `defaultProvider()` of @aws-sdk/credential-provider-node (shared profile, container and instance roles). */
  credentials?: CredentialsProvider;
  /** Requests per event including the first. Default 4. */
  maxAttempts?: number;
  /** Backoff base. Default 100 ms. */
  baseDelayMs?: number;
  /** Backoff cap. Default 20 s. */
  maxDelayMs?: number;
  /** Default: the keep-alive node:http(s) transport (engine/transport). */
  transport?: HttpTransport;
  /** Send through this fetch instead (tests that tamper with requests); ignored when `transport` is set. */
  fetch?: typeof fetch;
  logger?: Logger;
  /** Uniform [0, 1), for jitter. */
  random?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** MI's error type for an HTTP status without one in the body (the service model's errors; the MI emulator answers with them too). */
export const STATUS_ERROR_NAMES: Readonly<Record<number, string>> = {
  400: "ValidationException",
  403: "AccessDeniedException",
  404: "ResourceNotFoundException",
  429: "ThrottlingException",
  500: "InternalServerException",
  503: "ServiceUnavailableException",
};
const JSON_CONTENT: Readonly<Record<string, string>> = Object.freeze({ "content-type": "application/json" });
/** Distinct ConnectorIds whose request path is kept; a container normally sends for one. */
const MAX_CACHED_PATHS = 64;
const RETRYABLE_STATUSES = new Set([429, 500, 502, 503, 504]);
const RETRYABLE_NAMES = new Set(["ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded", "InternalServerException", "InternalFailure", "ServiceUnavailableException", "ServiceUnavailable", "RequestTimeoutException"]);

export class SendConnectorEventClient implements EventSink {
  private readonly endpoint: ResolvedEndpoint;
  private readonly signer: SigV4Signer;
  private readonly credentials: CredentialsProvider;
  /** The provider's answer when it has one without waiting (the environment's keys), else undefined. */
  private readonly credentialsNow?: () => AwsCredentials | undefined;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly transport: HttpTransport;
  private readonly logger: Logger;
  private readonly random: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Origin and Host of the endpoint, and the encoded path per connector: computed once, not per event. */
  private readonly origin: string;
  private readonly host: string;
  private readonly paths = new Map<string, string>();
  /** Asked once: the logger's level does not change, and a debug line per event is not built for nothing. */
  private readonly debugEnabled: boolean;

  /** Throws EndpointConfigError for a missing region or FIPS combined with a custom endpoint. */
  constructor(options: SendConnectorEventClientOptions = {}) {
    this.endpoint = resolveEventEndpoint(endpointOptionsFromEnv(options));
    this.signer = new SigV4Signer(SIGNING_NAME, this.endpoint.signingRegion);
    this.credentials = options.credentials ?? environmentFirstProvider();
    this.credentialsNow = (this.credentials as Partial<EnvironmentFirstProvider>).now;
    this.maxAttempts = Math.max(1, Math.floor(options.maxAttempts ?? 4));
    this.baseDelayMs = options.baseDelayMs ?? 100;
    this.maxDelayMs = options.maxDelayMs ?? 20_000;
    this.transport = options.transport ?? (options.fetch ? fetchTransport(options.fetch) : defaultTransport());
    this.logger = options.logger ?? silentLogger;
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? abortableSleep;
    this.origin = this.endpoint.url.origin;
    this.host = this.endpoint.url.host;
    this.debugEnabled = this.logger.isLevelEnabled?.("debug") ?? true;
  }

  /** The base URL requests go to. */
  get endpointUrl(): string {
    return this.endpoint.url.toString();
  }

  send(input: SendConnectorEventInput, options: { signal?: AbortSignal } = {}): Promise<SendConnectorEventOutput> {
    let events: SendConnectorEventInput[];
    try {
      const normalized = normalizeEvent(input); // throws InvalidEventError: nothing is sent
      events = normalized.events;
      if (normalized.problems.length > 0) this.logger.warn("SendConnectorEvent normalized", { eventOperation: input.Operation, traceId: input.TraceId, problems: normalized.problems });
    } catch (err) {
      return Promise.reject(err);
    }
    // One event (nearly every one): its send is the answer, without an async wrapper around it.
    return events.length === 1 ? this.sendOne(events[0]!, options.signal) : this.sendEach(events, options.signal);
  }

  /** The parts of a split event, in order; the answer is the first part's. */
  private async sendEach(events: SendConnectorEventInput[], signal?: AbortSignal): Promise<SendConnectorEventOutput> {
    let first: SendConnectorEventOutput | undefined;
    for (const event of events) {
      const output = await this.sendOne(event, signal);
      first ??= output;
    }
    return first!;
  }

  private async sendOne(input: SendConnectorEventInput, signal?: AbortSignal): Promise<SendConnectorEventOutput> {
    const path = this.pathOf(input.ConnectorId);
    const url = `${this.origin}${path}`;
    const body = JSON.stringify(eventBody(input));
    let totalRetryDelayMs = 0;

    for (let attempt = 1; ; attempt++) {
      signal?.throwIfAborted();
      let error: SendConnectorEventError;
      let retryAfterMs: number | undefined;
      try {
        // Signed anew on each attempt: a fresh x-amz-date, and credentials may have rotated.
        const credentials = this.credentialsNow?.() ?? (await this.credentials());
        const headers = this.signer.sign({ method: "POST", host: this.host, path, headers: JSON_CONTENT, body }, credentials);
        const response = await this.transport({ method: "POST", url, headers, body, signal });
        if (response.status >= 200 && response.status < 300) {
          const output = readOutput(response, input.ConnectorId);
          if (this.debugEnabled) this.logger.debug(`${OPERATION} accepted`, { eventOperation: input.Operation, traceId: input.TraceId, status: response.status, attempts: attempt });
          return output;
        }
        error = errorFromResponse(response, { attempts: attempt, totalRetryDelayMs });
        retryAfterMs = parseRetryAfter(response.headers["retry-after"]);
      } catch (err) {
        if (signal?.aborted) throw err;
        if (err instanceof SendConnectorEventError) throw err;
        error = new SendConnectorEventError({
          name: "NetworkingError",
          message: `${OPERATION} request failed: ${(err as Error).message}`,
          metadata: { attempts: attempt, totalRetryDelayMs },
          retryable: true,
          cause: err,
        });
      }

      const logFields = { eventOperation: input.Operation, traceId: input.TraceId };
      if (!error.retryable || attempt >= this.maxAttempts) {
        this.logger.error(`${OPERATION} failed`, { ...logFields, status: error.$metadata.httpStatusCode, attempts: attempt, errorType: error.name });
        throw error;
      }
      const delay = Math.min(this.maxDelayMs, Math.max(this.backoffMs(attempt), retryAfterMs ?? 0));
      this.logger.warn(`${OPERATION} retrying`, { ...logFields, status: error.$metadata.httpStatusCode, attempts: attempt, errorType: error.name, delayMs: Math.round(delay) });
      totalRetryDelayMs += delay;
      await this.sleep(delay, signal);
    }
  }

  /** The request path of a connector, encoded once: a container sends for one connector, at most a few. */
  private pathOf(connectorId: string): string {
    let path = this.paths.get(connectorId);
    if (path === undefined) {
      if (this.paths.size >= MAX_CACHED_PATHS) this.paths.clear();
      path = connectorEventPath(this.endpoint.url, connectorId);
      this.paths.set(connectorId, path);
    }
    return path;
  }

  /** Full jitter: uniform in [0, min(cap, base * 2^(attempt-1))). */
  private backoffMs(attempt: number): number {
    return this.random() * Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
  }

}

function readOutput(response: HttpAnswer, connectorId: string): SendConnectorEventOutput {
  const text = response.text;
  try {
    const parsed = JSON.parse(text) as { ConnectorId?: unknown };
    if (typeof parsed?.ConnectorId === "string") return { ConnectorId: parsed.ConnectorId };
  } catch {
    /* a 2xx without the documented body still means accepted */
  }
  return { ConnectorId: connectorId };
}

/** restJson1 error parsing: x-amzn-errortype header (before any ':'), else __type/code in the body, else the status. */
export function errorFromResponse(response: HttpAnswer, metadata: { attempts: number; totalRetryDelayMs: number }): SendConnectorEventError {
  const text = response.text;
  let body: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(text);
    if (parsed && typeof parsed === "object") body = parsed as Record<string, unknown>;
  } catch {
    /* not JSON */
  }
  const fromHeader = response.headers["x-amzn-errortype"];
  const fromBody = typeof body.__type === "string" ? body.__type : typeof body.code === "string" ? body.code : undefined;
  const raw = fromHeader ?? fromBody;
  const name = raw ? cleanErrorType(raw) : (STATUS_ERROR_NAMES[response.status] ?? `Http${response.status}Error`);
  const message =
    (typeof body.message === "string" && body.message) || (typeof body.Message === "string" && body.Message) || `${OPERATION} failed with HTTP ${response.status}`;
  return new SendConnectorEventError({
    name,
    message,
    metadata: { httpStatusCode: response.status, requestId: response.headers["x-amzn-requestid"] ?? undefined, ...metadata },
    retryable: RETRYABLE_STATUSES.has(response.status) || RETRYABLE_NAMES.has(name),
  });
}

/** "aws.protocoltests#FooError:http://..." → "FooError". */
function cleanErrorType(raw: string): string {
  const beforeColon = raw.split(":")[0].trim();
  return beforeColon.slice(beforeColon.lastIndexOf("#") + 1);
}

function parseRetryAfter(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Credentials as Lambda provides them, from the environment, read on every signature (cheap, and a
 * rotated value is picked up); only when they are absent the Node credential chain (shared profile,
 * container and instance roles), loaded then and not at import: it is a large part of the SDK.
 */
export function environmentFirstProvider(env: NodeJS.ProcessEnv = process.env): EnvironmentFirstProvider {
  let chain: Promise<CredentialsProvider> | undefined;
  const now = (): AwsCredentials | undefined => {
    const accessKeyId = env.AWS_ACCESS_KEY_ID;
    const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
    return accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN || undefined } : undefined;
  };
  const provider = async () => {
    const fromEnv = now();
    if (fromEnv) return fromEnv;
    chain ??= import("@aws-sdk/credential-provider-node").then((m) => m.defaultProvider() as CredentialsProvider);
    return (await chain)();
  };
  return Object.assign(provider, { now });
}

/**
 * A credentials provider that can also answer at once when the keys are in the environment (the
 * client then signs without waiting for a promise per request); `now()` is undefined otherwise.
 */
export interface EnvironmentFirstProvider extends CredentialsProvider {
  now(): AwsCredentials | undefined;
}
