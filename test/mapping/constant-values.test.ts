/**
 * `c2c validate` refuses constants that are not values of their Matter attribute: wrong type,
 * out of range, not an enum member, null on a non-nullable attribute. Errors, not warnings: such a
 * bundle does not build.
 */
import { describe, expect, it } from "vitest";
import { validateMappingText } from "../../engine/mapping/index.ts";
import { oneEndpointBundleHead } from "./one-endpoint-bundle.ts";

const FILE = "mem/connector.yaml";

function doc(cluster: string, attribute: string, value: string): string {
  return `${oneEndpointBundleHead("mem", "Memory")}        deviceTypes: [Dimmable Light]
        clusters:
          ${cluster}:
            attributes:
              ${attribute}:
                value: ${value}
`;
}

describe("constants", () => {
  it.each<[string, string, string, RegExp]>([
    ["LevelControl", "MaxLevel", "800", /LevelControl\.MaxLevel: 800 is above the range of uint8/],
    ["LevelControl", "MinLevel", "1.5", /not an integer/],
    ["OnOff", "GlobalSceneControl", "3", /3 is not a bool/],
    ["OnOff", "OnOff", "null", /bool is not nullable/],
    ["Thermostat", "ControlSequenceOfOperation", "'cooling'", /not a member of ControlSequenceOfOperationEnum/],
    ["Thermostat", "ControlSequenceOfOperation", "9", /9 is not a member/],
    ["ColorControl", "ColorCapabilities", "-1", /below the range/],
    ["BasicInformation", "VendorName", "42", /not a string/],
  ])("refuses %s.%s = %s as an error at its position", (cluster, attribute, value, why) => {
    const text = doc(cluster, attribute, value);
    const result = validateMappingText(text, FILE);
    const found = result.diagnostics.filter((d) => d.rule === "matter/constant-value");
    expect(found).toHaveLength(1);
    expect(found[0].severity).toBe("error");
    expect(found[0].message).toMatch(why);
    expect(found[0].line).toBe(text.split("\n").findIndex((l) => l.includes(`value: ${value}`)) + 1);
    expect(result.bundle).toBeUndefined();
  });

  it("names the members of an enum in the hint", () => {
    const result = validateMappingText(doc("Thermostat", "ControlSequenceOfOperation", "9"), FILE);
    expect(result.diagnostics.find((d) => d.rule === "matter/constant-value")?.hint).toMatch(/0 CoolingOnly, 1 CoolingWithReheat/);
  });

  it.each<[string, string, string]>([
    ["LevelControl", "MaxLevel", "254"],
    ["LevelControl", "OnLevel", "null"],
    ["Thermostat", "ControlSequenceOfOperation", "4"],
    ["ColorControl", "ColorCapabilities", "17"],
    ["BasicInformation", "VendorName", "Acme"],
  ])("accepts %s.%s = %s", (cluster, attribute, value) => {
    const result = validateMappingText(doc(cluster, attribute, value), FILE);
    expect(result.diagnostics.filter((d) => d.rule === "matter/constant-value")).toEqual([]);
  });
});
