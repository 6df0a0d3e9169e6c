/**
 * The conversion function library available to every mapping's JSONata expressions, so mappings
 * say `$levelFromPercent(brightness)` instead of repeating the arithmetic per vendor.
 *
 * All functions are pure. Missing (undefined) or null input returns undefined, so a missing
 * vendor field produces no Matter attribute rather than NaN; out-of-range input is clamped to
 * the Matter range and results are rounded to integers where Matter needs integers.
 *
 * Signatures use JSONata's syntax (n number, s string, b boolean, l null, o object, x any,
 * (..) choice, ? optional). Numeric parameters accept "(nsl)" because vendors send numbers as
 * strings and null; the functions coerce and reject non-numeric strings with a clear error.
 */
import type jsonata from "jsonata";
import { clamp } from "./functions/numeric.ts";
import {
  degreesFromHue,
  fractionFromLevel,
  fractionFromSaturation,
  hueFromDegrees,
  kelvinFromMireds,
  levelFromFraction,
  levelFromPercent,
  miredsFromKelvin,
  percentFromLevel,
  percentFromSaturation,
  saturationFromFraction,
  saturationFromPercent,
  transitionMillis,
  transitionSeconds,
} from "./functions/lighting.ts";
import {
  celsiusFromCentiCelsius,
  centiCelsiusFromCelsius,
  centiCelsiusFromFahrenheit,
  fahrenheitFromCentiCelsius,
} from "./functions/temperature.ts";
import { cieXy, hueSaturationFromXy, matterXy, xyFromHueSaturation } from "./functions/color.ts";
import { base64Decode, base64Encode, enumMap, enumReverse, jwtClaim, jwtClaims, sha256 } from "./functions/encoding.ts";

export interface ConversionFunction {
  // JSONata passes arbitrary JSON values; each function validates its own arguments.
  fn: (...args: any[]) => unknown;
  /** JSONata signature, validated by JSONata before the call. */
  signature?: string;
  /** One-line description for docs and editor hints. */
  doc: string;
}

const NUMERIC = "<(nsl):n>";

