/**
 * The connector's promises to MI under retries, slow vendors and outages (issue: MI side):
 * the ACK comes back inside MI's 2 s even when the vendor hangs, with the result delivered later;
 * retried requests cause no second vendor command or discovery job, with both state stores;
 * a failing deferred job is retried, then reported with a non-2xx StatusCode; an event MI does
 * not take now is delivered later; no event of a deactivated user leaves.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadBundleOrThrow } from "../../engine/mapping/bundle.ts";
import type { CompiledBundle } from "../../engine/mapping/compiled.ts";
import { FixtureHarness, FIXTURE_TOKEN } from "../../engine/testing/fixture-runner.ts";
import type { Exchange } from "../../engine/testing/vendor-simulator.ts";
import { createEngine } from "../../engine/handler/create-handler.ts";
import { DEFAULT_ACK_BUDGET_MS, type Engine } from "../../engine/handler/engine.ts";
import { timedOnEngineTime } from "../support/engine-time.ts";
import { getLight, LIFX_LIGHTS, lifxCommand, lifxDiscovery, lifxRequest, listLights, putState } from "../support/lifx.ts";
import { MemoryStateStore } from "../../engine/store/memory-store.ts";
import { DynamoDbStateStore, createStateTable } from "../../engine/store/dynamodb-store.ts";
import type { StateStore } from "../../engine/store/store.ts";
import { startDynalite, type LocalDynamo } from "../../engine/local/dynalite.ts";
import { RedactingLogger, memorySink, type LogRecord } from "../../engine/log/json-logger.ts";
import { keys } from "../../engine/operations/keys.ts";
import { ABANDONED_AFTER_MS } from "../../engine/operations/idempotency.ts";

const lights = LIFX_LIGHTS;
const USER = "a0c1aa82395411e9a0757200055bf1c9";
const getDevice = getLight;
const putOn = putState;
const listAll = listLights;
const command = (traceId: string) => lifxCommand(traceId);
const discovery = lifxDiscovery;
const simple = lifxRequest;
const lambdaContext = { getRemainingTimeInMillis: () => 30_000 };

let harness: FixtureHarness;
let bundle: CompiledBundle;
let dynamo: LocalDynamo;
const logs: LogRecord[] = [];

beforeAll(async () => {
  [harness, bundle, dynamo] = await Promise.all([FixtureHarness.start(), loadBundleOrThrow("mappings/lifx"), startDynalite()]);
  harness.applyEnv();
});
afterAll(async () => {
  await harness.close();
  await dynamo.close();
  // Every log line of this file, failures and hand-offs included, is free of secrets and user ids.
  const text = JSON.stringify(logs);
  expect(logs.length).toBeGreaterThan(0);
  expect(text).not.toContain(FIXTURE_TOKEN);
  expect(text).not.toContain(USER);
});

function engineWith(store: StateStore = new MemoryStateStore()): Engine {
  harness.applyEnv();
  return createEngine(bundle, { store, logger: new RedactingLogger(memorySink(logs)) });
}

function script(exchanges: Exchange[]): void {
  harness.vendor.load(exchanges, "strict");
  harness.mi.reset();
}

describe("time budget", () => {
  it("a hung vendor during SendCommand: ACK inside MI's 2 s, the result follows as an event", async () => {
    // The job re-runs the command; the device's profile is known by then, so no second read.
    script([getDevice(), putOn({ status: 207, body: { results: [] }, delayMs: 4000 }), putOn(), listAll()]);
    const engine = engineWith();
    const { result: ack, ms } = await timedOnEngineTime(async () => (await engine.handle(command("trace-hung-1"), lambdaContext)) as any);
    expect(ack.header.responseCode).toBe(200);
    expect(ack.payload.responseMessage).toMatch(/result follows/);
    // On the engine's own time (a busy machine's CPU waits left out: test/support/engine-time.ts).
    expect(ms).toBeLessThanOrEqual(DEFAULT_ACK_BUDGET_MS);
    const [event] = await harness.mi.waitForEvents(1, 5000);
    expect(event.body).toMatchObject({ Operation: "DEVICE_COMMAND_RESPONSE", TraceId: "trace-hung-1", StatusCode: 200 });
    expect(harness.vendor.problems).toEqual([]);
  });

  it("a hung vendor during DiscoverDevices: ACK in time, devices delivered by the handed-off job", async () => {
    script([listAll({ status: 200, body: lights, delayMs: 4000 }), listAll()]);
    const engine = engineWith();
    const { result: ack, ms } = await timedOnEngineTime(async () => (await engine.handle(discovery("777"), lambdaContext)) as any);
    expect(ms).toBeLessThanOrEqual(DEFAULT_ACK_BUDGET_MS);
    expect(ack.header.responseCode).toBe(200);
    const [event] = await harness.mi.waitForEvents(1, 5000);
    expect(event.body).toMatchObject({ Operation: "DEVICE_DISCOVERY", DeviceDiscoveryId: "777", StatusCode: 200 });
    expect((event.body as any).Devices).toHaveLength(3);
  });

  it("a deferred job that keeps failing is retried, then reported with a non-2xx StatusCode", async () => {
    const busy = { status: 503, body: { error: "busy" } };
    // sync: device ok, PUT hangs -> hand-off; 3 job attempts x 2 vendor attempts each meet 503.
    script([getDevice(), putOn({ status: 207, body: {}, delayMs: 4000 }), ...Array(6).fill(0).map(() => putOn(busy)), listAll()]);
    const engine = engineWith();
    const ack = (await engine.handle(command("trace-fails-1"), lambdaContext)) as any;
    expect(ack.header.responseCode).toBe(200);
    const [event] = await harness.mi.waitForEvents(1, 10_000);
    expect(event.body).toMatchObject({ Operation: "DEVICE_COMMAND_RESPONSE", TraceId: "trace-fails-1", StatusCode: 502 });
    expect(harness.vendor.unused()).toEqual([]);
    expect(harness.vendor.problems).toEqual([]);
  });
});

describe("events MI does not take now", () => {
  it("are retried by the client, then deferred, and arrive exactly once", async () => {
    script([listAll()]);
    harness.mi.inject({ status: 503, times: 5 });
    const engine = engineWith();
    const ack = (await engine.handle(discovery("888"), lambdaContext)) as any;
    expect(ack.header.responseCode).toBe(200);
    const events = await harness.mi.waitForEvents(1, 8000);
    await new Promise((r) => setTimeout(r, 300));
    expect(harness.mi.events).toHaveLength(1);
    expect(events[0].body).toMatchObject({ Operation: "DEVICE_DISCOVERY", DeviceDiscoveryId: "888" });
    expect(harness.mi.rejected.filter((r) => r.status === 503)).toHaveLength(5);
  });
});

describe.each([
  ["memory", async () => new MemoryStateStore()],
  [
    "DynamoDB (dynalite)",
    async () => {
      const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "y" } });
      const table = `state-${Math.random().toString(36).slice(2)}`;
      await createStateTable(client, table);
      return new DynamoDbStateStore({ tableName: table, client });
    },
  ],
] as const)("idempotency with the %s store", (_name, makeStore) => {
  it("a retried SendCommand with the same traceId sends no second vendor command", async () => {
    script([getDevice(), putOn(), listAll()]);
    const engine = engineWith(await makeStore());
    const first = (await engine.handle(command("trace-dup-1"), lambdaContext)) as any;
    const again = (await engine.handle(command("trace-dup-1"), lambdaContext)) as any;
    expect(first.header.responseCode).toBe(200);
    // One answer per request: the retry gets the first attempt's ACK.
    expect(again).toEqual(first);
    await new Promise((r) => setTimeout(r, 100));
    expect(harness.vendor.received.filter((r) => r.method === "PUT")).toHaveLength(1);
    expect(harness.mi.events).toHaveLength(1);
  });

  it("a retried DiscoverDevices with the same deviceDiscoveryId starts no second job", async () => {
    script([listAll()]);
    const engine = engineWith(await makeStore());
    const [a, b] = (await Promise.all([engine.handle(discovery("999"), lambdaContext), engine.handle(discovery("999"), lambdaContext)])) as any[];
    expect([a.header.responseCode, b.header.responseCode]).toEqual([200, 200]);
    await new Promise((r) => setTimeout(r, 100));
    expect(harness.vendor.received).toHaveLength(1);
    expect(harness.mi.events).toHaveLength(1);
  });

  it("a retry takes over an attempt that died mid-way (a claim left 'started'), but not a live one", async () => {
    const store = await makeStore();
    const key = keys.trace("lifx-connector", "trace-abandoned-1");
    await store.put(key, { state: "started", at: Date.now() - 5_000 }, 3600);
    script([]);
    const live = (await engineWith(store).handle(command("trace-abandoned-1"), lambdaContext)) as any;
    expect(live.payload.responseMessage).toMatch(/already received/);
    expect(harness.vendor.received).toHaveLength(0);

    await store.put(key, { state: "started", at: Date.now() - ABANDONED_AFTER_MS - 1_000 }, 3600);
    script([getDevice(), putOn(), listAll()]);
    const taken = (await engineWith(store).handle(command("trace-abandoned-1"), lambdaContext)) as any;
    expect(taken.header.responseCode).toBe(200);
    expect(taken.payload.responseMessage).not.toMatch(/already received/);
    await harness.mi.waitForEvents(1, 3000);
    expect(harness.mi.events[0].body).toMatchObject({ TraceId: "trace-abandoned-1", StatusCode: 200 });
    expect(await store.get(key)).toMatchObject({ state: "done" });
  });

  it("no event of a deactivated user is sent; it is counted", async () => {
    script([listAll(), listAll()]);
    const engine = engineWith(await makeStore());
    expect(((await engine.handle(simple("AWS.ActivateUser"), lambdaContext)) as any).header.responseCode).toBe(200);
    expect(((await engine.handle(simple("AWS.DeactivateUser"), lambdaContext)) as any).header.responseCode).toBe(200);
    const ack = (await engine.handle(discovery("1001"), lambdaContext)) as any;
    expect(ack.header.responseCode).toBe(200);
    await new Promise((r) => setTimeout(r, 100));
    expect(harness.mi.events).toHaveLength(0);
    expect(engine.publisher.suppressed).toBe(1);
    expect(logs.some((l) => l.message === "event for a deactivated user not sent")).toBe(true);
  });
});
