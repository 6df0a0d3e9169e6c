/**
 * Validation of SendConnectorEvent bodies against schemas/send-connector-event.schema.json (generated
 * from the Smithy model by scripts/generate-sce-schema.ts).
 *
 * Everything goes through `getEventValidator()`; only `compileEventValidator()` knows that ajv compiles
 * at run time, so the build can swap in ajv standalone code there without touching callers.
 */
import type { ErrorObject } from "ajv";
// ajv standalone code generated from schemas/send-connector-event.schema.json (scripts/generate-validators.ts):
// nothing is compiled at run time and ajv's compiler stays out of the Lambda artifact.
import { connectorId as connectorIdValidator, eventBody as bodyValidator } from "../generated/validators.js";
import type { EventValidationIssue } from "./event-errors.ts";

export interface EventValidator {
  /** Issues of an HTTP body (every member but ConnectorId); empty when valid. */
  body(body: unknown): EventValidationIssue[];
  /** Issues of the ConnectorId path label; empty when valid. */
  connectorId(connectorId: unknown): EventValidationIssue[];
}

export function compileEventValidator(): EventValidator {
  return {
    body: (value) => (bodyValidator(value) ? [] : toIssues(bodyValidator.errors, "$")),
    connectorId: (value) => (connectorIdValidator(value) ? [] : toIssues(connectorIdValidator.errors, "ConnectorId")),
  };
}

let cached: EventValidator | undefined;

/** The validator, compiled once per process (one Lambda container). */
export function getEventValidator(): EventValidator {
  cached ??= compileEventValidator();
  return cached;
}

export function validateEventBody(body: unknown): EventValidationIssue[] {
  return getEventValidator().body(body);
}

export function validateConnectorId(connectorId: unknown): EventValidationIssue[] {
  return getEventValidator().connectorId(connectorId);
}

function toIssues(errors: ErrorObject[] | null | undefined, root: string): EventValidationIssue[] {
  // A bad map key yields the key's own error (with propertyName) plus a vaguer "propertyNames" one: keep the first.
  return (errors ?? []).filter((e) => e.keyword !== "propertyNames").map((e) => {
    let path = root + pointerToPath(e.instancePath);
    if (e.propertyName !== undefined) path += memberSegment(e.propertyName);
    // Name the member itself, not its parent object, so the path points at what to fix.
    if (e.keyword === "required") path += memberSegment(String(e.params.missingProperty));
    else if (e.keyword === "additionalProperties") path += memberSegment(String(e.params.additionalProperty));
    let message = e.message ?? e.keyword;
    if (e.propertyName !== undefined) message = `key ${message}`;
    if (e.keyword === "additionalProperties") message = "is not a member of this structure";
    if (e.keyword === "enum") message += `: ${(e.params.allowedValues as unknown[]).join(", ")}`;
    return { path, message, keyword: e.keyword };
  });
}

function pointerToPath(pointer: string): string {
  if (!pointer) return "";
  return pointer
    .split("/")
    .slice(1)
    .map((raw) => raw.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((seg) => (/^\d+$/.test(seg) ? `[${seg}]` : memberSegment(seg)))
    .join("");
}

function memberSegment(name: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`;
}
