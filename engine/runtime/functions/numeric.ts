/**
 * Input coercion shared by the conversion functions. Vendor JSON is loose: a field may be
 * missing, null, a number or a numeric string. Missing/null means "no value" (the function
 * returns undefined so the Matter attribute is left out); anything non-numeric is a mapping or
 * vendor bug and gets a clear error instead of a silent NaN.
 */

/** Number from vendor input, undefined when missing/null; throws on non-numeric input. */
export function toNumber(value: unknown, fnName: string, argName = "value"): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "number") {
    if (Number.isFinite(value)) return value;
    throw new Error(`$${fnName}: ${argName} must be a finite number, got ${value}`);
  }
  if (typeof value === "string" && value.trim() !== "") {
    const n = Number(value);
    if (Number.isFinite(n)) return n;
  }
  throw new Error(`$${fnName}: ${argName} must be a number, got ${describe(value)}`);
}

export function clampNumber(n: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, n));
}

/** Rounds to `decimals` places without binary noise (0.1 + 0.2 -> 0.3). */
export function roundTo(n: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(n * factor) / factor;
}

/** Scales `value` from [0, fromMax] to [0, toMax] after clamping, rounding to an integer. */
export function scaleToInt(value: number, fromMax: number, toMax: number): number {
  return Math.round((clampNumber(value, 0, fromMax) * toMax) / fromMax);
}

export function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? value.slice(0, 40) + "..." : value);
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  return typeof value === "object" ? "an object" : String(value);
}

/** $clamp(n, min, max): n limited to [min, max]; undefined for missing n. */
export function clamp(value: unknown, min: unknown, max: unknown): number | undefined {
  const n = toNumber(value, "clamp");
  const lo = toNumber(min, "clamp", "min");
  const hi = toNumber(max, "clamp", "max");
  if (lo === undefined || hi === undefined) throw new Error("$clamp: min and max are required");
  if (lo > hi) throw new Error(`$clamp: min (${lo}) is greater than max (${hi})`);
  return n === undefined ? undefined : clampNumber(n, lo, hi);
}
