/**
 * The contract between the operation runner (which evaluates a mapping's expressions into plain
 * values) and the vendor HTTP layer (which sends them).
 */

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export type ScalarParam = string | number | boolean;

export type VendorAuth =
  | { kind: "none" }
  | { kind: "header"; name: string; value: string }
  | { kind: "query"; name: string; value: string }
  | { kind: "basic"; username: string; password: string };

export interface VendorCallSpec {
  method: HttpMethod;
  /** e.g. "https://api.acme.example/v1"; its path is kept in front of `path`. */
  baseUrl: string;
  /** Template such as "/lights/{selector}/state"; every `{name}` must be in `pathParams`. */
  path: string;
  pathParams: Record<string, ScalarParam>;
  /** Array values repeat the key (`?id=1&id=2`). */
  query: Record<string, ScalarParam | ScalarParam[]>;
  headers: Record<string, string>;
  /** JSON body. */
  json?: unknown;
  /** application/x-www-form-urlencoded body. */
  form?: Record<string, string>;
  auth: VendorAuth;
  /** Per-attempt cap; also bounded by the invocation's deadline. */
  timeoutMs: number;
  /** Extra statuses treated as success (e.g. 404 on revoking an unknown token). */
  acceptStatus?: number[];
  /** For logs, e.g. "discoverDevices.list". */
  label?: string;
  /**
   * Signs each attempt: gets the request as it is sent (after credentials) and returns headers
   * to add. Errors it throws are refusals ("invalid-request"), never retried.
   */
  sign?: (request: { method: string; url: string; body: string }) => Promise<Record<string, string>>;
  /** The response carries secrets (an account bootstrap): tracing tools must not print its body. */
  untraced?: boolean;
  /** The call's own quota (engine/quota); the API's applies through VendorClient.withQuotas. */
  quota?: import("../mapping/compiled.ts").CompiledQuota;
  /**
   * The mapping's error rules: called with every answer (2xx included) before it is accepted or
   * retried; a classification makes the call fail at once with that MI status.
   */
  classify?: (answer: { status: number; headers: Record<string, string>; body: unknown }) => Promise<VendorClassification | undefined>;
}

/** What an error rule made of a vendor answer: the MI status, and the vendor's own code and message. */
export interface VendorClassification {
  status: number;
  code?: string;
  message?: string;
  /** Where the rule is declared (file:line:col), for logs. */
  rule?: string;
}

export interface VendorResponse {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  /** Parsed JSON, else text; undefined when empty. */
  body: unknown;
  /** The URL requested, without credentials carried in the query. */
  url: string;
  attempts: number;
  durationMs: number;
}

/**
 * http: the vendor answered a status that is not success; timeout: no answer within the per-attempt
 * cap; deadline: the invocation's budget ran out; network: no HTTP answer at all; invalid-request:
 * the call could not be built (bad template, value or header); rejected: the vendor answered success
 * but the mapping's success test says the call failed; unusable: a 2xx whose body the mapping cannot
 * read (not JSON, empty, null, or without what the mapping reads from it).
 */
/** `quota`: not sent, a quota the bundle declares is used up (engine/quota); `retryAfterMs` says when it may fit. */
export type VendorErrorKind = "http" | "timeout" | "network" | "deadline" | "invalid-request" | "rejected" | "unusable" | "quota";

/**
 * A vendor call that did not succeed. The message names the method and the path TEMPLATE only:
 * filled paths, query values and bodies may carry ids or tokens.
 */
export class VendorError extends Error {
  readonly kind: VendorErrorKind;
  readonly status?: number;
  readonly body?: unknown;
  /** The vendor's Retry-After, when it sent one and the wait did not fit in the budget. */
  readonly retryAfterMs?: number;
  readonly attempts: number;
  /** Set when an error rule of the mapping classified the answer. */
  readonly classified?: VendorClassification;
  /** The message names no value of the request (only hosts and templates): it may reach MI as is. */
  readonly shareable: boolean;

  constructor(
    message: string,
    details: {
      kind: VendorErrorKind;
      status?: number;
      body?: unknown;
      retryAfterMs?: number;
      attempts?: number;
      cause?: unknown;
      classified?: VendorClassification;
      shareable?: boolean;
    },
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "VendorError";
    this.kind = details.kind;
    this.status = details.status;
    this.body = details.body;
    this.retryAfterMs = details.retryAfterMs;
    this.attempts = details.attempts ?? 0;
    if (details.classified) this.classified = details.classified;
    this.shareable = details.shareable === true;
  }
}

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** First backoff ceiling; doubles each attempt (full jitter below it). */
  baseDelayMs: number;
  maxDelayMs: number;
  /** HTTP statuses that are retried; network errors always are. */
  retryOn: number[];
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 3,
  baseDelayMs: 100,
  maxDelayMs: 2000,
  retryOn: [429, 500, 502, 503, 504],
};

export interface PaginationSpec {
  /**
   * cursor: `next` goes into `param`; page: a counter goes into `param`; link: the `Link` header's
   * rel="next" URL; url: `next` is the next page's URL; request: `next` is handed to `rebuild`,
   * which builds the whole next request.
   */
  style: "cursor" | "page" | "link" | "url" | "request";
  /** cursor / page: the query parameter that carries the cursor or the page number. */
  param?: string;
  /** page: number of the first page. */
  start: number;
  /** Safety stop. */
  maxPages: number;
}

/** What the caller learnt from one page: the next cursor, or whether more pages follow. */
export interface PageOutcome {
  next?: unknown;
  hasMore?: boolean;
}
