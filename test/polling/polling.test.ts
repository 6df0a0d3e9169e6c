/**
 * Polling end to end (bundle `polling`, LIFX, which has no push): the Lambda handler invoked with
 * the scheduler's event fans the round out on the SQS job queue (loopback SQS emulator with a
 * clock the test moves), the queue's batches run each user's poll against a stateful loopback
 * LIFX (its tokens can be revoked), state in dynalite, events to the MI emulator. A change at the
 * vendor becomes exactly one DEVICE_EVENT; an expired, rejected or deactivated user's credential
 * stops polling for that user; tokens never reach the queue or a log.
 */
import { createServer } from "node:http";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadBundleOrThrow } from "../../engine/mapping/bundle.ts";
import type { CompiledBundle } from "../../engine/mapping/compiled.ts";
import { FixtureHarness } from "../../engine/testing/fixture-runner.ts";
import { createLambdaHandler, type LambdaHandler } from "../../engine/handler/create-handler.ts";
import { DynamoDbStateStore, createStateTable } from "../../engine/store/dynamodb-store.ts";
import { startDynalite, type LocalDynamo } from "../../engine/local/dynalite.ts";
import { startSqsEmulator, type SqsEmulator } from "../../engine/local/sqs-emulator.ts";
import { listenOnLoopback, type Listening } from "../../engine/local/loopback.ts";
import { LOCAL_TEST_CREDENTIALS } from "../../engine/local/mi-emulator.ts";
import { RedactingLogger, memorySink, type LogRecord } from "../../engine/log/json-logger.ts";
import type { BatchResponse } from "../../engine/events/buffer-consumer.ts";
import { planRound } from "../../engine/polling/schedule.ts";

const QUEUE = "c2c-poll-jobs";
const TOKEN_A = "lifx-token-of-user-a-0001";
const TOKEN_B = "lifx-token-of-user-b-0002";
const lightsOf = (location: string) =>
  (JSON.parse(readFileSync("mappings/lifx/tests/data/lights.json", "utf8")) as any[]).map((l, i) => ({ ...l, id: `${location.slice(0, 6)}00000${i}`, location: { id: location, name: "Home" } }));
const LOCATION_A = "aaaaaa82395411e9a0757200055bf1c0";
const LOCATION_B = "bbbbbb82395411e9a0757200055bf1c0";

/** A LIFX cloud with state: lights per token, tokens that can be revoked. */
let lights: Record<string, any[]>;
let revoked: Set<string>;
let vendorRequests: string[];
let vendor: Listening;
let harness: FixtureHarness;
let dynamo: LocalDynamo;
let sqs: SqsEmulator;
let bundle: CompiledBundle;
let clock = Date.now();
let table = 0;
let discoveries = 0;
const ctx = { getRemainingTimeInMillis: () => 30_000 };

beforeAll(async () => {
  [harness, dynamo, sqs, bundle] = await Promise.all([
    FixtureHarness.start(),
    startDynalite(),
    startSqsEmulator({ maxReceiveCount: 10, now: () => clock }),
    loadBundleOrThrow("mappings/lifx"),
  ]);
  vendor = await listenOnLoopback(
    createServer((req, res) => {
      const token = (req.headers.authorization ?? "").replace(/^Bearer /, "");
      vendorRequests.push(`${req.method} ${req.url}`);
      if (!lights[token] || revoked.has(token)) return void res.writeHead(401, { "content-type": "application/json" }).end('{"error":"Invalid token"}');
      if (req.method === "GET" && req.url === "/v1/lights/all") return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(lights[token]));
      res.writeHead(404).end();
    }),
  );
  Object.assign(process.env, {
    ...harness.env(),
    C2C_VENDOR_ORIGIN: vendor.endpoint,
    C2C_JOB_QUEUE_URL: sqs.queueUrl(QUEUE),
    C2C_SQS_ENDPOINT: sqs.endpoint,
    AWS_REGION: sqs.region,
    AWS_ACCESS_KEY_ID: LOCAL_TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_TEST_CREDENTIALS.secretAccessKey,
    C2C_ACCOUNT_KEY: "a-test-account-key-of-at-least-32-characters",
  });
});
afterAll(async () => {
  await Promise.all([harness.close(), dynamo.close(), sqs.close(), vendor.close()]);
});
beforeEach(() => {
  sqs.reset();
  sqs.queueUrl(QUEUE);
  harness.mi.reset();
  lights = { [TOKEN_A]: lightsOf(LOCATION_A), [TOKEN_B]: lightsOf(LOCATION_B) };
  revoked = new Set();
  vendorRequests = [];
  clock = Date.now();
});

