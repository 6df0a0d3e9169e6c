/**
 * Quota fixtures (issue #13 item 7 in sample bundles): a fixture starts from a given quota state
 * (`given.quotaUsed`); work over the quota goes on the fixture's job queue with its delay
 * (`expect.jobs`, bounds for a clock-dependent delay) and runs after a `wait` on the fixture's
 * clock, which is the engine's too. The SmartThings and Nest fixtures pass only because of the
 * preset and the gate: stripped of the preset they fail; an unknown quota name is a validation
 * error at its line.
 */
import { mkdtemp, mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadBundleOrThrow, validateMappingText } from "../../engine/mapping/bundle.ts";
import { checkFixtures } from "../../engine/mapping/fixture-check.ts";
import { bundleQuotas } from "../../engine/quota/bundle-quotas.ts";
import { engineTarget } from "../../engine/testing/engine-target.ts";
import { jobsMatch } from "../../engine/testing/fixture-given.ts";
import { FixtureHarness } from "../../engine/testing/fixture-runner.ts";
import { loadFixture, type Fixture } from "../../engine/testing/fixtures.ts";

let harness: FixtureHarness;
beforeAll(async () => {
  harness = await FixtureHarness.start();
});
afterAll(async () => {
  await harness.close();
});

describe("a named call's quota", () => {
  it("reaches every use of the call (SmartThings' Locations limit is counted in ActivateUser and discovery)", async () => {
    const st = await loadBundleOrThrow("mappings/smartthings");
    const locations = { name: "call:listLocations", requestsPerMinute: 100, per: "user" };
    expect(st.operations.activateUser.requests[0].quota).toEqual(locations);
    expect(st.operations.discoverDevices.requests[0].quota).toEqual(locations);
    expect(Object.fromEntries(bundleQuotas(st))).toEqual({ listLocations: locations });
    const nest = await loadBundleOrThrow("mappings/nest");
    expect(Object.fromEntries(bundleQuotas(nest))).toEqual({ executeCommand: { name: "call:executeCommand", requestsPerMinute: 10, per: "user" } });
  });

  it("is counted under the call that declares it, also through a call that uses it", () => {
    const text = `apiVersion: c2c.mapping/v1
vendor: { id: layered, name: Layered }
api: { baseUrl: "https://api.layered.test" }
calls:
  listHomes: { method: GET, path: /homes, quota: { requestsPerMinute: 30 } }
  listHomesWithRooms: { use: listHomes, query: { include: "'rooms'" } }
operations:
  activateUser:
    requests: [{ use: listHomesWithRooms, name: homes }]
    userId: "responses.homes.owner"
  discoverDevices:
    requests: [{ use: listHomes, name: homes }]
    list: { method: GET, path: /devices }
    devices: devices
    userId: "responses.homes.owner"
    device: { id: id }
profiles:
  p:
    match: "true"
    endpoints:
      - id: "1"
        deviceTypes: [On/Off Plug-in Unit]
        clusters: { OnOff: { attributes: { OnOff: "on" } } }
`;
    const { bundle, diagnostics } = validateMappingText(text, "layered/connector.yaml");
    expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const homes = { name: "call:listHomes", requestsPerMinute: 30, per: "user" };
    expect(bundle!.operations.activateUser.requests[0].quota).toEqual(homes);
    expect(bundle!.operations.discoverDevices.requests[0].quota).toEqual(homes);
    expect(Object.fromEntries(bundleQuotas(bundle!))).toEqual({ listHomes: homes });
  });
});

