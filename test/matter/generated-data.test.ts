/**
 * The Matter data is generated from @matter/model (scripts/generate-matter-data.ts) and committed;
 * these tests hold the committed file to the generator and check that the clusters integrators
 * asked for are all there, by name and by id, with types, ranges, enums and access.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { MATTER_DATA_FILE, renderMatterData } from "../../scripts/generate-matter-data.ts";
import { ClusterTable } from "../../engine/matter/cluster-table.ts";
import { validateMappingText } from "../../engine/mapping/index.ts";
import { oneEndpointBundleHead } from "../mapping/one-endpoint-bundle.ts";

const table = ClusterTable.default();

describe("generated Matter data", () => {
  it("is what `npm run generate` writes (run it after changing the generator or @matter/model)", () => {
    expect(readFileSync(MATTER_DATA_FILE, "utf8") === renderMatterData()).toBe(true);
  }, 20_000);

  it("holds every Matter 1.4 cluster and device type of the model", () => {
    expect(table.specVersion).toBe("1.4");
    expect(table.clusters().length).toBeGreaterThanOrEqual(119);
    expect(table.deviceTypes().length).toBeGreaterThanOrEqual(71);
    expect(new Set(table.clusters().map((c) => c.id)).size).toBe(table.clusters().length);
    const application = table.clusters().filter((c) => c.classification === "application");
    expect(application.length).toBeGreaterThan(70);
  });

  const wanted: Array<[number, string, string]> = [
    [0x0204, "ThermostatUserInterfaceConfiguration", "Thermostat User Interface Configuration"],
    [0x0400, "IlluminanceMeasurement", "Illuminance Measurement"],
    [0x0402, "TemperatureMeasurement", "Temperature Measurement"],
    [0x0403, "PressureMeasurement", "Pressure Measurement"],
    [0x0405, "RelativeHumidityMeasurement", "Relative Humidity Measurement"],
    [0x0406, "OccupancySensing", "Occupancy Sensing"],
    [0x0045, "BooleanState", "Boolean State"],
    [0x0101, "DoorLock", "Door Lock"],
    [0x0102, "WindowCovering", "Window Covering"],
    [0x0202, "FanControl", "Fan Control"],
    [0x002f, "PowerSource", "Power Source"],
    [0x0039, "BridgedDeviceBasicInformation", "Bridged Device Basic Information"],
    [0x005b, "AirQuality", "Air Quality"],
    [0x040d, "CarbonDioxideConcentrationMeasurement", "Carbon Dioxide Concentration Measurement"],
    [0x042a, "Pm25ConcentrationMeasurement", "PM2.5 Concentration Measurement"],
  ];

  it.each(wanted)("finds cluster 0x%s by id, matter.js name and spec name", (id, name, specName) => {
    for (const ref of [id, `0x${id.toString(16).padStart(4, "0")}`, name, specName]) {
      expect(table.cluster(ref)?.id).toBe(id);
    }
    expect(table.cluster(id)?.specName).toBe(specName);
    expect(table.cluster(id)?.attributes.length).toBeGreaterThan(0);
  });

  it("carries types, ranges, enums, access, quality and features", () => {
    const illuminance = table.cluster("IlluminanceMeasurement")!;
    const measured = table.attribute(illuminance, "MeasuredValue")!;
    expect(measured).toMatchObject({ type: "uint16", nullable: true, writable: false, conformance: "M" });
    expect(measured.range).toEqual([0, 65534]);
    const pressure = table.cluster("PressureMeasurement")!;
    expect(table.attribute(pressure, "MeasuredValue")).toMatchObject({ type: "int16", nullable: true, range: [-32767, 32767] });
    expect(table.feature(pressure, "EXT")?.name).toBe("Extended");
    const tui = table.cluster(0x0204)!;
    const units = table.attribute(tui, "TemperatureDisplayMode")!;
    expect(units).toMatchObject({ type: "TemperatureDisplayModeEnum", kind: "enum", writable: true });
    expect(tui.datatypes.TemperatureDisplayModeEnum.values?.map((v) => v.name)).toEqual(["Celsius", "Fahrenheit"]);
    const thermostat = table.cluster("Thermostat")!;
    expect(table.attribute(thermostat, "OccupiedHeatingSetpoint")).toMatchObject({ type: "temperature", writable: true, range: [-27315, 32767] });
    const level = table.cluster("LevelControl")!;
    expect(table.attribute(level, "CurrentLevel")).toMatchObject({ nullable: true, quality: "X N S Q", range: [0, 254] });
    const fan = table.cluster("FanControl")!;
    expect(table.attribute(fan, "PercentSetting")).toMatchObject({ type: "percent", nullable: true, writable: true, range: [0, 100] });
    // Derived clusters carry their base's members and datatypes.
    const co2 = table.cluster("CarbonDioxideConcentrationMeasurement")!;
    expect(table.attribute(co2, "MeasuredValue")).toMatchObject({ type: "single", nullable: true, conformance: "MEA" });
    expect(Object.keys(co2.datatypes)).toContain("MeasurementUnitEnum");
    expect(co2.classification).toBe("application");
  });

  it("lets a bundle map the newly covered clusters by name and by id", () => {
    const clusters = wanted
      .map(([id], i) => {
        const def = table.cluster(id)!;
        const attr = def.attributes.find((a) => a.conformance === "M" || a.conformance === "O")!;
        // Odd rows by hex id, even rows by name: both resolve.
        const key = i % 2 ? `"0x${id.toString(16).padStart(4, "0").toUpperCase()}"` : def.name;
        return `          ${key}:\n            attributes:\n              ${attr.name}:\n                value: null\n`;
      })
      .join("");
    const text = `${oneEndpointBundleHead("mem", "Memory", "all")}        deviceTypes: ["Air Quality Sensor"]
        clusters:
${clusters}`;
    const result = validateMappingText(text, "mem/connector.yaml");
    const unknown = result.diagnostics.filter((d) => /unknown/.test(d.rule));
    expect(unknown).toEqual([]);
  });
});