export const conversionFunctions: Record<string, ConversionFunction> = {
  levelFromPercent: { fn: levelFromPercent, signature: NUMERIC, doc: "Percent 0..100 -> Matter level 0..254 (rounded, clamped; above 0 at least 1)." },
  percentFromLevel: { fn: percentFromLevel, signature: NUMERIC, doc: "Matter level 0..254 -> percent 0..100, 1 decimal (127 -> 50)." },
  levelFromFraction: { fn: levelFromFraction, signature: NUMERIC, doc: "Fraction 0..1 -> Matter level 0..254 (rounded, clamped; above 0 at least 1)." },
  transitionSeconds: {
    fn: transitionSeconds,
    signature: "<(nsl)(nsl)?:n>",
    doc: "Matter TransitionTime (0.1 s) -> seconds; 0 stays 0 (instant), missing/null -> the second argument.",
  },
  transitionMillis: {
    fn: transitionMillis,
    signature: "<(nsl)(nsl)?:n>",
    doc: "Matter TransitionTime (0.1 s) -> milliseconds; 0 stays 0 (instant), missing/null -> the second argument.",
  },
  fractionFromLevel: { fn: fractionFromLevel, signature: NUMERIC, doc: "Matter level 0..254 -> fraction 0..1, 4 decimals." },
  hueFromDegrees: { fn: hueFromDegrees, signature: NUMERIC, doc: "Degrees (wrapped modulo 360) -> Matter hue 0..254." },
  degreesFromHue: { fn: degreesFromHue, signature: NUMERIC, doc: "Matter hue 0..254 -> degrees 0..360, 1 decimal." },
  saturationFromPercent: { fn: saturationFromPercent, signature: NUMERIC, doc: "Percent 0..100 -> Matter saturation 0..254." },
  percentFromSaturation: { fn: percentFromSaturation, signature: NUMERIC, doc: "Matter saturation 0..254 -> percent 0..100, 1 decimal." },
  saturationFromFraction: { fn: saturationFromFraction, signature: NUMERIC, doc: "Fraction 0..1 -> Matter saturation 0..254." },
  fractionFromSaturation: { fn: fractionFromSaturation, signature: NUMERIC, doc: "Matter saturation 0..254 -> fraction 0..1, 4 decimals." },
  miredsFromKelvin: { fn: miredsFromKelvin, signature: NUMERIC, doc: "Kelvin -> mireds round(1e6/K), 1..65279; undefined for K <= 0." },
  kelvinFromMireds: { fn: kelvinFromMireds, signature: NUMERIC, doc: "Mireds -> kelvin round(1e6/mireds); undefined for mireds <= 0." },
  centiCelsiusFromFahrenheit: { fn: centiCelsiusFromFahrenheit, signature: NUMERIC, doc: "Degrees F -> Matter temperature (0.01 degC, int16)." },
  fahrenheitFromCentiCelsius: { fn: fahrenheitFromCentiCelsius, signature: NUMERIC, doc: "Matter temperature (0.01 degC) -> degrees F, 2 decimals; 0x8000 (null) -> undefined." },
  centiCelsiusFromCelsius: { fn: centiCelsiusFromCelsius, signature: NUMERIC, doc: "Degrees C -> Matter temperature (0.01 degC, int16)." },
  celsiusFromCentiCelsius: { fn: celsiusFromCentiCelsius, signature: NUMERIC, doc: "Matter temperature (0.01 degC) -> degrees C; 0x8000 (null) -> undefined." },
  xyFromHueSaturation: {
    fn: xyFromHueSaturation,
    signature: "<(nsl)(nsl):o>",
    doc: "Matter hue, saturation (0..254) -> {x, y} as Matter CurrentX/CurrentY 0..65279 (sRGB/D65, full value).",
  },
  hueSaturationFromXy: {
    fn: hueSaturationFromXy,
    signature: "<(nsl)(nsl):o>",
    doc: "Matter CurrentX, CurrentY (0..65279) -> {hue, saturation} 0..254 (sRGB/D65; out-of-gamut clipped). Use $matterXy first for 0..1 input.",
  },
  matterXy: { fn: matterXy, signature: NUMERIC, doc: "CIE x or y 0..1 -> Matter CurrentX/CurrentY 0..65279." },
  cieXy: { fn: cieXy, signature: NUMERIC, doc: "Matter CurrentX/CurrentY 0..65279 -> CIE x or y 0..1, 4 decimals." },
  enumMap: {
    fn: enumMap,
    signature: "<(snbl)ox?:x>",
    doc: 'map[String(value)] or default, e.g. $enumMap(mode, {"heat": 4, "off": 0}); missing value -> undefined.',
  },
  enumReverse: { fn: enumReverse, signature: "<(snbl)ox?:x>", doc: "First key of map whose value equals value, or default." },
  jwtClaim: { fn: jwtClaim, signature: "<(sl)s:x>", doc: "Claim from a JWT payload, decoded WITHOUT signature verification; undefined if not a JWT." },
  jwtClaims: { fn: jwtClaims, signature: "<(sl):o>", doc: "All claims of a JWT payload as an object, decoded WITHOUT signature verification; undefined if not a JWT." },
  base64Decode: { fn: base64Decode, signature: "<(sl):s>", doc: "Base64 (standard or URL-safe) -> UTF-8 string." },
  base64Encode: { fn: base64Encode, signature: "<(snbl):s>", doc: "UTF-8 string -> standard base64." },
  sha256: { fn: sha256, signature: "<(snbl):s>", doc: "Lower-case hex SHA-256 of a UTF-8 string." },
  clamp: { fn: clamp, signature: "<(nsl)(ns)(ns):n>", doc: "n limited to [min, max]; undefined for missing n." },
};

/** Makes every conversion function callable as `$name(...)` in a compiled expression. */
export function registerConversionFunctions(expr: jsonata.Expression): jsonata.Expression {
  for (const [name, { fn, signature }] of Object.entries(conversionFunctions)) {
    expr.registerFunction(name, fn, signature);
  }
  return expr;
}

export {
  base64Decode,
  base64Encode,
  celsiusFromCentiCelsius,
  centiCelsiusFromCelsius,
  centiCelsiusFromFahrenheit,
  cieXy,
  clamp,
  degreesFromHue,
  enumMap,
  enumReverse,
  fahrenheitFromCentiCelsius,
  fractionFromLevel,
  fractionFromSaturation,
  hueFromDegrees,
  hueSaturationFromXy,
  jwtClaim,
  jwtClaims,
  kelvinFromMireds,
  levelFromFraction,
  levelFromPercent,
  matterXy,
  miredsFromKelvin,
  percentFromLevel,
  percentFromSaturation,
  saturationFromFraction,
  saturationFromPercent,
  sha256,
  xyFromHueSaturation,
};
