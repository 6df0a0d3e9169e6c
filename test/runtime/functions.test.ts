import jsonata from "jsonata";
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  base64Decode,
  base64Encode,
  celsiusFromCentiCelsius,
  centiCelsiusFromCelsius,
  centiCelsiusFromFahrenheit,
  cieXy,
  clamp,
  conversionFunctions,
  degreesFromHue,
  enumMap,
  enumReverse,
  fahrenheitFromCentiCelsius,
  fractionFromLevel,
  fractionFromSaturation,
  hueFromDegrees,
  hueSaturationFromXy,
  jwtClaim,
  kelvinFromMireds,
  levelFromFraction,
  levelFromPercent,
  matterXy,
  miredsFromKelvin,
  percentFromLevel,
  percentFromSaturation,
  registerConversionFunctions,
  saturationFromFraction,
  saturationFromPercent,
  sha256,
  xyFromHueSaturation,
} from "../../engine/runtime/functions.ts";

const numericFunctions = [
  levelFromPercent,
  percentFromLevel,
  levelFromFraction,
  fractionFromLevel,
  hueFromDegrees,
  degreesFromHue,
  saturationFromPercent,
  percentFromSaturation,
  saturationFromFraction,
  fractionFromSaturation,
  miredsFromKelvin,
  kelvinFromMireds,
  centiCelsiusFromFahrenheit,
  fahrenheitFromCentiCelsius,
  centiCelsiusFromCelsius,
  celsiusFromCentiCelsius,
  matterXy,
  cieXy,
];

describe("missing and invalid input", () => {
  it.each(numericFunctions.map((fn) => [fn.name, fn] as const))("%s returns undefined for null/undefined", (_name, fn) => {
    expect(fn(undefined)).toBeUndefined();
    expect(fn(null)).toBeUndefined();
  });

  it.each(numericFunctions.map((fn) => [fn.name, fn] as const))("%s rejects non-numeric input with a clear error", (name, fn) => {
    expect(() => fn("bright")).toThrow(new RegExp(`\\$${name}: value must be a number, got "bright"`));
    expect(() => fn("")).toThrow(/must be a number/);
    expect(() => fn({})).toThrow(/got an object/);
    expect(() => fn(Number.NaN)).toThrow(/finite number/);
  });

  it("accepts numeric strings", () => {
    expect(levelFromPercent("50")).toBe(127);
    expect(miredsFromKelvin(" 4000 ")).toBe(250);
  });

  it("two-argument colour conversions return undefined when either input is missing", () => {
    expect(xyFromHueSaturation(undefined, 254)).toBeUndefined();
    expect(xyFromHueSaturation(0, null)).toBeUndefined();
    expect(hueSaturationFromXy(null, 20000)).toBeUndefined();
    expect(hueSaturationFromXy(20000, undefined)).toBeUndefined();
  });
});

describe("level", () => {
  it("converts percent to level", () => {
    expect(levelFromPercent(0)).toBe(0);
    expect(levelFromPercent(100)).toBe(254);
    expect(levelFromPercent(50)).toBe(127);
    expect(levelFromPercent(33.3)).toBe(85);
    expect(levelFromPercent(-5)).toBe(0);
    expect(levelFromPercent(150)).toBe(254);
  });

  it("converts level to percent with one decimal", () => {
    expect(percentFromLevel(0)).toBe(0);
    expect(percentFromLevel(254)).toBe(100);
    expect(percentFromLevel(127)).toBe(50);
    expect(percentFromLevel(1)).toBe(0.4);
    expect(percentFromLevel(255)).toBe(100);
    expect(percentFromLevel(-3)).toBe(0);
  });

  it("converts fractions", () => {
    expect(levelFromFraction(0)).toBe(0);
    expect(levelFromFraction(1)).toBe(254);
    expect(levelFromFraction(0.5)).toBe(127);
    expect(levelFromFraction(1.2)).toBe(254);
    expect(levelFromFraction(-0.1)).toBe(0);
    expect(fractionFromLevel(0)).toBe(0);
    expect(fractionFromLevel(254)).toBe(1);
    expect(fractionFromLevel(127)).toBe(0.5);
    expect(fractionFromLevel(300)).toBe(1);
  });

  it("round-trips every percent and every level", () => {
    for (let p = 0; p <= 100; p++) {
      expect(Math.abs(percentFromLevel(levelFromPercent(p))! - p)).toBeLessThanOrEqual(0.25);
    }
    for (let l = 0; l <= 254; l++) {
      expect(levelFromPercent(percentFromLevel(l))).toBe(l);
      expect(levelFromFraction(fractionFromLevel(l))).toBe(l);
    }
  });
});

