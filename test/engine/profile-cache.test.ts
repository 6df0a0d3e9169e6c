/**
 * SendCommand reads the device once to learn its profile; later commands for the same device skip
 * that read unless they need the device's state (Toggle's confirmation, ReadState).
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { loadBundleOrThrow } from "../../engine/mapping/bundle.ts";
import { FixtureHarness, FIXTURE_TOKEN } from "../../engine/testing/fixture-runner.ts";
import { createEngine } from "../../engine/handler/create-handler.ts";
import { MemoryStateStore } from "../../engine/store/memory-store.ts";
import { RedactingLogger } from "../../engine/log/json-logger.ts";

const lights = JSON.parse(readFileSync("mappings/lifx/tests/data/lights.json", "utf8"));
const ok = { status: 207, body: { results: [{ id: "d073d5141876", status: "ok" }] } };
let harness: FixtureHarness;

beforeAll(async () => {
  harness = await FixtureHarness.start();
  harness.applyEnv();
});
afterAll(() => harness.close());

const command = (traceId: string, cmd: string) => ({
  header: { auth: { type: "OAuth2.0", token: FIXTURE_TOKEN } },
  payload: {
    operationName: "AWS.SendCommand",
    operationVersion: "1.0",
    connectorId: "lifx-connector",
    connectorDeviceId: "d073d5141876",
    traceId,
    endpoints: [{ id: "1", clusters: [{ id: "0x0006", commands: [{ [cmd]: {} }] }] }],
  },
});

it("reads the device for the first command only, and again when a command needs its state", async () => {
  const engine = createEngine(await loadBundleOrThrow("mappings/lifx"), { store: new MemoryStateStore(), logger: new RedactingLogger(() => {}) });
  harness.vendor.load(
    [
      { request: { method: "GET", path: "/v1/lights/id:d073d5141876" }, response: { status: 200, body: [lights[0]] } },
      { request: { method: "PUT", path: "/v1/lights/id:d073d5141876/state" }, response: ok },
      { request: { method: "GET", path: "/v1/lights/all" }, response: { status: 200, body: lights } },
      // second On: profile known, user id cached: only the command itself
      { request: { method: "PUT", path: "/v1/lights/id:d073d5141876/state" }, response: ok },
      // Toggle confirms from the previous state: the device is read again
      { request: { method: "GET", path: "/v1/lights/id:d073d5141876" }, response: { status: 200, body: [lights[0]] } },
      { request: { method: "POST", path: "/v1/lights/id:d073d5141876/toggle" }, response: ok },
    ],
    "strict",
  );
  for (const [trace, cmd] of [["t1", "0x01"], ["t2", "0x01"], ["t3", "0x02"]]) {
    const ack = (await engine.handle(command(trace, cmd), { getRemainingTimeInMillis: () => 30_000 })) as any;
    expect(ack.header.responseCode).toBe(200);
  }
  expect(harness.vendor.problems).toEqual([]);
  expect(harness.vendor.unused()).toEqual([]);
});
