/**
 * Lighting semantics (issue #9 item 4): a light's CurrentLevel stays in 1..254 (brightness 0 is
 * OnOff false with the level left as it was), TransitionTime 0 is instant, and the CIE xy
 * conversions match the published sRGB / CIE reference values.
 */
import { describe, expect, it } from "vitest";
import { validateMappingText } from "../../engine/mapping/index.ts";
import type { CompiledBundle } from "../../engine/mapping/compiled.ts";
import { capabilityReport, readCluster } from "../../engine/runtime/device-model.ts";
import { Evaluator } from "../../engine/runtime/expressions.ts";
import { RedactingLogger, memorySink, type LogRecord } from "../../engine/log/json-logger.ts";
import { levelFromFraction, levelFromPercent, transitionMillis, transitionSeconds } from "../../engine/runtime/functions/lighting.ts";
import { cieXy, hueSaturationFromXy, matterXy, xyFromHueSaturation } from "../../engine/runtime/functions/color.ts";
import { auditMatterValues } from "../../engine/local/matter-value-audit.ts";
import { oneEndpointBundleHead } from "../mapping/one-endpoint-bundle.ts";

const FILE = "lights/connector.yaml";
const bundleText = (deviceTypes: string, featureMap = "") => `${oneEndpointBundleHead("lights", "Lights")}        deviceTypes: [${deviceTypes}]
        clusters:
          OnOff:
            attributes:
              OnOff: "power = 'on'"
          LevelControl:${featureMap}
            attributes:
              CurrentLevel: "$levelFromPercent(brightness)"
              MinLevel: { value: 1 }
              MaxLevel: { value: 254 }
`;

function compile(text: string): CompiledBundle {
  const result = validateMappingText(text, FILE);
  expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return result.bundle!;
}

const ctx = { settings: {}, responses: {} };
const evaluator = new Evaluator();

async function report(bundle: CompiledBundle, device: unknown) {
  const r = await capabilityReport(bundle.profiles[0], device, evaluator, ctx, undefined, new RedactingLogger(() => {}));
  expect(auditMatterValues({ Devices: [{ CapabilityReport: r }] })).toEqual([]);
  const clusters = r.endpoints[0].clusters;
  return { onOff: clusters.find((c) => c.id === "0x0006")!.attributes!, level: clusters.find((c) => c.id === "0x0008")!.attributes! };
}

describe("a light is never at level 0", () => {
  it("brightness 0 on a Dimmable Light (Lighting required by the device type) reads OnOff false, CurrentLevel left out", async () => {
    const bundle = compile(bundleText("Dimmable Light"));
    const { onOff, level } = await report(bundle, { power: "on", brightness: 0 });
    expect(onOff).toEqual([{ id: "0x0000", value: false }]);
    expect(level).toEqual([{ id: "0x0000" }, { id: "0x0002", value: 1 }, { id: "0x0003", value: 254 }]);
  });

  it("the same with the Lighting feature declared in featureMap on a device type that does not require it", async () => {
    const bundle = compile(bundleText("Speaker", "\n            featureMap: 3"));
    const { onOff, level } = await report(bundle, { power: "on", brightness: 0 });
    expect(onOff).toEqual([{ id: "0x0000", value: false }]);
    expect(level[0]).toEqual({ id: "0x0000" });
  });

  it("a dim light stays on at level 1, a bright one keeps its level", async () => {
    const bundle = compile(bundleText("Dimmable Light"));
    const dim = await report(bundle, { power: "on", brightness: 0.1 });
    expect([dim.onOff[0], dim.level[0]]).toEqual([{ id: "0x0000", value: true }, { id: "0x0000", value: 1 }]);
    const bright = await report(bundle, { power: "on", brightness: 50 });
    expect([bright.onOff[0], bright.level[0]]).toEqual([{ id: "0x0000", value: true }, { id: "0x0000", value: 127 }]);
  });

  it("a partial update carrying only brightness 0 (a webhook) says the light went off", async () => {
    const bundle = compile(bundleText("Dimmable Light"));
    const [onOff, level] = bundle.profiles[0].endpoints[0].clusters;
    const records: LogRecord[] = [];
    const log = new RedactingLogger(memorySink(records));
    expect([...(await readCluster(onOff, { brightness: 0 }, evaluator, ctx, undefined, log)).entries()]).toEqual([["0x0000", false]]);
    expect((await readCluster(level, { brightness: 0 }, evaluator, ctx, new Set([0]), log)).size).toBe(0);
    expect(records.filter((r) => r.level === "warn")).toEqual([]); // semantics, not a wrong value
  });

  it("Level Control without the Lighting feature keeps level 0 (0 is a valid level there)", async () => {
    const bundle = compile(bundleText("Speaker"));
    const { onOff, level } = await report(bundle, { power: "on", brightness: 0 });
    expect(onOff).toEqual([{ id: "0x0000", value: true }]);
    expect(level[0]).toEqual({ id: "0x0000", value: 0 });
  });
});

