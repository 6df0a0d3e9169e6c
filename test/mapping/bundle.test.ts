import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { formatDiagnostic, listBundles, loadAndValidateBundle, loadBundleOrThrow, BundleError } from "../../engine/mapping/index.ts";
import type { CompiledBundle, CompiledCluster } from "../../engine/mapping/index.ts";

const BUNDLES = "test/mapping/bundles";
const MINIMAL = `${BUNDLES}/minimal`;
const BROKEN = `${BUNDLES}/broken`;

/** 1-based line of the first line containing `needle` (to keep expectations tied to the file). */
async function lineOf(file: string, needle: string, occurrence = 1): Promise<number> {
  const lines = (await readFile(file, "utf8")).split("\n");
  let seen = 0;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].includes(needle) && ++seen === occurrence) return i + 1;
  }
  throw new Error(`${needle} not in ${file}`);
}

function cluster(bundle: CompiledBundle, name: string): CompiledCluster {
  const found = bundle.profiles[0].endpoints[0].clusters.find((c) => c.name === name);
  if (!found) throw new Error(`no cluster ${name}`);
  return found;
}

describe("a valid bundle", () => {
  it("compiles without diagnostics", async () => {
    const result = await loadAndValidateBundle(MINIMAL);
    expect(result.diagnostics.map(formatDiagnostic)).toEqual([]);
    expect(result.bundle?.vendor).toEqual({ id: "minimal", name: "Minimal Test Vendor" });
    expect(result.bundle?.source).toBe(MINIMAL);
  });

  it("resolves clusters, attributes and commands to Matter ids in file order", async () => {
    const bundle = await loadBundleOrThrow(MINIMAL);
    const endpoint = bundle.profiles[0].endpoints[0];
    expect(endpoint.deviceTypes).toEqual(["Dimmable Light"]);
    // `0x0008` is written as a hex key after OnOff: order and spelling survive YAML parsing.
    expect(endpoint.clusters.map((c) => [c.name, c.hexId, c.id])).toEqual([
      ["OnOff", "0x0006", 6],
      ["LevelControl", "0x0008", 8],
    ]);
    const onOff = cluster(bundle, "OnOff");
    expect(onOff.revision).toBeGreaterThanOrEqual(1);
    expect(onOff.attributes).toEqual([
      { id: 0, hexId: "0x0000", name: "OnOff", type: "bool", valueType: { type: "bool", kind: "bool" }, hasConstant: false, read: { src: "power = 'on'", at: expect.stringMatching(/connector\.yaml:\d+:\d+$/) },
        // A Dimmable Light has Level Control's Lighting feature: a level of 0 reads as off (engine/mapping/lighting.ts).
        offAtLevelZero: { src: "$round(brightness * 254)", at: expect.stringMatching(/connector\.yaml:\d+:\d+$/) } },
    ]);
    expect(onOff.commands.map((c) => [c.name, c.hexId])).toEqual([
      ["On", "0x01"],
      ["Toggle", "0x02"],
    ]);
  });

  it("merges `use:` calls with use-site overrides and keeps each expression's own position", async () => {
    const bundle = await loadBundleOrThrow(MINIMAL);
    const file = `${MINIMAL}/connector.yaml`;
    const level = cluster(bundle, "LevelControl");
    const move = level.commands.find((c) => c.name === "MoveToLevel")!;
    expect(move.hexId).toBe("0x00");
    expect(move.fields.slice(0, 2)).toEqual([
      { id: 0, hexId: "0x0000", name: "Level", type: "uint8", valueType: { type: "uint8", kind: "int", min: 0, max: 254 }, limits: { min: [2] } },
      { id: 1, hexId: "0x0001", name: "TransitionTime", type: "uint16", valueType: { type: "uint16", kind: "int", min: 0, max: 65534, nullable: true } },
    ]);
    const [call] = move.action.requests;
    expect(call).toMatchObject({ name: "setState", method: "PUT", path: "/devices/{id}/state", auth: "token", acceptStatus: [] });
    // pathParams come from the named call, the body and the extra header from the use site.
    expect(call.pathParams.id).toEqual({ src: "deviceId", at: `${file}:${await lineOf(file, "id: deviceId")}:11` });
    expect(call.body).toEqual({ src: "{ 'brightness': fields.Level / 254 }", at: `${file}:${await lineOf(file, "fields.Level / 254")}:23` });
    expect(Object.keys(call.headers)).toEqual(["Accept", "X-Trace"]);
    expect(call.headers.Accept).toEqual({ expr: { src: "'application/json'", at: expect.stringContaining(`:${await lineOf(file, "Accept:")}:`) } });
    // confirms: `Attr` is the same cluster, `Cluster.Attr` another one.
    expect(move.action.confirms.map((c) => [c.clusterId, c.attributeId, c.expr.src])).toEqual([
      [8, 0, "fields.Level"],
      [6, 0, "true"],
    ]);
    const toggle = cluster(bundle, "OnOff").commands.find((c) => c.name === "Toggle")!;
    expect(toggle.action.requests[0].name).toBe("call1");
  });

  it("keeps constants, literals and defaults", async () => {
    const bundle = await loadBundleOrThrow(MINIMAL);
    const level = cluster(bundle, "LevelControl");
    const minLevel = level.attributes.find((a) => a.name === "MinLevel")!;
    expect(minLevel).toMatchObject({ hexId: "0x0002", constant: 1, hasConstant: true });
    expect(minLevel.read).toBeUndefined();
    const onLevel = level.attributes.find((a) => a.name === "OnLevel")!;
    expect(onLevel.write?.requests[0].body?.src).toBe("{ 'onLevel': value }");

    const list = bundle.operations.discoverDevices.list;
    expect(list.query.limit).toEqual({ literal: 100 });
    expect(list.pagination).toMatchObject({ style: "cursor", param: "cursor", start: 1, maxPages: 1000, next: { src: "meta.next" } });
    expect(bundle.operations.activateUser.requests[0].name).toBe("me");
    expect(bundle.operations.deactivateUser).toEqual({ requests: [] });
    expect(bundle.api).toEqual({
      baseUrl: "https://api.example.test/v1",
      auth: { in: "header", name: "Authorization", prefix: "Bearer " },
      headers: {},
      timeoutMs: 2000,
      retry: { maxAttempts: 2, baseDelayMs: 100, maxDelayMs: 1000, retryOn: [429, 500, 502, 503, 504] },
      statusMap: { "422": 400 },
      limits: { commandsPerRequest: 50, vendorRequestsPerInvocation: 200 },
    });
    // The compiled form is plain JSON (it is embedded in the Lambda artifact).
    expect(JSON.parse(JSON.stringify(bundle))).toEqual(bundle);
  });
});

