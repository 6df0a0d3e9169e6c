/**
 * Errors -> MI response codes and safe messages. Messages go into ACKs and events (which MI shows
 * to customers) and logs: they name the failure, never a token, a secret or a vendor body.
 */
import type { CompiledBundle } from "../mapping/compiled.ts";
import { VendorError } from "../vendor/types.ts";
import { vendorErrorToResponseCode } from "../vendor/status.ts";
import { ExpressionError } from "../runtime/expressions.ts";
import { CredentialError } from "../runtime/credentials.ts";
import { SecretReadError } from "../auth/secret-errors.ts";
import { UserIdError } from "./user-identity.ts";
import { SendConnectorEventError } from "../mi/event-errors.ts";
import { HostNotAllowedError } from "../vendor/allowed-hosts.ts";
import { AccountKeyError } from "../account/sealed.ts";
import { AccountValueError } from "../account/account.ts";
import { sanitizeMessage } from "../mi/event-normalize.ts";
import { RequestLimitError } from "../vendor/request-limit.ts";

export function errorToStatus(err: unknown, bundle?: CompiledBundle): number {
  if (err instanceof VendorError) {
    if (err.classified) return err.classified.status;
    if (err.kind === "rejected" || err.kind === "unusable") return 502;
    return vendorErrorToResponseCode(err, bundle?.api.statusMap);
  }
  if (err instanceof SecretReadError) {
    return err.code === "AccessDenied" ? 403 : err.code === "NotFound" ? 404 : err.code === "Invalid" ? 400 : 503;
  }
  if (err instanceof CredentialError) return 401;
  if (err instanceof RequestLimitError) return 400;
  if (err instanceof ExpressionError || err instanceof UserIdError) return 500;
  return 500;
}

export function safeMessage(err: unknown): string {
  if (err instanceof HostNotAllowedError) return err.message;
  if (err instanceof AccountKeyError || err instanceof AccountValueError) return err.message;
  if (err instanceof VendorError) {
    if (err.classified?.message || err.classified?.code) return vendorMessage(err.classified.code, err.classified.message);
    switch (err.kind) {
      case "http":
        return `vendor API answered HTTP ${err.status}`;
      case "rejected":
        return `vendor API reported the request as failed (HTTP ${err.status})`;
      case "unusable":
        return `vendor API answered HTTP ${err.status} with a body the mapping cannot use`;
      case "timeout":
        return "vendor API did not answer in time";
      case "deadline":
        return "time budget of the invocation ran out";
      case "network":
        return "vendor API could not be reached";
      case "quota":
        return err.message;
      default:
        return err.shareable ? err.message : "vendor request could not be built";
    }
  }
  if (err instanceof SecretReadError) return `General Authorization secret could not be read (${err.code})`;
  if (err instanceof RequestLimitError) return err.message;
  if (err instanceof SendConnectorEventError) return `managed integrations refused the event (${err.name})`;
  if (err instanceof CredentialError) return err.message;
  if (err instanceof ExpressionError) return mappingErrorMessage(err);
  if (err instanceof UserIdError) return "mapping produced no valid user id";
  return "internal error";
}

/**
 * The vendor's own code and message as MI may show them: reduced to MI's Message characters, with
 * anything that looks like a local file path (a stack frame, a server path) removed.
 */
export function vendorMessage(code: string | undefined, message: string | undefined): string {
  const text = [code ? `vendor error ${code}` : "vendor error", message ? stripPaths(message) : undefined].filter(Boolean).join(", ");
  return sanitizeMessage(text) || "vendor error";
}

const FILE_PATH = /(?:file:\/\/|[A-Za-z]:\\|\\\\|~\/|(?<![\w.:/])\/)(?:[^\s"'<>:]*[\\/])*[^\s"'<>:]*(?::\d+)*/g;

function stripPaths(message: string): string {
  return message.replace(FILE_PATH, "").replace(/\(\s*\)/g, "").replace(/\s+/g, " ").trim();
}

/**
 * Failures that may pass: network trouble, timeouts, throttling and vendor 5xx, unless the
 * bundle's error rules or statusMap made a final answer (a 4xx other than 429) of them.
 */
export function isTransient(err: unknown, bundle?: CompiledBundle): boolean {
  if (!(err instanceof VendorError)) return false;
  if (err.classified || (bundle && hasMapping(err, bundle))) {
    const status = errorToStatus(err, bundle);
    return status === 429 || status >= 500;
  }
  if (err.kind === "timeout" || err.kind === "deadline" || err.kind === "network" || err.kind === "quota") return true;
  return err.kind === "http" && (err.status === 429 || (err.status ?? 0) >= 500);
}

/**
 * "mapping error in connector.yaml line 292 column 43, JSONata T2002 at character 3": the position
 * an author needs, in the characters an event `Message` allows (letters, digits, `_.,@-`, spaces),
 * so it reaches MI unmangled. Only the file name travels, never the local folder it was built from.
 */
export function mappingErrorMessage(err: ExpressionError): string {
  const m = /^(.*?):(\d+):(\d+)$/.exec(err.at);
  const where = m ? `${m[1].split(/[\\/]/).pop()} line ${m[2]} column ${m[3]}` : err.at.split(/[\\/]/).pop();
  const jsonata = err.code ? `, JSONata ${err.code}${err.position !== undefined ? ` at character ${err.position}` : ""}` : "";
  return `mapping error in ${where}${jsonata}`;
}

function hasMapping(err: VendorError, bundle: CompiledBundle): boolean {
  const map = bundle.api.statusMap;
  return (err.status !== undefined && String(err.status) in map) || err.kind in map;
}
