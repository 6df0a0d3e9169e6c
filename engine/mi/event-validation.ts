/**
 * Validation of SendConnectorEvent bodies against schemas/send-connector-event.schema.json (generated
 * from the Smithy model by scripts/generate-sce-schema.ts), through the precompiled validators of
 * engine/validation: nothing is compiled at run time.
 */
import { validateConnectorId as checkConnectorId, validateEventBody as checkBody, type ValidationResult } from "../validation/validators.ts";
import type { EventValidationIssue } from "./event-errors.ts";

export interface EventValidator {
  /** Issues of an HTTP body (every member but ConnectorId); empty when valid. */
  body(body: unknown): EventValidationIssue[];
  /** Issues of the ConnectorId path label; empty when valid. */
  connectorId(connectorId: unknown): EventValidationIssue[];
}

const issues = (r: ValidationResult): EventValidationIssue[] => (r.ok ? [] : r.errors);

export function compileEventValidator(): EventValidator {
  return {
    body: (value) => issues(checkBody(value)),
    connectorId: (value) => issues(checkConnectorId(value)),
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
