/**
 * Commands do what the user asked, exactly once (issue #11), against a stateful Hue vendor on
 * loopback whose answers arrive after 100-1,500 ms: before the ACK deadline (1.5 s), after it
 * (the command is handed off), or after the call's timeout (2 s, the answer is lost). With the
 * memory store and with DynamoDB (dynalite):
 * - each vendor request is sent exactly once, and the state MI is told equals the vendor's;
 * - a lost answer is settled by the declared verify read, re-sent once only when the call is
 *   declared idempotent, and otherwise reported 504, never repeated blindly;
 * - a retried MI request (same traceId) gets the first attempt's answer, or is executed again
 *   when that attempt failed before any vendor effect.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadBundleOrThrow } from "../../engine/mapping/bundle.ts";
import type { CompiledBundle } from "../../engine/mapping/compiled.ts";
import { FixtureHarness, FIXTURE_TOKEN } from "../../engine/testing/fixture-runner.ts";
import { createEngine } from "../../engine/handler/create-handler.ts";
import { DEFAULT_ACK_BUDGET_MS, type Engine } from "../../engine/handler/engine.ts";
import type { InProcessDispatcher } from "../../engine/handoff/in-process-dispatcher.ts";
import { MemoryStateStore } from "../../engine/store/memory-store.ts";
import { DynamoDbStateStore, createStateTable } from "../../engine/store/dynamodb-store.ts";
import type { StateStore } from "../../engine/store/store.ts";
import { startDynalite, type LocalDynamo } from "../../engine/local/dynalite.ts";
import { RedactingLogger, memorySink, type LogRecord } from "../../engine/log/json-logger.ts";
import { VendorClient } from "../../engine/vendor/client.ts";
import { UNKNOWN_OUTCOME_MESSAGE } from "../../engine/operations/command/executor.ts";
import { startHueVendor, type HueVendor } from "./hue-vendor.ts";
import { timedOnEngineTime } from "../support/engine-time.ts";

const LIGHT_1 = "01b1da1b-2cb1-eb71-5391-63b5ae1ceb6c"; // colour, off
const LIGHT_2 = "f427202e-d8cd-cb0e-479f-72955a2d7cbe"; // white, on
const LIGHT_3 = "24d60506-22e8-f564-cff5-c7b702b62504"; // colour, on
const LIGHT_7 = "7ebc892a-46fe-0a90-cd0c-87836247edda"; // white, on
const LIGHT_8 = "4cd1e047-6b7d-c797-eac8-3cb2b496ae36"; // colour, on
const USER = "001788fffe6a2b3c";
const lambdaContext = { getRemainingTimeInMillis: () => 30_000 };

type Clusters = Array<{ id: string; commands: Array<Record<string, Record<string, string>>> }>;
const TOGGLE: Clusters = [{ id: "0x0006", commands: [{ "0x02": {} }] }];
const ON_LEVEL_COLOR: Clusters = [
  { id: "0x0006", commands: [{ "0x01": {} }] },
  { id: "0x0008", commands: [{ "0x00": { "0x0000": "127" } }] },
  { id: "0x0300", commands: [{ "0x07": { "0x0000": "26214", "0x0001": "19661" } }] },
];
const command = (traceId: string, light: string, clusters: Clusters) => ({
  header: { auth: { type: "OAuth2.0", token: FIXTURE_TOKEN } },
  payload: {
    operationName: "AWS.SendCommand",
    operationVersion: "1.0",
    connectorId: "hue-connector",
    connectorDeviceId: `light.${light}`,
    traceId,
    endpoints: [{ id: "1", clusters }],
  },
});

let harness: FixtureHarness;
let hue: HueVendor;
let dynamo: LocalDynamo;
let bundle: CompiledBundle;
const logs: LogRecord[] = [];

beforeAll(async () => {
  [harness, hue, dynamo, bundle] = await Promise.all([FixtureHarness.start(), startHueVendor(), startDynalite(), loadBundleOrThrow("mappings/hue")]);
  harness.applyEnv();
});
afterAll(async () => {
  await Promise.all([harness.close(), hue.close(), dynamo.close()]);
  const text = JSON.stringify(logs);
  expect(logs.length).toBeGreaterThan(0);
  expect(text).not.toContain(FIXTURE_TOKEN);
  expect(text).not.toContain(USER);
});

const stores = [
  ["memory", async (): Promise<StateStore> => new MemoryStateStore()],
  [
    "DynamoDB (dynalite)",
    async (): Promise<StateStore> => {
      const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "y" } });
      const table = `state-${Math.random().toString(36).slice(2)}`;
      await createStateTable(client, table);
      return new DynamoDbStateStore({ tableName: table, client });
    },
  ],
] as const;

/** An engine on the Hue vendor; with a dispatcher (in-process jobs) unless told otherwise. */
function engineWith(store: StateStore, opts: { bundle?: CompiledBundle; dispatcher?: boolean } = {}): { engine: Engine; drain: () => Promise<void> } {
  const b = opts.bundle ?? bundle;
  harness.applyEnv();
  const engine = createEngine(b, {
    store,
    logger: new RedactingLogger(memorySink(logs)),
    vendor: new VendorClient({ retry: b.api.retry, originOverride: hue.origin }),
    ...(opts.dispatcher === false ? { dispatcher: undefined } : {}),
  });
  return { engine, drain: async () => (engine.deps.dispatcher as InProcessDispatcher | undefined)?.drain() };
}

