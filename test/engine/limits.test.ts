/**
 * Hard limits (mapping `api.limits`): a SendCommand with more commands than allowed is answered 400
 * before any vendor request; an invocation that would make more vendor requests than allowed sends
 * no more and answers 400. Both limits are declared defaults, overridable per bundle in YAML.
 */
import { readFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadBundleOrThrow, validateMappingText } from "../../engine/mapping/bundle.ts";
import { API_DEFAULTS, type CompiledBundle } from "../../engine/mapping/compiled.ts";
import { FixtureHarness, FIXTURE_TOKEN } from "../../engine/testing/fixture-runner.ts";
import { createEngine } from "../../engine/handler/create-handler.ts";
import { MemoryStateStore } from "../../engine/store/memory-store.ts";
import { RedactingLogger } from "../../engine/log/json-logger.ts";

const lights = JSON.parse(readFileSync("mappings/lifx/tests/data/lights.json", "utf8"));
const ctx = { getRemainingTimeInMillis: () => 30_000 };
const onOff = (n: number) => Array.from({ length: n }, (_, i) => ({ [i % 2 ? "0x00" : "0x01"]: {} }));
const command = (traceId: string, commands: object[]) => ({
  header: { auth: { type: "OAuth2.0", token: FIXTURE_TOKEN } },
  payload: {
    operationName: "AWS.SendCommand",
    operationVersion: "1.0",
    connectorId: "lifx-connector",
    connectorDeviceId: "d073d5141876",
    traceId,
    endpoints: [{ id: "1", clusters: [{ id: "0x0006", commands }] }],
  },
});

let harness: FixtureHarness;
let lifx: CompiledBundle;
let limited: CompiledBundle;

beforeAll(async () => {
  harness = await FixtureHarness.start();
  harness.applyEnv();
  lifx = await loadBundleOrThrow("mappings/lifx");
  const text = await readFile("mappings/lifx/connector.yaml", "utf8");
  const withLimits = text.replace(/^api:\n/m, "api:\n  limits: { commandsPerRequest: 3, vendorRequestsPerInvocation: 1 }\n");
  const { bundle, diagnostics } = validateMappingText(withLimits, "lifx-limited/connector.yaml");
  if (!bundle) throw new Error(JSON.stringify(diagnostics));
  limited = bundle;
});
afterAll(() => harness.close());
beforeEach(() => harness.mi.reset());

const engineFor = (b: CompiledBundle) => createEngine(b, { store: new MemoryStateStore(), logger: new RedactingLogger(() => {}) });

describe("commands per SendCommand", () => {
  it(`defaults to ${API_DEFAULTS.limits.commandsPerRequest}: 3,000 repeated commands get 400 and cause no vendor request`, async () => {
    harness.vendor.load([], "strict");
    const ack = (await engineFor(lifx).handle(command("trace-flood", onOff(3000)), ctx)) as any;
    expect(ack.header.responseCode).toBe(400);
    expect(ack.payload.responseMessage).toBe("SendCommand carries 3000 commands; at most 50 per request (api.limits.commandsPerRequest)");
    expect(harness.vendor.problems).toEqual([]);
    expect(harness.mi.events).toHaveLength(0);
  });

  it("is overridable per bundle", async () => {
    harness.vendor.load([], "strict");
    expect(limited.api.limits).toEqual({ commandsPerRequest: 3, vendorRequestsPerInvocation: 1 });
    const ack = (await engineFor(limited).handle(command("trace-four", onOff(4)), ctx)) as any;
    expect(ack.header.responseCode).toBe(400);
    expect(ack.payload.responseMessage).toMatch(/at most 3 per request/);
  });
});

describe("vendor requests per invocation", () => {
  it("past the limit nothing more is sent and the answer is 400", async () => {
    // The command needs two requests (read the device, PUT its state): the limit of 1 allows the first only.
    harness.vendor.load([{ request: { method: "GET", path: "/v1/lights/id:d073d5141876" }, response: { status: 200, body: [lights[0]] } }], "strict");
    const ack = (await engineFor(limited).handle(command("trace-limited", onOff(1)), ctx)) as any;
    expect(ack.header.responseCode).toBe(400);
    expect(ack.payload.responseMessage).toMatch(/more than 1 vendor requests in one invocation/);
    expect(harness.vendor.unused()).toEqual([]);
    expect(harness.vendor.problems).toEqual([]);
  });

  it("is counted per invocation, not per container", async () => {
    const engine = engineFor({ ...lifx, api: { ...lifx.api, limits: { commandsPerRequest: 50, vendorRequestsPerInvocation: 2 } } });
    const getDevice = { request: { method: "GET", path: "/v1/lights/id:d073d5141876" }, response: { status: 200, body: [lights[0]] } };
    const put = { request: { method: "PUT", path: "/v1/lights/id:d073d5141876/state" }, response: { status: 207, body: { results: [{ id: "d073d5141876", status: "ok" }] } } };
    harness.vendor.load([getDevice, put, { request: { method: "GET", path: "/v1/lights/all" }, response: { status: 200, body: lights } }, put], "replay");
    for (const trace of ["trace-a", "trace-b"]) {
      const ack = (await engine.handle(command(trace, onOff(1)), ctx)) as any;
      expect(ack.header.responseCode, JSON.stringify(ack)).toBe(200);
    }
  });
});
