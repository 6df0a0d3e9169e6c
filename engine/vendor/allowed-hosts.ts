/**
 * `api.allowedHosts`: the hosts a bundle may ever call. A base URL that comes from data (a per-user
 * host in a token claim or a bootstrap response) is checked against them before anything is sent,
 * so a forged or stale value can never move the token to another host.
 */
import { VendorError } from "./types.ts";

/** `*` matches one or more letters, digits or hyphens inside one DNS label; the rest is literal. */
export function hostPatternToRegExp(pattern: string): RegExp {
  const body = pattern
    .toLowerCase()
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\-]/g, "\\$&"))
    .join("[a-z0-9-]+");
  return new RegExp(`^${body}$`);
}

export function hostAllowed(host: string, patterns: readonly string[]): boolean {
  const h = host.toLowerCase();
  return patterns.some((p) => hostPatternToRegExp(p).test(h));
}

/** A call refused because its host is not declared; its message is safe to show (it names a host, no credential). */
export class HostNotAllowedError extends VendorError {
  constructor(message: string) {
    super(message, { kind: "invalid-request" });
    this.name = "HostNotAllowedError";
  }
}

/** Throws a clear "invalid-request" refusal when the URL's host (with port if any) is not allowed. */
export function checkAllowedHost(url: URL, patterns: readonly string[], what: string): void {
  if (hostAllowed(url.host, patterns) || (url.port === "" && hostAllowed(url.hostname, patterns))) return;
  // The host is named: it is configuration-shaped data, not a credential.
  throw new HostNotAllowedError(`${what}: host ${url.host} is not in api.allowedHosts (${patterns.join(", ")}); the call is refused`);
}
