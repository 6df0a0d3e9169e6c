import { describe, expect, it } from "vitest";
import { ClusterTable } from "../../engine/matter/cluster-table.ts";
import {
  evaluateConformance,
  featureResolver,
  mandatoryElements,
  unknownConditions,
  type ConditionResolver,
} from "../../engine/matter/conformance.ts";
import { requiredClusters, requiredElements } from "../../engine/matter/device-types.ts";

const table = ClusterTable.default();
const set = (...names: string[]): ConditionResolver => (id) => names.includes(id);

describe("evaluateConformance", () => {
  it.each([
    ["M", "mandatory"],
    ["O", "optional"],
    ["P", "provisional"],
    ["D", "deprecated"],
    ["X", "disallowed"],
    ["desc", "optional"],
    ["O.a+", "optional"],
    ["M, D", "mandatory"],
    ["P, M", "provisional"],
  ] as const)("evaluates fixed term %j", (expression, expected) => {
    expect(evaluateConformance(expression, unknownConditions)).toBe(expected);
  });

  it("evaluates feature expressions", () => {
    expect(evaluateConformance("LT", set("LT"))).toBe("mandatory");
    expect(evaluateConformance("LT", set())).toBe("disallowed");
    expect(evaluateConformance("!OFFONLY", set())).toBe("mandatory");
    expect(evaluateConformance("!OFFONLY", set("OFFONLY"))).toBe("disallowed");
    expect(evaluateConformance("[LT]", set("LT"))).toBe("optional");
    expect(evaluateConformance("[LT]", set())).toBe("disallowed");
    expect(evaluateConformance("HS | XY | CT", set("XY"))).toBe("mandatory");
    expect(evaluateConformance("HS | XY | CT", set())).toBe("disallowed");
    expect(evaluateConformance("COOL & OCC", set("COOL"))).toBe("disallowed");
    expect(evaluateConformance("COOL & OCC", set("COOL", "OCC"))).toBe("mandatory");
    expect(evaluateConformance("!USR & (PIN | RID | FGP)", set("RID"))).toBe("mandatory");
    expect(evaluateConformance("!USR & (PIN | RID | FGP)", set("USR", "RID"))).toBe("disallowed");
  });

  it("uses the first applicable term of an otherwise-list", () => {
    expect(evaluateConformance("LF & PA_LF, [LF]", set("LF", "PA_LF"))).toBe("mandatory");
    expect(evaluateConformance("LF & PA_LF, [LF]", set("LF"))).toBe("optional");
    expect(evaluateConformance("LF & PA_LF, [LF]", set())).toBe("disallowed");
    expect(evaluateConformance("AUTO, O.a+", set())).toBe("optional");
    expect(evaluateConformance("AUTO, O.a+", set("AUTO"))).toBe("mandatory");
  });

  it("treats unknown identifiers and unparsable expressions as optional, not mandatory", () => {
    const featuresOnly = set("CT");
    const partial: ConditionResolver = (id) => (id === "CT" ? true : undefined);
    expect(evaluateConformance("NumberOfPrimaries > 0", featuresOnly)).toBe("optional");
    expect(evaluateConformance("CT & ColorTemperatureMireds", partial)).toBe("optional");
    expect(evaluateConformance("Active", unknownConditions)).toBe("optional");
    expect(evaluateConformance("(LT", set("LT"))).toBe("optional");
    expect(evaluateConformance("", set())).toBe("optional");
    // Kleene logic: a known false conjunct decides even when the other is unknown.
    const ctOff: ConditionResolver = (id) => (id === "CT" ? false : undefined);
    expect(evaluateConformance("CT & ColorTemperatureMireds", ctOff)).toBe("disallowed");
    expect(evaluateConformance("toString", unknownConditions)).toBe("optional");
  });
});

describe("cluster conformance", () => {
  const onOff = table.cluster("OnOff")!;

  it("reads feature bits from a FeatureMap", () => {
    const resolve = featureResolver(onOff, 0b101);
    expect(resolve("LT")).toBe(true);
    expect(resolve("lighting")).toBe(true);
    expect(resolve("DF")).toBe(false);
    expect(resolve("OFFONLY")).toBe(true);
    expect(resolve("Unknown")).toBeUndefined();
  });

  it("On/Off without Lighting requires only OnOff, Off, On, Toggle", () => {
    const required = mandatoryElements(onOff, 0);
    expect(required.attributes.map((a) => a.name)).toEqual(["OnOff"]);
    expect(required.commands.map((c) => c.name)).toEqual(["Off", "On", "Toggle"]);
  });

  it("On/Off with Lighting (LT) also requires the lighting attributes and commands", () => {
    const required = mandatoryElements(onOff, 1);
    expect(required.attributes.map((a) => a.name)).toEqual(["OnOff", "GlobalSceneControl", "OnTime", "OffWaitTime", "StartUpOnOff"]);
    expect(required.commands.map((c) => c.name)).toEqual(["Off", "On", "Toggle", "OffWithEffect", "OnWithRecallGlobalScene", "OnWithTimedOff"]);
  });

  it("On/Off with OffOnly drops On and Toggle", () => {
    const offOnlyBit = 2 ** table.feature(onOff, "OFFONLY")!.bit;
    expect(mandatoryElements(onOff, offOnlyBit).commands.map((c) => c.name)).toEqual(["Off"]);
  });

  it("Color Control with XY and CT requires their attributes and commands", () => {
    const color = table.cluster("ColorControl")!;
    const featureMap = 2 ** table.feature(color, "XY")!.bit + 2 ** table.feature(color, "CT")!.bit;
    const required = mandatoryElements(color, featureMap);
    const attributes = required.attributes.map((a) => a.name);
    expect(attributes).toEqual(expect.arrayContaining(["CurrentX", "CurrentY", "ColorTemperatureMireds", "ColorMode"]));
    expect(attributes).not.toContain("CurrentHue");
    expect(required.commands.map((c) => c.name)).toEqual(expect.arrayContaining(["MoveToColor", "MoveToColorTemperature", "StopMoveStep"]));
    expect(required.commands.map((c) => c.name)).not.toContain("MoveToHue");
  });
});

describe("requiredClusters", () => {
  it("Extended Color Light requires On/Off, Level Control and Color Control", () => {
    const light = table.deviceType("Extended Color Light")!;
    const names = requiredClusters(light).map((c) => c.name);
    expect(names).toEqual(["Descriptor", "Identify", "Groups", "OnOff", "LevelControl", "ColorControl"]);
    // Provisional Scenes Management is not counted as required.
    expect(names).not.toContain("ScenesManagement");
    const color = requiredClusters(light).find((c) => c.id === 0x0300)!;
    expect(requiredElements(color, "feature").map((e) => e.name)).toEqual(["XY", "COLORTEMPERATURE"]);
    expect(table.feature(table.cluster(color.id)!, "COLORTEMPERATURE")?.code).toBe("CT");
  });

  it("Thermostat requires the Thermostat cluster; Groups depends on a condition", () => {
    const thermostat = table.deviceType("0x0301")!;
    const required = requiredClusters(thermostat);
    expect(required.map((c) => c.hexId)).toEqual(["0x001D", "0x0003", "0x0201"]);
    expect(required.map((c) => c.name)).not.toContain("Groups");
    expect(required.map((c) => c.name)).not.toContain("ThermostatUserInterfaceConfiguration");
  });

  it("On/Off Light does not require Level Control", () => {
    const names = requiredClusters(table.deviceType("On/Off Light")!).map((c) => c.name);
    expect(names).toContain("OnOff");
    expect(names).not.toContain("LevelControl");
  });
});
