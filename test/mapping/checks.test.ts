import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkFixtures, formatDiagnostic, parseYaml, validateMappingText, type Diagnostic } from "../../engine/mapping/index.ts";

const FILE = "mem/connector.yaml";

/** A small valid document; tests splice problems into it. */
function doc(parts: { calls?: string; operationsExtra?: string; clusters?: string; api?: string } = {}): string {
  return `apiVersion: c2c.mapping/v1
vendor:
  id: mem
  name: Memory
api:
  baseUrl: https://api.example.test
${parts.api ?? ""}
calls:
  setState:
    method: PUT
    path: /devices/{id}/state
    pathParams:
      id: deviceId
${parts.calls ?? ""}
operations:
  activateUser:
    userId: "'u1'"
  discoverDevices:
    list:
      method: GET
      path: /devices
    devices: devices
    userId: "'u1'"
    device:
      id: id
${parts.operationsExtra ?? `  getDevice:
    request:
      method: GET
      path: /devices/{id}
      pathParams:
        id: deviceId
    device: $`}
profiles:
  plug:
    match: "true"
    endpoints:
      - id: "1"
        deviceTypes: ["On/Off Plug-in Unit"]
        clusters:
${parts.clusters ?? `          OnOff:
            attributes:
              OnOff: on`}
`;
}

function check(text: string): Diagnostic[] {
  return validateMappingText(text, FILE).diagnostics;
}

function only(diagnostics: Diagnostic[], rule: string): Diagnostic {
  const found = diagnostics.filter((d) => d.rule === rule);
  expect(found, `${rule} in ${diagnostics.map(formatDiagnostic).join("\n")}`).toHaveLength(1);
  return found[0];
}

function lineOf(text: string, needle: string): number {
  return text.split("\n").findIndex((l) => l.includes(needle)) + 1;
}

describe("YAML loading", () => {
  it("reports a syntax error with its position", () => {
    const text = "apiVersion: c2c.mapping/v1\nvendor:\n  id: x\n  name: a: b\n";
    const result = validateMappingText(text, FILE);
    expect(result.bundle).toBeUndefined();
    const d = only(result.diagnostics, "yaml/syntax");
    expect(d.file).toBe(FILE);
    expect([d.line, d.col]).toEqual([4, 9]);
    expect(d.message).toContain("Nested mappings");
    expect(d.severity).toBe("error");
  });

  it("reports duplicate keys", () => {
    const d = only(check("a: 1\nb: 2\na: 3\n"), "yaml/duplicate-key");
    expect([d.line, d.col]).toEqual([3, 1]);
  });

  it("resolves positions of values and keys, falling back to the nearest parent", () => {
    const loaded = parseYaml("top:\n  list:\n    - name: x\n      value: 2\n", "f.yaml");
    expect(loaded.value).toEqual({ top: { list: [{ name: "x", value: 2 }] } });
    expect(loaded.positionOf(["top", "list", 0, "value"])).toEqual({ line: 4, col: 14 });
    expect(loaded.keyPositionOf(["top", "list", 0, "value"])).toEqual({ line: 4, col: 7 });
    expect(loaded.positionOf(["top", "list", 0, "missing", "deeper"])).toEqual({ line: 3, col: 7 });
  });
});

