import { describe, expect, it } from "vitest";
import { ClusterTable, parseElementRequirement } from "../../engine/matter/cluster-table.ts";
import { editDistance, suggest } from "../../engine/matter/suggest.ts";

const table = ClusterTable.default();

describe("ClusterTable.cluster", () => {
  it("is built once per process", () => {
    expect(ClusterTable.default()).toBe(table);
  });

  it.each([6, "0x0006", "0x6", "0X0006", "6", "OnOff", "onoff", "On/Off", "on/off", "on-off", "On Off", "ONOFF"])(
    "finds On/Off by %j",
    (ref) => {
      const cluster = table.cluster(ref);
      expect(cluster?.name).toBe("OnOff");
      expect(cluster?.id).toBe(6);
      expect(cluster?.hexId).toBe("0x0006");
      expect(cluster?.specName).toBe("On/Off");
    },
  );

  it("finds clusters by spec name and matter.js name", () => {
    expect(table.cluster("Level Control")?.id).toBe(8);
    expect(table.cluster("LevelControl")?.specName).toBe("Level Control");
    expect(table.cluster("ColorControl")?.id).toBe(0x0300);
    expect(table.cluster("color control")?.hexId).toBe("0x0300");
    expect(table.cluster(0x0201)?.name).toBe("Thermostat");
  });

  it("returns undefined for unknown clusters and malformed ids", () => {
    expect(table.cluster("OnOf")).toBeUndefined();
    expect(table.cluster(0x9999)).toBeUndefined();
    expect(table.cluster("0x9999")).toBeUndefined();
    expect(table.cluster("0x1FFFFFFFF")).toBeUndefined();
    expect(table.cluster(6.5)).toBeUndefined();
    expect(table.cluster("")).toBeUndefined();
  });

  it("lists all clusters and device types", () => {
    const names = table.clusters().map((c) => c.name);
    expect(names).toContain("OnOff");
    expect(names).toContain("Thermostat");
    expect(new Set(table.clusters().map((c) => c.id)).size).toBe(table.clusters().length);
    expect(table.deviceTypes().map((d) => d.name)).toContain("ExtendedColorLight");
  });
});

describe("element lookups", () => {
  const onOff = table.cluster("OnOff")!;
  const level = table.cluster("LevelControl")!;
  const color = table.cluster("ColorControl")!;

  it("finds attributes by id and name", () => {
    expect(table.attribute(onOff, 0)?.name).toBe("OnOff");
    expect(table.attribute(onOff, "0x0000")?.type).toBe("bool");
    expect(table.attribute(onOff, "0x4001")?.name).toBe("OnTime");
    expect(table.attribute(onOff, "ontime")?.id).toBe(0x4001);
    expect(table.attribute(level, "CurrentLevel")?.hexId).toBe("0x0000");
    expect(table.attribute(color, "colorTemperatureMireds")?.id).toBe(7);
  });

  it("finds global attributes in every cluster", () => {
    for (const cluster of [onOff, level, color]) {
      const revision = table.attribute(cluster, "0xFFFD");
      expect(revision?.name).toBe("ClusterRevision");
      expect(revision?.global).toBe(true);
      expect(table.attribute(cluster, "FeatureMap")?.id).toBe(0xfffc);
    }
    expect(table.globalAttributes.map((a) => a.hexId)).toContain("0xFFF8");
  });

  it("finds commands, with fields inherited through fieldsFrom", () => {
    expect(table.command(onOff, "0x02")?.name).toBe("Toggle");
    expect(table.command(onOff, "on")?.hexId).toBe("0x01");
    const moveToLevel = table.command(level, "MoveToLevel")!;
    const withOnOff = table.command(level, "0x04")!;
    expect(withOnOff.name).toBe("MoveToLevelWithOnOff");
    expect(withOnOff.fields.map((f) => f.name)).toEqual(moveToLevel.fields.map((f) => f.name));
    expect(withOnOff.fields.length).toBeGreaterThan(0);
    expect(table.command(onOff, "Dim")).toBeUndefined();
  });

  it("finds command fields by id and name", () => {
    const moveToLevel = table.command(level, "MoveToLevel")!;
    expect(table.commandField(moveToLevel, 0)?.name).toBe("Level");
    expect(table.commandField(moveToLevel, "0x0000")?.name).toBe("Level");
    expect(table.commandField(moveToLevel, "level")?.hexId).toBe("0x0000");
    expect(table.commandField(moveToLevel, "TransitionTime")?.id).toBe(1);
    expect(table.commandField(moveToLevel, "Brightness")).toBeUndefined();
  });

  it("keeps response commands apart from request commands with the same id", () => {
    const thermostat = table.cluster("Thermostat")!;
    expect(table.command(thermostat, 0)?.name).toBe("SetpointRaiseLower");
    expect(table.responseCommand(thermostat, 0)?.name).toBe("GetWeeklyScheduleResponse");
  });

  it("finds events", () => {
    const occupancy = table.cluster("Occupancy Sensing")!;
    expect(table.event(occupancy, "0x00")?.name).toBe("OccupancyChanged");
    expect(table.event(occupancy, "occupancychanged")?.fields[0].name).toBe("Occupancy");
    expect(table.event(onOff, 0)).toBeUndefined();
  });

  it("finds features by code or name", () => {
    expect(table.feature(onOff, "LT")?.bit).toBe(0);
    expect(table.feature(onOff, "Lighting")?.code).toBe("LT");
    expect(table.feature(color, "COLORTEMPERATURE")?.code).toBe("CT");
    expect(table.feature(onOff, "XY")).toBeUndefined();
  });

  it("inherits datatypes through datatypesFrom", () => {
    const bridged = table.cluster("BridgedDeviceBasicInformation")!;
    const basic = table.cluster("BasicInformation")!;
    const inherited = Object.keys(basic.datatypes).filter((name) => !(name in bridged.datatypes));
    expect(inherited).toEqual([]);
  });
});

