/**
 * Generates schemas/send-connector-event.schema.json (JSON Schema draft-07, for ajv) from the Smithy
 * shapes of SendConnectorEvent (schemas/smithy/iot-managed-integrations.send-connector-event.shapes.json).
 *
 * The schema describes the HTTP *body*: every input member except the path label `ConnectorId`, which
 * gets its own definition (`#/definitions/ConnectorId`). Derivation is mechanical, from the traits
 * required / length / pattern / range, enums, lists, maps, structures and documents. Output is
 * deterministic (definitions sorted by name) so a test can regenerate and compare with the committed file.
 *
 * Run: npx tsx scripts/generate-sce-schema.ts [--check]
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const NS = "com.amazonaws.iotmanagedintegrations#";
const INPUT_SHAPE = `${NS}SendConnectorEventRequest`;
const PATH_LABEL = "ConnectorId";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const SMITHY_SHAPES_FILE = path.join(ROOT, "schemas/smithy/iot-managed-integrations.send-connector-event.shapes.json");
export const SCHEMA_FILE = path.join(ROOT, "schemas/send-connector-event.schema.json");

type Traits = Record<string, unknown>;
interface MemberRef {
  target: string;
  traits?: Traits;
}
interface Shape {
  type: string;
  traits?: Traits;
  members?: Record<string, MemberRef>;
  member?: MemberRef;
  key?: MemberRef;
  value?: MemberRef;
}
interface SmithyModel {
  shapes: Record<string, Shape>;
}
type JsonSchema = Record<string, unknown>;

/**
 * Smithy patterns are validated server-side with Java regexes; ajv compiles them as ECMAScript regexes
 * with the "u" flag. The only construct in this model whose meaning differs is `\s`: Java's is ASCII
 * whitespace, ECMAScript's includes Unicode spaces. We emit Java's narrower set so that whatever passes
 * here also passes there.
 */
const JAVA_WHITESPACE = " \\t\\n\\x0B\\f\\r";

export function javaPatternToEcma(pattern: string): string {
  let out = "";
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") {
      const next = pattern[i + 1];
      if (next === undefined) throw new Error(`pattern ends with a lone backslash: ${pattern}`);
      if (next === "s") out += inClass ? JAVA_WHITESPACE : `[${JAVA_WHITESPACE}]`;
      else if (next === "S") out += inClass ? unsupported(pattern, "\\S inside a class") : `[^${JAVA_WHITESPACE}]`;
      else if (next === "p" || next === "P") {
        // \p{L}: Unicode property escapes exist in both dialects (needs the "u" flag in ECMAScript).
        const end = pattern.indexOf("}", i);
        if (pattern[i + 2] !== "{" || end < 0) unsupported(pattern, "\\p without {Property}");
        out += pattern.slice(i, end + 1);
        i = end;
        continue;
      } else out += c + next;
      i++;
      continue;
    }
    if (c === "[") {
      if (inClass) unsupported(pattern, "nested character classes");
      inClass = true;
    } else if (c === "]") inClass = false;
    out += c;
  }
  try {
    new RegExp(out, "u");
  } catch (err) {
    throw new Error(`pattern ${JSON.stringify(pattern)} became ${JSON.stringify(out)}, which is not a valid ECMAScript "u" regex: ${(err as Error).message}`);
  }
  return out;
}

function unsupported(pattern: string, what: string): never {
  throw new Error(`unsupported construct in Smithy pattern ${JSON.stringify(pattern)}: ${what}`);
}

function localName(shapeId: string): string {
  return shapeId.slice(shapeId.indexOf("#") + 1);
}

function lengthKeywords(shapeType: string, traits: Traits): JsonSchema {
  const length = traits["smithy.api#length"] as { min?: number; max?: number } | undefined;
  if (!length) return {};
  const [minKey, maxKey] =
    shapeType === "string" ? ["minLength", "maxLength"]
    : shapeType === "list" || shapeType === "set" ? ["minItems", "maxItems"]
    : shapeType === "map" ? ["minProperties", "maxProperties"]
    : unsupported(String(shapeType), `length trait on a ${shapeType}`);
  const out: JsonSchema = {};
  if (length.min !== undefined) out[minKey] = length.min;
  if (length.max !== undefined) out[maxKey] = length.max;
  return out;
}

function rangeKeywords(traits: Traits): JsonSchema {
  const range = traits["smithy.api#range"] as { min?: number; max?: number } | undefined;
  const out: JsonSchema = {};
  if (range?.min !== undefined) out.minimum = range.min;
  if (range?.max !== undefined) out.maximum = range.max;
  return out;
}

const PRELUDE: Record<string, JsonSchema> = {
  "smithy.api#String": { type: "string" },
  "smithy.api#Integer": { type: "integer" },
  "smithy.api#Long": { type: "integer" },
  "smithy.api#Boolean": { type: "boolean" },
  "smithy.api#Document": {},
};

