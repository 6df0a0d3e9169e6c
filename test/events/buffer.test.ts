/**
 * The optional SQS event buffer (`webhooks.buffer`), end to end with the real SQS client against the
 * loopback SQS emulator: while MI is down the vendor gets 200 and the events wait in the queue; the
 * queue's batches, fed back to the same engine as Lambda SQS events, reach MI exactly once; what
 * fails again is reported in batchItemFailures and ends in the dead-letter queue.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startMiEmulator, LOCAL_TEST_CREDENTIALS, type MiEmulator } from "../../engine/local/mi-emulator.ts";
import { startSqsEmulator, type SqsEmulator } from "../../engine/local/sqs-emulator.ts";
import { validateMappingText } from "../../engine/mapping/bundle.ts";
import type { CompiledBundle } from "../../engine/mapping/compiled.ts";
import { keys } from "../../engine/operations/keys.ts";
import { parseBufferedEvent, SQS_ENDPOINT_ENV } from "../../engine/events/buffer.ts";
import type { BatchResponse } from "../../engine/events/buffer-consumer.ts";
import { ACME_DIR, ACME_SECRET, acmeBundle, CONNECTOR_ID, contactEvent, json, rig, type Rig } from "./helpers.ts";

const QUEUE = "acme-event-buffer";
const QUEUE_ENV = "ACME_EVENT_BUFFER_URL";

let mi: MiEmulator;
let sqs: SqsEmulator;
let buffered: CompiledBundle;
let plain: CompiledBundle;

/** The acme test bundle plus `webhooks.buffer`, through the schema and the compiler. */
async function bufferedBundle(): Promise<CompiledBundle> {
  const text = await readFile(path.join(ACME_DIR, "connector.yaml"), "utf8");
  const { bundle, diagnostics } = validateMappingText(`${text.trimEnd()}\n  buffer: { queueUrlEnv: ${QUEUE_ENV} }\n`, "acme-buffered/connector.yaml");
  if (!bundle) throw new Error(`buffered acme bundle invalid: ${JSON.stringify(diagnostics)}`);
  return bundle;
}

beforeAll(async () => {
  [mi, sqs, buffered, plain] = await Promise.all([startMiEmulator(), startSqsEmulator({ maxReceiveCount: 5 }), bufferedBundle(), acmeBundle()]);
});
afterAll(async () => {
  await Promise.all([mi.close(), sqs.close()]);
});
beforeEach(() => {
  mi.reset();
  sqs.reset();
});

function bufferedRig(): Rig {
  return rig(buffered, mi, {
    env: {
      ACME_WEBHOOK_SECRET: ACME_SECRET,
      C2C_CONNECTOR_ID: CONNECTOR_ID,
      [QUEUE_ENV]: sqs.queueUrl(QUEUE),
      [SQS_ENDPOINT_ENV]: sqs.endpoint,
      AWS_REGION: sqs.region,
      AWS_ACCESS_KEY_ID: LOCAL_TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_TEST_CREDENTIALS.secretAccessKey,
    },
  });
}

/** One event source mapping poll: a batch to the engine, its partial batch response applied to the queue. */
async function consume(r: Rig): Promise<BatchResponse> {
  const event = sqs.poll(QUEUE);
  const response = (await r.engine.handle(event)) as BatchResponse;
  sqs.complete(QUEUE, event, response);
  return response;
}

const miDown = () => mi.inject({ status: 503, times: 1000 });
const strip = (id: string) => ({ event_id: id, kind: "strip", device_id: "strip-1", outlets: [{ n: 1, on: true }, { n: 2, on: false }] });

