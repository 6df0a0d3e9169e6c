/**
 * Temperature conversions to and from Matter's int16 hundredths of a degree Celsius
 * (Thermostat LocalTemperature, TemperatureMeasurement MeasuredValue, setpoints).
 */
import { clampNumber, roundTo, toNumber } from "./numeric.ts";

/** Absolute zero; the lowest temperature Matter can express (MinMeasuredValue floor). */
export const MATTER_MIN_CENTI_CELSIUS = -27315;
export const MATTER_MAX_CENTI_CELSIUS = 32767;
/** 0x8000 encodes null in a nullable Matter temperature. */
export const MATTER_NULL_TEMPERATURE = -32768;

function toCenti(celsius: number): number {
  return clampNumber(Math.round(celsius * 100), MATTER_MIN_CENTI_CELSIUS, MATTER_MAX_CENTI_CELSIUS);
}

/** Reads a Matter temperature; the null marker 0x8000 means "no value". */
function fromMatter(value: unknown, fnName: string): number | undefined {
  const n = toNumber(value, fnName);
  if (n === undefined || n === MATTER_NULL_TEMPERATURE) return undefined;
  return clampNumber(n, MATTER_MIN_CENTI_CELSIUS, MATTER_MAX_CENTI_CELSIUS);
}

/** Degrees Celsius -> 0.01 degC (21.5 -> 2150). */
export function centiCelsiusFromCelsius(c: unknown): number | undefined {
  const n = toNumber(c, "centiCelsiusFromCelsius");
  return n === undefined ? undefined : toCenti(n);
}

/** 0.01 degC -> degrees Celsius (2150 -> 21.5). */
export function celsiusFromCentiCelsius(c: unknown): number | undefined {
  const n = fromMatter(c, "celsiusFromCentiCelsius");
  return n === undefined ? undefined : roundTo(n / 100, 2);
}

/** Degrees Fahrenheit -> 0.01 degC (212 -> 10000). */
export function centiCelsiusFromFahrenheit(f: unknown): number | undefined {
  const n = toNumber(f, "centiCelsiusFromFahrenheit");
  return n === undefined ? undefined : toCenti(((n - 32) * 5) / 9);
}

/** 0.01 degC -> degrees Fahrenheit, rounded to 2 decimals (2000 -> 68). */
export function fahrenheitFromCentiCelsius(c: unknown): number | undefined {
  const n = fromMatter(c, "fahrenheitFromCentiCelsius");
  return n === undefined ? undefined : roundTo(((n / 100) * 9) / 5 + 32, 2);
}
