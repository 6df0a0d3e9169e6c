/**
 * Level, hue, saturation and colour-temperature conversions between common vendor units and
 * Matter's integer units (Level Control CurrentLevel, Color Control CurrentHue/CurrentSaturation
 * and ColorTemperatureMireds). Out-of-range input is clamped to the Matter range; missing input
 * yields undefined.
 */
import { clampNumber, roundTo, scaleToInt, toNumber } from "./numeric.ts";

/** Matter CurrentLevel / CurrentHue / CurrentSaturation maximum (255 is reserved). */
export const MATTER_MAX_LEVEL = 254;
/** TransitionTime is a uint16 of tenths of a second (0xFFFF is null: at most 0xFFFE). */
const MATTER_MAX_TRANSITION = 0xfffe;
/** Upper bound of ColorTemperatureMireds (0xFEFF). */
export const MATTER_MAX_MIREDS = 0xfeff;

/**
 * Percent 0..100 -> level 0..254. Any brightness above 0 is at least level 1: a light dimmed to
 * 0.1 % is on, and rounding it to 0 would report it off. 0 stays 0 (on a light: off, see
 * engine/mapping/lighting.ts).
 */
export function levelFromPercent(p: unknown): number | undefined {
  const n = toNumber(p, "levelFromPercent");
  return n === undefined ? undefined : positiveStaysPositive(n, scaleToInt(n, 100, MATTER_MAX_LEVEL));
}

/** Level 0..254 -> percent 0..100, rounded to 1 decimal (127 -> 50, 1 -> 0.4). */
export function percentFromLevel(l: unknown): number | undefined {
  const n = toNumber(l, "percentFromLevel");
  return n === undefined ? undefined : roundTo((clampNumber(n, 0, MATTER_MAX_LEVEL) * 100) / MATTER_MAX_LEVEL, 1);
}

/** Fraction 0..1 -> level 0..254; above 0 at least 1 (as levelFromPercent). */
export function levelFromFraction(f: unknown): number | undefined {
  const n = toNumber(f, "levelFromFraction");
  return n === undefined ? undefined : positiveStaysPositive(n, scaleToInt(n, 1, MATTER_MAX_LEVEL));
}

function positiveStaysPositive(input: number, level: number): number {
  return input > 0 && level === 0 ? 1 : level;
}

/**
 * Matter TransitionTime (tenths of a second) -> seconds. 0 means instant and stays 0; only a
 * missing or null TransitionTime (MI: "use the device's default") falls back to `fallback`. A
 * JSONata `fields.TransitionTime ? ... : default` would send the default for 0, because 0 is falsy.
 */
export function transitionSeconds(t: unknown, fallback?: unknown): number | undefined {
  const n = toNumber(t, "transitionSeconds");
  if (n === undefined) return toNumber(fallback, "transitionSeconds", "fallback");
  return roundTo(clampNumber(n, 0, MATTER_MAX_TRANSITION) / 10, 1);
}

/** Matter TransitionTime (tenths of a second) -> milliseconds; 0 stays 0, missing/null -> `fallback`. */
export function transitionMillis(t: unknown, fallback?: unknown): number | undefined {
  const n = toNumber(t, "transitionMillis");
  if (n === undefined) return toNumber(fallback, "transitionMillis", "fallback");
  return Math.round(clampNumber(n, 0, MATTER_MAX_TRANSITION) * 100);
}

/** Level 0..254 -> fraction 0..1, rounded to 4 decimals (enough to round-trip every level). */
export function fractionFromLevel(l: unknown): number | undefined {
  const n = toNumber(l, "fractionFromLevel");
  return n === undefined ? undefined : roundTo(clampNumber(n, 0, MATTER_MAX_LEVEL) / MATTER_MAX_LEVEL, 4);
}

/**
 * Degrees -> Matter hue 0..254. Hue is an angle, so input wraps modulo 360 instead of clamping
 * (360 -> 0, -90 -> 270 -> 191, 720 -> 0).
 */
export function hueFromDegrees(d: unknown): number | undefined {
  const n = toNumber(d, "hueFromDegrees");
  if (n === undefined) return undefined;
  const wrapped = ((n % 360) + 360) % 360;
  return Math.round((wrapped * MATTER_MAX_LEVEL) / 360);
}

/** Matter hue 0..254 -> degrees 0..360, rounded to 1 decimal (254 -> 360, not wrapped to 0). */
export function degreesFromHue(h: unknown): number | undefined {
  const n = toNumber(h, "degreesFromHue");
  return n === undefined ? undefined : roundTo((clampNumber(n, 0, MATTER_MAX_LEVEL) * 360) / MATTER_MAX_LEVEL, 1);
}

/** Percent 0..100 -> Matter saturation 0..254. */
export function saturationFromPercent(p: unknown): number | undefined {
  const n = toNumber(p, "saturationFromPercent");
  return n === undefined ? undefined : scaleToInt(n, 100, MATTER_MAX_LEVEL);
}

/** Matter saturation 0..254 -> percent 0..100, rounded to 1 decimal. */
export function percentFromSaturation(s: unknown): number | undefined {
  const n = toNumber(s, "percentFromSaturation");
  return n === undefined ? undefined : roundTo((clampNumber(n, 0, MATTER_MAX_LEVEL) * 100) / MATTER_MAX_LEVEL, 1);
}

/** Fraction 0..1 -> Matter saturation 0..254. */
export function saturationFromFraction(f: unknown): number | undefined {
  const n = toNumber(f, "saturationFromFraction");
  return n === undefined ? undefined : scaleToInt(n, 1, MATTER_MAX_LEVEL);
}

/** Matter saturation 0..254 -> fraction 0..1, rounded to 4 decimals. */
export function fractionFromSaturation(s: unknown): number | undefined {
  const n = toNumber(s, "fractionFromSaturation");
  return n === undefined ? undefined : roundTo(clampNumber(n, 0, MATTER_MAX_LEVEL) / MATTER_MAX_LEVEL, 4);
}

/**
 * Kelvin -> mireds, round(1e6 / K), clamped to 1..65279. Zero or negative kelvin has no colour
 * temperature and yields undefined rather than Infinity.
 */
export function miredsFromKelvin(k: unknown): number | undefined {
  const n = toNumber(k, "miredsFromKelvin");
  if (n === undefined || n <= 0) return undefined;
  return clampNumber(Math.round(1e6 / n), 1, MATTER_MAX_MIREDS);
}

/** Mireds -> kelvin, round(1e6 / mireds); zero or negative mireds yields undefined. */
export function kelvinFromMireds(m: unknown): number | undefined {
  const n = toNumber(m, "kelvinFromMireds");
  if (n === undefined || n <= 0) return undefined;
  return Math.round(1e6 / clampNumber(n, 1, MATTER_MAX_MIREDS));
}