/** The bundle with some declarations taken out of every call and command (and optionally a shorter call timeout). */
function without(keys: string[], timeoutMs?: number): CompiledBundle {
  const strip = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(strip);
    if (!node || typeof node !== "object") return node;
    return Object.fromEntries(Object.entries(node).filter(([k]) => !keys.includes(k)).map(([k, v]) => [k, strip(v)]));
  };
  const out = strip(structuredClone(bundle)) as CompiledBundle;
  if (timeoutMs) out.api.timeoutMs = timeoutMs;
  return out;
}

/** The ACK and how long it took on the engine's own time (a busy machine's CPU waits left out: test/support/engine-time.ts). */
async function timed(engine: Engine, request: unknown): Promise<{ ack: any; ms: number }> {
  const { result: ack, ms } = await timedOnEngineTime(() => engine.handle(request, lambdaContext));
  return { ack, ms };
}

const responseOf = (traceId: string) => harness.mi.events.map((e) => e.body as any).filter((b) => b.Operation === "DEVICE_COMMAND_RESPONSE" && b.TraceId === traceId);
const attributes = (event: any, cluster: string) => event.MatterEndpoint.clusters.find((c: any) => c.id === cluster)?.attributes ?? {};
const lightId = (path: string) => path.split("/").pop()!;