class SchemaBuilder {
  readonly definitions = new Map<string, JsonSchema>();
  constructor(private readonly model: SmithyModel) {}

  /** A `$ref` to the definition of `shapeId`, building it (and what it reaches) on first use. */
  ref(shapeId: string): JsonSchema {
    if (PRELUDE[shapeId]) return PRELUDE[shapeId];
    const name = localName(shapeId);
    if (!this.definitions.has(name)) {
      this.definitions.set(name, {}); // placeholder: stops recursion on cyclic shapes
      this.definitions.set(name, this.build(shapeId));
    }
    return { $ref: `#/definitions/${name}` };
  }

  private shape(shapeId: string): Shape {
    const shape = this.model.shapes[shapeId];
    if (!shape) throw new Error(`shape ${shapeId} is referenced but not in the model`);
    return shape;
  }

  build(shapeId: string, omitMembers: string[] = []): JsonSchema {
    const shape = this.shape(shapeId);
    const traits = shape.traits ?? {};
    switch (shape.type) {
      case "string": {
        const out: JsonSchema = { type: "string", ...lengthKeywords("string", traits) };
        const pattern = traits["smithy.api#pattern"] as string | undefined;
        if (pattern !== undefined) out.pattern = javaPatternToEcma(pattern);
        return out;
      }
      case "enum":
        return {
          type: "string",
          enum: Object.entries(shape.members ?? {}).map(([name, m]) => (m.traits?.["smithy.api#enumValue"] as string | undefined) ?? name),
        };
      case "byte":
      case "short":
      case "integer":
      case "long":
        return { type: "integer", ...rangeKeywords(traits) };
      case "float":
      case "double":
        return { type: "number", ...rangeKeywords(traits) };
      case "boolean":
        return { type: "boolean" };
      case "document":
        return {};
      case "list":
      case "set":
        return { type: "array", items: this.ref(shape.member!.target), ...lengthKeywords("list", traits) };
      case "map":
        return {
          type: "object",
          propertyNames: this.ref(shape.key!.target),
          additionalProperties: this.ref(shape.value!.target),
          ...lengthKeywords("map", traits),
        };
      case "structure": {
        const properties: Record<string, JsonSchema> = {};
        const required: string[] = [];
        for (const [name, member] of Object.entries(shape.members ?? {})) {
          if (omitMembers.includes(name)) continue;
          properties[name] = this.ref(member.target);
          if (member.traits?.["smithy.api#required"] !== undefined) required.push(name);
        }
        const out: JsonSchema = { type: "object" };
        if (required.length > 0) out.required = required;
        out.properties = properties;
        // Unknown members are almost always a casing mistake (connectorDeviceId vs ConnectorDeviceId).
        out.additionalProperties = false;
        return out;
      }
      default:
        return unsupported(shapeId, `shape type ${shape.type}`);
    }
  }
}

export function generateSendConnectorEventSchema(model: SmithyModel): JsonSchema {
  const builder = new SchemaBuilder(model);
  const input = model.shapes[INPUT_SHAPE];
  if (!input?.members?.[PATH_LABEL]?.traits?.["smithy.api#httpLabel"]) {
    throw new Error(`${INPUT_SHAPE} has no httpLabel member ${PATH_LABEL}`);
  }
  const body = builder.build(INPUT_SHAPE, [PATH_LABEL]);
  builder.ref(input.members[PATH_LABEL].target);
  const definitions = Object.fromEntries([...builder.definitions.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    $id: "https://c2c-mapping-engine.local/schemas/send-connector-event.schema.json",
    title: "SendConnectorEvent request body",
    $comment:
      "GENERATED by scripts/generate-sce-schema.ts from schemas/smithy/iot-managed-integrations.send-connector-event.shapes.json; do not edit. The path label ConnectorId is not part of the body: see #/definitions/ConnectorId.",
    ...body,
    definitions,
  };
}

export function renderSendConnectorEventSchema(shapesFile = SMITHY_SHAPES_FILE): string {
  const model = JSON.parse(readFileSync(shapesFile, "utf8")) as SmithyModel;
  return JSON.stringify(generateSendConnectorEventSchema(model), null, 2) + "\n";
}

function main(argv: string[]): number {
  const text = renderSendConnectorEventSchema();
  if (argv.includes("--check")) {
    let current = "";
    try {
      current = readFileSync(SCHEMA_FILE, "utf8");
    } catch {
      /* missing file counts as out of date */
    }
    if (current !== text) {
      console.error(`${path.relative(ROOT, SCHEMA_FILE)} is out of date: run npx tsx scripts/generate-sce-schema.ts`);
      return 1;
    }
    return 0;
  }
  writeFileSync(SCHEMA_FILE, text);
  console.log(`wrote ${path.relative(ROOT, SCHEMA_FILE)}`);
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