async function connector(logs: LogRecord[]): Promise<LambdaHandler> {
  const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "y" } });
  const name = `poll-${++table}`;
  await createStateTable(client, name);
  return createLambdaHandler(bundle, { store: new DynamoDbStateStore({ tableName: name, client }), logger: new RedactingLogger(memorySink(logs)), now: () => clock });
}

const mi = (token: string, operationName: string, extra: Record<string, unknown> = {}) => ({
  header: { auth: { type: "OAuth2.0", token } },
  payload: { operationName, operationVersion: "1.0", connectorId: "lifx-connector", ...extra },
});

/** ActivateUser then DiscoverDevices, as MI does when a user links their account. */
async function link(handler: LambdaHandler, token: string): Promise<void> {
  expect(((await handler(mi(token, "AWS.ActivateUser"), ctx)) as any).header.responseCode).toBe(200);
  const discovered = (await handler(mi(token, "AWS.DiscoverDevices", { deviceDiscoveryId: `d${++discoveries}` }), ctx)) as any;
  expect(discovered.header.responseCode, JSON.stringify(discovered)).toBe(200);
}

/** A scheduler tick, then every job due by then run through the queue's event source mapping. */
async function round(handler: LambdaHandler): Promise<{ users: number; jobs: number }> {
  const tick = (await handler({ source: "c2c.poll" }, ctx)) as { users: number };
  let jobs = 0;
  clock += 5 * 60_000; // the whole interval passes: every delayed poll is due
  for (let event = sqs.poll(QUEUE); event.Records.length > 0; event = sqs.poll(QUEUE)) {
    jobs += event.Records.length;
    sqs.complete(QUEUE, event, (await handler(event, ctx)) as BatchResponse);
  }
  return { users: tick.users, jobs };
}

const deviceEvents = () => harness.mi.events.filter((e: any) => e.body.Operation === "DEVICE_EVENT");

