/**
 * Turns webhook body bytes into values the mapping expressions can read, and unwraps push
 * envelopes whose payload travels base64-encoded inside a JSON field (`message.data`).
 */
import { getAtPath } from "./dot-path.ts";
import type { WebhookRequest } from "./http-event.ts";

export type WebhookBodyErrorCode = "invalid_json" | "invalid_base64" | "missing_field";

export class WebhookBodyError extends Error {
  readonly code: WebhookBodyErrorCode;
  constructor(code: WebhookBodyErrorCode, message: string) {
    super(message);
    this.name = "WebhookBodyError";
    this.code = code;
  }
}

/** `type/subtype` lower-cased, parameters such as charset dropped. */
export function mediaType(req: WebhookRequest): string {
  return (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
}

/**
 * - empty body → undefined
 * - application/json or any `+json` type → parsed JSON (WebhookBodyError when invalid)
 * - application/x-www-form-urlencoded → object of strings (repeated keys → string[])
 * - anything else: a body that looks like JSON (starts with `{` or `[`) is parsed, since many
 *   senders omit or mislabel the content type; otherwise the UTF-8 text is returned.
 */
export function parseBody(req: WebhookRequest): unknown {
  const text = stripBom(req.rawBody.toString("utf8"));
  if (text.trim() === "") return undefined;
  const type = mediaType(req);
  if (type === "application/x-www-form-urlencoded") return parseForm(text);
  const declaredJson = type === "application/json" || type.endsWith("+json");
  if (declaredJson || /^\s*[[{]/.test(text)) {
    return parseJson(text, declaredJson ? "body declared as JSON" : "body that looks like JSON");
  }
  return text;
}

/** Decodes standard or URL-safe base64 holding UTF-8 JSON. */
export function decodeBase64Json(encoded: string): unknown {
  if (typeof encoded !== "string") throw new WebhookBodyError("invalid_base64", "expected a base64 string");
  const compact = encoded.replace(/\s+/g, "");
  if (compact === "" || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(compact)) {
    throw new WebhookBodyError("invalid_base64", "value is not base64");
  }
  return parseJson(stripBom(Buffer.from(compact, "base64").toString("utf8")), "base64-decoded payload");
}

/**
 * Reads the base64 JSON payload at `dataPath` (default `message.data`, the push-subscription
 * convention) out of an already parsed envelope.
 */
export function unwrapBase64JsonField(envelope: unknown, dataPath: string = "message.data"): unknown {
  const encoded = getAtPath(envelope, dataPath);
  if (encoded === undefined) throw new WebhookBodyError("missing_field", `envelope has no ${dataPath}`);
  if (typeof encoded !== "string") throw new WebhookBodyError("invalid_base64", `${dataPath} is not a base64 string`);
  return decodeBase64Json(encoded);
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // Newer V8 messages quote the offending text, which may hold tokens: keep only the fact.
    throw new WebhookBodyError("invalid_json", `${what} is not valid JSON`);
  }
}

function parseForm(text: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const existing = Object.hasOwn(out, key) ? out[key] : undefined;
    const next = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
    Object.defineProperty(out, key, { value: next, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
