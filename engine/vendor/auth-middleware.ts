/**
 * Credentials go onto the request in an openapi-fetch middleware that runs after every other
 * onRequest hook, so the logging hook (and anything else that looks at the request) never sees them.
 */
import type { Middleware } from "openapi-fetch";
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

/** The middleware that adds `auth` to the outgoing request; undefined for kind "none". */
export function authMiddleware(auth: VendorAuth): Middleware | undefined {
  switch (auth.kind) {
    case "none":
      return undefined;
    case "header":
      return {
        onRequest({ request }) {
          request.headers.set(auth.name, auth.value);
          return request;
        },
      };
    case "basic": {
      const encoded = Buffer.from(`${auth.username}:${auth.password}`, "utf8").toString("base64");
      return {
        onRequest({ request }) {
          request.headers.set("Authorization", `Basic ${encoded}`);
          return request;
        },
      };
    }
    case "query":
      return {
        async onRequest({ request }) {
          const url = new URL(request.url);
          // Appended as text: searchParams.set would re-encode the other parameters form-style.
          const pair = `${encodeURIComponent(auth.name)}=${encodeURIComponent(auth.value)}`;
          url.search = url.search ? `${url.search}&${pair}` : `?${pair}`;
          // A Request's URL is read-only: rebuild it. The body is buffered because re-using the
          // original stream would need `duplex: "half"` and a one-shot stream.
          const body = request.body ? await request.arrayBuffer() : undefined;
          return new Request(url, {
            method: request.method,
            headers: request.headers,
            body,
            signal: request.signal,
            redirect: request.redirect,
          });
        },
      };
  }
}
