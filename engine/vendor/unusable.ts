/**
 * Unusable vendor answers are vendor errors (502), not mapping errors (500) nor "not found" (404):
 * a 2xx that a mapping must read from but that is not JSON (HTML, malformed), empty or null.
 */
import { VendorError, type VendorResponse } from "./types.ts";

/** Throws VendorError "unusable" unless the body is a JSON object or array. */
export function requireReadableBody(res: VendorResponse | undefined, label: string): void {
  const body = res?.body;
  if (body !== null && typeof body === "object") return;
  const what = body === undefined ? "an empty body" : body === null ? "null" : typeof body === "string" ? "text that is not JSON" : `a bare ${typeof body}`;
  throw new VendorError(`vendor answer to '${label}' is ${what}, not a JSON object or array`, { kind: "unusable", status: res?.status });
}

/** A vendor answer that parsed but lacks what the mapping reads (e.g. the user id). */
export function missingInAnswer(what: string, at: string, status?: number): VendorError {
  return new VendorError(`the vendor's answer has no ${what} (${at})`, { kind: "unusable", status });
}