describe("hue and saturation", () => {
  it("converts degrees to hue, wrapping modulo 360", () => {
    expect(hueFromDegrees(0)).toBe(0);
    expect(hueFromDegrees(180)).toBe(127);
    expect(hueFromDegrees(359)).toBe(253);
    expect(hueFromDegrees(360)).toBe(0);
    expect(hueFromDegrees(720)).toBe(0);
    expect(hueFromDegrees(-90)).toBe(hueFromDegrees(270));
    expect(hueFromDegrees(450)).toBe(hueFromDegrees(90));
  });

  it("converts hue to degrees", () => {
    expect(degreesFromHue(0)).toBe(0);
    expect(degreesFromHue(127)).toBe(180);
    expect(degreesFromHue(254)).toBe(360);
    expect(degreesFromHue(300)).toBe(360);
    expect(degreesFromHue(-1)).toBe(0);
    for (let d = 0; d < 360; d += 7) {
      expect(Math.abs(degreesFromHue(hueFromDegrees(d))! - d)).toBeLessThanOrEqual(0.75);
    }
  });

  it("converts saturation", () => {
    expect(saturationFromPercent(0)).toBe(0);
    expect(saturationFromPercent(100)).toBe(254);
    expect(saturationFromPercent(50)).toBe(127);
    expect(saturationFromPercent(120)).toBe(254);
    expect(percentFromSaturation(254)).toBe(100);
    expect(percentFromSaturation(127)).toBe(50);
    expect(percentFromSaturation(-1)).toBe(0);
    expect(saturationFromFraction(0)).toBe(0);
    expect(saturationFromFraction(1)).toBe(254);
    expect(saturationFromFraction(0.5)).toBe(127);
    expect(saturationFromFraction(2)).toBe(254);
    expect(fractionFromSaturation(0)).toBe(0);
    expect(fractionFromSaturation(254)).toBe(1);
    expect(fractionFromSaturation(127)).toBe(0.5);
    expect(fractionFromSaturation(999)).toBe(1);
  });
});

describe("colour temperature", () => {
  it("converts kelvin to mireds", () => {
    expect(miredsFromKelvin(6500)).toBe(154);
    expect(miredsFromKelvin(2700)).toBe(370);
    expect(miredsFromKelvin(4000)).toBe(250);
    expect(miredsFromKelvin(1)).toBe(0xfeff);
    expect(miredsFromKelvin(0)).toBeUndefined();
    expect(miredsFromKelvin(-100)).toBeUndefined();
    expect(miredsFromKelvin(5_000_000)).toBe(1);
  });

  it("converts mireds to kelvin", () => {
    expect(kelvinFromMireds(153)).toBe(6536);
    expect(kelvinFromMireds(500)).toBe(2000);
    expect(kelvinFromMireds(0)).toBeUndefined();
    expect(kelvinFromMireds(70000)).toBe(Math.round(1e6 / 0xfeff));
  });

  it("round-trips kelvin within 1%", () => {
    for (let k = 1500; k <= 10000; k += 250) {
      const back = kelvinFromMireds(miredsFromKelvin(k))!;
      expect(Math.abs(back - k) / k).toBeLessThan(0.01);
    }
  });
});

describe("temperature", () => {
  it("converts Celsius", () => {
    expect(centiCelsiusFromCelsius(21.5)).toBe(2150);
    expect(centiCelsiusFromCelsius(0)).toBe(0);
    expect(centiCelsiusFromCelsius(-10.25)).toBe(-1025);
    expect(centiCelsiusFromCelsius(0.1 + 0.2)).toBe(30);
    expect(centiCelsiusFromCelsius(400)).toBe(32767);
    expect(centiCelsiusFromCelsius(-300)).toBe(-27315);
    expect(celsiusFromCentiCelsius(2150)).toBe(21.5);
    expect(celsiusFromCentiCelsius(-1025)).toBe(-10.25);
    expect(celsiusFromCentiCelsius(-32768)).toBeUndefined();
  });

  it("converts Fahrenheit", () => {
    expect(centiCelsiusFromFahrenheit(32)).toBe(0);
    expect(centiCelsiusFromFahrenheit(212)).toBe(10000);
    expect(centiCelsiusFromFahrenheit(70)).toBe(2111);
    expect(centiCelsiusFromFahrenheit(-40)).toBe(-4000);
    expect(centiCelsiusFromFahrenheit(1000)).toBe(32767);
    expect(centiCelsiusFromFahrenheit(-500)).toBe(-27315);
    expect(fahrenheitFromCentiCelsius(0)).toBe(32);
    expect(fahrenheitFromCentiCelsius(2000)).toBe(68);
    expect(fahrenheitFromCentiCelsius(-4000)).toBe(-40);
    expect(fahrenheitFromCentiCelsius(-32768)).toBeUndefined();
    for (let f = -20; f <= 120; f += 3) {
      expect(Math.abs(fahrenheitFromCentiCelsius(centiCelsiusFromFahrenheit(f))! - f)).toBeLessThan(0.02);
    }
  });
});

