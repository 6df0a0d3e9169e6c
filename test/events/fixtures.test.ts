/**
 * Webhook fixtures as data (test/events/bundles/acme/tests): the same runner as every bundle's
 * fixtures, with webhook deliveries, several steps against one engine and MI outages.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadAndValidateBundle } from "../../engine/mapping/bundle.ts";
import { formatDiagnostic } from "../../engine/mapping/diagnostics.ts";
import { loadFixtures } from "../../engine/testing/fixtures.ts";
import { FixtureHarness } from "../../engine/testing/fixture-runner.ts";
import { engineTarget } from "../../engine/testing/engine-target.ts";
import type { LogRecord } from "../../engine/log/json-logger.ts";
import { ACME_DIR } from "./helpers.ts";

let harness: FixtureHarness;
const logs: LogRecord[] = [];
beforeAll(async () => {
  harness = await FixtureHarness.start();
});
afterAll(async () => {
  await harness.close();
});

describe("acme webhook fixtures", async () => {
  const fixtures = await loadFixtures(ACME_DIR);

  it("validate, fixtures included", async () => {
    const { diagnostics } = await loadAndValidateBundle(ACME_DIR);
    expect(diagnostics.filter((d) => d.severity === "error").map(formatDiagnostic)).toEqual([]);
    expect(fixtures.length).toBeGreaterThanOrEqual(3);
  });

  it.each(fixtures.map((f) => [f.name, f] as const))("%s", async (_name, fixture) => {
    const { bundle } = await loadAndValidateBundle(ACME_DIR);
    const result = await harness.run(engineTarget(bundle!, { logs }), fixture);
    expect(result.failures.join("\n\n")).toBe("");
  });

  it("restores the environment a fixture set", () => {
    expect(process.env.ACME_WEBHOOK_SECRET).toBeUndefined();
  });

  it("logs no webhook secret", () => {
    expect(logs.length).toBeGreaterThan(0);
    expect(JSON.stringify(logs)).not.toContain("acme-fixture-secret");
  });
});

describe("the fixture runner", () => {
  it("fails a webhook fixture whose expectation is wrong", async () => {
    const [fixture] = (await loadFixtures(ACME_DIR)).filter((f) => f.webhook !== undefined);
    const { bundle } = await loadAndValidateBundle(ACME_DIR);
    const wrong = structuredClone(fixture);
    wrong.expect.http = { status: 202 };
    wrong.expect.events = [];
    const result = await harness.run(engineTarget(bundle!), wrong);
    expect(result.passed).toBe(false);
    expect(result.failures.join("\n")).toMatch(/HTTP status 200, expected 202/);
    expect(result.failures.join("\n")).toMatch(/expected 0 event\(s\), MI received 3/);
  });
});
