/**
 * Subscription handshakes: requests a sender makes to prove the endpoint is live (echo a
 * challenge, answer a ping) rather than to deliver an event. Rules come from the mapping file;
 * the first rule whose conditions all hold decides the response. Some handshakes also need an
 * outbound call to a URL the delivery names (`callConfirmationUrl`).
 */
import { hostAllowed } from "../vendor/allowed-hosts.ts";
import { constantTimeEqualString } from "./constant-time.ts";
import { getAtPath } from "./dot-path.ts";
import type { HttpResponseSpec, WebhookRequest } from "./http-event.ts";

export interface HandshakeCondition {
  /** HTTP method, case-insensitive. */
  method?: string;
  /** Query parameter → required value, or `true` for "present (any value)". */
  query?: Record<string, string | true>;
  /** Header name (case-insensitive) → required value, or `true` for "present". */
  header?: Record<string, string | true>;
  /** Dot path that must exist in the parsed body. */
  bodyField?: string;
  /** Dot path → value the parsed body must hold there, e.g. `{ type: "url_verification" }`. */
  bodyEquals?: Record<string, string | number | boolean | null>;
}

export interface HandshakeResponseBody {
  /** Echo this query parameter. */
  fromQuery?: string;
  /** Echo the value at this dot path of the parsed body (objects are sent as JSON). */
  fromBody?: string;
  literal?: string;
}

export interface HandshakeResponse {
  status: number;
  body?: HandshakeResponseBody;
  /** Default text/plain, or application/json when echoing an object. */
  contentType?: string;
}

export interface HandshakeRule {
  when: HandshakeCondition;
  respond: HandshakeResponse;
}

/**
 * The response for the first matching rule, or undefined when the request is not a handshake.
 * A rule whose echo source is absent does not match: answering a challenge with an empty body
 * would fail the handshake anyway, and falling through lets another rule or the event path decide.
 */
export function matchHandshake(req: WebhookRequest, parsedBody: unknown, handshakes: readonly HandshakeRule[]): HttpResponseSpec | undefined {
  for (const rule of handshakes) {
    if (!conditionHolds(req, parsedBody, rule.when)) continue;
    const response = buildResponse(req, parsedBody, rule.respond);
    if (response !== undefined) return response;
  }
  return undefined;
}

function conditionHolds(req: WebhookRequest, body: unknown, when: HandshakeCondition): boolean {
  if (when.method !== undefined && when.method.toUpperCase() !== req.method.toUpperCase()) return false;
  for (const [name, expected] of Object.entries(when.query ?? {})) {
    if (!valueMatches(Object.hasOwn(req.query, name) ? req.query[name] : undefined, expected)) return false;
  }
  for (const [name, expected] of Object.entries(when.header ?? {})) {
    const lower = name.toLowerCase();
    if (!valueMatches(Object.hasOwn(req.headers, lower) ? req.headers[lower] : undefined, expected)) return false;
  }
  if (when.bodyField !== undefined && getAtPath(body, when.bodyField) === undefined) return false;
  for (const [path, expected] of Object.entries(when.bodyEquals ?? {})) {
    if (getAtPath(body, path) !== expected) return false;
  }
  return true;
}

/** Expected values may be verify tokens, so equality does not exit early on the first differing byte. */
function valueMatches(actual: string | undefined, expected: string | true): boolean {
  if (actual === undefined) return false;
  return expected === true || constantTimeEqualString(expected, actual);
}

function buildResponse(req: WebhookRequest, body: unknown, respond: HandshakeResponse): HttpResponseSpec | undefined {
  const source = respond.body;
  let text: string | undefined;
  let isJson = false;
  if (source?.fromQuery !== undefined) {
    text = Object.hasOwn(req.query, source.fromQuery) ? req.query[source.fromQuery] : undefined;
    if (text === undefined) return undefined;
  } else if (source?.fromBody !== undefined) {
    const value = getAtPath(body, source.fromBody);
    if (value === undefined) return undefined;
    isJson = typeof value === "object" && value !== null;
    text = typeof value === "string" ? value : JSON.stringify(value);
  } else if (source?.literal !== undefined) {
    text = source.literal;
  }
  const response: HttpResponseSpec = { status: respond.status };
  if (text !== undefined) {
    response.body = text;
    response.headers = { "content-type": respond.contentType ?? (isJson ? "application/json" : "text/plain; charset=utf-8") };
  } else if (respond.contentType !== undefined) {
    response.headers = { "content-type": respond.contentType };
  }
  return response;
}

// --- confirmation handshakes with an outbound call -------------------------------------------

/** What a confirmation handshake (`handshakes[].confirm`) is allowed to call, and how. */
export interface ConfirmPolicy {
  method: "GET" | "POST";
  /** Host patterns (engine/vendor/allowed-hosts.ts syntax). */
  allowedHosts: readonly string[];
  timeoutMs: number;
}

export type ConfirmOutcome =
  | { ok: true; host: string; status: number }
  /** `refused`: never fetched (no URL, off the list, not https); `failed`: the call did not succeed. */
  | { ok: false; code: "no_url" | "refused" | "failed"; host?: string; reason: string };

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

/**
 * Calls the confirmation URL a delivery names (e.g. a SubscriptionConfirmation's SubscribeURL),
 * only when its host is on the rule's allow-list: anyone can post a delivery naming any URL, and
 * an unchecked call would let them use the connector to reach internal or third-party hosts.
 * Redirects are not followed (they could lead off the list). The outcome names the host only:
 * such URLs usually carry a one-time token, so the URL itself is never logged or returned.
 */
export async function callConfirmationUrl(value: unknown, policy: ConfirmPolicy, fetchImpl: typeof fetch = (...args) => fetch(...args)): Promise<ConfirmOutcome> {
  if (typeof value !== "string" || value.trim() === "") return { ok: false, code: "no_url", reason: "the delivery names no confirmation URL" };
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return { ok: false, code: "no_url", reason: "the confirmation URL is not a URL" };
  }
  const host = url.host.toLowerCase();
  if (!hostAllowed(host, policy.allowedHosts) && !(url.port === "" && hostAllowed(url.hostname, policy.allowedHosts))) {
    return { ok: false, code: "refused", host, reason: `host ${host} is not in the handshake's confirm.allowedHosts` };
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname.toLowerCase()))) {
    return { ok: false, code: "refused", host, reason: "confirmation URLs are called over https only" };
  }
  if (url.username || url.password) return { ok: false, code: "refused", host, reason: "the confirmation URL carries credentials" };
  try {
    const res = await fetchImpl(url, { method: policy.method, redirect: "manual", signal: AbortSignal.timeout(policy.timeoutMs) });
    await res.body?.cancel().catch(() => undefined);
    if (res.status >= 200 && res.status < 300) return { ok: true, host, status: res.status };
    return { ok: false, code: "failed", host, reason: `the confirmation URL answered ${res.status}` };
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
    return { ok: false, code: "failed", host, reason: timedOut ? `no answer within ${policy.timeoutMs} ms` : "the confirmation URL could not be reached" };
  }
}