describe("xy colour", () => {
  it("scales CIE coordinates to Matter units and back", () => {
    expect(matterXy(0)).toBe(0);
    expect(matterXy(0.5)).toBe(32768);
    expect(matterXy(1)).toBe(0xfeff);
    expect(matterXy(-0.2)).toBe(0);
    expect(cieXy(32768)).toBe(0.5);
    expect(cieXy(0)).toBe(0);
    expect(cieXy(70000)).toBe(cieXy(0xfeff));
    expect(cieXy(matterXy(0.3127))).toBe(0.3127);
  });

  // sRGB primaries and D65 white point (IEC 61966-2-1).
  const references = [
    { name: "red", hue: 0, saturation: 254, x: 0.64, y: 0.33 },
    { name: "green", hue: hueFromDegrees(120)!, saturation: 254, x: 0.3, y: 0.6 },
    { name: "blue", hue: hueFromDegrees(240)!, saturation: 254, x: 0.15, y: 0.06 },
    { name: "white", hue: 0, saturation: 0, x: 0.3127, y: 0.329 },
  ];

  it.each(references)("maps $name hue/saturation to its sRGB chromaticity", ({ hue, saturation, x, y }) => {
    const xy = xyFromHueSaturation(hue, saturation)!;
    expect(Math.abs(cieXy(xy.x)! - x)).toBeLessThan(0.005);
    expect(Math.abs(cieXy(xy.y)! - y)).toBeLessThan(0.005);
  });

  it.each(references)("maps $name chromaticity back to hue/saturation", ({ hue, saturation, x, y }) => {
    const hs = hueSaturationFromXy(matterXy(x), matterXy(y))!;
    expect(Math.abs(hs.saturation - saturation)).toBeLessThanOrEqual(2);
    if (saturation > 0) expect(Math.abs(hs.hue - hue)).toBeLessThanOrEqual(2);
  });

  it("round-trips hue/saturation through xy", () => {
    for (let hue = 0; hue <= 254; hue += 17) {
      for (const saturation of [64, 127, 254]) {
        const xy = xyFromHueSaturation(hue, saturation)!;
        const hs = hueSaturationFromXy(xy.x, xy.y)!;
        const hueError = Math.min(Math.abs(hs.hue - hue), 254 - Math.abs(hs.hue - hue));
        expect(hueError).toBeLessThanOrEqual(2);
        expect(Math.abs(hs.saturation - saturation)).toBeLessThanOrEqual(2);
      }
    }
  });

  it("clips out-of-gamut xy to full saturation and rejects y = 0", () => {
    // Spectral green (520 nm) lies outside sRGB.
    const hs = hueSaturationFromXy(matterXy(0.0743), matterXy(0.8338))!;
    expect(hs.saturation).toBe(254);
    expect(degreesFromHue(hs.hue)).toBeGreaterThan(90);
    expect(degreesFromHue(hs.hue)).toBeLessThan(150);
    expect(hueSaturationFromXy(20000, 0)).toBeUndefined();
  });

  it("clamps hue/saturation inputs", () => {
    expect(xyFromHueSaturation(0, 999)).toEqual(xyFromHueSaturation(0, 254));
    expect(xyFromHueSaturation(-10, 254)).toEqual(xyFromHueSaturation(0, 254));
  });
});

describe("enum maps", () => {
  const modes = { heat: 4, cool: 3, off: 0 };

  it("maps values", () => {
    expect(enumMap("heat", modes)).toBe(4);
    expect(enumMap("off", modes)).toBe(0);
    expect(enumMap("auto", modes)).toBeUndefined();
    expect(enumMap("auto", modes, 1)).toBe(1);
    expect(enumMap(true, { true: "on", false: "off" })).toBe("on");
    expect(enumMap(2, { "2": "two" })).toBe("two");
    expect(enumMap(undefined, modes, 1)).toBeUndefined();
    expect(enumMap(null, modes, 1)).toBeUndefined();
    expect(enumMap("toString", modes)).toBeUndefined();
  });

  it("maps values back", () => {
    expect(enumReverse(4, modes)).toBe("heat");
    expect(enumReverse("4", modes)).toBe("heat");
    expect(enumReverse(0, modes)).toBe("off");
    expect(enumReverse(7, modes)).toBeUndefined();
    expect(enumReverse(7, modes, "auto")).toBe("auto");
    expect(enumReverse(undefined, modes)).toBeUndefined();
  });

  it("rejects a map that is not an object", () => {
    expect(() => enumMap("heat", [1, 2])).toThrow(/\$enumMap: the map must be an object/);
    expect(() => enumMap("heat", null)).toThrow(/\$enumMap: the map must be an object/);
    expect(() => enumReverse(4, "heat")).toThrow(/\$enumReverse: the map must be an object/);
  });
});

