/**
 * URL building for vendor calls. Values come from vendor data and MI requests, so they are
 * untrusted: a value may fill exactly one path segment and can never move the request to another
 * host or path.
 */
import { VendorError, type ScalarParam } from "./types.ts";

const PLACEHOLDER = /\{([^{}]*)\}/g;

/** Checks the base URL and returns it without a trailing slash. */
export function parseBaseUrl(baseUrl: string, originOverride?: string): URL {
  const url = tryUrl(baseUrl);
  if (!url || (url.protocol !== "https:" && url.protocol !== "http:")) {
    throw new VendorError("vendor base URL must be an absolute http(s) URL", { kind: "invalid-request" });
  }
  if (url.search || url.hash || url.username || url.password) {
    throw new VendorError("vendor base URL must not carry a query, fragment or credentials", { kind: "invalid-request" });
  }
  if (url.pathname.includes("{") || url.pathname.includes("%7B")) {
    throw new VendorError("vendor base URL must not carry path placeholders", { kind: "invalid-request" });
  }
  return originOverride ? withOrigin(url, originOverride) : url;
}

/** The same URL on another scheme+host+port (the loopback vendor simulator in local runs). */
export function withOrigin(url: URL, origin: string): URL {
  const target = tryUrl(origin);
  if (!target || (target.protocol !== "https:" && target.protocol !== "http:")) {
    throw new VendorError("originOverride must be an absolute http(s) URL", { kind: "invalid-request" });
  }
  const out = new URL(url.href);
  out.protocol = target.protocol;
  out.host = target.host; // host includes the port; an empty port resets to the default
  return out;
}

/** Base path (without trailing slash) joined with the template, which gets a leading slash. */
export function joinPath(basePath: string, template: string): string {
  const base = basePath.replace(/\/+$/, "");
  return base + (template.startsWith("/") ? template : `/${template}`);
}

/**
 * Fills `{name}` placeholders of a path template. Each value is encodeURIComponent-ed so '/', '?',
 * '#' and '%' stay inside the segment; "." and ".." (which URL parsers collapse even when
 * percent-encoded) and empty values are refused rather than sent.
 */
export function fillPathTemplate(template: string, params: Record<string, ScalarParam>): string {
  if (template.includes("?") || template.includes("#")) {
    throw new VendorError("vendor path template must not carry a query or fragment; use `query`", { kind: "invalid-request" });
  }
  const filled = template.replace(PLACEHOLDER, (_match, name: string) => {
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name)) {
      throw new VendorError(`vendor path template has an invalid placeholder {${name}}`, { kind: "invalid-request" });
    }
    if (!Object.prototype.hasOwnProperty.call(params, name)) {
      throw new VendorError(`vendor path placeholder {${name}} has no value`, { kind: "invalid-request" });
    }
    const value = params[name];
    if (value === null || value === undefined || !["string", "number", "boolean"].includes(typeof value)) {
      throw new VendorError(`vendor path placeholder {${name}} must be a string, number or boolean`, { kind: "invalid-request" });
    }
    const text = String(value);
    if (text === "" || text === "." || text === "..") {
      throw new VendorError(`vendor path placeholder {${name}} has an empty or dot-segment value`, { kind: "invalid-request" });
    }
    return encodeSegment(text);
  });
  if (filled.includes("{") || filled.includes("}")) {
    throw new VendorError("vendor path template has unbalanced braces", { kind: "invalid-request" });
  }
  return filled;
}

/**
 * encodeURIComponent, but ':' stays as it is: RFC 3986 allows it in a path segment (pchar), it
 * cannot change the path's shape after an absolute base, and vendors route on it (`id:abc`).
 */
export function encodeSegment(text: string): string {
  return encodeURIComponent(text).replace(/%3A/gi, ":");
}

/** The URL of `rel="next"` in a Link header, if any. */
export function nextLink(linkHeader: string | null | undefined): string | undefined {
  if (!linkHeader) return undefined;
  // Entries are separated by commas outside <...>; URLs themselves may contain commas.
  const entry = /<([^>]*)>((?:\s*;\s*[^;,]+)*)/g;
  for (const m of linkHeader.matchAll(entry)) {
    const params = m[2] ?? "";
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(params);
    const rels = (rel?.[1] ?? rel?.[2] ?? "").toLowerCase().split(/\s+/);
    if (rels.includes("next")) return m[1];
  }
  return undefined;
}

export function tryUrl(text: string, base?: string | URL): URL | undefined {
  try {
    return new URL(text, base);
  } catch {
    return undefined;
  }
}
