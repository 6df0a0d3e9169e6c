/**
 * Every Matter value is checked against its type before it leaves: attribute values and event
 * fields going to MI are left out (and logged with their expression's YAML position) when they do
 * not fit; command fields and written values from MI that do not fit fail the command with
 * CONSTRAINT_ERROR before any vendor call.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateMappingText } from "../../engine/mapping/index.ts";
import type { CompiledBundle } from "../../engine/mapping/compiled.ts";
import { ClusterTable } from "../../engine/matter/cluster-table.ts";
import { checkValue, valueTypeOf } from "../../engine/matter/value-type.ts";
import { capabilityReport, readCluster } from "../../engine/runtime/device-model.ts";
import { Evaluator } from "../../engine/runtime/expressions.ts";
import { auditMatterValues } from "../../engine/local/matter-value-audit.ts";
import { createEngine } from "../../engine/handler/create-handler.ts";
import { MemoryStateStore } from "../../engine/store/memory-store.ts";
import { memorySink, RedactingLogger, type LogRecord } from "../../engine/log/json-logger.ts";
import { FixtureHarness, FIXTURE_TOKEN } from "../../engine/testing/fixture-runner.ts";
import { oneEndpointBundleHead } from "../mapping/one-endpoint-bundle.ts";

const table = ClusterTable.default();
const typeOf = (cluster: string, attribute: string) => {
  const c = table.cluster(cluster)!;
  return valueTypeOf(table.attribute(c, attribute)!, c);
};

describe("checkValue", () => {
  it.each<[string, string, unknown, RegExp]>([
    ["LevelControl", "CurrentLevel", 800, /above the range of uint8 \(0\.\.254\)/],
    ["LevelControl", "CurrentLevel", 12.5, /not an integer/],
    ["LevelControl", "CurrentLevel", "127", /not an integer/],
    ["Thermostat", "SystemMode", "heat", /not a member of SystemModeEnum/],
    ["Thermostat", "SystemMode", 2, /2 is not a member of SystemModeEnum \(0, 1, 3, 4, 5, 6, 7, 8, 9\)/],
    ["OnOff", "OnOff", 1, /not a bool/],
    ["OnOff", "OnOff", null, /not nullable/],
    ["Thermostat", "LocalTemperature", -30000, /below the range of temperature/],
    ["FanControl", "PercentSetting", 101, /above the range of percent \(0\.\.100\)/],
    ["BasicInformation", "NodeLabel", "x".repeat(33), /at most 32 bytes/],
    ["ColorControl", "CurrentX", 65280, /above the range/],
  ])("refuses %s.%s = %j", (cluster, attribute, value, why) => {
    expect(checkValue(typeOf(cluster, attribute), value)).toMatch(why);
  });

  it.each<[string, string, unknown]>([
    ["LevelControl", "CurrentLevel", 254],
    ["LevelControl", "CurrentLevel", null],
    ["Thermostat", "SystemMode", 4],
    ["OnOff", "OnOff", false],
    ["Thermostat", "LocalTemperature", 2150],
    ["Thermostat", "LocalTemperature", null],
    ["ColorControl", "ColorMode", 2],
    ["IlluminanceMeasurement", "MeasuredValue", 0],
    ["PressureMeasurement", "MeasuredValue", -20],
    ["CarbonDioxideConcentrationMeasurement", "MeasuredValue", 412.5],
  ])("accepts %s.%s = %j", (cluster, attribute, value) => {
    expect(checkValue(typeOf(cluster, attribute), value)).toBeUndefined();
  });
});

const FILE = "mem/connector.yaml";
const bundleText = `${oneEndpointBundleHead("mem", "Memory", "light")}        deviceTypes: [Dimmable Light]
        clusters:
          OnOff:
            attributes:
              OnOff: power
          LevelControl:
            attributes:
              CurrentLevel: level
              OnLevel: onLevel
              RemainingTime: remaining
          Thermostat:
            attributes:
              SystemMode: mode
              LocalTemperature: temp
`;

function compiled(): CompiledBundle {
  const result = validateMappingText(bundleText, FILE);
  expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return result.bundle!;
}

const lineOf = (needle: string) => bundleText.split("\n").findIndex((l) => l.includes(needle)) + 1;

describe("values read from the vendor", () => {
  const bundle = compiled();
  const evaluator = new Evaluator();
  const endpoint = bundle.profiles[0].endpoints[0];
  const cluster = (name: string) => endpoint.clusters.find((c) => c.name === name)!;

  it("leaves out what does not fit, logs where the expression is, and keeps the rest", async () => {
    const records: LogRecord[] = [];
    const logger = new RedactingLogger(memorySink(records));
    const device = { power: "on", level: 800, onLevel: null, remaining: undefined, mode: "heat", temp: 2150 };
    const level = await readCluster(cluster("LevelControl"), device, evaluator, { settings: {}, responses: {} }, undefined, logger);
    expect([...level.entries()]).toEqual([["0x0011", null]]); // OnLevel is nullable; RemainingTime unknown: left out silently
    const onOff = await readCluster(cluster("OnOff"), device, evaluator, { settings: {}, responses: {} }, undefined, logger);
    expect(onOff.size).toBe(0);
    const thermostat = await readCluster(cluster("Thermostat"), device, evaluator, { settings: {}, responses: {} }, undefined, logger);
    expect([...thermostat.entries()]).toEqual([["0x0000", 2150]]);
    const warned = records.filter((r) => r.level === "warn").map((r) => [r.at, r.element]);
    expect(warned).toEqual([
      [`${FILE}:${lineOf("CurrentLevel: level")}:29`, "LevelControl.CurrentLevel"],
      [`${FILE}:${lineOf("OnOff: power")}:22`, "OnOff.OnOff"],
      [`${FILE}:${lineOf("SystemMode: mode")}:27`, "Thermostat.SystemMode"],
    ]);
    expect(records.find((r) => r.element === "LevelControl.CurrentLevel")?.problem).toMatch(/800 is above the range of uint8/);
  });

  it("never sends null for a non-nullable attribute nor an empty value in the capability report", async () => {
    const report = await capabilityReport(bundle.profiles[0], { power: null, level: 800, onLevel: 3, mode: 4, temp: null }, evaluator, { settings: {}, responses: {} }, undefined, new RedactingLogger(() => {}));
    const clusters = report.endpoints[0].clusters;
    expect(clusters.find((c) => c.id === "0x0006")!.attributes).toEqual([{ id: "0x0000" }]);
    expect(clusters.find((c) => c.id === "0x0008")!.attributes).toEqual([{ id: "0x0000" }, { id: "0x0011", value: 3 }, { id: "0x0001" }]);
    expect(clusters.find((c) => c.id === "0x0201")!.attributes).toEqual([{ id: "0x001C", value: 4 }, { id: "0x0000", value: null }]);
    expect(auditMatterValues({ Devices: [{ CapabilityReport: report }] })).toEqual([]);
  });
});

describe("the emulator's strict value check", () => {
  it("rejects wrong values in every kind of event body", () => {
    expect(auditMatterValues({ MatterEndpoint: { id: "1", clusters: [{ id: "0x0008", attributes: { "0x0000": 800 } }] } })).toEqual([
      expect.stringMatching(/clusters\[0\]\.attributes\.0x0000 \(LevelControl\.CurrentLevel\): 800 is above/),
    ]);
    expect(auditMatterValues({ MatterEndpoint: { id: "1", clusters: [{ id: "0x0006", attributes: [{ "0x0000": null }] }] } })).toHaveLength(1);
    expect(auditMatterValues({ MatterEndpoint: { id: "1", clusters: [{ id: "0x0045", events: { "0x00": { "0x0000": "open" } } }] } })).toHaveLength(1);
    expect(auditMatterValues({ Devices: [{ CapabilityReport: { endpoints: [{ clusters: [{ id: "0x0201", attributes: [{ id: "0x001C", value: 2 }] }] }] } }] })).toHaveLength(1);
    // Vendor-specific clusters are not Matter's to check.
    expect(auditMatterValues({ MatterEndpoint: { id: "1", clusters: [{ id: "0xFC01", attributes: { "0x0000": "x" } }] } })).toEqual([]);
  });
});

describe("command fields and written values from MI", () => {
  let harness: FixtureHarness;
  beforeAll(async () => {
    harness = await FixtureHarness.start();
    harness.applyEnv();
  });
  afterAll(() => harness.close());

  const lights = [{ id: "d073d5141876", label: "Lamp", power: "on", brightness: 0.5, color: { hue: 0, saturation: 0, kelvin: 3500 }, product: { capabilities: { has_color: true, has_variable_color_temp: true, min_kelvin: 2500, max_kelvin: 9000 } } }];

  const command = (traceId: string, clusterId: string, cmd: string, fields: Record<string, unknown>) => ({
    header: { auth: { type: "OAuth2.0", token: FIXTURE_TOKEN } },
    payload: {
      operationName: "AWS.SendCommand",
      operationVersion: "1.0",
      connectorId: "lifx-connector",
      connectorDeviceId: "d073d5141876",
      traceId,
      endpoints: [{ id: "1", clusters: [{ id: clusterId, commands: [{ [cmd]: fields }] }] }],
    },
  });

  it.each<[string, string, string, Record<string, unknown>, RegExp]>([
    ["a level above 254", "0x0008", "0x00", { "0x0000": 300, "0x0001": 0, "0x0002": 0, "0x0003": 0 }, /MoveToLevel field Level: 300 is above the range of uint8 \(0\.\.254\)/],
    ["a fractional level", "0x0008", "0x00", { "0x0000": "12.5" }, /not an integer/],
    ["a hue above 254", "0x0300", "0x00", { "0x0000": 255, "0x0001": 0 }, /MoveToHue field Hue: 255 is above/],
  ])("refuses %s with CONSTRAINT_ERROR and calls no vendor", async (_what, clusterId, cmd, fields, why) => {
    const engine = createEngine(compiledLifx, { store: new MemoryStateStore(), logger: new RedactingLogger(() => {}) });
    harness.mi.reset();
    harness.vendor.load([{ request: { method: "GET", path: "/v1/lights/id:d073d5141876" }, response: { status: 200, body: lights } }, { request: { method: "GET", path: "/v1/lights/all" }, response: { status: 200, body: lights } }], "replay");
    const ack = (await engine.handle(command(`t-${clusterId}-${cmd}`, clusterId, cmd, fields), { getRemainingTimeInMillis: () => 30_000 })) as any;
    expect(ack.header.responseCode).toBe(400);
    expect(ack.payload.responseMessage).toMatch(/^CONSTRAINT_ERROR \(0x87\)/);
    const [event] = await harness.mi.waitForEvents(1);
    const entry = event.body.MatterEndpoint.clusters[0].commands[cmd];
    expect(entry.responseCode).toBe(400);
    expect(entry.errors.code).toBe("CONSTRAINT_ERROR");
    expect(entry.errors.message).toMatch(why);
    expect(harness.vendor.received.filter((r) => r.method !== "GET")).toEqual([]);
  });

  let compiledLifx: CompiledBundle;
  beforeAll(async () => {
    const { loadBundleOrThrow } = await import("../../engine/mapping/bundle.ts");
    compiledLifx = await loadBundleOrThrow("mappings/lifx");
  });
});

describe("device limits", () => {
  let harness: FixtureHarness;
  let lifx: CompiledBundle;
  beforeAll(async () => {
    harness = await FixtureHarness.start();
    harness.applyEnv();
    const { loadBundleOrThrow } = await import("../../engine/mapping/bundle.ts");
    lifx = await loadBundleOrThrow("mappings/lifx");
  });
  afterAll(() => harness.close());

  // A colour bulb reporting 2500..9000 K: ColorTempPhysicalMinMireds 111, ColorTempPhysicalMaxMireds 400.
  const lights = [{ id: "d073d5141876", label: "Lamp", power: "on", brightness: 0.5, connected: true, color: { hue: 0, saturation: 0, kelvin: 3500 }, product: { capabilities: { has_color: true, has_variable_color_temp: true, min_kelvin: 2500, max_kelvin: 9000 } } }];
  const request = (traceId: string, clusterId: string, cmd: string, fields: Record<string, unknown>) => ({
    header: { auth: { type: "OAuth2.0", token: FIXTURE_TOKEN } },
    payload: { operationName: "AWS.SendCommand", operationVersion: "1.0", connectorId: "lifx-connector", connectorDeviceId: "d073d5141876", traceId, endpoints: [{ id: "1", clusters: [{ id: clusterId, commands: [{ [cmd]: fields }] }] }] },
  });

  async function send(traceId: string, clusterId: string, cmd: string, fields: Record<string, unknown>, vendorAnswers = true) {
    const engine = createEngine(lifx, { store: new MemoryStateStore(), logger: new RedactingLogger(() => {}) });
    harness.mi.reset();
    const ok = { status: 207, body: { results: [{ id: "d073d5141876", status: "ok" }] } };
    harness.vendor.load(
      [
        { request: { method: "GET", path: "/v1/lights/id:d073d5141876" }, response: { status: 200, body: lights } },
        { request: { method: "GET", path: "/v1/lights/all" }, response: { status: 200, body: lights } },
        ...(vendorAnswers ? [{ request: { method: "PUT", path: "/v1/lights/id:d073d5141876/state" }, response: ok }] : []),
      ],
      "replay",
    );
    const ack = (await engine.handle(request(traceId, clusterId, cmd, fields), { getRemainingTimeInMillis: () => 30_000 })) as any;
    const [event] = await harness.mi.waitForEvents(1);
    return { ack, entry: event.body.MatterEndpoint.clusters[0].commands[cmd], puts: harness.vendor.received.filter((r) => r.method === "PUT") };
  }

  it.each<[string, string, string, Record<string, unknown>, RegExp]>([
    ["a colour temperature warmer than the bulb", "0x0300", "0x0A", { "0x0000": 500, "0x0001": 0, "0x0002": 0, "0x0003": 0 }, /ColorTemperatureMireds: 500 is above the device's ColorTempPhysicalMaxMireds \(400\)/],
    ["a colour temperature cooler than the bulb", "0x0300", "0x0A", { "0x0000": 100, "0x0001": 0, "0x0002": 0, "0x0003": 0 }, /100 is below the device's ColorTempPhysicalMinMireds \(111\)/],
    ["a level below MinLevel", "0x0008", "0x00", { "0x0000": 0, "0x0001": 0, "0x0002": 0, "0x0003": 0 }, /MoveToLevel field Level: 0 is below the device's MinLevel \(1\)/],
  ])("answers %s with CONSTRAINT_ERROR and sends nothing to the vendor", async (_what, clusterId, cmd, fields, why) => {
    const { ack, entry, puts } = await send(`lim-${clusterId}-${fields["0x0000"]}`, clusterId, cmd, fields);
    expect(ack.header.responseCode).toBe(400);
    expect(entry).toMatchObject({ responseCode: 400, errors: { code: "CONSTRAINT_ERROR" } });
    expect(entry.errors.message).toMatch(why);
    expect(puts).toEqual([]);
  });

  it("sends a value within the device's limits", async () => {
    const { ack, entry, puts } = await send("lim-ok", "0x0300", "0x0A", { "0x0000": 250, "0x0001": 0, "0x0002": 0, "0x0003": 0 });
    expect(ack.header.responseCode).toBe(200);
    expect(entry.responseCode).toBe(200);
    expect(puts).toHaveLength(1);
  });
});

describe("written values", () => {
  it("refuses an UpdateState value outside the attribute's type with CONSTRAINT_ERROR", async () => {
    const { checkWrittenValue } = await import("../../engine/operations/command/value-checks.ts");
    const bundle = validateMappingText(bundleText, FILE).bundle!;
    const onOff = bundle.profiles[0].endpoints[0].clusters.find((c) => c.name === "OnOff")!;
    expect(checkWrittenValue(onOff, onOff.attributes[0], 5)).toMatchObject({ status: 400, code: "CONSTRAINT_ERROR", message: expect.stringMatching(/OnOff\.OnOff: 5 is not a bool/) });
    expect(checkWrittenValue(onOff, onOff.attributes[0], "false")).toBeUndefined();
  });
});

describe("setpoint limits", () => {
  it("bounds a written setpoint by the limits the thermostat reports, falling back to the absolute ones", async () => {
    const { checkDeviceLimits, limitedValues } = await import("../../engine/operations/command/value-checks.ts");
    const text = bundleText.replace(
      "              SystemMode: mode\n              LocalTemperature: temp\n",
      "              OccupiedHeatingSetpoint: heat\n              MinHeatSetpointLimit: minHeat\n              AbsMinHeatSetpointLimit: { value: 500 }\n              AbsMaxHeatSetpointLimit: { value: 3000 }\n",
    );
    const result = validateMappingText(text, FILE);
    const thermostat = result.bundle!.profiles[0].endpoints[0].clusters.find((c) => c.name === "Thermostat")!;
    const log = new RedactingLogger(() => {});
    const check = (value: number, device: unknown) =>
      checkDeviceLimits(thermostat, limitedValues(thermostat, 0xff01, { "0x0012": value }), device, new Evaluator(), { settings: {}, responses: {} }, log);
    expect((await check(600, { minHeat: 700 }))?.message).toMatch(/OccupiedHeatingSetpoint: 600 is below the device's MinHeatSetpointLimit \(700\)/);
    expect((await check(600, {}))).toBeUndefined(); // MinHeatSetpointLimit not reported: AbsMin 500 applies
    expect((await check(400, {}))?.message).toMatch(/below the device's AbsMinHeatSetpointLimit \(500\)/);
    expect((await check(3100, {}))?.code).toBe("CONSTRAINT_ERROR");
  });
});
