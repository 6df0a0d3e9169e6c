/**
 * A vendor answering 2xx with something the mapping cannot use (malformed JSON, HTML, `{}`, `null`,
 * an empty body) is a vendor failure: 502 with a clear message in every operation, never 500 (which
 * is for mapping errors) nor 404.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadBundleOrThrow } from "../../engine/mapping/bundle.ts";
import type { CompiledBundle } from "../../engine/mapping/compiled.ts";
import { FixtureHarness, FIXTURE_TOKEN } from "../../engine/testing/fixture-runner.ts";
import type { Exchange } from "../../engine/testing/vendor-simulator.ts";
import { createEngine } from "../../engine/handler/create-handler.ts";
import { MemoryStateStore } from "../../engine/store/memory-store.ts";
import { RedactingLogger } from "../../engine/log/json-logger.ts";

const lights = JSON.parse(readFileSync("mappings/lifx/tests/data/lights.json", "utf8"));
const ctx = { getRemainingTimeInMillis: () => 30_000 };
const header = { auth: { type: "OAuth2.0", token: FIXTURE_TOKEN } };
const request = (operationName: string, extra: object = {}) => ({ header, payload: { operationName, operationVersion: "1.0", connectorId: "lifx-connector", ...extra } });
const command = request("AWS.SendCommand", {
  connectorDeviceId: "d073d5141876",
  traceId: "trace-unusable",
  endpoints: [{ id: "1", clusters: [{ id: "0x0006", commands: [{ "0x01": {} }] }] }],
});

const HOSTILE: Array<[string, Exchange["response"]]> = [
  ["malformed JSON", { status: 200, headers: { "content-type": "application/json" }, body: '[{"id": "d073d5141876", ' }],
  ["HTML", { status: 200, headers: { "content-type": "text/html" }, body: "<html><body>Maintenance</body></html>" }],
  ["{}", { status: 200, body: {} }],
  ["null", { status: 200, headers: { "content-type": "application/json" }, body: "null" }],
  ["an empty body", { status: 200, body: "" }],
];

let harness: FixtureHarness;
let bundle: CompiledBundle;
beforeAll(async () => {
  harness = await FixtureHarness.start();
  harness.applyEnv();
  bundle = await loadBundleOrThrow("mappings/lifx");
});
afterAll(() => harness.close());
beforeEach(() => harness.mi.reset());

const engine = () => createEngine(bundle, { store: new MemoryStateStore(), logger: new RedactingLogger(() => {}) });

describe.each(HOSTILE)("the vendor answers 200 with %s", (name, response) => {
  it("ActivateUser answers 502", async () => {
    harness.vendor.load([{ request: { method: "GET", path: "/v1/lights/all" }, response }], "strict");
    const ack = (await engine().handle(request("AWS.ActivateUser"), ctx)) as any;
    expect(ack.header.responseCode, ack.payload.responseMessage).toBe(502);
    expect(ack.payload.responseMessage).toMatch(/vendor API answered HTTP 200 with a body the mapping cannot use/);
  });

  it.skipIf(name === "{}")("DiscoverDevices answers 502 and reports the failure", async () => {
    harness.vendor.load([{ request: { method: "GET", path: "/v1/lights/all" }, response }], "strict");
    const ack = (await engine().handle(request("AWS.DiscoverDevices", { deviceDiscoveryId: "unusable1" }), ctx)) as any;
    expect(ack.header.responseCode, ack.payload.responseMessage).toBe(502);
    const [event] = await harness.mi.waitForEvents(1, 3000);
    expect(event!.body).toMatchObject({ Operation: "DEVICE_DISCOVERY", StatusCode: 502 });
  });

  it.skipIf(name === "{}")("SendCommand (reading the device) answers 502, not 404", async () => {
    harness.vendor.load(
      [
        { request: { method: "GET", path: "/v1/lights/id:d073d5141876" }, response },
        { request: { method: "GET", path: "/v1/lights/all" }, response: { status: 200, body: lights } },
      ],
      "replay",
    );
    const ack = (await engine().handle(command, ctx)) as any;
    expect(ack.header.responseCode, ack.payload.responseMessage).toBe(502);
  });
});
