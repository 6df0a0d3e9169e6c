/**
 * Vendor quotas (issue #13 item 7): counted in the state store across invocations and containers
 * (memory, and DynamoDB through dynalite shared by two engines), never exceeded; work over the
 * quota is not sent but deferred through the job dispatcher with a delay, and its result still
 * reaches MI. Time is the test's clock (quota windows, SQS delays), so a minute takes no wall time.
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadBundleOrThrow, validateMappingText } from "../../engine/mapping/bundle.ts";
import type { CompiledBundle, CompiledQuota } from "../../engine/mapping/compiled.ts";
import { FixtureHarness, FIXTURE_TOKEN } from "../../engine/testing/fixture-runner.ts";
import type { Exchange } from "../../engine/testing/vendor-simulator.ts";
import { createEngine } from "../../engine/handler/create-handler.ts";
import type { Engine } from "../../engine/handler/engine.ts";
import { SendConnectorEventClient } from "../../engine/mi/client.ts";
import type { DynamoDbStateStore } from "../../engine/store/dynamodb-store.ts";
import { MemoryStateStore } from "../../engine/store/memory-store.ts";
import type { StateStore } from "../../engine/store/store.ts";
import type { SqsEmulator } from "../../engine/local/sqs-emulator.ts";
import { RedactingLogger, memorySink, type LogRecord } from "../../engine/log/json-logger.ts";
import type { BatchResponse } from "../../engine/events/buffer-consumer.ts";
import { QuotaGate } from "../../engine/quota/quota-gate.ts";
import { VendorError } from "../../engine/vendor/types.ts";
import { QueueRig } from "../support/queue-rig.ts";

const QUEUE = "c2c-quota-jobs";
let rig: QueueRig;
let sqs: SqsEmulator;
let harness: FixtureHarness;

beforeAll(async () => {
  [rig, harness] = await Promise.all([QueueRig.start({ queue: QUEUE, maxReceiveCount: 50, clockStart: Date.UTC(2026, 11, 1, 12, 0, 0) }), FixtureHarness.start()]);
  sqs = rig.sqs;
  harness.applyEnv();
});
afterAll(async () => {
  await Promise.all([rig.close(), harness.close()]);
});
beforeEach(() => {
  rig.reset();
  harness.mi.reset();
});

/** A state table on the test clock (counters expire by it). */
const dynamoStore = (): Promise<DynamoDbStateStore> => rig.dynamoStore("quota", { now: rig.now });
/** A second container: its own client on the same table. */
const sameTable = (store: DynamoDbStateStore): DynamoDbStateStore => rig.sameTable(store, { now: rig.now });

describe("the store's atomic counter", () => {
  it("memory: adds, counts down, expires with its TTL", async () => {
    const store = new MemoryStateStore({ now: rig.now });
    expect(await store.increment("c", 1, 60)).toBe(1);
    expect(await store.increment("c", 2, 60)).toBe(3);
    expect(await store.increment("c", -1, 60)).toBe(2);
    expect(await store.get("c")).toBe(2);
    rig.clock += 61_000;
    expect(await store.increment("c", 1, 60)).toBe(1);
  });

  it("DynamoDB: 40 concurrent increments from two containers give 1..40, each once", async () => {
    const a = await dynamoStore();
    const b = sameTable(a);
    const values = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).increment("counter", 1, 120)));
    expect([...values].sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(await a.get("counter")).toBe(40);
    // Past its TTL (not yet deleted by DynamoDB) the counter starts over.
    rig.clock += 121_000;
    expect(await b.get("counter")).toBeUndefined();
    expect(await b.increment("counter", 1, 120)).toBe(1);
  });
});

