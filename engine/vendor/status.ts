/**
 * The response code the engine reports to MI for a failed vendor call. A bundle's `statusMap`
 * (vendor HTTP status as a string, e.g. "423", or an error kind such as "timeout" -> code) wins
 * over the engine's defaults.
 */
import { VendorError } from "./types.ts";

export function vendorErrorToResponseCode(err: unknown, statusMap?: Record<string, number>): number {
  if (!(err instanceof VendorError)) return 500;
  const mapped = lookup(statusMap, err.status !== undefined ? String(err.status) : undefined) ?? lookup(statusMap, err.kind);
  if (mapped !== undefined) return mapped;
  switch (err.kind) {
    case "timeout":
    case "deadline":
      return 504;
    case "network":
    case "rejected":
    case "unusable":
      return 502;
    case "invalid-request":
      return 500;
    case "quota":
      // The bundle's own quota: the same answer the vendor would give past it.
      return 429;
    case "http":
      return defaultForStatus(err.status);
  }
}

function defaultForStatus(status: number | undefined): number {
  if (status === undefined) return 502;
  if (status === 400 || status === 422) return 400;
  if ([401, 403, 404, 409, 429].includes(status)) return status;
  if (status >= 400 && status < 500) return 400;
  // 5xx, and anything else a vendor should not answer to a call it failed (3xx redirects included).
  return 502;
}

function lookup(map: Record<string, number> | undefined, key: string | undefined): number | undefined {
  if (!map || key === undefined || !Object.prototype.hasOwnProperty.call(map, key)) return undefined;
  const code = map[key];
  return Number.isInteger(code) && code >= 100 && code <= 599 ? code : undefined;
}
