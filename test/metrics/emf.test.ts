/**
 * Powertools Metrics as EMF (issue #16 item 3): each invocation publishes its numbers once, when it
 * ends, as CloudWatch Embedded Metric Format lines: events sent, refused, deferred and suppressed,
 * vendor calls and latency by call name and status class, hand-offs, webhook rejections. The lines
 * are real Powertools output, captured where they are written (a test sink, and stdout on the
 * production path).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { loadBundleOrThrow } from "../../engine/mapping/bundle.ts";
import type { CompiledBundle } from "../../engine/mapping/compiled.ts";
import { FixtureHarness, FIXTURE_TOKEN } from "../../engine/testing/fixture-runner.ts";
import type { Exchange } from "../../engine/testing/vendor-simulator.ts";
import { createEngine } from "../../engine/handler/create-handler.ts";
import type { Engine } from "../../engine/handler/engine.ts";
import type { InProcessDispatcher } from "../../engine/handoff/in-process-dispatcher.ts";
import { MemoryStateStore } from "../../engine/store/memory-store.ts";
import { RedactingLogger, memorySink, type LogRecord } from "../../engine/log/json-logger.ts";
import { EmfPublisher } from "../../engine/metrics/emf.ts";
import { MetricsBuffer } from "../../engine/metrics/recorder.ts";
import { keys } from "../../engine/operations/keys.ts";
import { startMiEmulator, type MiEmulator } from "../../engine/local/mi-emulator.ts";
import { acmeBundle, contactEvent, rig } from "../events/helpers.ts";
import { getLight, lifxCommand as command, PUT_STATE_OK, putState } from "../support/lifx.ts";

const getDevice = getLight();
const putOn = (status = 207, delayMs = 0): Exchange => putState({ status, body: status === 207 ? PUT_STATE_OK.body : { error: "nope" }, delayMs });
const ctx = { getRemainingTimeInMillis: () => 30_000 };

interface Emf {
  _aws: { Timestamp: number; CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }> };
  [key: string]: unknown;
}

/** The metric values of EMF lines whose dimensions include `dims`, summed (counts) or concatenated. */
function values(lines: string[], name: string, dims: Record<string, string> = {}): number[] {
  const out: number[] = [];
  for (const line of lines) {
    const emf = JSON.parse(line) as Emf;
    if (!emf._aws?.CloudWatchMetrics[0]!.Metrics.some((m) => m.Name === name)) continue;
    if (!Object.entries(dims).every(([k, v]) => emf[k] === v)) continue;
    const v = emf[name];
    out.push(...(Array.isArray(v) ? v : [v as number]));
  }
  return out;
}
const total = (lines: string[], name: string, dims?: Record<string, string>) => values(lines, name, dims).reduce((a, b) => a + b, 0);

let harness: FixtureHarness;
let bundle: CompiledBundle;
const logs: LogRecord[] = [];

beforeAll(async () => {
  [harness, bundle] = await Promise.all([FixtureHarness.start(), loadBundleOrThrow("mappings/lifx")]);
  harness.applyEnv();
});
afterAll(() => harness.close());
afterEach(() => vi.restoreAllMocks());

function engineWith(lines: string[], extra: Parameters<typeof createEngine>[1] = {}): Engine {
  harness.applyEnv();
  return createEngine(bundle, {
    store: new MemoryStateStore(),
    logger: new RedactingLogger(memorySink(logs)),
    metrics: new EmfPublisher({ namespace: "C2CTest", serviceName: "c2c-lifx", write: (l) => lines.push(l) }),
    ...extra,
  });
}

/** Waits for the engine's in-process jobs (hand-offs, the outbox), retries included. */
const drained = (engine: Engine) => (engine.deps.dispatcher as InProcessDispatcher).drain();

