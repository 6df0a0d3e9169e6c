/**
 * Per-profile conformance (issue #9 item 5): declared featureMaps against the features the device
 * types require and the elements mapped (validate; errors under --strict, since --strict fails on
 * warnings), featureMaps derived when not declared, and the capability docs stating features and
 * the Matter-mandatory elements a vendor does not provide.
 */
import { describe, expect, it } from "vitest";
import { validateMappingText } from "../../engine/mapping/index.ts";
import { loadBundleOrThrow } from "../../engine/mapping/bundle.ts";
import { conformanceOf } from "../../engine/mapping/conformance-check.ts";
import { ClusterTable } from "../../engine/matter/cluster-table.ts";
import { capabilityMarkdown } from "../../engine/cli/capability-docs.ts";
import { oneEndpointBundleHead } from "./one-endpoint-bundle.ts";

const FILE = "conf/connector.yaml";
const bundle = (deviceType: string, colorControl: string) => `${oneEndpointBundleHead("conf", "Conformance")}        deviceTypes: [${deviceType}]
        clusters:
          OnOff:
            attributes: { OnOff: "on" }
          LevelControl:
            attributes: { CurrentLevel: "level" }
          ColorControl:
${colorControl}`;

const diagnostics = (text: string, rule: string) => validateMappingText(text, FILE).diagnostics.filter((d) => d.rule === rule);
const table = ClusterTable.default();

describe("validate: declared featureMaps", () => {
  it("reports a device-type feature the featureMap lacks, with the featureMap that fixes it", () => {
    const text = bundle("Extended Color Light", `            featureMap: 17
            attributes: { CurrentHue: "h", CurrentSaturation: "s", ColorTemperatureMireds: "ct" }
`);
    const [d, ...rest] = diagnostics(text, "matter/missing-required-feature");
    expect(rest).toEqual([]);
    expect(d).toMatchObject({ severity: "warning", file: FILE, line: 23 });
    expect(d.message).toBe("Extended Color Light requires feature XY (Xy) of ColorControl, which featureMap 17 does not set");
    expect(d.hint).toMatch(/^featureMap: 25 \(HS \(HueSaturation\), CT \(ColorTemperature\), XY \(Xy\)\)/);
    const fixed = text.replace("featureMap: 17", "featureMap: 25");
    expect(diagnostics(fixed, "matter/missing-required-feature")).toEqual([]);
  });

  it("reports a mapped element the declared featureMap rules out", () => {
    const text = bundle("Color Temperature Light", `            featureMap: 16
            attributes: { ColorTemperatureMireds: "ct", CurrentX: "x" }
`);
    const found = diagnostics(text, "matter/feature-not-declared");
    expect(found).toHaveLength(1);
    expect(found[0].message).toMatch(/^ColorControl\.CurrentX \(conformance XY\) is not part of a cluster with featureMap 16 \(CT \(ColorTemperature\)\)/);
  });

  it("every bundle in mappings/ declares the features its device types require (LIFX colour now has XY)", async () => {
    const lifx = await loadBundleOrThrow("mappings/lifx");
    const color = lifx.profiles.find((p) => p.id === "color")!.endpoints[0].clusters.find((c) => c.name === "ColorControl")!;
    expect(color.featureMap).toBe(25);
    expect(color.commands.map((c) => c.name)).toContain("MoveToColor");
  });
});

describe("derived featureMap and mandatory elements", () => {
  const cluster = (name: string) => table.cluster(name)!;
  const dt = (name: string) => [table.deviceType(name)!];

  it("without a featureMap: the device types' features plus those the mapped elements need", () => {
    expect(conformanceOf(table, cluster("LevelControl"), dt("Dimmable Light"), undefined, ["CurrentLevel"], []).featureMap).toBe(3);
    // Toggle's conformance is !OFFONLY: mapping it does not make OffOnly a feature.
    expect(conformanceOf(table, cluster("OnOff"), dt("On/Off Light"), undefined, ["OnOff"], ["Off", "On", "Toggle"]).featureMap).toBe(1);
    // ColorTemperatureMireds is conditional on CT (bit 4).
    expect(conformanceOf(table, cluster("ColorControl"), [], undefined, ["ColorTemperatureMireds"], []).featureMap).toBe(16);
  });

  it("lists the mandatory elements the bundle does not map", () => {
    const c = conformanceOf(table, cluster("OnOff"), dt("On/Off Light"), 1, ["OnOff"], ["Off", "On", "Toggle"]);
    expect(c.unmapped.commands).toEqual(["OffWithEffect", "OnWithRecallGlobalScene", "OnWithTimedOff"]);
    expect(c.unmapped.attributes).toContain("OnTime");
    expect(c.missingFeatures).toEqual([]);
  });

  it("c2c docs states the features each cluster implements and what Matter requires that the vendor lacks", async () => {
    const md = capabilityMarkdown(await loadBundleOrThrow("mappings/lifx"));
    expect(md).toContain("Features: HS (HueSaturation), XY (Xy), CT (ColorTemperature) (featureMap 25).");
    expect(md).toContain("Features: OO (OnOff), LT (Lighting) (derived: featureMap 3).");
    expect(md).toMatch(/Matter-mandatory, not provided by the vendor: attribute GlobalSceneControl, .*command OnWithTimedOff\./);
  });
});

describe("featureMap as an expression", () => {
  const text = bundle("Extended Color Light", `            featureMap: "caps.ct ? 25 : caps.bad ? 'all' : 9"
            attributes: { CurrentX: "x", CurrentY: "y" }
`);

  it("is evaluated per device for the capability report; a value that is not a map32 is logged and left out", async () => {
    const { capabilityReport } = await import("../../engine/runtime/device-model.ts");
    const { Evaluator } = await import("../../engine/runtime/expressions.ts");
    const { RedactingLogger, memorySink } = await import("../../engine/log/json-logger.ts");
    const result = validateMappingText(text, FILE);
    expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const profile = result.bundle!.profiles[0];
    const records: any[] = [];
    const log = new RedactingLogger(memorySink(records));
    const featureMapOf = async (device: unknown) =>
      (await capabilityReport(profile, device, new Evaluator(), { settings: {}, responses: {} }, undefined, log)).endpoints[0].clusters.find((c) => c.id === "0x0300")!.featureMap;
    expect(await featureMapOf({ caps: { ct: true }, x: 1, y: 1 })).toBe(25);
    expect(await featureMapOf({ caps: { ct: false }, x: 1, y: 1 })).toBe(9);
    expect(await featureMapOf({ caps: { bad: true } })).toBeUndefined();
    expect(records.find((r) => r.element === "ColorControl.FeatureMap")).toMatchObject({ at: expect.stringMatching(/^conf\/connector\.yaml:23:/) });
  });
});