describe.each(stores)("with the %s store", (label, makeStore) => {
  const name = label.replace(/[^A-Za-z]/g, "");
  it("Toggle on lights answering after 100-1,500 ms: each PUT once, MI told the light's real state", async () => {
    hue.reset();
    harness.mi.reset();
    const delays: Record<string, number> = { [LIGHT_1]: 100, [LIGHT_2]: 700, [LIGHT_3]: 1250, [LIGHT_8]: 1500 };
    const before = Object.fromEntries(Object.keys(delays).map((id) => [id, hue.lights.get(id)!.on.on as boolean]));
    hue.delay = (r) => (r.method === "PUT" ? (delays[lightId(r.path)] ?? 0) : 0);
    const { engine, drain } = engineWith(await makeStore());
    const trace = (id: string) => `toggle-${name}-${id}`;
    const answers = await Promise.all(Object.keys(delays).map((id) => timed(engine, command(trace(id), id, TOGGLE))));
    for (const a of answers) {
      expect(a.ack.header.responseCode).toBe(200);
      expect(a.ms).toBeLessThanOrEqual(DEFAULT_ACK_BUDGET_MS);
    }
    // The slowest light's answer came after the ACK deadline: it was handed off.
    expect(answers[3].ack.payload.responseMessage).toMatch(/result follows/);
    await drain();
    for (const id of Object.keys(delays)) {
      expect(hue.puts(id), `PUTs to ${id}`).toHaveLength(1);
      const state = hue.lights.get(id)!.on.on;
      expect(state).toBe(!before[id]);
      const [event, ...more] = responseOf(trace(id));
      expect(more).toEqual([]);
      expect(event.StatusCode).toBe(200);
      expect(attributes(event, "0x0006")["0x0000"]).toBe(state);
    }
  });

  it("a multi-command request sent as separate PUTs: each sent once across the hand-off, final state reported", async () => {
    hue.reset();
    harness.mi.reset();
    // Light 1: the third PUT starts after 1 s and its answer is cut by the deadline (settled by
    // verify); light 3: the second PUT takes 1.4 s, so the third is not started and the job sends it.
    const perLight: Record<string, number[]> = { [LIGHT_1]: [100, 900, 600], [LIGHT_3]: [100, 1400, 100] };
    hue.delay = (r) => (r.method === "PUT" ? (perLight[lightId(r.path)]?.[hue.puts(lightId(r.path)).length - 1] ?? 0) : 0);
    const { engine, drain } = engineWith(await makeStore(), { bundle: without(["batch"]) });
    const trace = (id: string) => `multi-${name}-${id}`;
    const answers = await Promise.all(Object.keys(perLight).map((id) => timed(engine, command(trace(id), id, ON_LEVEL_COLOR))));
    for (const a of answers) {
      expect(a.ack.header.responseCode).toBe(200);
      expect(a.ms).toBeLessThanOrEqual(DEFAULT_ACK_BUDGET_MS);
      expect(a.ack.payload.responseMessage).toMatch(/result follows/);
    }
    await drain();
    for (const id of Object.keys(perLight)) {
      const bodies = hue.puts(id).map((r) => r.body);
      expect(bodies).toEqual([{ on: { on: true } }, { dimming: { brightness: 50 } }, { color: { xy: { x: 0.4, y: 0.3 } } }]);
      const light = hue.lights.get(id)!;
      const [event, ...more] = responseOf(trace(id));
      expect(more).toEqual([]);
      expect(event.StatusCode).toBe(200);
      expect(attributes(event, "0x0006")["0x0000"]).toBe(light.on.on);
      expect(attributes(event, "0x0008")["0x0000"]).toBe(Math.round((light.dimming.brightness / 100) * 254));
      expect(attributes(event, "0x0300")).toMatchObject({ "0x0003": Math.round(light.color.xy.x * 65536), "0x0004": Math.round(light.color.xy.y * 65536) });
    }
  });

  it("the same request batched: one PUT carrying all three commands, once, even when its answer is late", async () => {
    hue.reset();
    harness.mi.reset();
    hue.delay = (r) => (r.method === "PUT" ? 1500 : 0);
    const { engine, drain } = engineWith(await makeStore());
    const { ack } = await timed(engine, command(`batched-${name}`, LIGHT_1, ON_LEVEL_COLOR));
    expect(ack.header.responseCode).toBe(200);
    await drain();
    expect(hue.puts(LIGHT_1).map((r) => r.body)).toEqual([{ on: { on: true }, dimming: { brightness: 50 }, color: { xy: { x: 0.4, y: 0.3 } } }]);
    const [event] = responseOf(`batched-${name}`);
    expect(event.StatusCode).toBe(200);
    expect(attributes(event, "0x0006")["0x0000"]).toBe(true);
    expect(hue.lights.get(LIGHT_1)!.on.on).toBe(true);
  });

  it("a failed command retried 5 times with the same traceId gets the same answer 5 times; the vendor sees it once", async () => {
    hue.reset();
    harness.mi.reset();
    hue.fail = (r) => (r.method === "PUT" ? { status: 400, body: { errors: [{ description: "body contains invalid json" }], data: [] } } : undefined);
    const { engine } = engineWith(await makeStore(), { dispatcher: false });
    const request = command(`final-failure-${name}`, LIGHT_2, TOGGLE);
    const acks = [];
    for (let i = 0; i < 5; i++) acks.push((await timed(engine, request)).ack);
    expect(acks[0].header.responseCode).toBe(400);
    for (const a of acks) expect(a).toEqual(acks[0]);
    expect(hue.puts(LIGHT_2)).toHaveLength(1);
    expect(responseOf(`final-failure-${name}`)).toHaveLength(1);
  });

  it("a command that failed before any vendor effect (503) is executed again by each retry, until it succeeds", async () => {
    hue.reset();
    harness.mi.reset();
    hue.fail = (r) => (r.method === "PUT" ? { status: 503, body: { errors: [{ description: "bridge busy" }], data: [] } } : undefined);
    const { engine } = engineWith(await makeStore(), { dispatcher: false });
    const request = command(`transient-${name}`, LIGHT_7, TOGGLE);
    const codes = [];
    for (let i = 0; i < 5; i++) codes.push((await timed(engine, request)).ack.header.responseCode);
    expect(codes).toEqual([502, 502, 502, 502, 502]);
    // Each execution reached the vendor (2 attempts each: api.retry), none had an effect.
    expect(hue.puts(LIGHT_7)).toHaveLength(10);
    hue.fail = () => undefined;
    const last = (await timed(engine, request)).ack;
    expect(last.header.responseCode).toBe(200);
    expect(hue.lights.get(LIGHT_7)!.on.on).toBe(false);
    // Retries after the success replay it.
    expect((await timed(engine, request)).ack).toEqual(last);
    expect(hue.puts(LIGHT_7)).toHaveLength(11);
  });
});

