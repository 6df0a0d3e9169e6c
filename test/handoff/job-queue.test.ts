/**
 * Deferred work on the SQS job queue, end to end: the real SQS client against the loopback SQS
 * emulator (with a clock the test moves), the real DynamoDB client against dynalite, the vendor
 * simulator and the MI emulator. A hand-off is a queue message holding only a reference; the
 * queue's batches fed to the same engine run it; a failed attempt is hidden for its backoff
 * (visibility timeout) and listed in batchItemFailures; forged jobs are refused.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadBundleOrThrow } from "../../engine/mapping/bundle.ts";
import type { CompiledBundle } from "../../engine/mapping/compiled.ts";
import { FixtureHarness, FIXTURE_TOKEN } from "../../engine/testing/fixture-runner.ts";
import type { Exchange } from "../../engine/testing/vendor-simulator.ts";
import { createEngine } from "../../engine/handler/create-handler.ts";
import { DEFAULT_ACK_BUDGET_MS, type Engine } from "../../engine/handler/engine.ts";
import { createDeferredJob } from "../../engine/handoff/job.ts";
import { JobSigner } from "../../engine/handoff/job-auth.ts";
import { SqsJobQueue } from "../../engine/handoff/sqs-dispatcher.ts";
import { MemoryStateStore } from "../../engine/store/memory-store.ts";
import type { StateStore } from "../../engine/store/store.ts";
import { LOCAL_TEST_CREDENTIALS } from "../../engine/local/mi-emulator.ts";
import { RedactingLogger, memorySink, type LogRecord } from "../../engine/log/json-logger.ts";
import type { SqsEmulator } from "../../engine/local/sqs-emulator.ts";
import { LONG_CONTEXT as ctx, QueueRig } from "../support/queue-rig.ts";
import { timedOnEngineTime } from "../support/engine-time.ts";
import { getLight, lifxCommand as command, listLights, PUT_STATE_OK as ok, putState } from "../support/lifx.ts";

const QUEUE = "c2c-jobs";
const getDevice = getLight();
const put = (response: Exchange["response"]) => putState(response);
const listAll = listLights();

let harness: FixtureHarness;
let rig: QueueRig;
let sqs: SqsEmulator;
let bundle: CompiledBundle;

beforeAll(async () => {
  [harness, rig, bundle] = await Promise.all([FixtureHarness.start(), QueueRig.start({ queue: QUEUE, maxReceiveCount: 1000 }), loadBundleOrThrow("mappings/lifx")]);
  sqs = rig.sqs;
  harness.applyEnv();
});
afterAll(async () => {
  await Promise.all([harness.close(), rig.close()]);
});
beforeEach(() => {
  rig.reset();
  harness.mi.reset();
});

const durableStore = (): Promise<StateStore> => rig.dynamoStore("jobs");

function engineOn(store: StateStore, logs: LogRecord[] = []): Engine {
  return createEngine(bundle, { store, logger: new RedactingLogger(memorySink(logs)) }, { ...harness.env(), ...rig.jobQueueEnv() });
}

const consume = (engine: Engine) => rig.consume(engine);

describe("the SQS job queue", () => {
  it("a slow vendor's command is handed to the queue as a reference and finished by the queue's consumer", async () => {
    const engine = engineOn(await durableStore());
    harness.vendor.load([getDevice, put({ ...ok, delayMs: 3000 }), put(ok), listAll], "strict");
    const { result: ack, ms } = await timedOnEngineTime(async () => (await engine.handle(command("trace-q-1"), ctx)) as any);
    // Within the ACK budget on the engine's own time (a busy machine's CPU waits left out: support/engine-time.ts).
    expect(ms).toBeLessThanOrEqual(DEFAULT_ACK_BUDGET_MS);
    expect(ack.header.responseCode).toBe(200);
    expect(sqs.messages(QUEUE)).toHaveLength(1);
    expect(sqs.messages(QUEUE)[0]!.body).not.toContain(FIXTURE_TOKEN);
    expect(JSON.parse(sqs.messages(QUEUE)[0]!.body).payload).toEqual({ ref: expect.any(String) });

    expect(await consume(engine)).toEqual({ batchItemFailures: [] });
    const [event] = await harness.mi.waitForEvents(1, 5000);
    expect(event!.body).toMatchObject({ Operation: "DEVICE_COMMAND_RESPONSE", TraceId: "trace-q-1", StatusCode: 200 });
    expect(sqs.messages(QUEUE)).toHaveLength(0);
  });

  it("a failed attempt goes back with its backoff as visibility timeout, then succeeds; nothing is lost", async () => {
    const engine = engineOn(await durableStore());
    const busy = put({ status: 503, body: { error: "busy" } });
    harness.vendor.load([getDevice, put({ ...ok, delayMs: 3000 }), busy, busy, put(ok), listAll], "strict");
    await engine.handle(command("trace-q-2"), ctx);
    const first = await consume(engine);
    expect(first.batchItemFailures).toHaveLength(1);
    expect(sqs.visibilityChanges).toBe(1);
    // Hidden for its backoff: not handed out again at once.
    expect(sqs.poll(QUEUE).Records).toHaveLength(0);
    rig.advance(60_000);
    expect(await consume(engine)).toEqual({ batchItemFailures: [] });
    const [event] = await harness.mi.waitForEvents(1, 5000);
    expect(event!.body).toMatchObject({ TraceId: "trace-q-2", StatusCode: 200 });
    expect(harness.vendor.unused()).toEqual([]);
  });

  it("delays a dispatch with DelaySeconds", async () => {
    const queue = new SqsJobQueue({ queueUrl: sqs.queueUrl(QUEUE), endpoint: sqs.endpoint, region: sqs.region, credentials: { ...LOCAL_TEST_CREDENTIALS }, now: rig.now });
    await queue.dispatch(createDeferredJob({ operation: "x", payload: null }), { delayMs: 90_000 });
    expect(sqs.poll(QUEUE).Records).toHaveLength(0);
    rig.advance(91_000);
    expect(sqs.poll(QUEUE).Records).toHaveLength(1);
  });
});

describe("deferred work is authenticated", () => {
  const inlineEvent = (connectorId: string) =>
    createDeferredJob({
      operation: "SendConnectorEvent",
      payload: { events: [{ ConnectorId: connectorId, Operation: "DEVICE_EVENT", UserId: "u-forged", ConnectorDeviceId: "d073d5141876", MatterEndpoint: { id: "1", clusters: [{ id: "0x0006", attributes: { "0x0000": true } }] } }] },
    });

  it("an inline job from outside (no MAC, or a MAC under another key) is refused and deleted: nothing reaches MI", async () => {
    const logs: LogRecord[] = [];
    const engine = engineOn(new MemoryStateStore(), logs);
    const outsider = new JobSigner("a-key-this-deployment-does-not-have");
    const forged = [inlineEvent("lifx-connector"), outsider.sign(inlineEvent("lifx-connector"))];
    for (const job of forged) await new SqsJobQueue({ queueUrl: sqs.queueUrl(QUEUE), endpoint: sqs.endpoint, region: sqs.region, credentials: { ...LOCAL_TEST_CREDENTIALS } }).dispatch(job);
    expect(await consume(engine)).toEqual({ batchItemFailures: [] });
    expect(sqs.messages(QUEUE)).toHaveLength(0);
    expect(harness.mi.events).toHaveLength(0);
    expect(logs.filter((l) => l.message === "deferred job refused: it was not written by this deployment")).toHaveLength(2);
  });

  it("the same job signed by this deployment is run", async () => {
    const engine = engineOn(new MemoryStateStore());
    await engine.deps.dispatcher!.dispatch(engine.jobSigner.sign(inlineEvent("lifx-connector")));
    expect(await consume(engine)).toEqual({ batchItemFailures: [] });
    await harness.mi.waitForEvents(1, 5000);
  });

  it("a job invoked directly (the old self-invocation shape) is refused with 403", async () => {
    const engine = engineOn(new MemoryStateStore());
    const signed = engine.jobSigner.sign(inlineEvent("lifx-connector"));
    expect(await engine.handle(signed, ctx)).toMatchObject({ header: { responseCode: 403 } });
    expect(harness.mi.events).toHaveLength(0);
  });

  it("a reference to another operation's work is refused", async () => {
    const store = await durableStore();
    const engine = engineOn(store);
    harness.vendor.load([getDevice, put({ ...ok, delayMs: 3000 }), listAll], "strict");
    await engine.handle(command("trace-q-3"), ctx);
    const real = JSON.parse(sqs.messages(QUEUE)[0]!.body);
    sqs.reset();
    sqs.queueUrl(QUEUE);
    await engine.deps.dispatcher!.dispatch({ ...real, operation: "SendConnectorEvent" });
    expect(await consume(engine)).toEqual({ batchItemFailures: [] });
    expect(harness.mi.events).toHaveLength(0);
  });
});

describe("configuration on Lambda", () => {
  const lambdaEnv = { AWS_LAMBDA_FUNCTION_NAME: "c2c-lifx", AWS_REGION: "us-east-1" };
  it("refuses a per-container memory store unless it is chosen explicitly", () => {
    expect(() => createEngine(bundle, {}, { ...lambdaEnv, C2C_JOB_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/1/q" })).toThrow(/durable state store/);
    expect(() => createEngine(bundle, {}, { ...lambdaEnv, C2C_JOB_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/1/q", C2C_STATE_STORE: "memory" })).not.toThrow();
  });
  it("refuses to run without the job queue", () => {
    expect(() => createEngine(bundle, {}, { ...lambdaEnv, C2C_STATE_TABLE: "t" })).toThrow(/C2C_JOB_QUEUE_URL/);
  });
});