describe("polling", () => {
  it("a change at the vendor becomes exactly one DEVICE_EVENT; unchanged polls send nothing; no token on the queue or in a log", async () => {
    const logs: LogRecord[] = [];
    const handler = await connector(logs);
    await link(handler, TOKEN_A);
    harness.mi.reset();

    // The scheduler's event: one job per active user, holding no credential.
    const tick = (await handler({ source: "c2c.poll" }, ctx)) as any;
    expect(tick).toEqual({ status: "ok", users: 1 });
    expect(sqs.messages(QUEUE)).toHaveLength(1);
    expect(sqs.messages(QUEUE)[0]!.body).not.toContain(TOKEN_A);
    clock += 5 * 60_000;
    const first = sqs.poll(QUEUE);
    sqs.complete(QUEUE, first, (await handler(first, ctx)) as BatchResponse);
    expect(deviceEvents()).toHaveLength(0); // nothing changed since discovery

    lights[TOKEN_A]![0]!.power = "off";
    expect(await round(handler)).toEqual({ users: 1, jobs: 1 });
    const events = deviceEvents();
    expect(events).toHaveLength(1);
    expect(events[0]!.body).toMatchObject({
      ConnectorDeviceId: lights[TOKEN_A]![0]!.id,
      UserId: LOCATION_A,
      MatterEndpoint: { id: "1", clusters: [{ id: "0x0006", attributes: { "0x0000": false } }] },
    });
    // Polled again, still off: no second event.
    await round(handler);
    await round(handler);
    expect(deviceEvents()).toHaveLength(1);
    expect(vendorRequests.filter((r) => r === "GET /v1/lights/all")).toHaveLength(2 /* link */ + 4 /* polls */);
    expect(JSON.stringify(logs)).not.toContain(TOKEN_A);
  });

  it("stops for a user whose token expired: no vendor call with it, off the roster", async () => {
    const logs: LogRecord[] = [];
    const handler = await connector(logs);
    await link(handler, TOKEN_A);
    vendorRequests = [];
    clock += (bundle.polling!.credentialTtlSeconds + 1) * 1000;
    lights[TOKEN_A]![0]!.power = "off";
    expect(await round(handler)).toEqual({ users: 1, jobs: 1 });
    expect(vendorRequests).toEqual([]);
    expect(deviceEvents()).toHaveLength(0);
    expect(logs.some((l) => l.message === "polling stopped for the user" && l.reason === "the credential expired")).toBe(true);
    expect(await round(handler)).toEqual({ users: 0, jobs: 0 });
    // MI's next request for the user brings a fresh token: polling resumes.
    expect(((await handler(mi(TOKEN_A, "AWS.DiscoverDevices", { deviceDiscoveryId: "dagain" }), ctx)) as any).header.responseCode).toBe(200);
    expect((await round(handler)).users).toBe(1);
  });

  it("stops for a user whose token the vendor rejects, and for a deactivated user; others go on", async () => {
    const logs: LogRecord[] = [];
    const handler = await connector(logs);
    await link(handler, TOKEN_A);
    await link(handler, TOKEN_B);
    harness.mi.reset();
    expect(await round(handler)).toEqual({ users: 2, jobs: 2 });

    revoked.add(TOKEN_B);
    lights[TOKEN_A]![1]!.power = "on"; // was off
    expect(await round(handler)).toEqual({ users: 2, jobs: 2 });
    expect(deviceEvents()).toHaveLength(1);
    expect(logs.some((l) => l.message === "polling stopped for the user" && l.reason === "the vendor rejected the credential")).toBe(true);
    vendorRequests = [];
    expect(await round(handler)).toEqual({ users: 1, jobs: 1 });
    expect(vendorRequests).toEqual(["GET /v1/lights/all"]);

    expect(((await handler(mi(TOKEN_A, "AWS.DeactivateUser"), ctx)) as any).header.responseCode).toBe(200);
    lights[TOKEN_A]![2]!.power = "off";
    vendorRequests = [];
    expect(await round(handler)).toEqual({ users: 0, jobs: 0 });
    expect(vendorRequests).toEqual([]);
    expect(deviceEvents()).toHaveLength(1);
    expect(JSON.stringify(logs)).not.toContain(TOKEN_B);
  });

  it("spreads a round's users over the interval on the queue (DelaySeconds)", async () => {
    const handler = await connector([]);
    await link(handler, TOKEN_A);
    await link(handler, TOKEN_B);
    const start = clock;
    await handler({ source: "c2c.poll" }, ctx);
    const delays = sqs.messages(QUEUE).map((m) => Math.round((m.visibleAt - start) / 1000));
    expect(delays).toEqual([0, 150]); // 2 users over 5 minutes
  });
});

describe("planRound", () => {
  it("spreads users evenly, never closer than the declared rate allows, and says when a round cannot fit", () => {
    expect(planRound(4, 4, 1).delaysMs).toEqual([0, 60_000, 120_000, 180_000]);
    // 2 requests per poll at 10 requests/min: polls at least 12 s apart, though 4 min / 100 users is 2.4 s.
    const tight = planRound(100, 4, 2, 10);
    expect(tight.delaysMs[1]).toBe(12_000);
    expect(tight.overruns).toBe(true);
    expect(Math.max(...tight.delaysMs)).toBeLessThanOrEqual(15 * 60_000);
    expect(planRound(10, 5, 1, 120).overruns).toBe(false);
  });
});
