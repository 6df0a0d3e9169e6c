/**
 * Builds the Lambda HTTP event a vendor delivery arrives as (function URL / HTTP API payload 2.0,
 * or API Gateway REST 1.0), signing the raw body as the vendor would. Used by fixture tests and
 * local tools to play the vendor; the ingress never calls it.
 */
import { createHmac } from "node:crypto";

export interface DeliverySpec {
  method?: string;
  path?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string exactly as written. */
  body?: unknown;
  sign?: {
    scheme: "hmac";
    algorithm: "sha1" | "sha256" | "sha512";
    encoding: "hex" | "base64";
    header: string;
    secretEnv: string;
    prefix?: string;
    /** When set, the current epoch seconds go in this header and `<timestamp>.<body>` is signed. */
    timestampHeader?: string;
  };
  version?: "1.0" | "2.0";
}

export function deliveryEvent(spec: DeliverySpec, env: Record<string, string | undefined> = process.env): Record<string, unknown> {
  const method = (spec.method ?? "POST").toUpperCase();
  const path = spec.path ?? "/";
  const body = spec.body === undefined ? "" : typeof spec.body === "string" ? spec.body : JSON.stringify(spec.body);
  const headers: Record<string, string> = { ...(spec.headers ?? {}) };
  if (body !== "" && !Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) headers["content-type"] = "application/json";
  if (spec.sign) {
    const secret = env[spec.sign.secretEnv];
    if (!secret) throw new Error(`cannot sign the delivery: environment variable ${spec.sign.secretEnv} is not set`);
    let signed = body;
    if (spec.sign.timestampHeader) {
      const ts = String(Math.floor(Date.now() / 1000));
      headers[spec.sign.timestampHeader] = ts;
      signed = `${ts}.${body}`;
    }
    const signature = createHmac(spec.sign.algorithm, secret).update(Buffer.from(signed, "utf8")).digest(spec.sign.encoding);
    headers[spec.sign.header] = (spec.sign.prefix ?? "") + signature;
  }
  const query = spec.query ?? {};
  if (spec.version === "1.0") {
    return {
      resource: "/{proxy+}",
      path,
      httpMethod: method,
      headers,
      multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
      queryStringParameters: Object.keys(query).length ? query : null,
      multiValueQueryStringParameters: Object.keys(query).length ? Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]])) : null,
      requestContext: { httpMethod: method, path, identity: { sourceIp: "127.0.0.1" } },
      body,
      isBase64Encoded: false,
    };
  }
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: path,
    rawQueryString: new URLSearchParams(query).toString(),
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
    requestContext: { http: { method, path, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "fixture" }, requestId: "fixture", timeEpoch: Date.now() },
    body,
    isBase64Encoded: false,
  };
}

/** Sets variables on process.env; the returned function restores what was there before. */
export function withEnv(vars: Record<string, string>): () => void {
  const before = new Map<string, string | undefined>();
  for (const [k, v] of Object.entries(vars)) {
    before.set(k, process.env[k]);
    process.env[k] = v;
  }
  return () => {
    for (const [k, v] of before) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}
