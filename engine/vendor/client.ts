/**
 * Sends the vendor REST calls a mapping declares: URLs built by openapi-fetch's serializers, sent
 * on the keep-alive node:http(s) transport (engine/transport; not fetch, see there why), with
 * credentials applied last so nothing that looks at the request sees them. This module adds
 * retries with backoff inside the invocation's time budget, error classification and pagination.
 */
import type { RequestLimit } from "./request-limit.ts";
import type { QuotaGate } from "../quota/quota-gate.ts";
import type { CompiledQuota } from "../mapping/compiled.ts";
import { createFinalURL, createQuerySerializer, type PathSerializer, type QuerySerializer } from "openapi-fetch";
import type { Logger } from "../log/logger.ts";
import { silentLogger } from "../log/json-logger.ts";
import { countMetric, durationMetric, Metric, statusClass } from "../metrics/recorder.ts";
import type { Deadline } from "../runtime/deadline.ts";
import { applyAuth, checkAuth } from "./auth-middleware.ts";
import { defaultTransport, fetchTransport, validHeader, type HttpAnswer, type HttpTransport } from "../transport/http-transport.ts";
import { parseResponseBody } from "./body.ts";
import { backoffDelayMs, normalizeRetryPolicy, parseRetryAfterMs } from "./retry.ts";
import {
  VendorError,
  type PageOutcome,
  type PaginationSpec,
  type RetryPolicy,
  type ScalarParam,
  type VendorCallSpec,
  type VendorResponse,
} from "./types.ts";
import { untracedRequests } from "./untraced.ts";
import { fillPathTemplate, joinPath, nextLink, parseBaseUrl, tryUrl, withOrigin } from "./url.ts";

export interface VendorClientOptions {
  retry: RetryPolicy;
  /** Default: the keep-alive node:http(s) transport shared by the container. */
  transport?: HttpTransport;
  /** Send through this fetch instead (tests); ignored when `transport` is set. */
  fetch?: typeof fetch;
  logger?: Logger;
  /** Replaces scheme+host+port of every URL: points a bundle at the loopback vendor simulator. */
  originOverride?: string;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** Where one attempt goes: a template filled by openapi-fetch's path and query serializers. */
interface Target {
  /** Scheme+host+port. */
  origin: string;
  /** Base path + template, e.g. "/v1/lights/{selector}/state". */
  schemaPath: string;
  pathSerializer: PathSerializer;
  querySerializer: QuerySerializer<unknown>;
}

const METHODS = new Set(["GET", "POST", "PUT", "PATCH", "DELETE"]);
const repeatKeyQuery = createQuerySerializer({ array: { style: "form", explode: true } });
const formSerializer = (body: Record<string, string>) => new URLSearchParams(body).toString();
const JSON_TYPE = { "content-type": "application/json" };
const FORM_TYPE = { "content-type": "application/x-www-form-urlencoded" };

export class VendorClient {
  private readonly transport: HttpTransport;
  private readonly retry: RetryPolicy;
  private readonly logger: Logger;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly originOverride?: string;
  /** Set on the per-invocation view made by withRequestLimit. */
  private requestLimit?: RequestLimit;
  /** Set by withQuotas: the bundle's quotas, counted in the state store. */
  private quotas?: { gate: QuotaGate; api?: CompiledQuota };

  constructor(opts: VendorClientOptions) {
    this.retry = normalizeRetryPolicy(opts.retry);
    this.logger = opts.logger ?? silentLogger;
    this.sleep = opts.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = opts.random ?? Math.random;
    if (opts.originOverride !== undefined) withOrigin(new URL("http://placeholder.invalid/"), opts.originOverride);
    this.originOverride = opts.originOverride;
    // Redirects are not followed (either transport): credential headers must not reach another origin.
    this.transport = opts.transport ?? (opts.fetch ? fetchTransport(opts.fetch) : defaultTransport());
  }

  /**
   * This client (same transport, policy and connections) counting every request against `limit`:
   * one view per invocation, so the limit is per invocation.
   */
  withRequestLimit(limit: RequestLimit): VendorClient {
    const view = Object.create(this) as VendorClient;
    view.requestLimit = limit;
    return view;
  }

  /**
   * This client counting every request (each page of a listing too, retries not) against the
   * API's quota and the call's own (`spec.quota`): one over a quota is not sent (VendorError "quota").
   */
  withQuotas(gate: QuotaGate, api?: CompiledQuota): VendorClient {
    const view = Object.create(this) as VendorClient;
    view.quotas = { gate, ...(api ? { api } : {}) };
    return view;
  }