describe("lost answers (the vendor answers after the call's timeout, shortened to 600 ms here)", () => {
  it("neither verify nor idempotent: sent once, reported 504 with a clear message", async () => {
    hue.reset();
    harness.mi.reset();
    hue.delay = (r) => (r.method === "PUT" ? 900 : 0);
    const { engine, drain } = engineWith(new MemoryStateStore(), { bundle: without(["verify", "idempotent"], 600) });
    const { ack } = await timed(engine, command("lost-plain", LIGHT_2, TOGGLE));
    expect(ack.header.responseCode).toBe(200);
    await drain();
    expect(hue.puts(LIGHT_2)).toHaveLength(1);
    const [event] = responseOf("lost-plain");
    expect(event.StatusCode).toBe(504);
    expect(event.Message).toMatch(/may have been carried out/);
    expect(UNKNOWN_OUTCOME_MESSAGE).toMatch(/may have been carried out/);
  });

  it("idempotent without verify: re-sent once, then reported 504 (at most twice)", async () => {
    hue.reset();
    harness.mi.reset();
    hue.delay = (r) => (r.method === "PUT" ? 900 : 0);
    const { engine, drain } = engineWith(new MemoryStateStore(), { bundle: without(["verify"], 600) });
    await timed(engine, command("lost-idempotent", LIGHT_2, TOGGLE));
    await drain();
    // The re-sent body is the one planned: a toggle computed once, so both say "off".
    expect(hue.puts(LIGHT_2).map((r) => r.body)).toEqual([{ on: { on: false } }, { on: { on: false } }]);
    expect(responseOf("lost-idempotent")[0].StatusCode).toBe(504);
  });

  it("a retry arriving while the first attempt still runs waits for it and gets the same answer", async () => {
    hue.reset();
    harness.mi.reset();
    hue.delay = (r) => (r.method === "PUT" ? 400 : 0);
    const { engine, drain } = engineWith(new MemoryStateStore());
    const request = command("concurrent-retry", LIGHT_3, TOGGLE);
    const [a, b] = await Promise.all([timed(engine, request), new Promise((r) => setTimeout(r, 100)).then(() => timed(engine, request))]);
    await drain();
    expect(a.ack.header.responseCode).toBe(200);
    expect(b.ack).toEqual(a.ack);
    expect(hue.puts(LIGHT_3)).toHaveLength(1);
    expect(responseOf("concurrent-retry")).toHaveLength(1);
  });
});

describe("a device read too slow for the ACK", () => {
  it("hands the whole command off; the job plans it and sends it once", async () => {
    hue.reset();
    harness.mi.reset();
    hue.delay = (r) => (r.method === "GET" && r.path.includes(LIGHT_2) && hue.received.filter((x) => x.path === r.path).length === 1 ? 1700 : 0);
    const { engine, drain } = engineWith(new MemoryStateStore());
    const { ack, ms } = await timed(engine, command("slow-read", LIGHT_2, TOGGLE));
    expect(ms).toBeLessThanOrEqual(DEFAULT_ACK_BUDGET_MS);
    expect(ack.header.responseCode).toBe(200);
    expect(ack.payload.responseMessage).toMatch(/result follows/);
    await drain();
    expect(hue.puts(LIGHT_2).map((r) => r.body)).toEqual([{ on: { on: false } }]);
    const [event] = responseOf("slow-read");
    expect(event.StatusCode).toBe(200);
    expect(attributes(event, "0x0006")["0x0000"]).toBe(false);
  });
});