describe("fixtures over a quota", () => {
  const cases = [
    ["mappings/smartthings", "activate-user-over-quota.yaml"],
    ["mappings/smartthings", "discover-devices-over-quota.yaml"],
    ["mappings/nest", "send-command-over-quota.yaml"],
  ] as const;

  it.each(cases)("%s %s passes with its quota state, and fails without it (the vendor call goes out)", async (dir, file) => {
    const bundle = await loadBundleOrThrow(dir);
    const fixture = await loadFixture(join(dir, "tests", file));
    const passed = await harness.run(engineTarget(bundle), fixture);
    expect(passed.failures.join("\n\n")).toBe("");
    // The limited call went out once at most: after the wait (deferred work), or never (429).
    expect(passed.vendorRequests.filter((r) => /locations$|executeCommand$/.test(r.path)).length).toBeLessThanOrEqual(1);

    const { given: _given, ...fresh } = fixture;
    // Without the preset the call is sent at once: nothing is deferred, so the fixture fails.
    const failed = await harness.run(engineTarget(bundle), fresh as Fixture);
    expect(failed.passed).toBe(false);
    expect(failed.vendorRequests.some((r) => /locations$|executeCommand$/.test(r.path))).toBe(true);
  });

  it("counts the preset for the fixture's own user: another token's quota is untouched", async () => {
    const bundle = await loadBundleOrThrow("mappings/smartthings");
    const fixture = await loadFixture("mappings/smartthings/tests/activate-user-over-quota.yaml");
    const result = await harness.run(async (f, run) => {
      const target = await engineTarget(bundle)(f, run);
      // The preset was counted for the fixture's token; MI sends another user's token.
      return { invoke: (event: any, ctx) => target.invoke({ ...event, header: { auth: { type: "OAuth2.0", token: "another-users-token" } } }, ctx) };
    }, fixture);
    expect(result.vendorRequests.map((r) => r.path)).toEqual(["/v1/locations"]);
  });

  it("a quota name the bundle does not declare is refused at its file:line:col, and a run says why", async () => {
    const dir = await mkdtemp(join(tmpdir(), "c2c-quota-fixture-"));
    await mkdir(join(dir, "tests"));
    await writeFile(
      join(dir, "tests", "over.yaml"),
      "name: over\ngiven:\n  quotaUsed:\n    listLocations: 100\n    listRooms: 5\n    api: 1\nrequest: { header: {}, payload: { operationName: AWS.ActivateUser } }\nvendor: []\nexpect: { ack: {} }\n",
    );
    const mapping = {
      api: { baseUrl: "https://x.example", quota: { openRequests: 4 } },
      calls: { listLocations: { method: "GET", path: "/l", quota: { requestsPerMinute: 100 } } },
    };
    const diagnostics = await checkFixtures(dir, mapping);
    expect(diagnostics.map((d) => [d.file.split("/").slice(-2).join("/"), d.line, d.col, d.rule, d.message, d.hint])).toEqual([
      ["tests/over.yaml", 5, expect.any(Number), "fixture/unknown-quota", 'given.quotaUsed names "listRooms", which is not a quota of this bundle', "this bundle's quotas: api, listLocations"],
      ["tests/over.yaml", 6, expect.any(Number), "fixture/quota-without-rate", 'given.quotaUsed names "api", a quota without requestsPerMinute: there is no per-minute count to preset', "quotaUsed presets requests per minute; open requests at once cannot be preset"],
    ]);
    const st = await loadBundleOrThrow("mappings/smartthings");
    const fixture = await loadFixture("mappings/smartthings/tests/activate-user-over-quota.yaml");
    const result = await harness.run(engineTarget(st), { ...fixture, given: { quotaUsed: { listRooms: 5 } } });
    expect(result.failures[0]).toContain('given.quotaUsed names "listRooms", which is not a quota of this bundle (listLocations)');
    expect(result.vendorRequests).toEqual([]);
  });

  it("compares a step's jobs by operation and order, each delay exact or within its bounds", () => {
    const queued = [{ operation: "AWS.SendCommand", delaySeconds: 42 }];
    expect(jobsMatch([{ operation: "AWS.SendCommand", delaySeconds: { min: 1, max: 120 } }], queued)).toBe(true);
    expect(jobsMatch([{ operation: "AWS.SendCommand", delaySeconds: 42 }], queued)).toBe(true);
    expect(jobsMatch([{ operation: "AWS.SendCommand", delaySeconds: { max: 10 } }], queued)).toBe(false);
    expect(jobsMatch([{ operation: "AWS.SendCommand", delaySeconds: 41 }], queued)).toBe(false);
    expect(jobsMatch([], queued)).toBe(false);
    expect(jobsMatch([{ operation: "AWS.DiscoverDevices", delaySeconds: { min: 0 } }], queued)).toBe(false);
  });
});
