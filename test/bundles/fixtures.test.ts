/**
 * Every bundle in mappings/ validates and passes its fixture tests, through the same runner as
 * `c2c test`; and no log line of the whole run carries a token, secret or user id.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listBundles, loadAndValidateBundle } from "../../engine/mapping/bundle.ts";
import { formatDiagnostic } from "../../engine/mapping/diagnostics.ts";
import { loadFixtures } from "../../engine/testing/fixtures.ts";
import { FIXTURE_CLIENT, FIXTURE_TOKEN, FixtureHarness } from "../../engine/testing/fixture-runner.ts";
import { engineTarget } from "../../engine/testing/engine-target.ts";
import type { LogRecord } from "../../engine/log/json-logger.ts";

const bundles = await listBundles("mappings");
let harness: FixtureHarness;
const logs: LogRecord[] = [];
const userIds = new Set<string>();

beforeAll(async () => {
  harness = await FixtureHarness.start();
});
afterAll(async () => {
  await harness.close();
});

describe.each(bundles)("bundle %s", (dir) => {
  it("validates without errors", async () => {
    const { bundle, diagnostics } = await loadAndValidateBundle(dir);
    const errors = diagnostics.filter((d) => d.severity === "error").map(formatDiagnostic);
    expect(errors).toEqual([]);
    expect(bundle).toBeDefined();
  });

  it("has fixture tests", async () => {
    expect((await loadFixtures(dir)).length).toBeGreaterThan(0);
  });

  describe("fixtures", async () => {
    const fixtures = await loadFixtures(dir);
    it.each(fixtures.map((f) => [f.name, f] as const))("%s", async (_name, fixture) => {
      const { bundle } = await loadAndValidateBundle(dir);
      const result = await harness.run(engineTarget(bundle!, { logs }), fixture);
      for (const e of result.events as Array<{ UserId?: string }>) if (e.UserId) userIds.add(e.UserId);
      expect(result.failures.join("\n\n")).toBe("");
    });
  });
});

describe("logs of the fixture run", () => {
  it("never contain a token, client secret or user id", () => {
    expect(logs.length).toBeGreaterThan(0);
    const text = JSON.stringify(logs);
    for (const secret of [FIXTURE_TOKEN, FIXTURE_CLIENT.secret, ...userIds]) expect(text).not.toContain(secret);
  });
});