describe("EMF metrics per invocation", () => {
  it("a SendCommand publishes its vendor calls (call name, status class, latency) and the event sent, once, at its end", async () => {
    harness.vendor.load([getDevice, putOn()], "strict");
    harness.mi.reset();
    const lines: string[] = [];
    const engine = engineWith(lines);
    await engine.handle(command("trace-m-1"), ctx);
    expect(lines.length).toBeGreaterThan(0);
    const first = JSON.parse(lines[0]!) as Emf;
    expect(first._aws.CloudWatchMetrics[0]!.Namespace).toBe("C2CTest");
    expect(first.service).toBe("c2c-lifx");
    expect(total(lines, "EventsSent")).toBe(1);
    expect(total(lines, "VendorCalls", { call: "setState", statusClass: "2xx" })).toBe(1);
    const latency = values(lines, "VendorLatency", { call: "setState", statusClass: "2xx" });
    expect(latency).toHaveLength(1);
    expect(latency[0]).toBeGreaterThanOrEqual(0);
    const vendorLine = lines.map((l) => JSON.parse(l) as Emf).find((e) => e.call === "setState")!;
    expect(vendorLine._aws.CloudWatchMetrics[0]!.Dimensions[0]).toEqual(expect.arrayContaining(["service", "call", "statusClass"]));
    expect(vendorLine._aws.CloudWatchMetrics[0]!.Metrics).toEqual(expect.arrayContaining([{ Name: "VendorLatency", Unit: "Milliseconds" }, { Name: "VendorCalls", Unit: "Count" }]));

    // The next invocation publishes only its own numbers.
    harness.vendor.load([putOn(500)], "strict");
    const before = lines.length;
    await engine.handle(command("trace-m-2"), ctx);
    const second = lines.slice(before);
    expect(total(second, "VendorCalls", { call: "setState", statusClass: "5xx" })).toBe(1);
    expect(total(second, "VendorCalls", { statusClass: "2xx" })).toBe(0);
    expect(JSON.stringify(lines)).not.toContain(FIXTURE_TOKEN);
  });

  it("hand-offs, and events deferred to the outbox, refused by MI and suppressed for a deactivated user", async () => {
    harness.vendor.load([getDevice, putOn(207, 600), putOn(), putOn()], "strict");
    harness.mi.reset();
    const lines: string[] = [];
    const store = new MemoryStateStore();
    const engine = engineWith(lines, { store, ackBudgetMs: 500 });
    await engine.handle(command("trace-h-1"), ctx);
    // The job has ended (and published its line) when the dispatcher is drained: no sleeping on it.
    await drained(engine);
    expect(harness.mi.events).toHaveLength(1);
    expect(total(lines, "HandOffs", { operation: "AWS.SendCommand" })).toBe(1);
    // The job published its own line when it ended: the event it sent.
    expect(total(lines, "EventsSent")).toBe(1);

    harness.mi.reset();
    harness.mi.inject({ status: 503, times: 3 });
    const later: string[] = [];
    const second = engineWith(later, { store });
    await second.handle(command("trace-h-2"), ctx);
    await drained(second);
    expect(harness.mi.events).toHaveLength(1);
    expect(total(later, "EventsDeferred")).toBe(1);
    expect(total(later, "HandOffs")).toBe(0);
    // The outbox job that delivered it later.
    expect(total(later, "EventsSent")).toBe(1);

    harness.mi.clearFaults();
    harness.mi.reset();
    harness.vendor.load([putOn()], "strict");
    harness.mi.inject({ status: 400, times: 1 });
    const refused: string[] = [];
    await engineWith(refused, { store }).handle(command("trace-h-3"), ctx);
    expect(total(refused, "EventsRefused")).toBe(1);
    expect(total(refused, "EventsSent")).toBe(0);
  });

  it("a webhook delivery: rejections by status, suppressed events", async () => {
    const mi: MiEmulator = await startMiEmulator();
    try {
      const r = rig(await acmeBundle(), mi);
      const lines: string[] = [];
      r.engine.deps.metrics = new EmfPublisher({ serviceName: "c2c-acme", write: (l) => lines.push(l) });
      expect((await r.deliver({ events: [contactEvent("evt-m-1", true)] }, { secret: "wrong-secret-0000" })).statusCode).toBe(401);
      expect((await r.deliver("not json {", { contentType: "application/json" })).statusCode).toBe(400);
      expect(total(lines, "WebhookRejections", { status: "401" })).toBe(1);
      expect(total(lines, "WebhookRejections", { status: "400" })).toBe(1);
      expect(JSON.parse(lines[0]!)._aws.CloudWatchMetrics[0].Namespace).toBe("C2CConnector");

      await r.store.put(keys.deactivated("acme-user-1"), { at: Date.now() });
      expect((await r.deliver({ events: [contactEvent("evt-m-2", true)] })).statusCode).toBe(200);
      expect(total(lines, "EventsSuppressed")).toBe(1);
      expect(total(lines, "EventsSent")).toBe(0);
      expect(JSON.stringify(lines)).not.toContain("acme-user-1");
    } finally {
      await mi.close();
    }
  });

  it("more values than one EMF line holds continue on the next lines, none lost", () => {
    const lines: string[] = [];
    const buffer = new MetricsBuffer();
    for (let i = 0; i < 250; i++) buffer.add("VendorLatency", "Milliseconds", i, { call: "listLights", statusClass: "2xx" });
    buffer.add("VendorCalls", "Count", 250, { call: "listLights", statusClass: "2xx" });
    new EmfPublisher({ serviceName: "c2c-lifx", write: (l) => lines.push(l) }).publish(buffer);
    expect(lines).toHaveLength(3);
    expect(values(lines, "VendorLatency").sort((a, b) => a - b)).toEqual(Array.from({ length: 250 }, (_, i) => i));
    expect(total(lines, "VendorCalls")).toBe(250);
  });

  it("on the production path EMF lines go to stdout (C2C_METRICS=emf off Lambda, always on Lambda)", async () => {
    const out: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation((chunk: any) => {
      out.push(String(chunk));
      return true;
    });
    harness.vendor.load([getDevice, putOn()], "strict");
    harness.mi.reset();
    harness.applyEnv();
    const env = { ...process.env, C2C_METRICS: "emf", POWERTOOLS_METRICS_NAMESPACE: "C2CProd" };
    const engine = createEngine(bundle, { store: new MemoryStateStore(), logger: new RedactingLogger(memorySink(logs)) }, env);
    await engine.handle(command("trace-p-1"), ctx);
    vi.restoreAllMocks();
    const emf = out.filter((l) => l.includes('"_aws"')).map((l) => l.trim());
    expect(emf.length).toBeGreaterThan(0);
    expect(JSON.parse(emf[0]!)._aws.CloudWatchMetrics[0].Namespace).toBe("C2CProd");
    expect(total(emf, "EventsSent")).toBe(1);
    // Off Lambda and without C2C_METRICS, nothing is written (the CLI's output stays its own).
    expect(createEngine(bundle, { store: new MemoryStateStore() }, { ...process.env, C2C_METRICS: "" }).deps.metrics).toBeUndefined();
    expect(createEngine(bundle, { store: new MemoryStateStore() }, { ...process.env, AWS_LAMBDA_FUNCTION_NAME: "f", C2C_JOB_QUEUE_URL: "http://127.0.0.1:1/q" }).deps.metrics).toBeInstanceOf(EmfPublisher);
  });
});