  /** One call, retried per the policy; resolves on 2xx or an accepted status. */
  async call(spec: VendorCallSpec, deadline: Deadline): Promise<VendorResponse> {
    const target = this.prepare(spec);
    return this.send(spec, target, deadline);
  }

  /**
   * Pages of a list call. After each page `after` says how to go on: cursor style reads `next`
   * (empty ends), page style reads `hasMore` (only `true` goes on), link style follows the Link
   * header (and stops early on `hasMore: false`), url style follows `next` as a URL, request style
   * hands `next` to `options.rebuild` for the whole next request. Next-page URLs must stay on the
   * base URL's origin. `options.resumeUrl` starts a link/url listing at a page URL saved by an
   * earlier invocation (checked like any next-page URL). Stops, with a warning, at `maxPages`.
   */
  async *paginate(
    spec: VendorCallSpec,
    p: PaginationSpec,
    deadline: Deadline,
    after: (page: VendorResponse, index: number) => Promise<PageOutcome> | PageOutcome,
    options: { resumeUrl?: string; rebuild?: (next: unknown) => Promise<VendorCallSpec> } = {},
  ): AsyncGenerator<VendorResponse> {
    checkPagination(p);
    if (p.style === "request" && !options.rebuild) throw new VendorError("request pagination needs a rebuild function", { kind: "invalid-request" });
    const param = p.param as string;
    let pageSpec: VendorCallSpec = p.style === "page" ? withQuery(spec, param, p.start) : spec;
    const baseOrigins = this.allowedLinkOrigins(spec.baseUrl);
    let target = options.resumeUrl !== undefined && (p.style === "link" || p.style === "url")
      ? this.linkTarget(options.resumeUrl, parseBaseUrl(spec.baseUrl, this.originOverride).href, baseOrigins, spec)
      : this.prepare(pageSpec);

    for (let index = 0; index < p.maxPages; index++) {
      const page = await this.send(pageSpec, target, deadline);
      yield page;
      const outcome: PageOutcome = (await after(page, index)) ?? {};

      if (p.style === "cursor") {
        const next = outcome.next;
        if (next === undefined || next === null || next === "") return;
        if (!["string", "number", "boolean"].includes(typeof next)) {
          throw new VendorError(`pagination cursor of ${describe(spec)} is not a string or number`, { kind: "invalid-request" });
        }
        pageSpec = withQuery(spec, param, next as ScalarParam);
        target = this.prepare(pageSpec);
      } else if (p.style === "page") {
        if (outcome.hasMore !== true) return;
        pageSpec = withQuery(spec, param, p.start + index + 1);
        target = this.prepare(pageSpec);
      } else if (p.style === "request") {
        if (outcome.next === undefined || outcome.next === null || outcome.next === "") return;
        pageSpec = await options.rebuild!(outcome.next);
        target = this.prepare(pageSpec);
      } else {
        if (outcome.hasMore === false) return;
        const link = p.style === "url" ? nextUrl(outcome.next, spec) : nextLink(page.headers["link"]);
        if (!link) return;
        target = this.linkTarget(link, page.url, baseOrigins, spec);
      }
    }
    this.logger.warn("vendor pagination stopped at maxPages", {
      label: spec.label,
      method: spec.method,
      path: spec.path,
      maxPages: p.maxPages,
    });
  }

  /**
   * The URL a link/url listing goes to next, checked (same origin as the base URL, no
   * credentials): for a caller that saves it to resume in a later invocation.
   */
  checkedNextUrl(link: string, pageUrl: string, spec: VendorCallSpec): string {
    const target = this.linkTarget(link, pageUrl, this.allowedLinkOrigins(spec.baseUrl), spec);
    const search = target.querySerializer({});
    return target.origin + target.schemaPath + (search ? `?${search}` : "");
  }

