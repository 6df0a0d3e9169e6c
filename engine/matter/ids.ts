/**
 * Matter identifier parsing and formatting.
 *
 * Managed integrations puts ids on the wire as hex strings of varying width ("0x0006", "0x00",
 * "0x0000" for a field) and its API also accepts decimal strings, while YAML may already have
 * turned `0x0006` into the number 6. Everything is therefore parsed to a number and compared
 * numerically; formatting produces the canonical upper-case form used in MI examples.
 */

/** MI's custom command on every capability: report the full state (connector -> MI). */
export const UPDATE_STATE = 0xff01;
/** MI's custom command on every capability: read the current state. */
export const READ_STATE = 0xff02;

/** Matter ids (including vendor-prefixed ones) are at most 32 bits wide. */
const MAX_MATTER_ID = 0xffffffff;

const HEX_ID = /^0[xX]([0-9a-fA-F]+)$/;
const DECIMAL_ID = /^[0-9]+$/;

/**
 * Parses a Matter id given as a number, a `0x`/`0X` hex string of any width and case, or a plain
 * decimal string. Throws on anything else (signs, blanks, fractions, ids wider than 32 bits).
 */
export function parseMatterId(s: string | number): number {
  if (typeof s === "number") {
    assertIdRange(s, String(s));
    return s;
  }
  if (typeof s !== "string") {
    throw new Error(`Invalid Matter id ${describe(s)}: expected a number, a 0x-prefixed hex string or a decimal string`);
  }
  let value: number;
  const hex = HEX_ID.exec(s);
  if (hex) {
    value = Number.parseInt(hex[1], 16);
  } else if (DECIMAL_ID.test(s)) {
    value = Number.parseInt(s, 10);
  } else {
    throw new Error(`Invalid Matter id ${JSON.stringify(s)}: expected a 0x-prefixed hex string (e.g. "0x0006") or a decimal string (e.g. "6")`);
  }
  assertIdRange(value, JSON.stringify(s));
  return value;
}

/** True when `s` has the shape of an id (hex or decimal) rather than a name. */
export function looksLikeMatterId(s: string | number): boolean {
  if (typeof s === "number") return true;
  return HEX_ID.test(s) || DECIMAL_ID.test(s);
}

/** Cluster ids: "0x0006"; vendor-specific (manufacturer-prefixed) ids get 8 digits: "0x15771002". */
export function formatClusterId(n: number): string {
  return formatHexId(n, 4);
}

/** Attribute ids: same widths as cluster ids ("0x0000", "0x4000", "0xFFFD"). */
export function formatAttributeId(n: number): string {
  return formatHexId(n, 4);
}

/** Command ids: "0x00", "0x0A"; wider ids keep the width they need ("0xFF01"). */
export function formatCommandId(n: number): string {
  return formatHexId(n, 2);
}

/** Event ids: same widths as command ids. */
export function formatEventId(n: number): string {
  return formatHexId(n, 2);
}

/** Command/event field ids: MI sends them as "0x0000". */
export function formatFieldId(n: number): string {
  return formatHexId(n, 4);
}

/**
 * Upper-case hex with at least `minDigits` digits; larger values grow to the next of 2/4/8 digits
 * so that ids stay byte-aligned (0x123 -> "0x0123", 0x12345 -> "0x00012345").
 */
export function formatHexId(n: number, minDigits: 2 | 4 | 8): string {
  assertIdRange(n, String(n));
  const digits = n.toString(16).toUpperCase();
  let width: number = minDigits;
  while (digits.length > width) width *= 2;
  return "0x" + digits.padStart(width, "0");
}

function assertIdRange(n: number, shown: string): void {
  if (!Number.isInteger(n) || n < 0 || n > MAX_MATTER_ID) {
    throw new Error(`Invalid Matter id ${shown}: must be an integer between 0 and 0xFFFFFFFF`);
  }
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (v === undefined) return "undefined";
  return `of type ${typeof v}`;
}