describe("QuotaGate across two containers (dynalite)", () => {
  const perMinute: CompiledQuota = { name: "api", requestsPerMinute: 3, per: "user" };
  it("lets 3 requests per minute through for one user, refuses the 4th with the wait, and counts users apart", async () => {
    rig.clock = Math.floor(rig.clock / 60_000) * 60_000 + 60_000; // the start of a minute
    const store = await dynamoStore();
    const a = new QuotaGate(store, "vendor", rig.now);
    const b = new QuotaGate(sameTable(store), "vendor", rig.now);
    for (const gate of [a, b, a]) await (await gate.acquire([perMinute], "token-1", 10)).release();
    const refused = await b.acquire([perMinute], "token-1", 10).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(VendorError);
    expect(refused).toMatchObject({ kind: "quota", message: "vendor quota api: 3 requests per minute used up" });
    expect((refused as VendorError).retryAfterMs).toBeGreaterThan(0);
    // Another user's credentials have their own count; a connector-wide quota counts them together.
    await (await a.acquire([perMinute], "token-2", 10)).release();
    // The next minute: the previous one still weighs (sliding window), half a minute later it fits.
    rig.clock += 60_000;
    await expect(a.acquire([perMinute], "token-1", 10)).rejects.toMatchObject({ kind: "quota" });
    rig.clock += 30_000;
    await (await b.acquire([perMinute], "token-1", 10)).release();
  });

  it("holds open requests at once across containers, and frees the slot on release", async () => {
    const store = await dynamoStore();
    const open: CompiledQuota = { name: "call:setState", openRequests: 1, per: "connector" };
    const a = new QuotaGate(store, "vendor", rig.now);
    const b = new QuotaGate(sameTable(store), "vendor", rig.now);
    const held = await a.acquire([open], "token-1", 10);
    await expect(b.acquire([open], "token-2", 10)).rejects.toMatchObject({ kind: "quota", message: "vendor quota call:setState: 1 open requests at once used up" });
    await held.release();
    await (await b.acquire([open], "token-2", 10)).release();
    // A container that died holding the slot loses it when the lease expires.
    await a.acquire([open], "token-1", 10);
    await expect(b.acquire([open], "token-1", 10)).rejects.toMatchObject({ kind: "quota" });
    rig.clock += 11_000;
    await (await b.acquire([open], "token-1", 10)).release();
  });
});