  /** Checks the spec and turns it into a target; every refusal is a VendorError "invalid-request". */
  private prepare(spec: VendorCallSpec): Target {
    if (!spec || typeof spec !== "object") throw new VendorError("vendor call spec is missing", { kind: "invalid-request" });
    if (!METHODS.has(spec.method)) throw new VendorError("vendor call method must be GET, POST, PUT, PATCH or DELETE", { kind: "invalid-request" });
    if (typeof spec.path !== "string") throw new VendorError("vendor call path must be a string", { kind: "invalid-request" });
    if (!(typeof spec.timeoutMs === "number" && spec.timeoutMs > 0)) {
      throw new VendorError(`vendor call ${describe(spec)} needs a positive timeoutMs`, { kind: "invalid-request" });
    }
    if (spec.json !== undefined && spec.form !== undefined) {
      throw new VendorError(`vendor call ${describe(spec)} has both a JSON and a form body`, { kind: "invalid-request" });
    }
    if (spec.method === "GET" && (spec.json !== undefined || spec.form !== undefined)) {
      throw new VendorError(`vendor call ${describe(spec)} is a GET with a body`, { kind: "invalid-request" });
    }
    checkHeaders(spec);
    checkQuery(spec);
    checkForm(spec);
    checkAuth(spec.auth);

    const base = parseBaseUrl(spec.baseUrl, this.originOverride);
    const schemaPath = joinPath(base.pathname, spec.path);
    // Fill once now so a bad template or value fails before any attempt.
    fillPathTemplate(schemaPath, spec.pathParams ?? {});
    const origin = base.origin;
    return {
      origin,
      schemaPath,
      pathSerializer: (full, params) => origin + fillPathTemplate(full.slice(origin.length), params as Record<string, ScalarParam>),
      querySerializer: repeatKeyQuery,
    };
  }

  /** The origins a Link may point to: the base URL's own, and the simulator's when overridden. */
  private allowedLinkOrigins(baseUrl: string): { original: string; effective: string } {
    const original = parseBaseUrl(baseUrl).origin;
    const effective = parseBaseUrl(baseUrl, this.originOverride).origin;
    return { original, effective };
  }

  private linkTarget(link: string, pageUrl: string, origins: { original: string; effective: string }, spec: VendorCallSpec): Target {
    let url = tryUrl(link, pageUrl);
    if (!url || (url.protocol !== "https:" && url.protocol !== "http:")) {
      throw new VendorError(`next-page URL of ${describe(spec)} is not an http(s) URL`, { kind: "invalid-request", shareable: true });
    }
    // A replayed Link naming the real vendor host goes to the simulator like every other URL.
    if (url.origin === origins.original && origins.original !== origins.effective) url = withOrigin(url, origins.effective);
    if (url.origin !== origins.effective) {
      throw new VendorError(`next-page URL of ${describe(spec)} points to another host (${url.host}); only the first page's host is followed, credentials are not sent elsewhere`, { kind: "invalid-request", shareable: true });
    }
    if (url.username || url.password) {
      throw new VendorError(`next-page URL of ${describe(spec)} carries credentials`, { kind: "invalid-request", shareable: true });
    }
    const search = url.search.replace(/^\?/, "");
    return {
      origin: url.origin,
      // Already percent-encoded by the URL parser (braces included), so the serializers pass it through.
      schemaPath: url.pathname,
      pathSerializer: (full) => full,
      querySerializer: () => search,
    };
  }

  /** One request within the quotas that apply to it: taken before the first attempt, given back after the last. */
  private async send(spec: VendorCallSpec, target: Target, deadline: Deadline): Promise<VendorResponse> {
    const quotas = [this.quotas?.api, spec.quota].filter((q): q is CompiledQuota => q !== undefined);
    if (!this.quotas || quotas.length === 0) return this.attempts(spec, target, deadline);
    // Counted per credentials the request carries: the user's token, or the connector's own.
    const lease = await this.quotas.gate.acquire(quotas, JSON.stringify(spec.auth), Math.ceil((spec.timeoutMs * this.retry.maxAttempts) / 1000) + 5);
    try {
      return await this.attempts(spec, target, deadline);
    } finally {
      await lease.release();
    }
  }