describe("level helpers", () => {
  it("map any brightness above 0 to at least level 1, and 0 to 0", () => {
    expect(levelFromPercent(0.1)).toBe(1);
    expect(levelFromPercent(0.19)).toBe(1);
    expect(levelFromFraction(0.001)).toBe(1);
    expect(levelFromPercent(0)).toBe(0);
    expect(levelFromFraction(0)).toBe(0);
    expect(levelFromPercent(100)).toBe(254);
    expect(levelFromPercent(50)).toBe(127);
  });
});

describe("TransitionTime (tenths of a second)", () => {
  it("0 is instant, not the default; missing or null falls back to the default", () => {
    expect(transitionSeconds(0, 0.5)).toBe(0);
    expect(transitionSeconds("0", 0.5)).toBe(0);
    expect(transitionSeconds(20, 0.5)).toBe(2);
    expect(transitionSeconds(undefined, 0.5)).toBe(0.5);
    expect(transitionSeconds(null, 0.5)).toBe(0.5);
    expect(transitionSeconds(undefined)).toBeUndefined();
    expect(transitionMillis(0, 400)).toBe(0);
    expect(transitionMillis(15, 400)).toBe(1500);
    expect(transitionMillis(null, 400)).toBe(400);
  });

  it("validate warns where a mapping tests a numeric command field for truth (0 would count as missing)", () => {
    const text = bundleText("Dimmable Light").replace(
      "              MaxLevel: { value: 254 }\n",
      `              MaxLevel: { value: 254 }
            commands:
              MoveToLevel:
                method: PUT
                path: /lights
                body: "{ 'level': fields.Level, 'duration': fields.TransitionTime ? fields.TransitionTime / 10 : 1 }"
`,
    );
    const warnings = validateMappingText(text, FILE).diagnostics.filter((d) => d.rule === "jsonata/zero-as-missing");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ severity: "warning", file: FILE, line: 30 });
    expect(warnings[0].message).toMatch(/TransitionTime 0 as missing/);
    expect(warnings[0].hint).toMatch(/\$transitionSeconds/);
  });
});

// Reference values: IEC 61966-2-1 (sRGB) primaries and the CIE 1931 xy of the D65 white point.
const SRGB = { red: [0.64, 0.33], green: [0.3, 0.6], blue: [0.15, 0.06] } as const;
const D65 = [0.3127, 0.329] as const;
const units = (xy: readonly number[]) => xy.map((v) => Math.round(v * 65536));

describe("CIE 1931 xy (Matter CurrentX/CurrentY = x * 65536, 0..65279)", () => {
  it("scales CIE coordinates to Matter units and back, clamped to 0xFEFF", () => {
    expect(matterXy(0.5)).toBe(32768);
    expect(matterXy(SRGB.red[0])).toBe(41943);
    expect(matterXy(1)).toBe(65279);
    expect(matterXy(-0.1)).toBe(0);
    expect(cieXy(41943)).toBe(0.64);
    expect(cieXy(65535)).toBe(0.9961);
  });

  it("full-saturation red and white land on the sRGB red primary and the D65 white point", () => {
    const near = (got: { x: number; y: number } | undefined, want: readonly number[]) => {
      const [x, y] = units(want);
      expect(Math.abs(got!.x - x)).toBeLessThanOrEqual(3);
      expect(Math.abs(got!.y - y)).toBeLessThanOrEqual(3);
    };
    near(xyFromHueSaturation(0, 254), SRGB.red);
    near(xyFromHueSaturation(254, 254), SRGB.red); // 360 degrees is red again
    near(xyFromHueSaturation(0, 0), D65);
    near(xyFromHueSaturation(127, 0), D65);
  });

  it("the sRGB primaries read back as fully saturated red, green and blue hues; D65 as white", () => {
    const hue = (degrees: number) => Math.round((degrees * 254) / 360);
    expect(hueSaturationFromXy(...(units(SRGB.red) as [number, number]))).toEqual({ hue: 0, saturation: 254 });
    expect(hueSaturationFromXy(...(units(SRGB.green) as [number, number]))).toEqual({ hue: hue(120), saturation: 254 });
    expect(hueSaturationFromXy(...(units(SRGB.blue) as [number, number]))).toEqual({ hue: hue(240), saturation: 254 });
    expect(hueSaturationFromXy(...(units(D65) as [number, number]))).toEqual({ hue: 0, saturation: 0 });
  });

  it("a point outside the sRGB gamut (Philips Hue gamut C red, 0.6915/0.3083) is clipped to full saturation", () => {
    const clipped = hueSaturationFromXy(...(units([0.6915, 0.3083]) as [number, number]))!;
    expect(clipped.saturation).toBe(254);
    expect(clipped.hue === 0 || clipped.hue >= 250).toBe(true); // still red
  });
});
