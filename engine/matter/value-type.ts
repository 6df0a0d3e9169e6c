/**
 * What a Matter value may be, in a compact form the compiled bundle carries for each attribute
 * and field it maps (so the Lambda checks values without the Matter table), and the check itself.
 *
 * `valueTypeOf` runs at build time over the table's definitions; `checkValue` runs for every
 * value before it reaches MI or a vendor. Values are Matter values as MI carries them in JSON:
 * integers (enums and bitmaps too) as numbers, bool as boolean, strings as strings, null where
 * the element is nullable.
 */
import type { ClusterDef, TypedElement } from "./types.ts";

export type ValueKind = "bool" | "int" | "float" | "enum" | "bitmap" | "string" | "octets" | "struct" | "list" | "any";

export interface ValueType {
  /** The Matter type name, for messages ("uint8", "temperature", "SystemModeEnum"). */
  type: string;
  kind: ValueKind;
  nullable?: boolean;
  /** int, float, bitmap: inclusive bounds. */
  min?: number;
  max?: number;
  /** enum: the member values. */
  values?: number[];
  /** string (UTF-8 bytes) and list (entries). */
  minLength?: number;
  maxLength?: number;
}

const INTEGER = /^u?int(8|16|24|32|40|48|56|64)$|^enum(8|16)$|^map(8|16|32|64)$/;
const STRING_TYPES = new Set(["string", "char_string", "long_char_string"]);
const OCTET_TYPES = new Set(["octstr", "octet_string", "long_octet_string"]);
const FLOAT_TYPES = new Set(["single", "double"]);

/** Bounds of an unsigned/signed integer base type, within what a JSON number holds exactly. */
function integerBounds(base: string): [number, number] {
  const m = /^(u?)int(\d+)$|^(?:enum|map)(\d+)$/.exec(base);
  if (!m) return [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];
  const bits = Math.min(Number(m[2] ?? m[3]), 53);
  const signed = m[2] !== undefined && m[1] === "";
  return signed ? [-(2 ** (bits - 1)), 2 ** (bits - 1) - 1] : [0, 2 ** bits - 1];
}

/** The value type of an attribute or field of `cluster`, from the table's definitions (build time). */
export function valueTypeOf(element: Pick<TypedElement, "type" | "baseType" | "kind" | "range" | "nullable" | "minLength" | "maxLength">, cluster?: ClusterDef): ValueType {
  const out: ValueType = { type: element.type, kind: "any" };
  if (element.nullable) out.nullable = true;
  const datatype = cluster?.datatypes[element.type];
  const kind = element.kind ?? datatype?.kind;
  const base = element.baseType ?? datatype?.base ?? element.type;
  if (kind === "enum" || /^enum(8|16)$/.test(element.type)) {
    const values = datatype?.values?.map((v) => v.value);
    if (values && values.length > 0) {
      out.kind = "enum";
      out.values = values;
    } else {
      // An enum the table does not spell out (a global one): any value of its width.
      out.kind = "int";
      [out.min, out.max] = integerBounds(/^enum/.test(base) ? base : "enum8");
    }
  } else if (kind === "bitmap" || /^map(8|16|32|64)$/.test(element.type)) {
    out.kind = "bitmap";
    [out.min, out.max] = integerBounds(/^(map|uint)/.test(base) ? base.replace(/^uint/, "map") : "map32");
  } else if (element.type === "bool" || element.type === "boolean") {
    out.kind = "bool";
  } else if (FLOAT_TYPES.has(element.type) || FLOAT_TYPES.has(base)) {
    out.kind = "float";
    if (element.range) [out.min, out.max] = element.range;
  } else if (STRING_TYPES.has(element.type) || STRING_TYPES.has(base)) {
    out.kind = "string";
  } else if (OCTET_TYPES.has(element.type) || OCTET_TYPES.has(base)) {
    out.kind = "octets";
  } else if (kind === "list" || element.type === "list") {
    out.kind = "list";
  } else if (kind === "struct") {
    out.kind = "struct";
  } else if (element.range) {
    out.kind = "int";
    [out.min, out.max] = element.range;
  } else if (INTEGER.test(base)) {
    out.kind = "int";
    [out.min, out.max] = integerBounds(base);
  }
  if ((out.kind === "string" || out.kind === "octets" || out.kind === "list") && element.maxLength !== undefined) out.maxLength = element.maxLength;
  if ((out.kind === "string" || out.kind === "octets" || out.kind === "list") && element.minLength !== undefined) out.minLength = element.minLength;
  return out;
}

const show = (v: unknown): string => {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 40 ? s.slice(0, 37) + "..." : s;
};

/**
 * Why `value` is not a value of type `t`, or undefined when it is. `undefined` itself is never
 * checked here: callers leave unknown values out before asking.
 */
export function checkValue(t: ValueType, value: unknown): string | undefined {
  if (value === null) return t.nullable ? undefined : `${t.type} is not nullable, so null cannot be sent (leave the value out when it is unknown)`;
  switch (t.kind) {
    case "bool":
      return typeof value === "boolean" ? undefined : `${show(value)} is not a bool`;
    case "int":
    case "bitmap": {
      if (typeof value !== "number" || !Number.isInteger(value)) return `${show(value)} is not an integer (${t.type})`;
      return inRange(t, value);
    }
    case "float":
      if (typeof value !== "number" || !Number.isFinite(value)) return `${show(value)} is not a number (${t.type})`;
      return inRange(t, value);
    case "enum":
      if (typeof value !== "number" || !Number.isInteger(value)) return `${show(value)} is not a member of ${t.type} (a number)`;
      return t.values?.includes(value) ? undefined : `${value} is not a member of ${t.type} (${t.values?.join(", ")})`;
    case "string":
    case "octets": {
      if (typeof value !== "string") return `${show(value)} is not a string (${t.type})`;
      const length = t.kind === "string" ? Buffer.byteLength(value, "utf8") : value.length;
      if (t.maxLength !== undefined && length > t.maxLength) return `a ${t.type} holds at most ${t.maxLength} bytes, this one has ${length}`;
      if (t.minLength !== undefined && length < t.minLength) return `a ${t.type} holds at least ${t.minLength} bytes, this one has ${length}`;
      return undefined;
    }
    case "struct":
      return value !== null && typeof value === "object" && !Array.isArray(value) ? undefined : `${show(value)} is not a struct (${t.type})`;
    case "list":
      if (!Array.isArray(value)) return `${show(value)} is not a list`;
      if (t.maxLength !== undefined && value.length > t.maxLength) return `the list holds at most ${t.maxLength} entries, this one has ${value.length}`;
      return undefined;
    default:
      return undefined;
  }
}

function inRange(t: ValueType, value: number): string | undefined {
  if (t.min !== undefined && value < t.min) return `${value} is below the range of ${t.type} (${t.min}..${t.max})`;
  if (t.max !== undefined && value > t.max) return `${value} is above the range of ${t.type} (${t.min}..${t.max})`;
  return undefined;
}