  /** The attempt loop: retry, backoff within the budget, error classification. */
  private async attempts(spec: VendorCallSpec, target: Target, deadline: Deadline): Promise<VendorResponse> {
    const started = performance.now();
    const fields = { label: spec.label, method: spec.method, path: spec.path };
    const accepted = new Set(spec.acceptStatus ?? []);
    // What is sent, built once: the URL without credentials (it is what logs and `url` show), the
    // body, and headers merged case-insensitively with the call's own taking precedence.
    const requestUrl = createFinalURL(target.schemaPath, {
      baseUrl: target.origin,
      params: { path: spec.pathParams ?? {}, query: spec.query ?? {} },
      pathSerializer: target.pathSerializer,
      querySerializer: target.querySerializer,
    });
    const body = spec.json !== undefined ? JSON.stringify(spec.json) : spec.form !== undefined ? formSerializer(spec.form) : undefined;
    const request = applyAuth(spec.auth, {
      url: requestUrl,
      headers: mergeHeaders(spec.json !== undefined ? JSON_TYPE : spec.form !== undefined ? FORM_TYPE : {}, spec.headers ?? {}),
    });
    let lastError: VendorError | undefined;

    for (let attempt = 1; ; attempt++) {
      const budgetMs = deadline.remainingMs();
      if (budgetMs <= 0) {
        throw this.fail(
          lastError ?? new VendorError(`vendor call ${describe(spec)} not sent: time budget used up`, { kind: "deadline", attempts: attempt - 1 }),
          fields,
          started,
        );
      }
      this.requestLimit?.take();
      // Which bound ends this attempt decides how an abort is reported.
      const boundByDeadline = budgetMs <= spec.timeoutMs;
      const signal = deadline.signal(spec.timeoutMs);

      // Signed per attempt, on the request exactly as it goes out: a retry gets a fresh timestamp and nonce.
      const headers = spec.sign ? { ...request.headers, ...(await signatureHeaders(spec, request.url, body)) } : request.headers;
      if (spec.untraced) untracedRequests.add(headers);

      let response: HttpAnswer;
      try {
        response = await this.transport({ method: spec.method, url: request.url, headers, body, signal });
        this.logger.debug("vendor attempt", { ...fields, attempt, status: response.status });
      } catch (err) {
        this.logger.debug("vendor attempt", { ...fields, attempt, outcome: signal.aborted ? "aborted" : "network-error" });
        if (signal.aborted) {
          const kind = boundByDeadline ? "deadline" : "timeout";
          const what = boundByDeadline ? "time budget used up" : `no answer within ${spec.timeoutMs} ms`;
          // Not retried: the vendor may have acted on the request, and the budget is what it is.
          throw this.fail(new VendorError(`vendor call ${describe(spec)} aborted: ${what}`, { kind, attempts: attempt }), fields, started);
        }
        lastError = new VendorError(`vendor call ${describe(spec)} failed: network error`, { kind: "network", attempts: attempt, cause: err });
        if (attempt >= this.retry.maxAttempts) throw this.fail(lastError, fields, started);
        const delay = backoffDelayMs(attempt, this.retry, this.random);
        if (delay >= deadline.remainingMs()) throw this.fail(lastError, fields, started);
        await this.sleep(delay);
        continue;
      }

      const status = response.status;
      const answer = parseResponseBody(response.text, response.headers["content-type"]);
      if (spec.classify) {
        // The mapping's error rules see every answer first: an error code in a 200, or a 500 that
        // says the token expired (not worth a retry), fails the call at once with their status.
        const classified = await spec.classify({ status, headers: response.headers, body: answer });
        if (classified) {
          const kind = status >= 200 && status < 300 ? "rejected" : "http";
          throw this.fail(
            new VendorError(`vendor call ${describe(spec)} answered HTTP ${status}, classified as ${classified.status} by the error rule at ${classified.rule ?? "?"}`, {
              kind,
              status,
              body: answer,
              attempts: attempt,
              classified,
            }),
            fields,
            started,
          );
        }
      }
      if ((status >= 200 && status < 300) || accepted.has(status)) {
        const durationMs = Math.round(performance.now() - started);
        measureCall(spec, statusClass(status), durationMs);
        this.logger.debug("vendor call", { ...fields, status, attempts: attempt, durationMs });
        return { status, headers: response.headers, body: answer, url: requestUrl, attempts: attempt, durationMs };
      }

      const retryAfterMs = parseRetryAfterMs(response.headers["retry-after"]);
      lastError = new VendorError(`vendor call ${describe(spec)} answered HTTP ${status}`, {
        kind: "http",
        status,
        body: answer,
        retryAfterMs,
        attempts: attempt,
      });
      if (!this.retry.retryOn.includes(status) || attempt >= this.retry.maxAttempts) throw this.fail(lastError, fields, started);
      const delay = retryAfterMs ?? backoffDelayMs(attempt, this.retry, this.random);
      // Sleeping past the budget would only turn a clear vendor answer into a timeout.
      if (delay >= deadline.remainingMs()) throw this.fail(lastError, fields, started);
      await this.sleep(delay);
    }
  }