describe("device types", () => {
  it("finds device types by id, name and spec name", () => {
    for (const ref of ["0x010D", "0x10d", 269, "ExtendedColorLight", "Extended Color Light", "extended-color-light"]) {
      expect(table.deviceType(ref)?.name).toBe("ExtendedColorLight");
    }
    expect(table.deviceType("On/Off Plug-in Unit")?.id).toBe(0x010a);
    expect(table.deviceType("Thermostat")?.hexId).toBe("0x0301");
    expect(table.deviceType("Lamp")).toBeUndefined();
  });

  it("parses element requirements", () => {
    expect(parseElementRequirement("feature USER conformance=Matter & (PIN | RID)")).toMatchObject({
      kind: "feature",
      name: "USER",
      conformance: "Matter & (PIN | RID)",
    });
    expect(parseElementRequirement("attribute CurrentLevel constraint=1 to 254")).toMatchObject({
      kind: "attribute",
      name: "CurrentLevel",
      constraint: "1 to 254",
    });
    expect(parseElementRequirement("feature MNGD conformance=[ManagedAclAllowed] constraint=desc")).toMatchObject({
      conformance: "[ManagedAclAllowed]",
      constraint: "desc",
    });
    expect(() => parseElementRequirement("widget Foo conformance=M")).toThrow(/Unrecognised/);
  });
});

describe("suggest", () => {
  it("computes edit distance", () => {
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("same", "same")).toBe(0);
  });

  it("proposes the nearest cluster names", () => {
    expect(table.suggestCluster("OnOf")[0]).toBe("OnOff");
    expect(table.suggestCluster("LevelControll")[0]).toBe("LevelControl");
    expect(table.suggestCluster("Colour Control")).toContain("ColorControl");
    expect(table.suggestCluster("Thermostatt")[0]).toBe("Thermostat");
    expect(table.suggestCluster("Zzzzzzzzzzzz")).toEqual([]);
  });

  it("proposes element names", () => {
    const level = table.cluster("LevelControl")!;
    expect(table.suggestAttribute(level, "CurentLevel")[0]).toBe("CurrentLevel");
    expect(table.suggestAttribute(level, "ClusterRevison")[0]).toBe("ClusterRevision");
    expect(table.suggestCommand(level, "MoveToLevl")[0]).toBe("MoveToLevel");
    expect(table.suggestDeviceType("Extended Colour Light")[0]).toBe("ExtendedColorLight");
    const moveToLevel = table.command(level, "MoveToLevel")!;
    expect(table.suggestField(moveToLevel, "TransitonTime")[0]).toBe("TransitionTime");
  });

  it("works on arbitrary candidates, best first, with a limit", () => {
    expect(suggest("heat", ["cool", "heats", "off", "heat"])).toEqual(["heat", "heats"]);
    expect(suggest("abcdef", ["abcdeg", "abcdxx", "abcdef"], 2)).toEqual(["abcdef", "abcdeg"]);
    expect(suggest("", ["a"])).toEqual([]);
  });
});
