/**
 * Webhook deliveries and the engine's durable outbox (issue #10): with the SQS job queue, events MI
 * does not take now are handed to the outbox and the vendor gets 200; the outbox delivers them when
 * MI is back, each once, dropping values a newer event overtook. A delivery larger than its time
 * budget is answered 503 + Retry-After after partial progress, and the redelivery sends only the
 * rest. Real parts: the MI emulator (SigV4, the service model, injected faults), the SQS emulator
 * with a clock the test moves (a 10-minute outage takes no wall time), DynamoDB through dynalite
 * shared by two engines as two containers of one function.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startMiEmulator, type MiEmulator } from "../../engine/local/mi-emulator.ts";
import type { SqsEmulator } from "../../engine/local/sqs-emulator.ts";
import type { StateStore } from "../../engine/store/store.ts";
import type { CompiledBundle } from "../../engine/mapping/compiled.ts";
import { keys } from "../../engine/operations/keys.ts";
import type { Engine } from "../../engine/handler/engine.ts";
import type { WebhookHandlerOptions } from "../../engine/webhook/ingress.ts";
import { acmeBundle, CONNECTOR_ID, contactEvent, json, rig, type Rig } from "./helpers.ts";
import { LONG_CONTEXT as ctx, QueueRig } from "../support/queue-rig.ts";
import { timedOnEngineTime } from "../support/engine-time.ts";

const QUEUE = "acme-outbox";

let mi: MiEmulator;
let queues: QueueRig;
let sqs: SqsEmulator;
let bundle: CompiledBundle;

beforeAll(async () => {
  [mi, queues, bundle] = await Promise.all([startMiEmulator(), QueueRig.start({ queue: QUEUE, maxReceiveCount: 210 }), acmeBundle()]);
  sqs = queues.sqs;
});
afterAll(async () => {
  await Promise.all([mi.close(), queues.close()]);
});
beforeEach(() => {
  mi.reset();
  queues.reset();
});

const sharedStore = (): Promise<StateStore> => queues.dynamoStore("webhook-outbox");

/** One container of the function, with the job queue (and so the outbox) configured. */
function container(store: StateStore, handler: Partial<WebhookHandlerOptions> = {}): Rig {
  return rig(bundle, mi, { store, miAttempts: 2, handler, engineEnv: queues.jobQueueEnv() });
}

const consumeAll = (engine: Engine) => queues.consumeAll(engine);

const door = (id: string, device: string, open: boolean, extra: Record<string, unknown> = {}) => ({ ...contactEvent(id, open, extra), device_id: device });
const strip = (id: string) => ({ event_id: id, kind: "strip", device_id: "strip-1", user_id: "acme-user-1", outlets: [{ n: 1, on: true }, { n: 2, on: false }] });
/** What MI received, as device / endpoint / contact state, in order. */
const received = () => mi.events.map((e) => `${e.body.ConnectorDeviceId}/${e.body.MatterEndpoint.id}/${JSON.stringify(e.body.MatterEndpoint.clusters[0].events ?? e.body.MatterEndpoint.clusters[0].attributes)}`);

describe("a 10-minute MI outage (time compressed)", () => {
  it("loses no webhook event: every delivery is answered 200, the outbox delivers each event once when MI is back", async () => {
    const store = await sharedStore();
    const a = container(store);
    const b = container(store);
    mi.inject({ status: 503, times: 100_000 });
    const deliveries = Array.from({ length: 10 }, (_, minute) => ({ events: [door(`o-${minute}`, `door-${minute}`, minute % 2 === 0), ...(minute === 4 ? [strip("o-strip")] : [])] }));
    for (let minute = 0; minute < 10; minute++) {
      // Deliveries arrive at either container; the vendor redelivers one of them.
      const res = await (minute % 2 ? b : a).deliver(deliveries[minute], { context: ctx });
      expect(res.statusCode, res.body).toBe(200);
      expect(json(res)).toMatchObject({ sent: 0, buffered: minute === 4 ? 3 : 1 });
      if (minute === 6) expect(json(await a.deliver(deliveries[3], { context: ctx }))).toMatchObject({ duplicates: 1, buffered: 0 });
      queues.advance(60_000);
      await consumeAll((minute % 2 ? a : b).engine);
      expect(queues.deadLetters()).toHaveLength(0);
    }
    expect(queues.messages()).toHaveLength(10);
    expect(mi.events).toHaveLength(0);
    // Outbox messages carry a reference to the work in the store, never the event itself.
    for (const m of queues.messages()) expect(m.body).not.toContain("acme-user-1");

    mi.clearFaults();
    queues.advance(16 * 60_000);
    expect(await consumeAll(b.engine)).toBe(0);
    expect(queues.messages()).toHaveLength(0);
    expect(queues.deadLetters()).toHaveLength(0);
    const expected = Array.from({ length: 10 }, (_, minute) => [`door-${minute}/1/{"0x00":{"0x0000":${minute % 2 !== 0}}}`, ...(minute === 4 ? ["strip-1/1", "strip-1/2"] : [])]).flat();
    expect(received().map((r) => (r.startsWith("strip") ? r.slice(0, 9) : r)).sort()).toEqual(expected.sort());
    expect(mi.events.every((e) => e.connectorId === CONNECTOR_ID && e.body.UserId === "acme-user-1")).toBe(true);

    // The outbox recorded what MI now holds: the same state again sends only the Matter event.
    const again = await a.deliver({ events: [door("o-again", "door-0", true)] }, { context: ctx });
    expect(json(again)).toMatchObject({ sent: 1 });
    expect(mi.events.at(-1)!.body.MatterEndpoint.clusters[0].attributes).toBeUndefined();
  });

  it("drops a deferred attribute value a newer event overtook, keeping the Matter event", async () => {
    const r = container(await sharedStore());
    mi.inject({ status: 503, times: 100_000 });
    expect(json(await r.deliver({ events: [door("s-1", "door-1", true, { sequence: 10 })] }, { context: ctx }))).toMatchObject({ buffered: 1 });
    mi.clearFaults();
    expect(json(await r.deliver({ events: [door("s-2", "door-1", false, { sequence: 20 })] }, { context: ctx }))).toMatchObject({ sent: 1 });
    queues.advance(60_000);
    expect(await consumeAll(r.engine)).toBe(0);
    expect(mi.events.map((e) => e.body.MatterEndpoint.clusters[0])).toEqual([
      // BooleanState: StateValue true means contact (closed).
      { id: "0x0045", attributes: { "0x0000": true }, events: { "0x00": { "0x0000": true } } },
      { id: "0x0045", events: { "0x00": { "0x0000": false } } },
    ]);
  });

  it("sends nothing from the outbox for a user deactivated meanwhile", async () => {
    const store = await sharedStore();
    const r = container(store);
    mi.inject({ status: 503, times: 100_000 });
    await r.deliver({ events: [door("d-1", "door-1", true)] }, { context: ctx });
    mi.clearFaults();
    await store.put(keys.deactivated("acme-user-1"), { at: queues.clock });
    queues.advance(60_000);
    expect(await consumeAll(container(store).engine)).toBe(0);
    expect(mi.events).toHaveLength(0);
    expect(queues.messages()).toHaveLength(0);
  });

  it("answers 503 when the outbox fails too, releasing the claims, so the redelivery is sent once", async () => {
    const r = container(await sharedStore());
    mi.inject({ status: 503, times: 100_000 });
    sqs.inject({ status: 503, times: 100 });
    const body = { events: [door("f-1", "door-1", true)] };
    expect((await r.deliver(body, { context: ctx })).statusCode).toBe(503);
    expect(await r.store.get(keys.webhookEvent("f-1"))).toBeUndefined();
    mi.clearFaults();
    sqs.reset();
    expect(json(await r.deliver(body, { context: ctx }))).toMatchObject({ sent: 1, buffered: 0 });
    expect(mi.events).toHaveLength(1);
  });
});

