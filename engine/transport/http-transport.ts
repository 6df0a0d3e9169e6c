/**
 * The one HTTP transport of the Lambda runtime: vendor calls and SendConnectorEvent both go through
 * `node:http`/`node:https` on keep-alive agents. Not `fetch`: Node's fetch loads and compiles undici
 * on first use (about 17 ms of a cold start) and costs tens of microseconds per request more than
 * the plain agents; a warm container re-uses its TLS connections to the vendor and to MI.
 *
 * The transport sends one attempt and reads the whole answer as text. Deadlines (an AbortSignal),
 * retries, classification and redaction are the callers' (engine/vendor, engine/mi): what goes in
 * and out here is never logged.
 */
import http from "node:http";
import https from "node:https";

export interface HttpRequestSpec {
  method: string;
  /** Absolute http(s) URL, already encoded. */
  url: string;
  /** Header names in any case; values already valid (see checkHeader). */
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

export interface HttpAnswer {
  status: number;
  /** Lower-case names; repeated headers joined with ", " (set-cookie too, as fetch does). */
  headers: Record<string, string>;
  /** The body decoded as UTF-8 ("" when empty). */
  text: string;
  /** The URL requested. */
  url: string;
}

export type HttpTransport = (request: HttpRequestSpec) => Promise<HttpAnswer>;

export interface NodeTransportOptions {
  /** Sockets per origin. Default 64: discovery pages and events run concurrently. */
  maxSockets?: number;
  /** Idle keep-alive sockets are closed after this long. Default 30 s (below common server idle timeouts of 60 s). */
  idleTimeoutMs?: number;
}

/** Answers larger than this are refused: a vendor list of 50k devices is ~25 MB. */
export const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

/**
 * A transport on its own keep-alive agents. Redirects are not followed (a 3xx is an answer):
 * following would carry credential headers to another origin.
 */
export function nodeHttpTransport(options: NodeTransportOptions = {}): HttpTransport {
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 64, timeout: options.idleTimeoutMs ?? 30_000 };
  const agents = { "http:": new http.Agent(agentOptions), "https:": new https.Agent(agentOptions) };
  return (spec) => send(spec, agents, true);
}

/** The process-wide transport (one pair of agents per container). */
let shared: HttpTransport | undefined;
export function defaultTransport(): HttpTransport {
  return (shared ??= nodeHttpTransport());
}

function send(spec: HttpRequestSpec, agents: { "http:": http.Agent; "https:": https.Agent }, mayRetryStale: boolean): Promise<HttpAnswer> {
  return new Promise<HttpAnswer>((resolve, reject) => {
    const url = new URL(spec.url);
    const lib = url.protocol === "https:" ? https : url.protocol === "http:" ? http : undefined;
    if (!lib) return reject(new TypeError(`unsupported protocol ${url.protocol}`));
    if (spec.signal?.aborted) return reject(abortError(spec.signal));
    const headers: Record<string, string> = { ...spec.headers };
    if (spec.body !== undefined) headers["content-length"] = String(Buffer.byteLength(spec.body));
    const req = lib.request(
      {
        method: spec.method,
        protocol: url.protocol,
        hostname: url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname,
        port: url.port || undefined,
        path: url.pathname + url.search,
        headers,
        agent: agents[url.protocol as "http:" | "https:"],
        signal: spec.signal,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) {
            req.destroy(new Error(`answer larger than ${MAX_ANSWER_BYTES} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on("error", reject);
        res.on("aborted", () => reject(spec.signal?.aborted ? abortError(spec.signal) : new Error("connection closed mid-answer")));
        res.on("end", () => {
          const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
          decode(raw, res.headers["content-encoding"]).then(
            (body) =>
              resolve({
                status: res.statusCode ?? 0,
                headers: flattenHeaders(res.headers),
                text: body.toString("utf8"),
                url: spec.url,
              }),
            reject,
          );
        });
      },
    );
    req.on("error", (err: NodeJS.ErrnoException) => {
      // A keep-alive socket the server closed while idle: the request never reached it, so sending
      // it again on a fresh socket is safe (Node's documented pattern), once.
      if (mayRetryStale && req.reusedSocket && err.code === "ECONNRESET" && !spec.signal?.aborted) {
        send(spec, agents, false).then(resolve, reject);
        return;
      }
      reject(spec.signal?.aborted ? abortError(spec.signal) : err);
    });
    req.end(spec.body);
  });
}

function abortError(signal: AbortSignal): Error {
  const reason = signal.reason;
  if (reason instanceof Error) return reason;
  const err = new Error("request aborted");
  err.name = "AbortError";
  return err;
}

function flattenHeaders(raw: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in raw) {
    const v = raw[name];
    if (v === undefined) continue;
    out[name] = Array.isArray(v) ? v.join(", ") : v;
  }
  return out;
}

/** We send no Accept-Encoding, but a server may compress anyway; fetch decoded these too. */
async function decode(raw: Buffer, encoding: string | undefined): Promise<Buffer> {
  if (!encoding || encoding === "identity" || raw.length === 0) return raw;
  const zlib = await import("node:zlib");
  const { promisify } = await import("node:util");
  switch (encoding.trim().toLowerCase()) {
    case "gzip":
    case "x-gzip":
      return promisify(zlib.gunzip)(raw);
    case "deflate":
      return promisify(zlib.inflate)(raw);
    case "br":
      return promisify(zlib.brotliDecompress)(raw);
    default:
      return raw;
  }
}

/**
 * A transport over a `fetch` function: for tests that tamper with requests, and for callers that
 * want fetch's behaviour. Redirects are not followed, as with the node transport.
 */
export function fetchTransport(fetchFn: typeof fetch): HttpTransport {
  return async (spec) => {
    const response = await fetchFn(spec.url, { method: spec.method, headers: spec.headers, body: spec.body, signal: spec.signal, redirect: "manual" });
    const text = await response.text();
    return { status: response.status, headers: Object.fromEntries(response.headers), text, url: spec.url };
  };
}

/** Node's own header checks (the ones `http.request` applies), as a boolean. */
export function validHeader(name: string, value: string): boolean {
  try {
    http.validateHeaderName(name);
    http.validateHeaderValue(name, value);
    return true;
  } catch {
    return false;
  }
}
