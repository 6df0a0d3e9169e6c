/**
 * The outbox: events MI does not take now wait on the SQS job queue and are delivered when MI is
 * back, as long as the queue keeps them. Real parts throughout: the MI emulator (SigV4, the service
 * model, injected latency and faults, a request counter), the SQS emulator with a clock the test
 * moves (time compressed: a 10-minute outage takes no wall time), DynamoDB through dynalite shared
 * by two engines as two containers of one function.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadBundleOrThrow } from "../../engine/mapping/bundle.ts";
import type { CompiledBundle } from "../../engine/mapping/compiled.ts";
import { FixtureHarness, FIXTURE_TOKEN } from "../../engine/testing/fixture-runner.ts";
import { createEngine } from "../../engine/handler/create-handler.ts";
import { DEFAULT_ACK_BUDGET_MS, type Engine } from "../../engine/handler/engine.ts";
import { SendConnectorEventClient } from "../../engine/mi/client.ts";
import { Deadline } from "../../engine/runtime/deadline.ts";
import type { StateStore } from "../../engine/store/store.ts";
import { RedactingLogger, memorySink, type LogRecord } from "../../engine/log/json-logger.ts";
import type { SendConnectorEventInput } from "../../engine/mi/send-connector-event.ts";
import { LONG_CONTEXT as ctx, QueueRig } from "../support/queue-rig.ts";
import { timedOnEngineTime } from "../support/engine-time.ts";
import { getLight, LIFX_LIGHTS as lights, lifxCommand as command, lifxDiscovery as discovery, lifxRequest, listLights, putState } from "../support/lifx.ts";

const QUEUE = "c2c-outbox";
const USER = "a0c1aa82395411e9a0757200055bf1c9";
const getDevice = getLight();
const putOk = putState();
const listAll = listLights();
const deactivate = lifxRequest("AWS.DeactivateUser");
/** A DEVICE_EVENT of 7 clusters: the engine splits it into two requests (at most 5 clusters each). */
const sevenClusters: SendConnectorEventInput = {
  ConnectorId: "lifx-connector",
  Operation: "DEVICE_EVENT",
  OperationVersion: "1.0",
  ConnectorDeviceId: "d073d5141876",
  UserId: USER,
  StatusCode: 200,
  MatterEndpoint: {
    id: "1",
    clusters: ["0x0006", "0x0008", "0x0300", "0x0402", "0x0405", "0x0406", "0x0045"].map((id) => ({ id, attributes: { "0x0000": id === "0x0006" || id === "0x0045" ? true : 1 } })),
  },
};

let harness: FixtureHarness;
let rig: QueueRig;
let bundle: CompiledBundle;

beforeAll(async () => {
  [harness, rig, bundle] = await Promise.all([FixtureHarness.start(), QueueRig.start({ queue: QUEUE, maxReceiveCount: 210 }), loadBundleOrThrow("mappings/lifx")]);
  harness.applyEnv();
});
afterAll(async () => {
  await Promise.all([harness.close(), rig.close()]);
});
beforeEach(() => {
  rig.reset();
  harness.mi.reset();
});

const sharedStore = (): Promise<StateStore> => rig.dynamoStore("outbox");

/** One container of the function. The job key is the deployment's, shared by its containers. */
function container(store: StateStore, logs: LogRecord[] = []): Engine {
  const logger = new RedactingLogger(memorySink(logs));
  // Few in-client retries: the queue does the waiting (and the test's wall time stays short).
  const sink = new SendConnectorEventClient({ logger, maxAttempts: 2, maxDelayMs: 50 });
  return createEngine(bundle, { store, logger, sink }, { ...harness.env(), ...rig.jobQueueEnv() });
}

const consumeAll = (engine: Engine) => rig.consumeAll(engine);

const bodiesOf = (operation: string) => harness.mi.events.map((e) => e.body).filter((b) => b.Operation === operation);

describe("the ACK never waits on MI", () => {
  it("MI delaying 30 s: the SendCommand ACK comes within 1.5 s; the response is delivered from the outbox", async () => {
    const engine = container(await sharedStore());
    harness.vendor.load([getDevice, putOk, listAll], "replay");
    harness.mi.inject({ latencyMs: 30_000, times: 1 });
    const { result: ack, ms } = await timedOnEngineTime(async () => (await engine.handle(command("trace-slow-mi"), ctx)) as any);
    // MI's bound, on the engine's own time (a busy test machine's CPU waits left out: support/engine-time.ts).
    expect(ms).toBeLessThanOrEqual(DEFAULT_ACK_BUDGET_MS);
    expect(ack.header.responseCode).toBe(200);
    expect(rig.messages()).toHaveLength(1);
    expect(rig.messages()[0]!.body).not.toContain(FIXTURE_TOKEN);
    expect(await consumeAll(engine)).toBe(0);
    const responses = bodiesOf("DEVICE_COMMAND_RESPONSE");
    // Delivered; the request whose answer was lost may also have arrived: then as the identical body.
    expect(responses.length).toBeGreaterThanOrEqual(1);
    for (const b of responses) expect(b).toEqual(responses[0]);
    expect(responses[0]).toMatchObject({ TraceId: "trace-slow-mi", StatusCode: 200 });
  });
});

