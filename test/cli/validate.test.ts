import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { cli, FIXTURES } from "./helpers.ts";

describe("c2c validate", () => {
  it("passes the LIFX bundle with exit code 0", async () => {
    const r = await cli(["validate", "lifx"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/✓ mappings\/lifx: valid/);
    expect(r.stdout).not.toMatch(/\berror\b/);
  });

  it("reports one precise message per problem of a broken bundle, with its line, and exits 1", async () => {
    const r = await cli(["validate", join(FIXTURES, "broken")]);
    expect(r.code).toBe(1);
    const problems = r.stdout.split("\n").filter((l) => /^\S+:\d+:\d+: (error|warning) /.test(l));
    expect(problems).toHaveLength(4);
    const at = (line: number, rule: string) => problems.filter((p) => p.includes(`connector.yaml:${line}:`) && p.includes(` ${rule}: `));
    expect(at(13, "schema/type")).toHaveLength(1); // wrong type
    expect(at(35, "jsonata/syntax")).toHaveLength(1); // bad JSONata
    expect(at(55, "matter/unknown-attribute")[0]).toContain('"PowerLevel"'); // unknown Matter attribute
    expect(at(60, "mapping/command-without-request")[0]).toContain("OnOff.On"); // command with no request
    // Hints are on their own indented line.
    expect(r.stdout).toMatch(/\n {4}hint: add `use: <named call>`/);
    expect(r.stdout).toMatch(/✗ .*broken: 4 errors/);
  });

  it("--json gives a parseable report for CI", async () => {
    const r = await cli(["validate", "--json", "lifx", join(FIXTURES, "broken")]);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.ok).toBe(false);
    expect(report.bundles).toHaveLength(2);
    const [lifx, broken] = report.bundles;
    expect(lifx).toMatchObject({ bundle: "mappings/lifx", ok: true, errors: 0 });
    expect(broken.errors).toBe(4);
    expect(broken.diagnostics[0]).toMatchObject({ severity: "error", line: 13, col: 14, rule: "schema/type" });
  });

  it("warnings alone pass, and fail with --strict", async () => {
    // This fixture has a warning (OnOff.OnOff is not writable in Matter).
    const plain = await cli(["validate", "--json", join(FIXTURES, "warning")]);
    expect(JSON.parse(plain.stdout).warnings).toBeGreaterThan(0);
    expect(plain.code).toBe(0);
    const strict = await cli(["validate", "--strict", join(FIXTURES, "warning")]);
    expect(strict.code).toBe(1);
  });

  it("checks calls against the bundle's OpenAPI document", async () => {
    const r = await cli(["validate", "--json", join(FIXTURES, "openapi")]);
    expect(r.code).toBe(1);
    const d = JSON.parse(r.stdout).bundles[0].diagnostics as Array<{ rule: string; line: number; severity: string; message: string }>;
    const rules = d.map((x) => `${x.line} ${x.severity} ${x.rule}`);
    expect(rules).toEqual([
      "19 error openapi/unknown-method",
      "27 error openapi/unknown-path",
      "35 warning openapi/unknown-query-param",
      "68 warning openapi/undeclared-path-param",
    ]);
    expect(d[0].message).toContain("POST /devices/{deviceId}/power");
  });

  it("names the known bundles when one does not exist, exit 1", async () => {
    const r = await cli(["validate", "no-such-vendor"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no bundle at "no-such-vendor".*lifx/);
  });

  it("an unknown option is a usage error, exit 2", async () => {
    const r = await cli(["validate", "--nope"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option");
  });
});