describe("deliveries larger than the time budget", () => {
  it("stops at the Lambda's deadline with 503 + Retry-After after partial progress; the redelivery sends only the rest, nothing twice", async () => {
    // The engine's clock moves 1 s per request to MI: a 3 s budget fits three events of the six.
    let now = Date.now();
    const r = rig(bundle, mi, {
      handler: { now: () => now },
      wrapSink: (inner) => ({ send: async (input, options) => { const out = await inner.send(input, options); now += 1000; return out; } }),
    });
    const body = { events: Array.from({ length: 6 }, (_, i) => door(`b-${i}`, `door-${i}`, true)) };
    // The Lambda has 3.25 s left: with its 250 ms margin, 3 s for the delivery (less than the 5 s default budget).
    const lambda = { getRemainingTimeInMillis: () => 3250 };
    const first = await r.deliver(body, { context: lambda });
    expect(first.statusCode).toBe(503);
    expect(first.headers["retry-after"]).toBe("1");
    expect(json(first)).toMatchObject({ status: "retry", reason: "the delivery did not fit in the time budget" });
    expect(mi.events.map((e) => e.body.ConnectorDeviceId)).toEqual(["door-0", "door-1", "door-2"]);
    expect(r.logs.find((l) => l.message === "webhook delivery did not fit in the time budget: the vendor is asked to redeliver")).toMatchObject({ sent: 3, notStarted: 3 });

    expect(json(await r.deliver(body, { context: lambda }))).toMatchObject({ status: "ok", duplicates: 3, sent: 3 });
    expect(json(await r.deliver(body, { context: lambda }))).toMatchObject({ status: "ok", duplicates: 6, sent: 0 });
    expect(mi.events.map((e) => e.body.ConnectorDeviceId)).toEqual(["door-0", "door-1", "door-2", "door-3", "door-4", "door-5"]);
  });

  it("with the outbox, a slow MI does not hold the answer: the vendor gets 200 within the budget, the outbox delivers the events", async () => {
    const r = container(await sharedStore(), { budgetMs: 1300 });
    mi.inject({ latencyMs: 1500, times: 1 });
    const started = Date.now();
    const { result: res, ms } = await timedOnEngineTime(() => r.deliver({ events: [door("l-1", "door-1", true), door("l-2", "door-2", false)] }, { context: ctx }));
    // On the engine's own time (a busy machine's CPU waits left out: test/support/engine-time.ts).
    expect(ms).toBeLessThan(1500);
    expect(res.statusCode, res.body).toBe(200);
    expect(json(res)).toMatchObject({ sent: 0, buffered: 2 });
    queues.advance(60_000);
    expect(await consumeAll(r.engine)).toBe(0);
    // The request whose answer was lost reaches MI late; a re-send of it is the identical body.
    await new Promise((done) => setTimeout(done, Math.max(0, 1600 - (Date.now() - started))));
    const bodies = mi.events.map((e) => e.body);
    expect(new Set(bodies.map((b) => b.ConnectorDeviceId))).toEqual(new Set(["door-1", "door-2"]));
    const door1 = bodies.filter((b) => b.ConnectorDeviceId === "door-1");
    for (const b of door1) expect(b).toEqual(door1[0]);
    expect(bodies.filter((b) => b.ConnectorDeviceId === "door-2")).toHaveLength(1);
  });
});