describe("SendCommand over the quota", () => {
  const lights = JSON.parse(readFileSync("mappings/lifx/tests/data/lights.json", "utf8"));
  const getDevice: Exchange = { request: { method: "GET", path: "/v1/lights/id:d073d5141876" }, response: { status: 200, body: [lights[0]] } };
  const putOk: Exchange = { request: { method: "PUT", path: "/v1/lights/id:d073d5141876/state" }, response: { status: 207, body: { results: [{ id: "d073d5141876", status: "ok" }] } } };
  const command = (traceId: string) => ({
    header: { auth: { type: "OAuth2.0", token: FIXTURE_TOKEN } },
    payload: { operationName: "AWS.SendCommand", operationVersion: "1.0", connectorId: "lifx-connector", connectorDeviceId: "d073d5141876", traceId, endpoints: [{ id: "1", clusters: [{ id: "0x0006", commands: [{ "0x01": {} }] }] }] },
  });
  const ctx = { getRemainingTimeInMillis: () => 30_000 };

  async function quotaBundle(): Promise<CompiledBundle> {
    const base = await loadBundleOrThrow("mappings/lifx");
    const text = readFileSync("mappings/lifx/connector.yaml", "utf8").replace(/^api:\n/m, "api:\n  quota: { requestsPerMinute: 3 }\n");
    const { bundle, diagnostics } = validateMappingText(text, "lifx-quota/connector.yaml");
    if (!bundle) throw new Error(`quota bundle invalid: ${JSON.stringify(diagnostics)}`);
    expect(bundle.api.quota).toEqual({ name: "api", requestsPerMinute: 3, per: "user" });
    expect(base.api.quota).toBeUndefined();
    return { ...bundle, source: base.source };
  }

  function container(bundle: CompiledBundle, store: StateStore, logs: LogRecord[] = []): Engine {
    const logger = new RedactingLogger(memorySink(logs));
    const sink = new SendConnectorEventClient({ logger, maxAttempts: 2, maxDelayMs: 50 });
    return createEngine(bundle, { store, logger, sink, now: rig.now }, {
      ...harness.env(),
      ...rig.jobQueueEnv(),
    });
  }

  async function consumeAll(engine: Engine): Promise<void> {
    await rig.consumeAll(engine);
  }

  it("ActivateUser over the quota answers 429 (it cannot be deferred) and sends nothing", async () => {
    rig.clock = Math.floor(rig.clock / 60_000) * 60_000 + 60_000;
    const bundle = await quotaBundle();
    const engine = container(bundle, new MemoryStateStore({ now: rig.now }));
    const listAll: Exchange = { request: { method: "GET", path: "/v1/lights/all" }, response: { status: 200, body: lights } };
    harness.vendor.load([listAll, listAll, listAll, listAll], "replay");
    const activate = { header: { auth: { type: "OAuth2.0", token: FIXTURE_TOKEN } }, payload: { operationName: "AWS.ActivateUser", operationVersion: "1.0.0", connectorId: "lifx-connector" } };
    for (let i = 0; i < 3; i++) expect(((await engine.handle(activate, ctx)) as any).header.responseCode).toBe(200);
    const refused = (await engine.handle(activate, ctx)) as any;
    expect(refused.header.responseCode).toBe(429);
    expect(JSON.stringify(refused)).toContain("vendor quota api: 3 requests per minute used up");
    expect(harness.vendor.received).toHaveLength(3);
  });

  it("sends no request past the quota: the command is handed off with a delay, runs when the quota has room, and its result reaches MI", async () => {
    rig.clock = Math.floor(rig.clock / 60_000) * 60_000 + 60_000;
    const bundle = await quotaBundle();
    const store = await dynamoStore();
    const a = container(bundle, store);
    const b = container(bundle, sameTable(store));
    harness.vendor.load([getDevice, putOk, getDevice, putOk, getDevice, putOk], "replay");
    // Command 1: read + write (2 requests). Command 2, in the other container: read (3), the write would be the 4th.
    expect(((await a.handle(command("trace-q1"), ctx)) as any).header.responseCode).toBe(200);
    const second = (await b.handle(command("trace-q2"), ctx)) as any;
    expect(second.header.responseCode).toBe(200);
    expect(JSON.stringify(second)).toContain("Command trace-q2 accepted, the vendor quota is used up: its result follows as an event");
    expect(harness.vendor.received.map((r) => r.method)).toEqual(["GET", "PUT", "GET"]);
    expect(rig.messages()).toHaveLength(1);
    // Delayed: nothing runs before the quota has room.
    expect(sqs.poll(QUEUE).Records).toHaveLength(0);
    rig.clock += 10_000;
    await consumeAll(a);
    expect(harness.vendor.received).toHaveLength(3);

    rig.clock += 90_000;
    await consumeAll(a);
    // The deferred write went out (a state read may follow it, within the quota's room).
    expect(harness.vendor.received.map((r) => r.method).slice(0, 4)).toEqual(["GET", "PUT", "GET", "PUT"]);
    expect(rig.messages()).toHaveLength(0);
    const responses = harness.mi.events.map((e) => e.body).filter((x) => x.Operation === "DEVICE_COMMAND_RESPONSE");
    expect(responses.map((r) => [r.TraceId, r.StatusCode])).toEqual([["trace-q1", 200], ["trace-q2", 200]]);
  });
});

