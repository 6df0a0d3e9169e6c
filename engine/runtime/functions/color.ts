/**
 * CIE 1931 xy colour conversions for Color Control (CurrentX/CurrentY, CurrentHue/CurrentSaturation).
 *
 * Gamut assumption: colours are sRGB with a D65 white point (IEC 61966-2-1 primaries and transfer
 * curve). Hue/saturation are taken at full value (V = 1), since brightness lives in Level
 * Control. xy points outside the sRGB triangle are clipped to it (negative linear components
 * become 0), so the hue is preserved and saturation saturates at 254. Lamps with a wider gamut
 * will show slightly different colours than a vendor's own app; that is inherent to HS <-> xy.
 *
 * Units: Matter CurrentX/CurrentY carry the CIE 1931 chromaticity x (resp. y) as round(x * 65536),
 * 0..65279 (0xFEFF; 1.0 itself is not representable). Reference values (IEC 61966-2-1): red
 * 0.64/0.33, green 0.30/0.60, blue 0.15/0.06, white D65 0.3127/0.3290; the tests in
 * test/runtime/lighting.test.ts check the conversions against them.
 */
import { clampNumber, roundTo, toNumber } from "./numeric.ts";

/** Matter CurrentX/CurrentY: x = CurrentX / 65536, maximum 0xFEFF. */
export const MATTER_MAX_XY = 0xfeff;
const XY_SCALE = 65536;
const MATTER_MAX_HS = 254;

/** CIE coordinate 0..1 -> Matter CurrentX/CurrentY 0..65279. */
export function matterXy(v: unknown): number | undefined {
  const n = toNumber(v, "matterXy");
  return n === undefined ? undefined : clampNumber(Math.round(n * XY_SCALE), 0, MATTER_MAX_XY);
}

/** Matter CurrentX/CurrentY 0..65279 -> CIE coordinate 0..1, rounded to 4 decimals. */
export function cieXy(v: unknown): number | undefined {
  const n = toNumber(v, "cieXy");
  return n === undefined ? undefined : roundTo(clampNumber(n, 0, MATTER_MAX_XY) / XY_SCALE, 4);
}

/** Matter hue and saturation (0..254) -> Matter CurrentX/CurrentY. */
export function xyFromHueSaturation(hue: unknown, saturation: unknown): { x: number; y: number } | undefined {
  const h = toNumber(hue, "xyFromHueSaturation", "hue");
  const s = toNumber(saturation, "xyFromHueSaturation", "saturation");
  if (h === undefined || s === undefined) return undefined;
  const degrees = (clampNumber(h, 0, MATTER_MAX_HS) * 360) / MATTER_MAX_HS;
  const [r, g, b] = hsvToRgb(degrees, clampNumber(s, 0, MATTER_MAX_HS) / MATTER_MAX_HS, 1).map(srgbToLinear);
  const X = 0.4124564 * r + 0.3575761 * g + 0.1804375 * b;
  const Y = 0.2126729 * r + 0.7151522 * g + 0.072175 * b;
  const Z = 0.0193339 * r + 0.119192 * g + 0.9503041 * b;
  const sum = X + Y + Z; // > 0: V = 1 means at least one channel is 1
  return { x: clampNumber(Math.round((X / sum) * XY_SCALE), 0, MATTER_MAX_XY), y: clampNumber(Math.round((Y / sum) * XY_SCALE), 0, MATTER_MAX_XY) };
}

/** Matter CurrentX/CurrentY (0..65279) -> Matter hue and saturation (0..254). y = 0 has no colour: undefined. */
export function hueSaturationFromXy(x: unknown, y: unknown): { hue: number; saturation: number } | undefined {
  const xn = toNumber(x, "hueSaturationFromXy", "x");
  const yn = toNumber(y, "hueSaturationFromXy", "y");
  if (xn === undefined || yn === undefined) return undefined;
  const cx = clampNumber(xn, 0, MATTER_MAX_XY) / XY_SCALE;
  const cy = clampNumber(yn, 0, MATTER_MAX_XY) / XY_SCALE;
  if (cy === 0) return undefined;
  // Y = 1; the absolute luminance does not matter because the result is normalised below.
  const X = cx / cy;
  const Z = (1 - cx - cy) / cy;
  const linear = [
    3.2404542 * X - 1.5371385 - 0.4985314 * Z,
    -0.969266 * X + 1.8760108 + 0.041556 * Z,
    0.0556434 * X - 0.2040259 + 1.0572252 * Z,
  ].map((c) => Math.max(0, c));
  const max = Math.max(...linear);
  if (max === 0) return undefined;
  const [r, g, b] = linear.map((c) => linearToSrgb(c / max));
  const { h, s } = rgbToHs(r, g, b);
  const saturation = Math.round(s * MATTER_MAX_HS);
  // Near the white point the hue is quantisation noise; report white as hue 0.
  const hue = saturation === 0 ? 0 : Math.round((h * MATTER_MAX_HS) / 360);
  return { hue, saturation };
}

function srgbToLinear(c: number): number {
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

function linearToSrgb(c: number): number {
  return c <= 0.0031308 ? c * 12.92 : 1.055 * c ** (1 / 2.4) - 0.055;
}

function hsvToRgb(h: number, s: number, v: number): [number, number, number] {
  const f = (n: number) => {
    const k = (n + h / 60) % 6;
    return v - v * s * Math.max(0, Math.min(k, 4 - k, 1));
  };
  return [f(5), f(3), f(1)];
}

function rgbToHs(r: number, g: number, b: number): { h: number; s: number } {
  const max = Math.max(r, g, b);
  const delta = max - Math.min(r, g, b);
  if (max === 0 || delta === 0) return { h: 0, s: 0 };
  let h: number;
  if (max === r) h = 60 * (((g - b) / delta) % 6);
  else if (max === g) h = 60 * ((b - r) / delta + 2);
  else h = 60 * ((r - g) / delta + 4);
  if (h < 0) h += 360;
  return { h, s: delta / max };
}
