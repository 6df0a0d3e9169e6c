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
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 64 };
  const idleMs = options.idleTimeoutMs ?? 30_000;
  const agents = { "http:": new IdleClosingHttpAgent(agentOptions, idleMs), "https:": new IdleClosingHttpsAgent(agentOptions, idleMs) };
  return (spec) => send(spec, agents, true);
}

/*
 * Keep-alive agents whose idle timeout runs only while a socket is idle. Node's `timeout` agent
 * option arms the socket's timer for its whole life: every read and write of every request then
 * re-arms it, and every request adds and removes a 'timeout' listener. Here the timer is set when
 * a socket goes back to the pool (after Node's own keepSocketAlive, which honours a server's
 * `Keep-Alive: timeout=` hint: the shorter wins) and cleared when a request takes the socket; an
 * idle socket that times out is closed by the agent's own listener (it destroys free sockets).
 */
function keepIdle(socket: import("node:net").Socket, keep: boolean, idleMs: number): boolean {
  if (keep) socket.setTimeout(socket.timeout && socket.timeout > 0 ? Math.min(socket.timeout, idleMs) : idleMs);
  return keep;
}

/**
 * An agent (http or https) whose kept-alive sockets time out only while idle: the idle timer is
 * armed when a socket goes back to the pool and cleared when a request takes it.
 */
function idleClosing<Options>(Base: new (options: Options) => http.Agent) {
  return class IdleClosingAgent extends Base {
    constructor(
      options: Options,
      private readonly idleMs: number,
    ) {
      super(options);
    }
    override keepSocketAlive(socket: import("node:net").Socket): void {
      // Node returns whether the socket may be kept (false on a too-short server hint); typed void.
      return keepIdle(socket, (super.keepSocketAlive(socket) as unknown as boolean) !== false, this.idleMs) as unknown as void;
    }
    override reuseSocket(socket: import("node:net").Socket, request: http.ClientRequest): void {
      socket.setTimeout(0);
      super.reuseSocket(socket, request);
    }
  };
}

const IdleClosingHttpAgent = idleClosing<http.AgentOptions>(http.Agent);
// Its instances are https.Agents (the class extends https.Agent); the factory's type only says http.Agent.
const IdleClosingHttpsAgent = idleClosing<https.AgentOptions>(https.Agent) as unknown as new (options: https.AgentOptions, idleMs: number) => https.Agent;

/** The process-wide transport (one pair of agents per container). */
let shared: HttpTransport | undefined;
export function defaultTransport(): HttpTransport {
  return (shared ??= nodeHttpTransport());
}

/** What a request needs of its URL, parsed once per distinct URL (see `target`). */
interface Target {
  lib: typeof http | typeof https;
  protocol: "http:" | "https:";
  hostname: string;
  port: string | undefined;
  path: string;
  /** The Host header Node would send: host[:port], the port left out when it is the scheme's. */
  host: string;
}

/**
 * Parsed URLs, by URL text. Parsing (WHATWG URL) is the largest part of a request's own work after
 * the socket write; SendConnectorEvent goes to one URL per connector and vendor calls repeat their
 * paths, so most requests hit. Bounded: cleared when full, so any URL mix costs at most a parse.
 */
const targets = new Map<string, Target | string>();
const MAX_TARGETS = 512;

/** The request target, or why it cannot be requested (a message for a TypeError). */
function target(urlText: string): Target | string {
  let t = targets.get(urlText);
  if (t === undefined) {
    const url = new URL(urlText);
    const lib = url.protocol === "https:" ? https : url.protocol === "http:" ? http : undefined;
    t = lib
      ? {
          lib,
          protocol: url.protocol as "http:" | "https:",
          hostname: url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname,
          port: url.port || undefined,
          path: url.pathname + url.search,
          host: url.host,
        }
      : `unsupported protocol ${url.protocol}`;
    if (targets.size >= MAX_TARGETS) targets.clear();
    targets.set(urlText, t);
  }
  return t;
}

/**
 * The request's header lines as Node's flat [name, value, ...] form: Node then writes the head at
 * once instead of keeping a header map (`setHeader` per name), with the same name and value checks.
 * Names are lower-cased with the last value of a name winning, as `setHeader` would; Host is added
 * when the caller gave none, as Node adds it for a header object.
 */
function headerLines(spec: HttpRequestSpec, t: Target): string[] {
  const byName: Record<string, string> = {};
  for (const name in spec.headers) byName[name.toLowerCase()] = spec.headers[name]!;
  if (spec.body !== undefined) byName["content-length"] = String(Buffer.byteLength(spec.body));
  byName.host ??= t.host;
  const lines: string[] = [];
  for (const name in byName) lines.push(name, byName[name]!);
  return lines;
}

function send(spec: HttpRequestSpec, agents: { "http:": http.Agent; "https:": https.Agent }, mayRetryStale: boolean): Promise<HttpAnswer> {
  return new Promise<HttpAnswer>((resolve, reject) => {
    const t = target(spec.url);
    if (typeof t === "string") return reject(new TypeError(t));
    if (spec.signal?.aborted) return reject(abortError(spec.signal));
    const req = t.lib.request(
      {
        method: spec.method,
        protocol: t.protocol,
        hostname: t.hostname,
        port: t.port,
        path: t.path,
        headers: headerLines(spec, t) as unknown as http.OutgoingHttpHeaders,
        agent: agents[t.protocol],
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
          const encoding = contentEncoding(res.rawHeaders);
          const answer = (body: Buffer) => resolve(lazyAnswer(res, body, spec.url));
          if (encoding === undefined || raw.length === 0) answer(raw);
          else decode(raw, encoding).then(answer, reject);
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

/**
 * The answer, its header map built on first read: Node builds `res.headers` from the raw lines
 * on access, and most callers read only the status and the text (SendConnectorEvent's 200).
 */
function lazyAnswer(res: http.IncomingMessage, body: Buffer, url: string): HttpAnswer {
  let headers: Record<string, string> | undefined;
  return {
    status: res.statusCode ?? 0,
    get headers() {
      return (headers ??= flattenHeaders(res.headers));
    },
    text: body.toString("utf8"),
    url,
  };
}

/** Content-Encoding from the raw header lines, unless absent or identity (then nothing to decode). */
function contentEncoding(raw: string[]): string | undefined {
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 16 && raw[i]!.toLowerCase() === "content-encoding") {
      const v = raw[i + 1]!.trim().toLowerCase();
      return v === "" || v === "identity" ? undefined : v;
    }
  }
  return undefined;
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
async function decode(raw: Buffer, encoding: string): Promise<Buffer> {
  const zlib = await import("node:zlib");
  const { promisify } = await import("node:util");
  switch (encoding) {
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