describe("discovery fan-out over the quota", () => {
  const LOCATION = "95efee9b-6073-4871-b5ba-de6642187293";
  const ctx = { getRemainingTimeInMillis: () => 30_000 };
  const discover = (id: string) => ({ header: { auth: { type: "OAuth2.0", token: FIXTURE_TOKEN } }, payload: { operationName: "AWS.DiscoverDevices", operationVersion: "1.0", connectorId: "st", deviceDiscoveryId: id } });

  it("reads no device status past the quota: the devices left are handed off with a delay, each read once, all reported", async () => {
    rig.clock = Math.floor(rig.clock / 60_000) * 60_000 + 60_000;
    const statusAt: Array<{ id: string; at: number }> = [];
    const server = createServer((req, res) => {
      const path = new URL(req.url ?? "/", "http://x").pathname;
      const reply = (body: unknown) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
      if (path === "/v1/locations") return reply({ items: [{ locationId: LOCATION }] });
      if (path === "/v1/devices") return reply({ items: Array.from({ length: 5 }, (_, i) => ({ deviceId: `switch-${i + 1}`, label: `Switch ${i + 1}`, components: [{ id: "main", capabilities: [{ id: "switch" }] }] })), _links: {} });
      const status = /^\/v1\/devices\/([^/]+)\/status$/.exec(path);
      if (status) statusAt.push({ id: status[1]!, at: rig.clock });
      return reply({ components: { main: { switch: { switch: { value: "on" } } } } });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const st = structuredClone(await loadBundleOrThrow("mappings/smartthings"));
      const fan = st.operations.discoverDevices.perDevice!;
      fan.concurrency = 1;
      delete fan.ratePerSecond;
      fan.requests = fan.requests.map((c) => ({ ...c, quota: { name: "call:deviceStatus", requestsPerMinute: 3, per: "user" as const } }));
      const logger = new RedactingLogger(memorySink([]));
      // The quota stops the reads here, not the ACK budget: a budget that is not the subject (a busy
      // machine's DynamoDB counting must not hand devices off before the quota does).
      const engine = createEngine(st, { store: await dynamoStore(), logger, sink: new SendConnectorEventClient({ logger, maxAttempts: 2, maxDelayMs: 50 }), now: rig.now, ackBudgetMs: 20_000 }, {
        ...harness.env(),
        C2C_VENDOR_ORIGIN: origin,
        ...rig.jobQueueEnv(),
      });
      expect(((await engine.handle(discover("quotaFan"), ctx)) as any).header.responseCode).toBe(200);
      expect(statusAt.map((s) => s.id)).toEqual(["switch-1", "switch-2", "switch-3"]);
      expect(rig.messages()).toHaveLength(1);
      for (let minute = 0; minute < 10 && rig.messages().length > 0; minute++) {
        rig.clock += 30_000;
        for (let i = 0; i < 5; i++) {
          const event = sqs.poll(QUEUE);
          if (event.Records.length === 0) break;
          sqs.complete(QUEUE, event, (await engine.handle(event, ctx)) as BatchResponse);
        }
      }
      expect(rig.messages()).toHaveLength(0);
      // Each device read once, never more than 3 in one minute of the quota's clock.
      expect(statusAt.map((s) => s.id)).toEqual(["switch-1", "switch-2", "switch-3", "switch-4", "switch-5"]);
      const perMinute = new Map<number, number>();
      for (const s of statusAt) perMinute.set(Math.floor(s.at / 60_000), (perMinute.get(Math.floor(s.at / 60_000)) ?? 0) + 1);
      expect(Math.max(...perMinute.values())).toBeLessThanOrEqual(3);
      const discoveries = harness.mi.events.map((e) => e.body).filter((b) => b.Operation === "DEVICE_DISCOVERY" && b.DeviceDiscoveryId === "quotaFan");
      expect(discoveries.flatMap((d) => d.Devices.map((x: any) => x.ConnectorDeviceId)).sort()).toEqual(["switch-1", "switch-2", "switch-3", "switch-4", "switch-5"]);
      expect(discoveries.at(-1)!.StatusCode).toBe(200);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
