/**
 * A loopback HTTP server that plays the vendor: it answers requests from a script of recorded
 * exchanges (a fixture's `vendor:` list) and records what it received, so tests can assert the
 * exact requests the engine made. Strict mode expects the exchanges in order; replay mode answers
 * any request with the first matching exchange (used by `npm start` and `c2c dev`).
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { isDeepStrictEqual } from "node:util";

export interface ExchangeRequest {
  method: string;
  path: string;
  query?: Record<string, string | string[]>;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface ExchangeResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Answer only after this many milliseconds (a slow vendor). */
  delayMs?: number;
}

export interface Exchange {
  request: ExchangeRequest;
  response: ExchangeResponse;
  /** Consecutive exchanges with the same label may arrive in any order among themselves (concurrent requests). */
  anyOrder?: string;
}

export interface ReceivedRequest {
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  headers: Record<string, string>;
  rawBody: string;
  body: unknown;
}

export interface SimulatorProblem {
  received: ReceivedRequest;
  expected?: ExchangeRequest;
  /** Strict mode: position of the expected exchange in the script. */
  index?: number;
  reason: string;
}

export class VendorSimulator {
  readonly received: ReceivedRequest[] = [];
  readonly problems: SimulatorProblem[] = [];
  private script: Exchange[] = [];
  private cursor = 0;
  private mode: "strict" | "replay" = "strict";
  /** Strict mode: exchanges answered out of order (anyOrder groups). */
  private readonly used = new Set<number>();
  private readonly sockets = new Set<import("node:net").Socket>();

  private constructor(private readonly server: Server) {
    server.on("connection", (s) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
  }

  static async start(port = 0): Promise<VendorSimulator> {
    let sim!: VendorSimulator;
    const server = createServer((req, res) => {
      sim.handle(req).then(
        ({ status, headers, body, delayMs }) => {
          const send = () => {
            const text = body === undefined ? "" : typeof body === "string" ? body : JSON.stringify(body);
            const h: Record<string, string> = { ...(headers ?? {}) };
            if (body !== undefined && typeof body !== "string" && !Object.keys(h).some((k) => k.toLowerCase() === "content-type")) {
              h["content-type"] = "application/json";
            }
            res.writeHead(status, h).end(text);
          };
          if (delayMs) setTimeout(send, delayMs);
          else send();
        },
        (err) => res.writeHead(500).end(String(err)),
      );
    });
    sim = new VendorSimulator(server);
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    return sim;
  }

  get origin(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** Loads a new script and forgets what was received. */
  load(exchanges: Exchange[], mode: "strict" | "replay" = "strict"): void {
    // Replaying recordings of several fixtures, a request may match a success and a failure
    // recording: prefer the success, the normal case a developer wants to see.
    this.script = mode === "replay" ? [...exchanges].sort((a, b) => rank(a.response.status) - rank(b.response.status)) : exchanges;
    this.mode = mode;
    this.cursor = 0;
    this.used.clear();
    this.received.length = 0;
    this.problems.length = 0;
  }

  /** Exchanges of a strict script that were never requested. */
  unused(): Exchange[] {
    return this.mode === "strict" ? this.script.filter((_, i) => i >= this.cursor && !this.used.has(i)) : [];
  }

  /** The next expected exchange, or one of its `anyOrder` group, that the request matches. */
  private matchAt(received: ReceivedRequest): number | undefined {
    const first = this.script[this.cursor];
    if (mismatch(first.request, received) === undefined) return this.cursor;
    if (first.anyOrder === undefined) return undefined;
    for (let i = this.cursor + 1; i < this.script.length && this.script[i].anyOrder === first.anyOrder; i++) {
      if (!this.used.has(i) && mismatch(this.script[i].request, received) === undefined) return i;
    }
    return undefined;
  }

  private async handle(req: IncomingMessage): Promise<ExchangeResponse> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const rawBody = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url ?? "/", "http://simulator");
    const query: Record<string, string | string[]> = {};
    for (const k of new Set(url.searchParams.keys())) {
      const all = url.searchParams.getAll(k);
      query[k] = all.length > 1 ? all : all[0];
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k] = v;
    const received: ReceivedRequest = { method: req.method ?? "GET", path: url.pathname, query, headers, rawBody, body: parseBody(rawBody, headers["content-type"]) };
    this.received.push(received);

    if (this.mode === "replay") {
      // The most specific recording wins (one that names the body beats one that does not).
      const hit = this.script
        .filter((e) => mismatch(e.request, received) === undefined)
        .sort((a, b) => specificity(b.request) - specificity(a.request))[0];
      if (hit) return hit.response;
      this.problems.push({ received, reason: "no recorded exchange matches" });
      return { status: 404, body: { error: "the vendor simulator has no recorded exchange for this request" } };
    }
    while (this.used.has(this.cursor)) this.cursor++;
    const expected = this.script[this.cursor];
    if (!expected) {
      this.problems.push({ received, reason: "request after the last expected exchange" });
      return { status: 599, body: { error: "unexpected request" } };
    }
    const at = this.matchAt(received);
    if (at === undefined) {
      const why = mismatch(expected.request, received)!;
      this.problems.push({ received, expected: expected.request, index: this.cursor, reason: why });
      return { status: 599, body: { error: `unexpected request: ${why}` } };
    }
    this.used.add(at);
    while (this.used.has(this.cursor)) this.cursor++;
    return this.script[at].response;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function specificity(r: ExchangeRequest): number {
  return (r.body !== undefined ? 4 : 0) + Object.keys(r.query ?? {}).length + Object.keys(r.headers ?? {}).length;
}

function rank(status: number): number {
  return status >= 200 && status < 300 ? 0 : 1;
}

function parseBody(raw: string, contentType: string | undefined): unknown {
  if (!raw) return undefined;
  if (contentType?.includes("application/x-www-form-urlencoded")) return Object.fromEntries(new URLSearchParams(raw));
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/** Why `actual` does not match `expected`, or undefined when it does. */
export function mismatch(expected: ExchangeRequest, actual: ReceivedRequest): string | undefined {
  if (expected.method.toUpperCase() !== actual.method.toUpperCase()) return `method ${actual.method}, expected ${expected.method}`;
  if (expected.path !== actual.path && decodeURIComponent(expected.path) !== decodeURIComponent(actual.path)) {
    return `path ${actual.path}, expected ${expected.path}`;
  }
  for (const [k, v] of Object.entries(expected.query ?? {})) {
    if (!isDeepStrictEqual(actual.query[k], v)) return `query ${k}=${JSON.stringify(actual.query[k])}, expected ${JSON.stringify(v)}`;
  }
  for (const [k, v] of Object.entries(expected.headers ?? {})) {
    if (actual.headers[k.toLowerCase()] !== v) return `header ${k} differs from the expected value`;
  }
  if (expected.body !== undefined) {
    const same =
      isDeepStrictEqual(actual.body, expected.body) || (typeof expected.body === "string" && actual.rawBody === expected.body);
    if (!same) return `body ${actual.rawBody || "(empty)"}, expected ${typeof expected.body === "string" ? expected.body : JSON.stringify(expected.body)}`;
  }
  return undefined;
}
