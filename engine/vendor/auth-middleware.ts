/**
 * Credentials go onto the request last, after its URL has been recorded for logs and results, so
 * nothing that looks at the request (logging, `VendorResponse.url`) ever sees them.
 */
import { VendorError, type VendorAuth } from "./types.ts";

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE_FORBIDDEN = /[\r\n\0]/;

/** Refuses credentials that could not be sent, without echoing their values. */
export function checkAuth(auth: VendorAuth): void {
  switch (auth?.kind) {
    case "none":
      return;
    case "header":
      if (typeof auth.name !== "string" || !HEADER_NAME.test(auth.name)) {
        throw new VendorError("vendor auth header name is not a valid HTTP header name", { kind: "invalid-request" });
      }
      if (typeof auth.value !== "string" || HEADER_VALUE_FORBIDDEN.test(auth.value)) {
        throw new VendorError(`vendor auth header ${auth.name} has an invalid value`, { kind: "invalid-request" });
      }
      return;
    case "query":
      if (typeof auth.name !== "string" || auth.name === "" || typeof auth.value !== "string") {
        throw new VendorError("vendor query auth needs a parameter name and a string value", { kind: "invalid-request" });
      }
      return;
    case "basic":
      if (typeof auth.username !== "string" || typeof auth.password !== "string" || auth.username.includes(":")) {
        throw new VendorError("vendor basic auth needs a username without ':' and a password", { kind: "invalid-request" });
      }
      if (HEADER_VALUE_FORBIDDEN.test(auth.username) || HEADER_VALUE_FORBIDDEN.test(auth.password)) {
        throw new VendorError("vendor basic auth credentials contain control characters", { kind: "invalid-request" });
      }
      return;
    default:
      throw new VendorError("vendor auth kind must be none, header, query or basic", { kind: "invalid-request" });
  }
}

/** The outgoing request: absolute URL and lower-case header names. */
export interface OutgoingRequest {
  url: string;
  headers: Record<string, string>;
}

/** A copy of `request` carrying `auth` (checked by checkAuth): a header, Basic, or a query parameter. */
export function applyAuth(auth: VendorAuth, request: OutgoingRequest): OutgoingRequest {
  switch (auth.kind) {
    case "none":
      return request;
    case "header":
      return { url: request.url, headers: { ...request.headers, [auth.name.toLowerCase()]: auth.value } };
    case "basic": {
      const encoded = Buffer.from(`${auth.username}:${auth.password}`, "utf8").toString("base64");
      return { url: request.url, headers: { ...request.headers, authorization: `Basic ${encoded}` } };
    }
    case "query": {
      // Appended as text: URLSearchParams would re-encode the other parameters form-style.
      const pair = `${encodeURIComponent(auth.name)}=${encodeURIComponent(auth.value)}`;
      const hash = request.url.indexOf("#");
      const base = hash >= 0 ? request.url.slice(0, hash) : request.url;
      return { url: base.includes("?") ? `${base}&${pair}` : `${base}?${pair}`, headers: request.headers };
    }
  }
}
