/**
 * A handed-off job carries no credentials when the state store is durable: its work waits in the
 * store (DynamoDB here, through dynalite) and the job holds a reference, so neither the
 * asynchronous invocation nor a dead-letter copy of it contains the access token.
 */
import { readFileSync } from "node:fs";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, expect, it } from "vitest";
import { loadBundleOrThrow } from "../../engine/mapping/bundle.ts";
import type { CompiledBundle } from "../../engine/mapping/compiled.ts";
import { FixtureHarness, FIXTURE_TOKEN } from "../../engine/testing/fixture-runner.ts";
import { createEngine } from "../../engine/handler/create-handler.ts";
import type { DeferredJob, JobDispatcher } from "../../engine/handoff/job.ts";
import { DynamoDbStateStore, createStateTable } from "../../engine/store/dynamodb-store.ts";
import { MemoryStateStore } from "../../engine/store/memory-store.ts";
import type { StateStore } from "../../engine/store/store.ts";
import { startDynalite, type LocalDynamo } from "../../engine/local/dynalite.ts";
import { RedactingLogger } from "../../engine/log/json-logger.ts";

const lights = JSON.parse(readFileSync("mappings/lifx/tests/data/lights.json", "utf8"));
const ok = { status: 207, body: { results: [{ id: "d073d5141876", status: "ok" }] } };
const command = {
  header: { auth: { type: "OAuth2.0", token: FIXTURE_TOKEN } },
  payload: {
    operationName: "AWS.SendCommand",
    operationVersion: "1.0",
    connectorId: "lifx-connector",
    connectorDeviceId: "d073d5141876",
    traceId: "trace-job-state",
    endpoints: [{ id: "1", clusters: [{ id: "0x0006", commands: [{ "0x01": {} }] }] }],
  },
};

let harness: FixtureHarness;
let dynamo: LocalDynamo;
let bundle: CompiledBundle;

beforeAll(async () => {
  [harness, dynamo, bundle] = await Promise.all([FixtureHarness.start(), startDynalite(), loadBundleOrThrow("mappings/lifx")]);
  harness.applyEnv();
});
afterAll(async () => {
  await harness.close();
  await dynamo.close();
});

/** Hands off the command (the vendor hangs), returning the job as it would travel. */
async function handOff(store: StateStore): Promise<{ job: DeferredJob; run: (job: DeferredJob) => Promise<unknown> }> {
  const jobs: DeferredJob[] = [];
  const dispatcher: JobDispatcher = { dispatch: async (job) => void jobs.push(JSON.parse(JSON.stringify(job))) };
  const engine = createEngine(bundle, { store, dispatcher, logger: new RedactingLogger(() => {}) });
  harness.vendor.load(
    [
      { request: { method: "GET", path: "/v1/lights/id:d073d5141876" }, response: { status: 200, body: [lights[0]] } },
      { request: { method: "PUT", path: "/v1/lights/id:d073d5141876/state" }, response: { ...ok, delayMs: 3000 } },
      { request: { method: "PUT", path: "/v1/lights/id:d073d5141876/state" }, response: ok },
      { request: { method: "GET", path: "/v1/lights/all" }, response: { status: 200, body: lights } },
    ],
    "strict",
  );
  harness.mi.reset();
  const ack = (await engine.handle(command, { getRemainingTimeInMillis: () => 30_000 })) as any;
  expect(ack.header.responseCode).toBe(200);
  expect(jobs).toHaveLength(1);
  return { job: jobs[0], run: (job) => engine.runJob(job, { getRemainingTimeInMillis: () => 30_000 }) };
}

it("with DynamoDB, the job holds a reference only; the work is run, then removed from the store", async () => {
  const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "y" } });
  await createStateTable(client, "jobs");
  const store = new DynamoDbStateStore({ tableName: "jobs", client });
  const { job, run } = await handOff(store);
  expect(JSON.stringify(job)).not.toContain(FIXTURE_TOKEN);
  const ref = (job.payload as { ref: string }).ref;
  expect(typeof ref).toBe("string");
  expect(await store.get(`job:${ref}`)).toMatchObject({ operation: "AWS.SendCommand", work: { request: { header: { auth: { token: FIXTURE_TOKEN } } } } });

  expect(await run(job)).toMatchObject({ status: "done" });
  const [event] = await harness.mi.waitForEvents(1, 5000);
  expect(event.body).toMatchObject({ Operation: "DEVICE_COMMAND_RESPONSE", TraceId: "trace-job-state", StatusCode: 200 });
  expect(await store.get(`job:${ref}`)).toBeUndefined();
});

it("with the per-container memory store, the work travels with the job", async () => {
  const { job } = await handOff(new MemoryStateStore());
  expect(job.payload).toMatchObject({ request: { payload: { traceId: "trace-job-state" } } });
});