describe("schema diagnostics", () => {
  it("collapses a oneOf failure into the error of the branch that fits the value", () => {
    const text = doc({ clusters: "          OnOff:\n            attributes:\n              OnOff:\n                read: on\n                reed: off" });
    const diagnostics = check(text);
    const d = only(diagnostics, "schema/additionalProperties");
    expect(d.message).toBe('unknown property "reed"');
    expect(d.hint).toBe('did you mean "read"?');
    expect(d.line).toBe(lineOf(text, "reed:"));
    expect(diagnostics.filter((x) => x.rule.startsWith("schema/"))).toHaveLength(1);
  });

  it("says what a oneOf accepts when no branch fits", () => {
    const text = doc({ clusters: "          OnOff:\n            attributes:\n              OnOff: 5" });
    const d = only(check(text), "schema/oneOf");
    expect(d.message).toBe("must be a JSONata expression (string) or an object, not integer");
    expect(d.line).toBe(lineOf(text, "OnOff: 5"));
  });

  it("lists allowed values of an enum and the expected constant", () => {
    const text = doc().replace("method: PUT", "method: PUTT").replace("c2c.mapping/v1", "c2c.mapping/v9");
    const diagnostics = check(text);
    expect(only(diagnostics, "schema/enum").message).toBe('must be one of "GET", "POST", "PUT", "PATCH", "DELETE", not "PUTT"');
    expect(only(diagnostics, "schema/const").message).toBe('must be "c2c.mapping/v1", not "c2c.mapping/v9"');
  });

  it("reports a bad property name at its key", () => {
    const text = doc({ calls: "  9bad:\n    method: GET\n    path: /x" });
    const d = only(check(text), "schema/propertyNames");
    expect(d.message).toContain('invalid name "9bad"');
    expect(d.line).toBe(lineOf(text, "9bad:"));
  });
});

describe("semantic checks", () => {
  it("accepts the base document", () => {
    expect(check(doc()).map(formatDiagnostic)).toEqual([]);
  });

  it("checks JSONata in value maps and path params, pointing at the scalar", () => {
    const text = doc({ calls: "  listAll:\n    method: GET\n    path: /all\n    query:\n      ok: 5\n      bad: \"$join(ids,\"" });
    const d = only(check(text), "jsonata/syntax");
    expect(d.path).toBe("/calls/listAll/query/bad");
    expect([d.line, d.col]).toEqual([lineOf(text, "bad:"), 12]);
    expect(d.message).toMatch(/character \d+/);
  });

  it("reports an unknown `use:` with a hint, and use cycles", () => {
    const text = doc({
      clusters: "          OnOff:\n            commands:\n              \"On\":\n                use: setStat\n                body: \"{}\"",
      calls: "  a:\n    use: b\n  b:\n    use: a",
    });
    const diagnostics = check(text);
    const d = only(diagnostics, "mapping/unknown-call");
    expect(d.hint).toBe('did you mean "setState"?');
    expect(d.line).toBe(lineOf(text, "use: setStat"));
    expect(diagnostics.filter((x) => x.rule === "mapping/use-cycle").length).toBeGreaterThanOrEqual(1);
  });

  it("matches path placeholders with pathParams both ways", () => {
    const text = doc({ clusters: "          OnOff:\n            commands:\n              Toggle:\n                method: POST\n                path: /d/{device}/toggle\n                pathParams:\n                  id: deviceId" });
    const diagnostics = check(text).filter((d) => d.rule === "mapping/path-params");
    expect(diagnostics.map((d) => [d.line, d.message])).toEqual([
      [lineOf(text, "path: /d/{device}"), "path placeholder {device} has no pathParams entry"],
      [lineOf(text, "                  id: deviceId"), 'pathParams entry "id" has no {id} placeholder in path "/d/{device}/toggle"'],
    ]);
  });

  it("requires param and next for cursor pagination", () => {
    const text = doc().replace("      path: /devices\n", "      path: /devices\n      pagination:\n        style: cursor\n");
    const rules = check(text).filter((d) => d.rule === "mapping/pagination");
    expect(rules.map((d) => d.message)).toEqual([expect.stringContaining("`param`"), expect.stringContaining("`next`")]);
  });

  it("warns about writes to read-only attributes, bad constants and missing getDevice", () => {
    const text = doc({
      operationsExtra: "",
      clusters: [
        "          OnOff:",
        "            attributes:",
        "              OnOff:",
        "                read: on",
        "                write:",
        "                  use: setState",
      ].join("\n"),
    });
    const diagnostics = check(text);
    expect(diagnostics.every((d) => d.severity === "warning")).toBe(true);
    expect(only(diagnostics, "matter/not-writable").line).toBe(lineOf(text, "write:"));
    const readState = only(diagnostics, "mapping/readstate-needs-getdevice");
    expect(readState.line).toBe(lineOf(text, "  plug:"));
    expect(validateMappingText(text, FILE).bundle).toBeDefined();
  });

  it("checks confirms keys, response fields, events and device types against the cluster table", () => {
    const text = doc({
      clusters: [
        "          OnOff:",
        "            commands:",
        "              Toggle:",
        "                use: setState",
        "                confirms:",
        "                  OnOf: \"true\"",
        "                  LevelControl.CurrentLevel: \"1\"",
        "                responseFields:",
        "                  Status: \"0\"",
        "              UpdateState:",
        "                use: setState",
        "          BooleanState:",
        "            events:",
        "              StateChange:",
        "                when: \"true\"",
        "                fields:",
        "                  StateValue: \"true\"",
        "                  Value: \"true\"",
      ].join("\n"),
    }).replace('deviceTypes: ["On/Off Plug-in Unit"]', 'deviceTypes: ["On/Off Plug-in Unit", "Dimable Light"]');
    const diagnostics = check(text);
    const unknownAttr = only(diagnostics, "matter/unknown-attribute");
    expect(unknownAttr.hint).toMatch(/^did you mean "OnOff"/);
    expect(unknownAttr.line).toBe(lineOf(text, "OnOf:"));
    expect(only(diagnostics, "mapping/confirms-cluster-not-on-endpoint").line).toBe(lineOf(text, "LevelControl.CurrentLevel"));
    const fields = diagnostics.filter((d) => d.rule === "matter/unknown-field");
    expect(fields.map((d) => d.line)).toEqual([lineOf(text, "Status:"), lineOf(text, " Value: \"true\"")].sort((a, b) => a - b));
    expect(only(diagnostics, "matter/unknown-command").hint).toContain("write");
    const dt = only(diagnostics, "matter/unknown-device-type");
    expect(dt.hint).toBe('did you mean "Dimmable Light"?');
  });
});

