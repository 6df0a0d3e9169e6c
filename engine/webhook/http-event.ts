/**
 * Normalizes the HTTP events a Lambda receives for webhook deliveries into one request shape,
 * and builds the matching response shape. Three sources are understood:
 *  - Lambda function URL and API Gateway HTTP API payload 2.0 (`version: "2.0"`, `rawPath`, ...)
 *  - API Gateway REST API and HTTP API payload 1.0 (`httpMethod`, `path`, `multiValueHeaders`, ...)
 * Everything else (MI invocations, scheduled events) is not an HTTP event.
 */

export interface WebhookRequest {
  method: string;
  path: string;
  /** Header names lower-cased; repeated headers joined with ", " (cookies with "; "). */
  headers: Record<string, string>;
  /** Decoded query parameters; repeated keys joined with "," as API Gateway does. */
  query: Record<string, string>;
  /** The query string as received (without "?"), for signatures that cover it. */
  rawQuery?: string;
  /** The body bytes exactly as the sender signed them (base64 transport undone). */
  rawBody: Buffer;
  sourceIp?: string;
}

export type HttpEventVersion = "1.0" | "2.0";

export interface HttpResponseSpec {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded: false;
}

export class HttpEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HttpEventError";
  }
}

type Dict = Record<string, unknown>;

function isObject(value: unknown): value is Dict {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Which payload format an event uses, or undefined when it is not an HTTP event. */
export function httpEventVersion(event: unknown): HttpEventVersion | undefined {
  if (!isObject(event)) return undefined;
  const http = isObject(event.requestContext) ? event.requestContext.http : undefined;
  if (event.version === "2.0" && isObject(http) && typeof http.method === "string" && typeof event.rawPath === "string") {
    return "2.0";
  }
  if (typeof event.httpMethod === "string" && typeof event.path === "string") return "1.0";
  return undefined;
}

export function isHttpEvent(event: unknown): boolean {
  return httpEventVersion(event) !== undefined;
}

export function toWebhookRequest(event: unknown): WebhookRequest {
  const version = httpEventVersion(event);
  if (version === "2.0") return fromV2(event as Dict);
  if (version === "1.0") return fromV1(event as Dict);
  throw new HttpEventError("event is not a Lambda function URL or API Gateway HTTP event");
}

/**
 * Both payload formats accept the same response object; `body` is always a string because
 * REST APIs answer 502 to a proxy response without one.
 */
export function toHttpResponse(event: unknown, spec: HttpResponseSpec): HttpResponse {
  if (!isHttpEvent(event)) {
    throw new HttpEventError("cannot build an HTTP response for an event that is not an HTTP event");
  }
  if (!Number.isInteger(spec.status) || spec.status < 100 || spec.status > 599) {
    throw new HttpEventError(`invalid HTTP status ${String(spec.status)}`);
  }
  return {
    statusCode: spec.status,
    headers: { ...(spec.headers ?? {}) },
    body: spec.body ?? "",
    isBase64Encoded: false,
  };
}

function fromV2(event: Dict): WebhookRequest {
  const context = event.requestContext as Dict;
  const http = context.http as Dict;
  const headers = lowerCaseHeaders(stringRecord(event.headers, "headers"));
  // Payload 2.0 moves cookies out of the headers; put them back so signatures over headers still work.
  if (Array.isArray(event.cookies) && event.cookies.length > 0 && headers.cookie === undefined) {
    headers.cookie = event.cookies.map(String).join("; ");
  }
  const rawQuery = typeof event.rawQueryString === "string" ? event.rawQueryString : "";
  return withSourceIp(
    {
      method: String(http.method).toUpperCase(),
      path: event.rawPath as string,
      headers,
      query: parseQueryString(rawQuery),
      ...(rawQuery !== "" ? { rawQuery } : {}),
      rawBody: decodeBody(event.body, event.isBase64Encoded),
    },
    http.sourceIp,
  );
}

function fromV1(event: Dict): WebhookRequest {
  const multiHeaders = stringListRecord(event.multiValueHeaders, "multiValueHeaders");
  const headers =
    multiHeaders !== undefined
      ? lowerCaseHeaders(joinValues(multiHeaders, ", "))
      : lowerCaseHeaders(stringRecord(event.headers, "headers"));
  const multiQuery = stringListRecord(event.multiValueQueryStringParameters, "multiValueQueryStringParameters");
  const query = multiQuery !== undefined ? joinValues(multiQuery, ",") : stringRecord(event.queryStringParameters, "queryStringParameters");
  const context = isObject(event.requestContext) ? event.requestContext : {};
  const identity = isObject(context.identity) ? context.identity : {};
  return withSourceIp(
    {
      method: (event.httpMethod as string).toUpperCase(),
      path: event.path as string,
      headers,
      query,
      rawBody: decodeBody(event.body, event.isBase64Encoded),
    },
    identity.sourceIp,
  );
}

function withSourceIp(request: WebhookRequest, sourceIp: unknown): WebhookRequest {
  if (typeof sourceIp === "string" && sourceIp !== "") request.sourceIp = sourceIp;
  return request;
}

function decodeBody(body: unknown, isBase64Encoded: unknown): Buffer {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body !== "string") throw new HttpEventError("HTTP event body must be a string");
  if (isBase64Encoded === true) {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body.replace(/\s+/g, ""))) {
      throw new HttpEventError("HTTP event body is flagged base64 but is not valid base64");
    }
    return Buffer.from(body, "base64");
  }
  return Buffer.from(body, "utf8");
}

function stringRecord(value: unknown, field: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw new HttpEventError(`HTTP event ${field} must be an object`);
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined || item === null) continue;
    setOwn(out, key, String(item));
  }
  return out;
}

function stringListRecord(value: unknown, field: string): Record<string, string[]> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw new HttpEventError(`HTTP event ${field} must be an object`);
  const out: Record<string, string[]> = {};
  for (const [key, items] of Object.entries(value)) {
    if (items === undefined || items === null) continue;
    setOwn(out, key, Array.isArray(items) ? items.map(String) : [String(items)]);
  }
  return out;
}

function joinValues(record: Record<string, string[]>, separator: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, items] of Object.entries(record)) setOwn(out, key, items.join(separator));
  return out;
}

/** REST APIs keep the sender's header case, so "Content-Type" and "content-type" may both appear. */
function lowerCaseHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    const separator = lower === "cookie" ? "; " : ", ";
    setOwn(out, lower, Object.hasOwn(out, lower) ? `${out[lower]}${separator}${value}` : value);
  }
  return out;
}

function parseQueryString(raw: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    setOwn(out, key, Object.hasOwn(out, key) ? `${out[key]},${value}` : value);
  }
  return out;
}

/**
 * Names come from the sender: a "__proto__" header or query key must stay plain data. That name is
 * the one accessor a plain object inherits, so only it needs defineProperty; an assignment keeps
 * the other names (every delivery's) in a fast object instead of a dictionary.
 */
function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  if (key === "__proto__") Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}