describe("a broken bundle", () => {
  const file = `${BROKEN}/connector.yaml`;

  it("reports every problem in one run, each once, with its rule and line", async () => {
    const result = await loadAndValidateBundle(BROKEN);
    expect(result.bundle).toBeUndefined();
    const errors = result.diagnostics.filter((d) => d.severity === "error");
    const byRule = (rule: string) => errors.filter((d) => d.rule === rule);

    const expected: Array<[string, string, number]> = [
      ["schema/additionalProperties", "homepage", await lineOf(file, "homepage:")],
      ["schema/type", "integer", await lineOf(file, "timeoutMs: fast")],
      ["schema/required", '"devices"', await lineOf(file, "discoverDevices:")],
      ["jsonata/syntax", "JSONata", await lineOf(file, 'match: "type = "')],
      ["matter/unknown-attribute", "Brightness", await lineOf(file, "Brightness:")],
      ["matter/unknown-cluster", "LevelControll", await lineOf(file, "LevelControll:")],
      ["mapping/command-without-request", "OnOff.Off", await lineOf(file, '"Off":')],
    ];
    for (const [rule, text, line] of expected) {
      const found = byRule(rule);
      expect(found, rule).toHaveLength(1);
      expect(found[0].message, rule).toContain(text);
      expect(found[0].line, rule).toBe(line);
      expect(found[0].file).toBe(file);
    }
    expect(byRule("matter/unknown-cluster")[0].hint).toBe('did you mean "LevelControl"?');
    expect(byRule("schema/additionalProperties")[0].path).toBe("/vendor/homepage");
    expect(byRule("matter/unknown-cluster")[0].path).toBe("/profiles/light/endpoints/0/clusters/LevelControll");

    const fixture = byRule("fixture/missing-file");
    expect(fixture).toHaveLength(1);
    expect(fixture[0].file).toBe(`${BROKEN}/tests/missing-file.yaml`);
    expect(fixture[0].line).toBe(3);
    // Nothing else: the checks do not pile up follow-on errors.
    expect(errors).toHaveLength(expected.length + 1);
  });

  it("throws a BundleError that lists every diagnostic in file:line:col form", async () => {
    const error = await loadBundleOrThrow(BROKEN).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BundleError);
    const message = (error as BundleError).message;
    expect(message).toContain(`${file}:${await lineOf(file, "timeoutMs: fast")}:14: error schema/type: must be integer, not string ("fast")`);
    expect(message).toContain("error matter/unknown-cluster");
    expect((error as BundleError).diagnostics.length).toBeGreaterThanOrEqual(8);
  });
});

describe("bundle discovery", () => {
  it("lists folders with a connector.yaml", async () => {
    expect(await listBundles(BUNDLES)).toEqual(expect.arrayContaining([MINIMAL, BROKEN]));
    expect(await listBundles("test/mapping/no-such-folder")).toEqual([]);
  });

  it("reports a missing connector.yaml as a diagnostic", async () => {
    const result = await loadAndValidateBundle("test/mapping/no-such-folder");
    expect(result.bundle).toBeUndefined();
    expect(result.diagnostics.map((d) => d.rule)).toEqual(["bundle/missing-file"]);
  });
});
