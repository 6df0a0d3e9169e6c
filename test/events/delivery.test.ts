/**
 * Webhook deliveries end to end: signed HTTP event -> engine -> signed SendConnectorEvent to the MI
 * emulator on loopback. Nothing lost (a 5xx while MI is down, the redelivery arrives exactly once),
 * nothing doubled (event ids, unchanged values), stale and replayed deliveries rejected.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { startMiEmulator, type MiEmulator } from "../../engine/local/mi-emulator.ts";
import { startDynalite, type LocalDynamo } from "../../engine/local/dynalite.ts";
import { DynamoDbStateStore, createStateTable } from "../../engine/store/dynamodb-store.ts";
import type { CompiledBundle } from "../../engine/mapping/compiled.ts";
import { keys } from "../../engine/operations/keys.ts";
import { acmeBundle, ACME_SECRET, CONNECTOR_ID, contactEvent, json, rig } from "./helpers.ts";

let mi: MiEmulator;
let bundle: CompiledBundle;

beforeAll(async () => {
  [mi, bundle] = await Promise.all([startMiEmulator(), acmeBundle()]);
});
afterAll(async () => {
  await mi.close();
});
beforeEach(() => mi.reset());

const settle = () => new Promise((r) => setTimeout(r, 50));

describe("a verified delivery", () => {
  it("becomes a DEVICE_EVENT with the attribute and the Matter event of the profile", async () => {
    const r = rig(bundle, mi);
    const res = await r.deliver({ events: [contactEvent("e-1", true)] });
    expect(res.statusCode).toBe(200);
    expect(mi.events).toHaveLength(1);
    expect(mi.events[0].connectorId).toBe(CONNECTOR_ID);
    expect(mi.events[0].body).toMatchObject({
      Operation: "DEVICE_EVENT",
      UserId: "acme-user-1",
      ConnectorDeviceId: "door-1",
      MatterEndpoint: { id: "1", clusters: [{ id: "0x0045", attributes: { "0x0000": false }, events: { "0x00": { "0x0000": false } } }] },
    });
  });

  it("answers a batch only after every event reached MI, one event per endpoint of a multi-endpoint device", async () => {
    const r = rig(bundle, mi);
    const res = await r.deliver({
      events: [
        contactEvent("b-1", false),
        { event_id: "b-2", type: "heartbeat" },
        { event_id: "b-3", kind: "strip", device_id: "strip-1", outlets: [{ n: 1, on: true }, { n: 2, on: false }] },
      ],
    });
    expect(res.statusCode).toBe(200);
    expect(json(res)).toMatchObject({ received: 3, sent: 3, ignored: 1 });
    const strip = mi.events.filter((e) => e.body.ConnectorDeviceId === "strip-1").map((e) => e.body.MatterEndpoint);
    expect(strip).toEqual([
      { id: "1", clusters: [{ id: "0x0006", attributes: { "0x0000": true } }] },
      { id: "2", clusters: [{ id: "0x0006", attributes: { "0x0000": false } }] },
    ]);
  });

  it("unwraps a base64 push envelope", async () => {
    const r = rig(bundle, mi);
    const data = Buffer.from(JSON.stringify({ events: [contactEvent("p-1", true)] })).toString("base64");
    const res = await r.deliver({ message: { data, messageId: "m-1" }, subscription: "s" });
    expect(res.statusCode).toBe(200);
    expect(mi.events.map((e) => e.body.ConnectorDeviceId)).toEqual(["door-1"]);
  });

  it("sends only changed attributes: a second event with the same state sends just the Matter event", async () => {
    const r = rig(bundle, mi);
    await r.deliver({ events: [contactEvent("c-1", true)] });
    await r.deliver({ events: [contactEvent("c-2", true)] });
    expect(mi.events).toHaveLength(2);
    expect(mi.events[1].body.MatterEndpoint.clusters[0].attributes).toBeUndefined();
    expect(mi.events[1].body.MatterEndpoint.clusters[0].events).toEqual({ "0x00": { "0x0000": false } });
  });
});

describe("nothing lost, nothing doubled", () => {
  it("answers 503 while MI is down, without deferring the event, and sends it exactly once on redelivery", async () => {
    const r = rig(bundle, mi);
    const body = { events: [contactEvent("o-1", true)] };
    mi.inject({ status: 503, times: 3 });
    const first = await r.deliver(body);
    expect(first.statusCode).toBe(503);
    await settle();
    expect(mi.events).toHaveLength(0); // not handed to a deferred job behind the vendor's back
    expect(await r.store.get(keys.webhookEvent("o-1"))).toBeUndefined(); // the claim was released

    const second = await r.deliver(body);
    expect(second.statusCode).toBe(200);
    const third = await r.deliver(body);
    expect(third.statusCode).toBe(200);
    expect(json(third)).toMatchObject({ duplicates: 1, sent: 0 });
    await settle();
    expect(mi.events).toHaveLength(1);
    expect(mi.events[0].body.MatterEndpoint.clusters[0].attributes).toEqual({ "0x0000": false });
  });

  it("in a batch hit by an outage, the redelivery sends only the events MI had not received", async () => {
    // MI goes down right after accepting the batch's first event.
    let outageStarted = false;
    const r = rig(bundle, mi, {
      wrapSink: (inner) => ({
        async send(input) {
          const out = await inner.send(input);
          if (!outageStarted) {
            outageStarted = true;
            mi.inject({ status: 503, times: 3 });
          }
          return out;
        },
      }),
    });
    const body = { events: [contactEvent("y-1", false), { ...contactEvent("y-2", true), device_id: "door-2" }] };
    const first = await r.deliver(body);
    expect(first.statusCode).toBe(503);
    expect(mi.events.map((e) => e.body.ConnectorDeviceId)).toEqual(["door-1"]);
    const redelivery = await r.deliver(body);
    expect(redelivery.statusCode).toBe(200);
    expect(json(redelivery)).toMatchObject({ received: 2, duplicates: 1, sent: 1 });
    await settle();
    expect(mi.events.map((e) => e.body.ConnectorDeviceId)).toEqual(["door-1", "door-2"]);
  });

  it("answers a redelivery that races an in-flight delivery of the same event with 503, not 200", async () => {
    const r = rig(bundle, mi);
    await r.store.put(keys.webhookEvent("r-1"), { state: "pending", until: Date.now() + 60_000 }, 3600);
    const res = await r.deliver({ events: [contactEvent("r-1", true)] });
    expect(res.statusCode).toBe(503);
    expect(mi.events).toHaveLength(0);
    // A lease left by a crashed invocation expires, and the event is taken over.
    await r.store.put(keys.webhookEvent("r-1"), { state: "pending", until: Date.now() - 1 }, 3600);
    expect((await r.deliver({ events: [contactEvent("r-1", true)] })).statusCode).toBe(200);
    expect(mi.events).toHaveLength(1);
  });

  it("drops values older than the last seen for the same attribute when the mapping declares `order`", async () => {
    const r = rig(bundle, mi);
    await r.deliver({ events: [contactEvent("s-2", true, { sequence: 20 })] });
    const late = await r.deliver({ events: [contactEvent("s-1", false, { sequence: 10 })] });
    expect(late.statusCode).toBe(200);
    expect(json(late)).toMatchObject({ stale: 1 });
    const newer = await r.deliver({ events: [contactEvent("s-3", false, { sequence: "2030-01-01T00:00:00Z" })] });
    expect(newer.statusCode).toBe(200);
    const values = mi.events.map((e) => e.body.MatterEndpoint.clusters[0].attributes?.["0x0000"]);
    // s-1 carried only its Matter event (its stale value was dropped); s-3 is newer and sent.
    expect(values).toEqual([false, undefined, true]);
  });

  it("does not send events of a deactivated user, and counts them", async () => {
    const r = rig(bundle, mi);
    await r.store.put(keys.deactivated("acme-user-1"), { at: Date.now() });
    const res = await r.deliver({ events: [contactEvent("d-1", true)] });
    expect(res.statusCode).toBe(200);
    expect(json(res)).toMatchObject({ suppressed: 1, sent: 0 });
    expect(mi.events).toHaveLength(0);
  });
});

describe("verification", () => {
  it("rejects a replayed delivery whose timestamp is outside the window, and logs why without the secret", async () => {
    const r = rig(bundle, mi);
    const res = await r.deliver({ events: [contactEvent("t-1", true)] }, { timestamp: Math.floor(Date.now() / 1000) - 3600 });
    expect(res.statusCode).toBe(401);
    expect(mi.events).toHaveLength(0);
    const line = r.logs.find((l) => l.message === "webhook delivery failed verification");
    expect(line).toMatchObject({ code: "stale_timestamp" });
    expect(JSON.stringify(r.logs)).not.toContain(ACME_SECRET);
  });

  it("rejects a signature made with another key", async () => {
    const r = rig(bundle, mi);
    const res = await r.deliver({ events: [contactEvent("f-1", true)] }, { secret: "not-the-secret" });
    expect(res.statusCode).toBe(401);
    expect(r.logs.find((l) => l.message === "webhook delivery failed verification")).toMatchObject({ code: "signature_mismatch" });
    expect(mi.events).toHaveLength(0);
  });
});

describe("event-id deduplication in DynamoDB (dynalite)", () => {
  let dynamo: LocalDynamo;
  let client: DynamoDBClient;
  beforeAll(async () => {
    dynamo = await startDynalite();
    client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "y" } });
    await createStateTable(client, "webhook-state");
  });
  afterAll(async () => {
    client.destroy();
    await dynamo.close();
  });

  it("sends a redelivery once across two containers sharing the table, and only after MI took it", async () => {
    const a = rig(bundle, mi, { store: new DynamoDbStateStore({ tableName: "webhook-state", client }) });
    const b = rig(bundle, mi, { store: new DynamoDbStateStore({ tableName: "webhook-state", client }) });
    const body = { events: [contactEvent("ddb-1", true)] };
    mi.inject({ status: 503, times: 3 });
    expect((await a.deliver(body)).statusCode).toBe(503);
    expect((await b.deliver(body)).statusCode).toBe(200);
    expect((await a.deliver(body)).statusCode).toBe(200);
    await settle();
    expect(mi.events).toHaveLength(1);
    expect(await b.store.get(keys.webhookEvent("ddb-1"))).toEqual({ state: "done" });
  });
});
