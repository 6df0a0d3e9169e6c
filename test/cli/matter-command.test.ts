/**
 * Names everywhere (issue #9 item 6): `c2c matter [name]` lists and shows the Matter data, by
 * name or hex id, with a did-you-mean for unknown names; the generated editor schema offers the
 * cluster, attribute, command, event and device-type names and is up to date.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Ajv } from "ajv";
import { parse } from "yaml";
import { renderEditorSchema, EDITOR_SCHEMA_FILE } from "../../scripts/generate-editor-schema.ts";
import { cli, REPO } from "./helpers.ts";
import { oneEndpointBundleHead } from "../mapping/one-endpoint-bundle.ts";

describe("c2c matter", () => {
  it("lists every cluster and device type with ids", async () => {
    const r = await cli(["matter"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Matter 1\.4: 119 clusters, 71 device types/);
    expect(r.stdout).toMatch(/\n {2}0x0008 {2}LevelControl +Level Control\n/);
    expect(r.stdout).toMatch(/\n {2}0x0204 {2}ThermostatUserInterfaceConfiguration/);
    expect(r.stdout).toMatch(/\n {2}0x0101 {2}Dimmable Light\n/);
  });

  it.each(["LevelControl", "0x0008", "Level Control", "level-control"])("shows one cluster by %j: features, attributes with type/range/access/conformance, commands with fields", async (name) => {
    const r = await cli(["matter", name]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^LevelControl \(0x0008\), spec name "Level Control", revision 6, application/);
    expect(r.stdout).toContain("bit 1 (2): LT Lighting  O");
    expect(r.stdout).toContain("0x0000  CurrentLevel: uint8 (nullable)  0..254  R V  X N S Q  M");
    expect(r.stdout).toContain("0x0011  OnLevel: uint8 (nullable)  0..254  RW VO (writable)  X  M");
    expect(r.stdout).toContain("0x00  MoveToLevel -> status  M");
    expect(r.stdout).toContain("0x0001  TransitionTime: uint16 (nullable) 0..65534  conformance M");
  });

  it("shows enum members and events", async () => {
    const r = await cli(["matter", "Thermostat"]);
    expect(r.stdout).toMatch(/0x001C {2}SystemMode: SystemModeEnum .*\n {6}0 Off, 1 Auto, 3 Cool, 4 Heat/);
    const lock = await cli(["matter", "DoorLock"]);
    expect(lock.stdout).toMatch(/Events \(id {2}name {2}conformance; fields\):\n {2}0x00 {2}DoorLockAlarm {2}M\n {6}0x0000 {2}AlarmCode: AlarmCodeEnum/);
  });

  it("shows a device type with its required clusters and element requirements", async () => {
    const r = await cli(["matter", "Extended Color Light"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Extended Color Light \(0x010D\)/);
    expect(r.stdout).toMatch(/0x0300 {2}ColorControl {2}M \(required\)\n(?: {6}.*\n)*? {6}feature XY conformance=M/);
  });

  it("answers an unknown name with a did-you-mean and exit code 1", async () => {
    const cluster = await cli(["matter", "LevelControll"]);
    expect(cluster.code).toBe(1);
    expect(cluster.stderr).toContain('unknown Matter cluster or device type "LevelControll". Did you mean "LevelControl"?');
    const deviceType = await cli(["matter", "Dimable Light"]);
    expect(deviceType.stderr).toContain('Did you mean "Dimmable Light"?');
  });

  it("--json prints the table's element", async () => {
    const r = await cli(["matter", "0x0406", "--json"]);
    expect(JSON.parse(r.stdout)).toMatchObject({ id: 0x0406, name: "OccupancySensing" });
  });
});

describe("editor schema (schemas/editor/connector.schema.json)", () => {
  it("is what the generator writes (npm run generate)", async () => {
    expect(await readFile(EDITOR_SCHEMA_FILE, "utf8")).toBe(renderEditorSchema());
  });

  it("offers cluster, attribute, command, event and device-type names", async () => {
    const schema = JSON.parse(await readFile(EDITOR_SCHEMA_FILE, "utf8"));
    const endpoint = schema.allOf[1].properties.profiles.additionalProperties.properties.endpoints.items.properties;
    expect(endpoint.deviceTypes.items.anyOf[0].enum).toContain("Extended Color Light");
    const level = endpoint.clusters.properties.LevelControl;
    expect(level.description).toMatch(/^Level Control \(0x0008\)/);
    expect(level.properties.attributes.properties.CurrentLevel.description).toMatch(/^0x0000 uint8 \(nullable\) 0\.\.254/);
    expect(Object.keys(level.properties.commands.properties)).toContain("MoveToLevelWithOnOff");
    expect(Object.keys(endpoint.clusters.properties.BooleanState.properties.events.properties)).toEqual(["StateChange"]);
  });

  it("accepts every bundle in mappings/ (names are offered, ids stay valid)", async () => {
    const ajv = new Ajv({ allErrors: true, strict: false });
    ajv.addSchema(JSON.parse(await readFile(join(REPO, "schemas/mapping.schema.json"), "utf8")), "../mapping.schema.json");
    const validate = ajv.compile(JSON.parse(await readFile(EDITOR_SCHEMA_FILE, "utf8")));
    for (const bundle of ["hue", "lifx", "nest", "netatmo", "shelly", "smartthings", "tuya"]) {
      const doc = parse(await readFile(join(REPO, "mappings", bundle, "connector.yaml"), "utf8"), { merge: true });
      expect(validate(doc), `${bundle}: ${JSON.stringify(validate.errors?.slice(0, 2))}`).toBe(true);
    }
  });
});

describe("validate: a did-you-mean on every unknown Matter name", () => {
  const text = `${oneEndpointBundleHead("names", "Names")}        deviceTypes: [Contact Sensr]
        clusters:
          BooleanStat:
            attributes: { StateValue: "closed" }
          BooleanState:
            attributes: { StateValu: "closed" }
            events:
              StateChang: { when: "true", fields: { StateValue: "closed" } }
          OnOff:
            attributes: { OnOff: "on" }
            commands:
              "Off": { method: POST, path: /off, confirms: { OnOf: "false" } }
              Toggel: { method: POST, path: /t }
              "On": { method: POST, path: /on, confirms: { LevelControll.CurrentLevel: "1" } }
          DoorLock:
            attributes: { LockState: "1" }
            events:
              DoorLockAlarm: { when: "true", fields: { AlarmCod: "1" } }
`;
  it.each([
    ["matter/unknown-device-type", "Contact Sensor"],
    ["matter/unknown-cluster", "BooleanState"],
    ["matter/unknown-attribute", "StateValue"],
    ["matter/unknown-event", "StateChange"],
    ["matter/unknown-command", "Toggle"],
    ["matter/unknown-attribute", "OnOff"],
    ["matter/unknown-cluster", "LevelControl"],
    ["matter/unknown-field", "AlarmCode"],
  ])("%s suggests %s", async (rule, wanted) => {
    const { validateMappingText } = await import("../../engine/mapping/index.ts");
    const hints = validateMappingText(text, "names/connector.yaml").diagnostics.filter((d) => d.rule === rule).map((d) => d.hint ?? "");
    expect(hints.some((h) => h.startsWith(`did you mean "${wanted}"`)), `${rule}: ${JSON.stringify(hints)}`).toBe(true);
  });
});