describe("encodings", () => {
  const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const token = `${b64url({ alg: "HS256", typ: "JWT" })}.${b64url({ sub: "user-1", exp: 1700000000, "ü": "ä" })}.c2ln`;

  it("reads JWT claims without verifying", () => {
    expect(jwtClaim(token, "sub")).toBe("user-1");
    expect(jwtClaim(token, "exp")).toBe(1700000000);
    expect(jwtClaim(token, "ü")).toBe("ä");
    expect(jwtClaim(`Bearer ${token}`, "sub")).toBe("user-1");
    expect(jwtClaim(token, "missing")).toBeUndefined();
    expect(jwtClaim("not-a-jwt", "sub")).toBeUndefined();
    expect(jwtClaim("a.!!!.c", "sub")).toBeUndefined();
    expect(jwtClaim(`x.${Buffer.from("not json").toString("base64url")}.y`, "sub")).toBeUndefined();
    expect(jwtClaim(`x.${b64url([1, 2])}.y`, "0")).toBeUndefined();
    expect(jwtClaim(undefined, "sub")).toBeUndefined();
    expect(() => jwtClaim(token, "")).toThrow(/claim name/);
  });

  it("encodes and decodes base64", () => {
    expect(base64Encode("héllo wörld")).toBe(Buffer.from("héllo wörld").toString("base64"));
    expect(base64Decode(base64Encode("héllo wörld"))).toBe("héllo wörld");
    expect(base64Decode("aGk")).toBe("hi");
    expect(base64Decode(Buffer.from("??>>").toString("base64url"))).toBe("??>>");
    expect(base64Decode(undefined)).toBeUndefined();
    expect(base64Encode(null)).toBeUndefined();
    expect(() => base64Decode("not base64!")).toThrow(/not valid base64/);
    expect(() => base64Decode("abcde")).toThrow(/not valid base64/);
    expect(() => base64Encode({})).toThrow(/expected a string/);
  });

  it("hashes with sha256", () => {
    expect(sha256("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(sha256("device-1")).toBe(createHash("sha256").update("device-1").digest("hex"));
    expect(sha256(42)).toBe(sha256("42"));
    expect(sha256(undefined)).toBeUndefined();
  });
});

describe("clamp", () => {
  it("limits numbers", () => {
    expect(clamp(5, 0, 3)).toBe(3);
    expect(clamp(-1, 0, 3)).toBe(0);
    expect(clamp(2, 0, 3)).toBe(2);
    expect(clamp("2.5", 0, 3)).toBe(2.5);
    expect(clamp(undefined, 0, 3)).toBeUndefined();
    expect(() => clamp(1, 3, 0)).toThrow(/min \(3\) is greater than max \(0\)/);
    expect(() => clamp(1, undefined, 0)).toThrow(/min and max are required/);
  });
});

describe("JSONata registration", () => {
  const evaluate = (source: string, input: unknown = {}) => registerConversionFunctions(jsonata(source)).evaluate(input);

  it("registers every function with a doc string and a parsable signature", async () => {
    for (const [name, def] of Object.entries(conversionFunctions)) {
      expect(def.doc.length, name).toBeGreaterThan(10);
      expect(typeof def.fn, name).toBe("function");
    }
    // Registration parses every signature; a malformed one would throw here.
    expect(() => registerConversionFunctions(jsonata("1"))).not.toThrow();
    expect(Object.keys(conversionFunctions)).toContain("levelFromPercent");
  });

  it("runs conversions inside expressions", async () => {
    expect(await evaluate("$levelFromPercent(50)")).toBe(127);
    expect(await evaluate("$levelFromPercent(brightness * 100)", { brightness: 0.5 })).toBe(127);
    expect(await evaluate('$enumMap(mode, {"heat": 4, "off": 0})', { mode: "heat" })).toBe(4);
    expect(await evaluate("$miredsFromKelvin(kelvin)", { kelvin: "2700" })).toBe(370);
    expect(await evaluate("$xyFromHueSaturation(0, 254).x")).toBe(xyFromHueSaturation(0, 254)!.x);
    expect(await evaluate("$sha256(id)", { id: "abc" })).toBe(sha256("abc"));
  });

  it("omits attributes whose vendor field is missing or null", async () => {
    const result = await evaluate('{"level": $levelFromPercent(brightness), "temp": $centiCelsiusFromCelsius(t), "on": on}', {
      t: null,
      on: true,
    });
    expect(result).toEqual({ on: true });
  });

  it("surfaces bad input as an error", async () => {
    await expect(evaluate("$levelFromPercent(b)", { b: "bright" })).rejects.toThrow(/\$levelFromPercent: value must be a number/);
    await expect(evaluate("$levelFromPercent(b)", { b: true })).rejects.toMatchObject({ code: "T0410" });
  });
});