describe("fixture checks", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  async function bundleWith(files: Record<string, string>): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), "c2c-fixtures-"));
    dirs.push(dir);
    for (const [name, content] of Object.entries(files)) {
      await mkdir(join(dir, name, ".."), { recursive: true });
      await writeFile(join(dir, name), content);
    }
    return dir;
  }

  it("accepts a fixture whose files exist", async () => {
    const dir = await bundleWith({
      "tests/ok.yaml": "name: ok\nrequest:\n  file: req.json\nvendor:\n  - request: { method: GET, path: /x }\n    response: { status: 200, bodyFile: body.json }\nexpect:\n  ack: { statusCode: 200 }\n",
      "tests/req.json": "{}",
      "tests/body.json": "{}",
    });
    expect(await checkFixtures(dir)).toEqual([]);
  });

  it("reports missing files, schema errors and YAML errors per fixture", async () => {
    const dir = await bundleWith({
      "tests/a.yaml": "name: a\nrequest: { operationName: AWS.ActivateUser }\nvendor:\n  - request: { method: GET, path: /x }\n    response: { status: 200, bodyFile: gone.json }\nexpect:\n  ack: {}\n",
      "tests/b.yaml": "name: b\nrequest: { file: req.json }\nvendor: []\nexpect:\n  ack: {}\n  vendorRequests: some\n",
      "tests/b-req.json": "{}",
      "tests/c.yaml": "name: [\n",
    });
    const diagnostics = await checkFixtures(dir);
    const summary = diagnostics.map((d) => [d.file.split("/").slice(-2).join("/"), d.line, d.rule]);
    expect(summary).toEqual([
      ["tests/a.yaml", 5, "fixture/missing-file"],
      ["tests/b.yaml", 6, "schema/enum"],
      ["tests/b.yaml", 2, "fixture/missing-file"],
      ["tests/c.yaml", 2, "yaml/syntax"],
    ]);
  });
});

