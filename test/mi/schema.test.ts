import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { javaPatternToEcma, renderSendConnectorEventSchema, SCHEMA_FILE } from "../../scripts/generate-sce-schema.ts";
import { compileEventValidator, validateConnectorId, validateEventBody } from "../../engine/mi/event-validation.ts";

// Copies of shared/spec/examples/send-connector-event.api-example.*.request.json (the Smithy model's examples).
const EXAMPLES_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures");
const exampleFiles = readdirSync(EXAMPLES_DIR).filter((f) => /^send-connector-event\.api-example\..*\.request\.json$/.test(f));

function exampleBody(file: string): Record<string, any> {
  const { ConnectorId: _label, ...body } = JSON.parse(readFileSync(path.join(EXAMPLES_DIR, file), "utf8"));
  return body;
}

const discovery = () => exampleBody("send-connector-event.api-example.device-discovery.request.json");
const commandResponse = () => exampleBody("send-connector-event.api-example.device-command-response.request.json");

describe("generated SendConnectorEvent schema", () => {
  it("is up to date with the Smithy shapes", () => {
    expect(readFileSync(SCHEMA_FILE, "utf8")).toBe(renderSendConnectorEventSchema());
  });

  it("accepts the three API examples (without the ConnectorId label)", () => {
    expect(exampleFiles).toHaveLength(3);
    for (const file of exampleFiles) expect(validateEventBody(exampleBody(file)), file).toEqual([]);
  });

  it("rejects ConnectorId in the body: it is a path label", () => {
    const issues = validateEventBody({ ...commandResponse(), ConnectorId: "MockConnectorId" });
    expect(issues).toEqual([expect.objectContaining({ path: "$.ConnectorId", keyword: "additionalProperties" })]);
  });

  const cases: [string, (b: Record<string, any>) => void, string, string][] = [
    ["missing Operation", (b) => delete b.Operation, "$.Operation", "required"],
    ["unknown Operation", (b) => (b.Operation = "DEVICE_STATE"), "$.Operation", "enum"],
    ["UserId longer than 64", (b) => (b.UserId = "u".repeat(65)), "$.UserId", "maxLength"],
    ["empty UserId", (b) => (b.UserId = ""), "$.UserId", "minLength"],
    ["Message with a colon", (b) => (b.Message = "error: bad"), "$.Message", "pattern"],
    ["Message with a non-ASCII space (Java \\s is ASCII only)", (b) => (b.Message = "a\u00a0b"), "$.Message", "pattern"],
    ["Message longer than 256", (b) => (b.Message = "m".repeat(257)), "$.Message", "maxLength"],
    ["StatusCode below 100", (b) => (b.StatusCode = 99), "$.StatusCode", "minimum"],
    ["StatusCode above 550", (b) => (b.StatusCode = 551), "$.StatusCode", "maximum"],
    ["StatusCode not an integer", (b) => (b.StatusCode = 200.5), "$.StatusCode", "type"],
    ["OperationVersion with letters", (b) => (b.OperationVersion = "v1"), "$.OperationVersion", "pattern"],
    ["TraceId with a slash", (b) => (b.TraceId = "a/b"), "$.TraceId", "pattern"],
    ["six clusters in a MatterEndpoint", (b) => (b.MatterEndpoint.clusters = Array.from({ length: 6 }, () => ({ id: "0x0006" }))), "$.MatterEndpoint.clusters", "maxItems"],
    ["no cluster in a MatterEndpoint", (b) => (b.MatterEndpoint.clusters = []), "$.MatterEndpoint.clusters", "minItems"],
    ["six commands in a cluster", (b) => (b.MatterEndpoint.clusters[0].commands = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`0x0${i}`, {}]))), "$.MatterEndpoint.clusters[0].commands", "maxProperties"],
    ["a command id that is not hex or decimal", (b) => (b.MatterEndpoint.clusters[0].commands = { on: {} }), "$.MatterEndpoint.clusters[0].commands.on", "pattern"],
    ["camelCase member at the top level", (b) => (b.connectorDeviceId = "d1"), "$.connectorDeviceId", "additionalProperties"],
  ];
  for (const [name, mutate, pathExpected, keyword] of cases) {
    it(`rejects ${name}`, () => {
      const body = commandResponse();
      mutate(body);
      expect(validateEventBody(body)).toContainEqual(expect.objectContaining({ path: pathExpected, keyword }));
    });
  }

  const discoveryCases: [string, (d: Record<string, any>) => void, string, string][] = [
    ["a capability report version other than 1.0.0", (d) => (d.CapabilityReport.version = "1.1.0"), "$.Devices[0].CapabilityReport.version", "pattern"],
    ["cluster revision 0", (d) => (d.CapabilityReport.endpoints[0].clusters[0].revision = 0), "$.Devices[0].CapabilityReport.endpoints[0].clusters[0].revision", "minimum"],
    ["featureMap above 2^32-1", (d) => (d.CapabilityReport.endpoints[0].clusters[0].featureMap = 2 ** 32), "$.Devices[0].CapabilityReport.endpoints[0].clusters[0].featureMap", "maximum"],
    ["ConnectorDeviceName with a slash", (d) => (d.ConnectorDeviceName = "Living/Room"), "$.Devices[0].ConnectorDeviceName", "pattern"],
    ["a device without ConnectorDeviceId", (d) => delete d.ConnectorDeviceId, "$.Devices[0].ConnectorDeviceId", "required"],
    ["CapabilitySchemas Format outside the enum", (d) => (d.CapabilitySchemas = [{ Format: "JSON", CapabilityId: "matter.OnOff@1.4", ExtrinsicId: "0x0006", ExtrinsicVersion: 1, Schema: {} }]), "$.Devices[0].CapabilitySchemas[0].Format", "enum"],
  ];
  for (const [name, mutate, pathExpected, keyword] of discoveryCases) {
    it(`rejects ${name}`, () => {
      const body = discovery();
      mutate(body.Devices[0]);
      expect(validateEventBody(body)).toContainEqual(expect.objectContaining({ path: pathExpected, keyword }));
    });
  }

  it("accepts Unicode letters and digits in ConnectorDeviceName (\\p{L}\\p{N} with the u flag)", () => {
    const body = discovery();
    body.Devices[0].ConnectorDeviceName = "Küche Licht ٣ 東京_1.a-b";
    expect(validateEventBody(body)).toEqual([]);
  });

  it("accepts any JSON in document members (attributes, command fields, DeviceMetadata)", () => {
    const body = discovery();
    body.Devices[0].DeviceMetadata = { nested: [1, { a: null }], s: "x" };
    expect(validateEventBody(body)).toEqual([]);
    const cr = commandResponse();
    cr.MatterEndpoint.clusters[0].attributes = [null, "anything: goes", { deep: true }];
    cr.MatterEndpoint.clusters[0].commands = { "0x01": { level: 5, "weird key": "v" } };
    expect(validateEventBody(cr)).toEqual([]);
  });

  it("validates the ConnectorId path label separately", () => {
    expect(validateConnectorId("MockConnectorId")).toEqual([]);
    expect(validateConnectorId("a_b-C9")).toEqual([]);
    expect(validateConnectorId("")).toContainEqual(expect.objectContaining({ keyword: "minLength" }));
    expect(validateConnectorId("c".repeat(65))).toContainEqual(expect.objectContaining({ keyword: "maxLength" }));
    expect(validateConnectorId("a/b")).toContainEqual(expect.objectContaining({ path: "ConnectorId", keyword: "pattern" }));
  });

  it("compiles a fresh validator that agrees with the cached one", () => {
    const fresh = compileEventValidator();
    const bad = { ...commandResponse(), StatusCode: 99 };
    expect(fresh.body(bad)).toEqual(validateEventBody(bad));
    expect(fresh.body(commandResponse())).toEqual([]);
  });
});

describe("javaPatternToEcma", () => {
  it("narrows \\s to Java's ASCII whitespace, in and outside classes", () => {
    const inClass = new RegExp(javaPatternToEcma("^[\\sa]+$"), "u");
    expect(inClass.test(" \t\n\u000b\f\ra")).toBe(true);
    expect(inClass.test("\u2028")).toBe(false);
    const bare = new RegExp(javaPatternToEcma("^a\\sb$"), "u");
    expect(bare.test("a b")).toBe(true);
    expect(bare.test("a\u00a0b")).toBe(false);
  });

  it("keeps Unicode property escapes and other escapes as they are", () => {
    expect(javaPatternToEcma("^[\\p{L}\\p{N} ._-]+$")).toBe("^[\\p{L}\\p{N} ._-]+$");
    expect(javaPatternToEcma("^[a-z=_.,@\\+\\-/]+$")).toBe("^[a-z=_.,@\\+\\-/]+$");
  });

  it("refuses patterns it cannot translate faithfully", () => {
    expect(() => javaPatternToEcma("^[a[b]]$")).toThrow(/nested character classes/);
    expect(() => javaPatternToEcma("^(a$")).toThrow(/not a valid ECMAScript/);
  });
});
