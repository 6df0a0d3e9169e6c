/**
 * JSON Schema validation of a YAML document, with ajv's errors turned into positioned,
 * readable diagnostics: one per problem, pointing at the offending key or value.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import mappingSchema from "../../schemas/mapping.schema.json" with { type: "json" };
import { suggest } from "../matter/suggest.ts";
import { didYouMean, fromPointer, toPointer, type Diagnostic } from "./diagnostics.ts";
import type { PositionResolver } from "./load.ts";

/** Where diagnostics go: the file name and the position lookups from load.ts. */
export interface SourceRef {
  file: string;
  positionOf: PositionResolver;
  keyPositionOf: PositionResolver;
}

const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
const validators = new Map<object, ValidateFunction>();

/** Validator for a schema, compiled once per process. */
function validatorFor(schema: object): ValidateFunction {
  let validate = validators.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    validators.set(schema, validate);
  }
  return validate;
}

/** Validates a connector.yaml document against schemas/mapping.schema.json. */
export function checkMappingSchema(value: unknown, source: SourceRef): Diagnostic[] {
  return checkAgainstSchema(mappingSchema, value, source);
}

/** Validates any document against a JSON Schema, reporting ajv errors as diagnostics. */
export function checkAgainstSchema(schema: object, value: unknown, source: SourceRef): Diagnostic[] {
  const validate = validatorFor(schema);
  if (validate(value)) return [];
  return toDiagnostics(validate.errors ?? [], source);
}

function toDiagnostics(errors: ErrorObject[], source: SourceRef): Diagnostic[] {
  const suppressed = new Set<ErrorObject>();
  const replacements = new Map<ErrorObject, string>();

  errors.forEach((error, index) => {
    if (error.keyword === "oneOf") collapseOneOf(errors, index, suppressed, replacements);
    // propertyNames reports the inner keyword (with `propertyName` set) and then itself.
    if ((error as { propertyName?: string }).propertyName !== undefined) suppressed.add(error);
  });

  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    if (suppressed.has(error)) continue;
    const d = describe(error, errors, source, replacements.get(error));
    const key = `${d.path}|${d.rule}|${d.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(d);
  }
  return out;
}

/**
 * A failed oneOf yields the errors of every branch plus "must match exactly one schema". The
 * branch whose type does not fit the value is noise; the errors of the branch that fits are the
 * real problem. When no branch fits the value's type, one message lists what would have fitted.
 */
function collapseOneOf(errors: ErrorObject[], index: number, suppressed: Set<ErrorObject>, replacements: Map<ErrorObject, string>): void {
  const oneOf = errors[index];
  const base = oneOf.instancePath;
  const branchErrors: ErrorObject[] = [];
  for (let i = index - 1; i >= 0; i--) {
    const e = errors[i];
    if (e.instancePath !== base && !e.instancePath.startsWith(base + "/")) break;
    branchErrors.push(e);
  }
  const typeMismatches = branchErrors.filter((e) => e.instancePath === base && e.keyword === "type");
  typeMismatches.forEach((e) => suppressed.add(e));
  const relevant = branchErrors.filter((e) => !typeMismatches.includes(e));
  if (relevant.length > 0) {
    suppressed.add(oneOf);
    return;
  }
  const branches = Array.isArray(oneOf.schema) ? (oneOf.schema as Array<Record<string, unknown>>) : [];
  const kinds = branches.map(describeBranch);
  replacements.set(oneOf, `must be ${kinds.join(" or ")}, not ${typeName(oneOf.data)}`);
}

function describeBranch(branch: Record<string, unknown>): string {
  if (typeof branch.$ref === "string") {
    const name = branch.$ref.split("/").pop() ?? branch.$ref;
    return name === "expression" ? "a JSONata expression (string)" : name;
  }
  if (typeof branch.type === "string") return `an ${branch.type}`.replace(/^an ([^aeiou])/, "a $1");
  return "the documented shape";
}

function describe(error: ErrorObject, all: ErrorObject[], source: SourceRef, replacement: string | undefined): Diagnostic {
  const segments = fromPointer(error.instancePath);
  const params = error.params as Record<string, unknown>;
  let at = source.positionOf(segments);
  let path = error.instancePath;
  let message = replacement ?? error.message ?? "is invalid";
  let hint: string | undefined;

  switch (error.keyword) {
    case "additionalProperties": {
      const name = String(params.additionalProperty);
      path = toPointer([...segments, name]);
      at = source.keyPositionOf([...segments, name]);
      message = `unknown property "${name}"`;
      const allowed = Object.keys(((error.parentSchema as Record<string, unknown>)?.properties as object) ?? {});
      hint = didYouMean(suggest(name, allowed)) ?? (allowed.length ? `allowed: ${allowed.join(", ")}` : undefined);
      break;
    }
    case "required": {
      const name = String(params.missingProperty);
      path = toPointer([...segments, name]);
      at = segments.length ? source.keyPositionOf(segments) : { line: 1, col: 1 };
      message = `missing required property "${name}"`;
      break;
    }
    case "type":
      message = `must be ${params.type}, not ${typeName(error.data)}${scalarPreview(error.data)}`;
      break;
    case "enum":
      message = `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}, not ${JSON.stringify(error.data)}`;
      break;
    case "const":
      message = `must be ${JSON.stringify(params.allowedValue)}, not ${JSON.stringify(error.data)}`;
      break;
    case "propertyNames": {
      const name = String(params.propertyName);
      path = toPointer([...segments, name]);
      at = source.keyPositionOf([...segments, name]);
      const inner = all.find((e) => e.instancePath === error.instancePath && (e as { propertyName?: string }).propertyName === name);
      message = `invalid name "${name}": ${inner?.message ?? "not allowed here"}`;
      break;
    }
    case "pattern":
      message = `${JSON.stringify(error.data)} must match pattern ${params.pattern}`;
      break;
  }
  return {
    severity: "error",
    file: source.file,
    line: at.line,
    col: at.col,
    path,
    rule: `schema/${error.keyword}`,
    message,
    ...(hint ? { hint } : {}),
  };
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number" && Number.isInteger(value)) return "integer";
  return typeof value;
}

function scalarPreview(value: unknown): string {
  if (value === null || typeof value === "object" || value === undefined) return "";
  const text = JSON.stringify(value);
  return ` (${text.length > 40 ? text.slice(0, 37) + "..." : text})`;
}