describe("with MI down", () => {
  it("answers the vendor 200 once the events are in the queue, and the queue delivers them to MI exactly once", async () => {
    const r = bufferedRig();
    const body = { events: [contactEvent("q-1", true), strip("q-2")] };
    miDown();
    const res = await r.deliver(body);
    expect(res.statusCode).toBe(200);
    expect(json(res)).toMatchObject({ received: 2, sent: 0, buffered: 3 });
    // MI was tried for the first event only; the rest of the delivery went straight to the queue.
    expect(mi.rejected).toHaveLength(3);
    const queued = sqs.messages(QUEUE).map((m) => parseBufferedEvent(m.body).input);
    expect(queued.map((i) => [i.ConnectorDeviceId, i.MatterEndpoint?.id])).toEqual([["door-1", "1"], ["strip-1", "1"], ["strip-1", "2"]]);
    expect(queued[0]).toMatchObject({ ConnectorId: CONNECTOR_ID, Operation: "DEVICE_EVENT", UserId: "acme-user-1" });

    mi.reset();
    // The queue owns the events now: a vendor redelivery is a duplicate, not a second send.
    const again = await r.deliver(body);
    expect(json(again)).toMatchObject({ duplicates: 2, sent: 0, buffered: 0 });
    expect(mi.events).toHaveLength(0);

    expect(await consume(r)).toEqual({ batchItemFailures: [] });
    expect(sqs.messages(QUEUE)).toHaveLength(0);
    expect(mi.events.map((e) => e.body)).toEqual(queued.map(({ ConnectorId: _, ...rest }) => rest));
    expect(mi.events.every((e) => e.connectorId === CONNECTOR_ID)).toBe(true);

    // The consumer recorded what MI now holds: the same state again sends only the Matter event.
    await r.deliver({ events: [contactEvent("q-3", true)] });
    expect(mi.events).toHaveLength(4);
    expect(mi.events[3].body.MatterEndpoint.clusters[0].attributes).toBeUndefined();
  });

  it("reports records MI still refuses as batch item failures, untried after the first, until the DLQ takes them", async () => {
    const r = bufferedRig();
    miDown();
    expect((await r.deliver({ events: [contactEvent("f-1", true), { ...contactEvent("f-2", false), device_id: "door-2" }] })).statusCode).toBe(200);
    const ids = sqs.messages(QUEUE).map((m) => m.messageId);
    expect(ids).toHaveLength(2);

    const rejectedBefore = mi.rejected.length;
    expect(await consume(r)).toEqual({ batchItemFailures: ids.map((itemIdentifier) => ({ itemIdentifier })) });
    expect(mi.rejected.length - rejectedBefore).toBe(3); // the client's 3 attempts, for the first record only
    for (let i = 1; i < 5; i++) await consume(r);
    expect(sqs.messages(QUEUE)).toHaveLength(0);
    expect(sqs.deadLetters(QUEUE).map((m) => [m.messageId, m.receiveCount])).toEqual(ids.map((id) => [id, 5]));
    expect(mi.events).toHaveLength(0);
  });

  it("logs a record that can never succeed as lost and does not return it, while the rest of the batch is sent", async () => {
    const r = bufferedRig();
    miDown();
    await r.deliver({ events: [contactEvent("l-1", true)] });
    mi.reset();
    const event = sqs.poll(QUEUE);
    const garbage = { ...event.Records[0]!, messageId: "not-ours", body: JSON.stringify({ hello: "world" }) };
    const response = await r.engine.handle({ Records: [garbage, ...event.Records] });
    expect(response).toEqual({ batchItemFailures: [] });
    expect(mi.events.map((e) => e.body.ConnectorDeviceId)).toEqual(["door-1"]);
    expect(r.logs.find((l) => l.message === "queue message is not a buffered device event: it is lost")).toMatchObject({ messageId: "not-ours" });
  });

  it("does not send buffered events of a user deactivated meanwhile", async () => {
    const r = bufferedRig();
    miDown();
    await r.deliver({ events: [contactEvent("d-1", true)] });
    mi.reset();
    await r.store.put(keys.deactivated("acme-user-1"), { at: Date.now() });
    expect(await consume(r)).toEqual({ batchItemFailures: [] });
    expect(mi.events).toHaveLength(0);
    expect(sqs.messages(QUEUE)).toHaveLength(0);
  });

  it("drops buffered attribute values a newer event overtook, keeping the Matter event", async () => {
    const r = bufferedRig();
    miDown();
    await r.deliver({ events: [contactEvent("o-1", true, { sequence: 10 })] });
    mi.reset();
    await r.deliver({ events: [contactEvent("o-2", false, { sequence: 20 })] });
    expect(await consume(r)).toEqual({ batchItemFailures: [] });
    expect(mi.events.map((e) => e.body.MatterEndpoint.clusters[0])).toEqual([
      { id: "0x0045", attributes: { "0x0000": true }, events: { "0x00": { "0x0000": true } } },
      { id: "0x0045", events: { "0x00": { "0x0000": false } } },
    ]);
  });
});

describe("when the queue fails too", () => {
  it("answers 503 and releases the event ids, so the vendor's redelivery is sent once everything is back", async () => {
    const r = bufferedRig();
    const body = { events: [contactEvent("s-1", true)] };
    miDown();
    sqs.inject({ status: 503, times: 100 });
    const res = await r.deliver(body);
    expect(res.statusCode).toBe(503);
    expect(sqs.requests).toBeGreaterThan(1); // the SDK retried
    expect(sqs.messages(QUEUE)).toHaveLength(0);
    expect(await r.store.get(keys.webhookEvent("s-1"))).toBeUndefined();
    expect(r.logs.find((l) => l.message === "the event buffer did not take the events either: the delivery will be retried")).toBeDefined();

    mi.reset();
    sqs.reset();
    const redelivery = await r.deliver(body);
    expect(json(redelivery)).toMatchObject({ sent: 1, buffered: 0 });
    expect(mi.events).toHaveLength(1);
    expect(sqs.requests).toBe(0);
  });

  it("answers 503 when the queue URL variable is missing, naming it in the log", async () => {
    const r = rig(buffered, mi); // the default env has no queue URL
    miDown();
    expect((await r.deliver({ events: [contactEvent("m-1", true)] })).statusCode).toBe(503);
    expect(JSON.stringify(r.logs)).toContain(`${QUEUE_ENV} is not set`);
  });
});

describe("a bundle without a buffer", () => {
  it("answers 503 as before and writes nothing to a queue", async () => {
    const r = rig(plain, mi);
    miDown();
    const res = await r.deliver({ events: [contactEvent("p-1", true)] });
    expect(res.statusCode).toBe(503);
    expect(sqs.requests).toBe(0);
  });

  it("does not consume SQS events", async () => {
    const r = rig(plain, mi);
    const response = await r.engine.handle({ Records: [{ messageId: "m-1", body: "{}", eventSource: "aws:sqs" }] });
    expect(response).not.toHaveProperty("batchItemFailures");
    expect(response).toMatchObject({ header: { responseCode: 400 } });
    expect(mi.events).toHaveLength(0);
  });
});