describe("robustness", () => {
  it("reports wrongly shaped documents as diagnostics instead of throwing", () => {
    const variants = [
      "",
      "just a string",
      "- a list",
      doc().replace("calls:\n  setState:", "calls: 5\nx:\n  setState:"),
      doc({ clusters: "          OnOff: [1, 2]" }),
      doc({ clusters: "          OnOff:\n            commands: [1]\n            attributes: 7" }),
      doc({ clusters: "          OnOff:\n            commands:\n              Toggle:\n                requests: x\n                confirms: 3\n                path: 5" }),
      doc().replace("    endpoints:\n", "    endpoints: {}\n    x:\n"),
      doc().replace("      path: /devices\n", "      path: /devices\n      pagination: cursor\n"),
      doc().replace("    device: $", "    device: $\n  deactivateUser:\n    requests:\n      - null\n      - use: 7"),
    ];
    for (const text of variants) {
      const result = validateMappingText(text, FILE);
      expect(result.bundle, text).toBeUndefined();
      expect(result.diagnostics.some((d) => d.severity === "error"), text).toBe(true);
    }
  });
});

describe("anchors and events", () => {
  it("reports a problem in an anchored node once, and compiles Matter events", () => {
    const clusters = [
      "          OnOff: &onoff",
      "            attributes:",
      "              OnOff:",
      "                read: on",
      "                write: { use: setState }",
      "          BooleanState:",
      "            events:",
      "              StateChange:",
      "                when: changed",
      "                fields: { StateValue: open = false }",
    ].join("\n");
    const base = doc({ clusters });
    const second = base.split("\nprofiles:\n")[1].replace("  plug:", "  plug2:").replace("OnOff: &onoff\n            attributes:\n              OnOff:\n                read: on\n                write: { use: setState }", "OnOff: *onoff");
    const text = base + second;
    const result = validateMappingText(text, FILE);
    expect(result.diagnostics.filter((d) => d.rule === "matter/not-writable")).toHaveLength(1);
    expect(result.bundle?.profiles.map((p) => p.id)).toEqual(["plug", "plug2"]);
    const event = result.bundle!.profiles[0].endpoints[0].clusters.find((c) => c.name === "BooleanState")!.events[0];
    expect(event).toMatchObject({ id: 0, hexId: "0x00", name: "StateChange", when: { src: "changed" } });
    expect(event.fields).toEqual([{ id: 0, hexId: "0x0000", name: "StateValue", valueType: { type: "bool", kind: "bool" }, expr: { src: "open = false", at: `${FILE}:${lineOf(text, "StateValue")}:${text.split("\n")[lineOf(text, "StateValue") - 1].indexOf("open") + 1}` } }]);
  });
});

describe("command declarations (issue #11)", () => {
  it("verify without operations.getDevice is an error at the verify key", () => {
    const text = doc({
      operationsExtra: "",
      clusters: "          OnOff:\n            commands:\n              Toggle:\n                use: setState\n                body: \"{ 'on': true }\"\n                verify: \"on = true\"",
    });
    const d = only(check(text), "mapping/verify-needs-get-device");
    expect(d.line).toBe(lineOf(text, "verify: "));
    expect(d.message).toMatch(/operations\.getDevice/);
  });

  it("readBack without operations.getDevice is an error at the readBack key (issue #14)", () => {
    const text = doc({
      operationsExtra: "",
      clusters: "          OnOff:\n            commands:\n              Toggle:\n                use: setState\n                body: \"{ 'on': true }\"\n                readBack: { afterSeconds: 5 }",
    });
    const d = only(check(text), "mapping/read-back-needs-get-device");
    expect(d.line).toBe(lineOf(text, "readBack: "));
  });

  it("batch, idempotent, verify and affects validate; a bad batch is a schema error", () => {
    const good = doc({
      calls: "    idempotent: true\n    batch: { merge: deep }",
      clusters: "          OnOff:\n            commands:\n              \"On\":\n                use: setState\n                body: \"{ 'on': true }\"\n                verify: \"on = true\"\n                affects: \"$[group = $device.group]\"",
    });
    expect(check(good).filter((d) => d.severity === "error")).toEqual([]);
    const bad = doc({ calls: "    batch: { items: commands, max: 0 }" });
    expect(check(bad).some((d) => d.severity === "error" && d.line === lineOf(bad, "batch: {"))).toBe(true);
  });
});