  private fail(err: VendorError, fields: Record<string, unknown>, started: number): VendorError {
    const durationMs = Math.round(performance.now() - started);
    measureCall(fields as { label?: string; method: string; path: string }, statusClass(err.status, err.kind), durationMs);
    this.logger.info("vendor call failed", { ...fields, kind: err.kind, status: err.status, attempts: err.attempts, durationMs });
    return err;
  }
}

/**
 * A vendor call's count and duration (all attempts), by call name (the mapping's label, or the
 * method and path template: a bounded set) and status class ("2xx", "4xx", "timeout", ...).
 */
function measureCall(spec: { label?: string; method: string; path: string }, status: string, durationMs: number): void {
  const dimensions = { call: spec.label ?? `${spec.method} ${spec.path}`, statusClass: status };
  countMetric(Metric.VendorCalls, 1, dimensions);
  durationMetric(Metric.VendorLatency, durationMs, dimensions);
}

/** The headers `spec.sign` adds; any failure is a refusal of the call ("invalid-request"), never retried. */
async function signatureHeaders(spec: VendorCallSpec, url: string, body: string | undefined): Promise<Record<string, string>> {
  let headers: Record<string, string>;
  try {
    headers = await spec.sign!({ method: spec.method, url, body: body ?? "" });
  } catch (err) {
    if (err instanceof VendorError) throw err;
    throw new VendorError(`vendor call ${describe(spec)} could not be signed: ${(err as Error).message}`, { kind: "invalid-request", cause: err });
  }
  for (const [name, value] of Object.entries(headers)) {
    if (!validHeader(name, value)) {
      throw new VendorError(`vendor call ${describe(spec)}: signing header ${JSON.stringify(name)} has an invalid name or value`, { kind: "invalid-request" });
    }
  }
  return headers;
}

function describe(spec: VendorCallSpec): string {
  const name = `${spec.method} ${spec.path}`;
  return spec.label ? `${spec.label} (${name})` : name;
}

function withQuery(spec: VendorCallSpec, name: string, value: ScalarParam): VendorCallSpec {
  return { ...spec, query: { ...(spec.query ?? {}), [name]: value } };
}

function isScalar(v: unknown): boolean {
  return typeof v === "string" || typeof v === "number" || typeof v === "boolean";
}

function checkQuery(spec: VendorCallSpec): void {
  for (const [name, value] of Object.entries(spec.query ?? {})) {
    if (value === undefined || value === null) continue; // optional parameter left out
    const ok = Array.isArray(value) ? value.every(isScalar) : isScalar(value);
    if (!ok) throw new VendorError(`vendor call ${describe(spec)}: query parameter ${name} must be a scalar or a list of scalars`, { kind: "invalid-request" });
  }
}

/** Later sources win; names compared case-insensitively and sent lower-case, as fetch's Headers did. */
function mergeHeaders(...sources: Array<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const source of sources) for (const name in source) out[name.toLowerCase()] = source[name]!;
  return out;
}

function checkHeaders(spec: VendorCallSpec): void {
  for (const [name, value] of Object.entries(spec.headers ?? {})) {
    if (typeof value !== "string" || !validHeader(name, value)) {
      throw new VendorError(`vendor call ${describe(spec)}: header ${JSON.stringify(name)} has an invalid name or value`, { kind: "invalid-request" });
    }
  }
}

function checkForm(spec: VendorCallSpec): void {
  if (spec.form === undefined) return;
  if (!spec.form || typeof spec.form !== "object" || Array.isArray(spec.form)) {
    throw new VendorError(`vendor call ${describe(spec)}: form body must be an object of strings`, { kind: "invalid-request" });
  }
  for (const [name, value] of Object.entries(spec.form)) {
    if (typeof value !== "string") {
      throw new VendorError(`vendor call ${describe(spec)}: form field ${name} must be a string`, { kind: "invalid-request" });
    }
  }
}

/** url style: the `next` value as a URL string, or undefined at the end of the listing. */
function nextUrl(next: unknown, spec: VendorCallSpec): string | undefined {
  if (next === undefined || next === null || next === "") return undefined;
  if (typeof next !== "string") throw new VendorError(`next-page URL of ${describe(spec)} is not a string`, { kind: "invalid-request" });
  return next;
}

function checkPagination(p: PaginationSpec): void {
  if (!p || !["cursor", "page", "link", "url", "request"].includes(p.style)) {
    throw new VendorError("pagination style must be cursor, page, link, url or request", { kind: "invalid-request" });
  }
  if ((p.style === "cursor" || p.style === "page") && (typeof p.param !== "string" || p.param === "")) {
    throw new VendorError(`${p.style} pagination needs the query parameter name (param)`, { kind: "invalid-request" });
  }
  if (p.style === "page" && !Number.isInteger(p.start)) {
    throw new VendorError("page pagination needs an integer start", { kind: "invalid-request" });
  }
  if (!Number.isInteger(p.maxPages) || p.maxPages < 1) {
    throw new VendorError("pagination maxPages must be a positive integer", { kind: "invalid-request" });
  }
}
