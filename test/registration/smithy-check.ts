/**
 * A small checker of a JSON value against Smithy shapes (required, unknown members, length, pattern,
 * enum, range, list, union) so registration bodies are tested against the model's own constraints.
 */
type Traits = Record<string, any>;
interface Shape {
  type: string;
  traits?: Traits;
  members?: Record<string, { target: string; traits?: Traits }>;
  member?: { target: string };
}

export function checkAgainstShape(shapes: Record<string, Shape>, shapeId: string, value: unknown, at = "$"): string[] {
  if (shapeId.startsWith("smithy.api#")) return checkPrelude(shapeId, value, at);
  const shape = shapes[shapeId];
  if (!shape) return [`${at}: unknown shape ${shapeId}`];
  const traits = shape.traits ?? {};
  const problems: string[] = [];
  switch (shape.type) {
    case "structure":
    case "union": {
      if (!value || typeof value !== "object" || Array.isArray(value)) return [`${at}: expected a structure`];
      const members = shape.members ?? {};
      const obj = value as Record<string, unknown>;
      for (const key of Object.keys(obj)) if (!(key in members)) problems.push(`${at}.${key}: not a member of ${shapeId}`);
      for (const [name, member] of Object.entries(members)) {
        if (obj[name] === undefined) {
          if (member.traits?.["smithy.api#required"] !== undefined) problems.push(`${at}.${name}: required`);
          continue;
        }
        problems.push(...checkAgainstShape(shapes, member.target, obj[name], `${at}.${name}`));
        problems.push(...checkTraits(member.traits ?? {}, obj[name], `${at}.${name}`));
      }
      if (shape.type === "union" && Object.keys(obj).length !== 1) problems.push(`${at}: a union takes exactly one member`);
      return problems;
    }
    case "list":
      if (!Array.isArray(value)) return [`${at}: expected a list`];
      value.forEach((v, i) => problems.push(...checkAgainstShape(shapes, shape.member!.target, v, `${at}[${i}]`)));
      return [...problems, ...checkTraits(traits, value, at)];
    case "enum": {
      const allowed = Object.entries(shape.members ?? {}).map(([k, m]) => m.traits?.["smithy.api#enumValue"] ?? k);
      return allowed.includes(value) ? [] : [`${at}: ${JSON.stringify(value)} not one of ${allowed.join(", ")}`];
    }
    case "string":
      if (typeof value !== "string") return [`${at}: expected a string`];
      return checkTraits(traits, value, at);
    case "integer":
      if (!Number.isInteger(value)) return [`${at}: expected an integer`];
      return checkTraits(traits, value, at);
    case "boolean":
      return typeof value === "boolean" ? [] : [`${at}: expected a boolean`];
    default:
      return [`${at}: shape type ${shape.type} not handled by the checker`];
  }
}

function checkPrelude(shapeId: string, value: unknown, at: string): string[] {
  const expected = { "smithy.api#String": "string", "smithy.api#Boolean": "boolean", "smithy.api#Integer": "number" }[shapeId];
  if (!expected) return [`${at}: prelude shape ${shapeId} not handled`];
  return typeof value === expected ? [] : [`${at}: expected ${expected}`];
}

function checkTraits(traits: Traits, value: unknown, at: string): string[] {
  const problems: string[] = [];
  const length = traits["smithy.api#length"];
  if (length) {
    const n = typeof value === "string" ? [...value].length : Array.isArray(value) ? value.length : undefined;
    if (n !== undefined && length.min !== undefined && n < length.min) problems.push(`${at}: shorter than ${length.min}`);
    if (n !== undefined && length.max !== undefined && n > length.max) problems.push(`${at}: longer than ${length.max}`);
  }
  const pattern = traits["smithy.api#pattern"];
  if (pattern && typeof value === "string" && !new RegExp(pattern).test(value)) problems.push(`${at}: does not match ${pattern}`);
  const range = traits["smithy.api#range"];
  if (range && typeof value === "number") {
    if (range.min !== undefined && value < range.min) problems.push(`${at}: below ${range.min}`);
    if (range.max !== undefined && value > range.max) problems.push(`${at}: above ${range.max}`);
  }
  return problems;
}