describe("the ACK budget is the engine's, whatever it is", () => {
  it("a compressed budget (600 ms) with MI delaying 30 s: the ACK within 600 ms, the event in the outbox", async () => {
    const store = await sharedStore();
    const logger = new RedactingLogger(memorySink([]));
    const engine = createEngine(bundle, { store, logger, sink: new SendConnectorEventClient({ logger, maxAttempts: 2, maxDelayMs: 50 }), ackBudgetMs: 600 }, { ...harness.env(), ...rig.jobQueueEnv() });
    harness.vendor.load([getDevice, putOk, listAll], "replay");
    harness.mi.inject({ latencyMs: 30_000, times: 1 });
    const { result: ack, ms } = await timedOnEngineTime(async () => (await engine.handle(command("trace-compressed"), ctx)) as any);
    expect(ms).toBeLessThanOrEqual(600);
    expect(ack.header.responseCode).toBe(200);
    expect(rig.messages()).toHaveLength(1);
  });
});

describe("a 10-minute MI outage (time compressed)", () => {
  it("loses no discovery, command response or split event, and sends no part twice", async () => {
    const engine = container(await sharedStore());
    harness.vendor.load([getDevice, putOk, listAll], "replay");
    harness.mi.inject({ status: 503, times: 100_000 });
    const dack = (await engine.handle(discovery("discOutage"), ctx)) as any;
    expect(dack.header, JSON.stringify(dack)).toMatchObject({ responseCode: 200 });
    expect(((await engine.handle(command("trace-outage"), ctx)) as any).header.responseCode).toBe(200);
    expect(await engine.publisher.within(Deadline.after(1000)).publish(sevenClusters)).toBe(true);
    expect(rig.messages()).toHaveLength(3);
    for (let minute = 0; minute < 10; minute++) {
      rig.advance(60_000);
      await consumeAll(engine);
      expect(rig.messages()).toHaveLength(3);
      expect(rig.deadLetters()).toHaveLength(0);
    }
    expect(harness.mi.events).toHaveLength(0);
    harness.mi.clearFaults();
    rig.advance(16 * 60_000);
    expect(await consumeAll(engine)).toBe(0);
    expect(rig.messages()).toHaveLength(0);
    expect(bodiesOf("DEVICE_DISCOVERY")).toEqual([expect.objectContaining({ DeviceDiscoveryId: "discOutage", StatusCode: 200 })]);
    expect(bodiesOf("DEVICE_DISCOVERY")[0].Devices).toHaveLength(lights.length);
    expect(bodiesOf("DEVICE_COMMAND_RESPONSE")).toEqual([expect.objectContaining({ TraceId: "trace-outage", StatusCode: 200 })]);
    const parts = bodiesOf("DEVICE_EVENT").map((b) => b.MatterEndpoint.clusters.map((c: { id: string }) => c.id));
    expect(parts).toEqual([["0x0006", "0x0008", "0x0300", "0x0402", "0x0405"], ["0x0406", "0x0045"]]);
  });

  it("a split event whose first part MI accepted: only the rest goes to the outbox", async () => {
    const engine = container(await sharedStore());
    harness.mi.inject({ status: 503, times: 100_000, after: 1 });
    await engine.publisher.within(Deadline.after(1000)).publish(sevenClusters);
    harness.mi.clearFaults();
    rig.advance(60_000);
    await consumeAll(engine);
    const parts = bodiesOf("DEVICE_EVENT").map((b) => b.MatterEndpoint.clusters.length);
    expect(parts).toEqual([5, 2]);
  });

  it("an outbox job that got part of its events through resumes after them", async () => {
    const engine = container(await sharedStore());
    harness.mi.inject({ status: 503, times: 100_000 });
    await engine.publisher.within(Deadline.after(1000)).publish(sevenClusters);
    harness.mi.clearFaults();
    // MI takes the first part of the job's two, then fails again.
    harness.mi.inject({ status: 503, times: 100_000, after: 1 });
    rig.advance(60_000);
    expect(await consumeAll(engine)).toBe(1);
    harness.mi.clearFaults();
    rig.advance(60_000);
    await consumeAll(engine);
    expect(bodiesOf("DEVICE_EVENT").map((b) => b.MatterEndpoint.clusters.length)).toEqual([5, 2]);
  });
});

describe("deactivation is final", () => {
  it("no event leaves after DeactivateUser in another container, across an outage", async () => {
    const store = await sharedStore();
    const a = container(store);
    const b = container(store);
    harness.vendor.load([getDevice, putOk, listAll], "replay");
    harness.mi.inject({ status: 503, times: 100_000 });
    await a.handle(command("trace-before-deactivation"), ctx);
    await a.publisher.within(Deadline.after(1000)).publish(sevenClusters);
    expect(rig.messages()).toHaveLength(2);
    expect(((await b.handle(deactivate, ctx)) as any).header.responseCode).toBe(200);
    harness.mi.clearFaults();
    rig.advance(60_000);
    await consumeAll(a);
    await consumeAll(b);
    expect(harness.mi.events).toHaveLength(0);
    expect(rig.messages()).toHaveLength(0);
    expect(a.publisher.suppressed + b.publisher.suppressed).toBeGreaterThanOrEqual(2);
  });
});

describe("MI's 4xx are final", () => {
  it("a DEVICE_DISCOVERY MI rejects with 400 is sent once, counted, logged with MI's message, never retried", async () => {
    const logs: LogRecord[] = [];
    const engine = container(await sharedStore(), logs);
    harness.vendor.load([listAll], "replay");
    harness.mi.inject({ status: 400, times: 1 });
    await engine.handle(discovery("disc400"), ctx);
    rig.advance(60_000);
    await consumeAll(engine);
    expect(harness.mi.requests).toBe(1);
    expect(rig.messages()).toHaveLength(0);
    expect(engine.publisher.rejectedByMi).toBe(1);
    expect(logs.find((l) => l.message === "managed integrations refused the event: final, not retried")).toMatchObject({ errorType: "ValidationException", status: 400, problem: "injected fault" });
  });
});
