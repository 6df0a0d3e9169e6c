/**
 * Every log line carries the correlation ids of the unit of work it belongs to (issue #16 item 3):
 * MI's traceId, deviceDiscoveryId, connectorDeviceId and operation on the lines of an MI request,
 * the vendor client's and MI client's lines included; a deferred job's lines carry its job id and
 * its request's ids, an outbox delivery its event's ids, a webhook delivery its own id and its
 * vendor events' ids. The ids are scoped to their invocation: nothing carries over to the next
 * request of a warm engine, nor across requests running at the same time. Never a user id or token.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadBundleOrThrow } from "../../engine/mapping/bundle.ts";
import type { CompiledBundle } from "../../engine/mapping/compiled.ts";
import { FixtureHarness, FIXTURE_TOKEN } from "../../engine/testing/fixture-runner.ts";
import type { Exchange } from "../../engine/testing/vendor-simulator.ts";
import { createEngine } from "../../engine/handler/create-handler.ts";
import type { Engine } from "../../engine/handler/engine.ts";
import { MemoryStateStore } from "../../engine/store/memory-store.ts";
import { RedactingLogger, memorySink, type LogRecord } from "../../engine/log/json-logger.ts";
import { startMiEmulator, type MiEmulator } from "../../engine/local/mi-emulator.ts";
import { acmeBundle, contactEvent, rig } from "../events/helpers.ts";

const lights = JSON.parse(readFileSync("mappings/lifx/tests/data/lights.json", "utf8"));
const USER = "a0c1aa82395411e9a0757200055bf1c9";
const getDevice: Exchange = { request: { method: "GET", path: "/v1/lights/id:d073d5141876" }, response: { status: 200, body: [lights[0]] } };
const putOn = (delayMs = 0): Exchange => ({
  request: { method: "PUT", path: "/v1/lights/id:d073d5141876/state" },
  response: { status: 207, body: { results: [{ id: "d073d5141876", status: "ok" }] }, delayMs },
});
const listAll: Exchange = { request: { method: "GET", path: "/v1/lights/all" }, response: { status: 200, body: lights } };
const me: Exchange = { request: { method: "GET", path: "/v1/lights/all" }, response: { status: 200, body: lights } };

const auth = { auth: { type: "OAuth2.0", token: FIXTURE_TOKEN } };
const base = { operationVersion: "1.0", connectorId: "lifx-connector" };
const command = (traceId: string) => ({
  header: auth,
  payload: { ...base, operationName: "AWS.SendCommand", connectorDeviceId: "d073d5141876", traceId, endpoints: [{ id: "1", clusters: [{ id: "0x0006", commands: [{ "0x01": {} }] }] }] },
});
const discovery = (deviceDiscoveryId: string) => ({ header: auth, payload: { ...base, operationName: "AWS.DiscoverDevices", deviceDiscoveryId } });
const simple = (operationName: string) => ({ header: auth, payload: { ...base, operationName } });
const ctx = (awsRequestId: string) => ({ awsRequestId, getRemainingTimeInMillis: () => 30_000 });

let harness: FixtureHarness;
let bundle: CompiledBundle;
const all: LogRecord[] = [];

beforeAll(async () => {
  [harness, bundle] = await Promise.all([FixtureHarness.start(), loadBundleOrThrow("mappings/lifx")]);
  harness.applyEnv();
});
afterAll(async () => {
  await harness.close();
  const text = JSON.stringify(all);
  expect(all.length).toBeGreaterThan(0);
  expect(text).not.toContain(FIXTURE_TOKEN);
  expect(text).not.toContain(USER);
});

function engineWith(logs: LogRecord[], extra: Parameters<typeof createEngine>[1] = {}): Engine {
  harness.applyEnv();
  return createEngine(bundle, { store: new MemoryStateStore(), logger: new RedactingLogger(memorySink(logs)), ...extra });
}

async function linesOf(engine: Engine, logs: LogRecord[], event: unknown, requestId: string): Promise<LogRecord[]> {
  const from = logs.length;
  await engine.handle(event, ctx(requestId));
  const lines = logs.slice(from);
  all.push(...lines);
  return lines;
}

describe("MI correlation ids on every line", () => {
  it("SendCommand: operation, traceId, connectorDeviceId and the Lambda request id, on vendor and MI client lines too", async () => {
    harness.vendor.load([getDevice, putOn()], "strict");
    harness.mi.reset();
    const logs: LogRecord[] = [];
    const lines = await linesOf(engineWith(logs), logs, command("trace-cmd-1"), "req-cmd-1");
    expect(lines.map((l) => l.message)).toEqual(expect.arrayContaining(["vendor call", "SendConnectorEvent accepted", "operation answered"]));
    for (const line of lines) {
      expect(line, line.message).toMatchObject({ operation: "AWS.SendCommand", traceId: "trace-cmd-1", connectorDeviceId: "d073d5141876", requestId: "req-cmd-1" });
    }
  });

  it("DiscoverDevices: operation and deviceDiscoveryId; ActivateUser and DeactivateUser: operation", async () => {
    harness.vendor.load([listAll, me, listAll], "strict");
    harness.mi.reset();
    const logs: LogRecord[] = [];
    const engine = engineWith(logs);
    const discovered = await linesOf(engine, logs, discovery("4242"), "req-disc");
    expect(discovered.some((l) => l.message === "vendor call")).toBe(true);
    for (const line of discovered) expect(line, line.message).toMatchObject({ operation: "AWS.DiscoverDevices", deviceDiscoveryId: "4242", requestId: "req-disc" });
    for (const op of ["AWS.ActivateUser", "AWS.DeactivateUser"]) {
      const lines = await linesOf(engine, logs, simple(op), `req-${op}`);
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) {
        expect(line, line.message).toMatchObject({ operation: op, requestId: `req-${op}` });
        // Nothing of the discovery before it in this warm engine.
        expect(line).not.toHaveProperty("deviceDiscoveryId");
        expect(line).not.toHaveProperty("traceId");
      }
    }
  });

  it("requests in flight at the same time keep their own ids", async () => {
    harness.vendor.load([getDevice, getDevice, putOn(30), putOn(30)], "strict");
    harness.mi.reset();
    const logs: LogRecord[] = [];
    const engine = engineWith(logs);
    await Promise.all([engine.handle(command("trace-a"), ctx("req-a")), engine.handle(command("trace-b"), ctx("req-b"))]);
    all.push(...logs);
    const vendorLines = logs.filter((l) => l.message === "vendor attempt");
    expect(vendorLines.length).toBeGreaterThanOrEqual(2);
    for (const line of logs) expect([`${line.traceId}/${line.requestId}`]).toEqual([expect.stringMatching(/^trace-a\/req-a$|^trace-b\/req-b$/)]);
    expect(new Set(vendorLines.map((l) => l.traceId))).toEqual(new Set(["trace-a", "trace-b"]));
  });

  it("a handed-off command: the job's lines carry its job id and the request's traceId and device", async () => {
    // The vendor answers after the ACK budget: the command finishes in a deferred job (in-process here).
    harness.vendor.load([getDevice, putOn(600), putOn()], "strict");
    harness.mi.reset();
    const logs: LogRecord[] = [];
    const engine = engineWith(logs, { ackBudgetMs: 500 });
    const ack = (await engine.handle(command("trace-job-1"), ctx("req-job-1"))) as any;
    expect(ack.payload.responseMessage).toMatch(/result follows/);
    await harness.mi.waitForEvents(1, 5000);
    await new Promise((r) => setTimeout(r, 50));
    all.push(...logs);
    const handedOff = logs.find((l) => l.message === "work handed off")!;
    expect(handedOff).toMatchObject({ traceId: "trace-job-1", requestId: "req-job-1" });
    const jobLines = logs.filter((l) => l.jobId === handedOff.jobId && l.message !== "work handed off");
    expect(jobLines.some((l) => l.message === "vendor call")).toBe(true);
    for (const line of jobLines) {
      expect(line, line.message).toMatchObject({ jobId: handedOff.jobId, operation: "AWS.SendCommand" });
      // The request's ids come once its work is loaded: every line after that carries them.
      if (line.message === "vendor call" || line.message.startsWith("SendConnectorEvent")) expect(line).toMatchObject({ traceId: "trace-job-1", connectorDeviceId: "d073d5141876" });
      // Not the Lambda request that made the job: the job runs after it.
      expect(line.requestId).toBeUndefined();
    }
  });

  it("the outbox: an event MI did not take is delivered by a job whose lines carry the event's ids", async () => {
    harness.vendor.load([getDevice, putOn()], "strict");
    harness.mi.reset();
    harness.mi.inject({ status: 503, times: 3 });
    const logs: LogRecord[] = [];
    const engine = engineWith(logs);
    await engine.handle(command("trace-outbox-1"), ctx("req-outbox-1"));
    await harness.mi.waitForEvents(1, 8000);
    await new Promise((r) => setTimeout(r, 50));
    harness.mi.clearFaults();
    all.push(...logs);
    const delivered = logs.find((l) => l.message === "deferred events delivered")!;
    expect(delivered).toMatchObject({ operation: "SendConnectorEvent" });
    const outboxLines = logs.filter((l) => l.jobId === delivered.jobId);
    const accepted = outboxLines.find((l) => l.message === "SendConnectorEvent accepted");
    expect(accepted).toMatchObject({ traceId: "trace-outbox-1", connectorDeviceId: "d073d5141876" });
  });
});

describe("webhook deliveries carry their own ids", () => {
  let mi: MiEmulator;
  beforeAll(async () => {
    mi = await startMiEmulator();
  });
  afterAll(() => mi.close());

  it("deliveryId on every line, the vendor event's id and device on the lines about it", async () => {
    const r = rig(await acmeBundle(), mi);
    const res = await r.engine.handle(
      {
        version: "2.0",
        rawPath: "/hooks/acme",
        rawQueryString: "",
        headers: {},
        requestContext: { http: { method: "POST", path: "/hooks/acme", sourceIp: "127.0.0.1" } },
        body: "{}",
        isBase64Encoded: false,
      },
      ctx("req-hook-refused"),
    );
    expect((res as any).statusCode).toBe(401);
    expect(r.logs.at(-1)).toMatchObject({ operation: "webhook", deliveryId: "req-hook-refused" });
    const from = r.logs.length;
    expect((await r.deliver({ events: [contactEvent("evt-corr-1", true)] })).statusCode).toBe(200);
    const lines = r.logs.slice(from);
    all.push(...r.logs);
    const deliveryId = lines[0]!.deliveryId;
    expect(deliveryId).toEqual(expect.any(String));
    expect(deliveryId).not.toBe("req-hook-refused");
    for (const line of lines) expect(line, line.message).toMatchObject({ operation: "webhook", deliveryId });
    expect(lines.find((l) => l.message === "event sent")).toMatchObject({ eventId: "evt-corr-1", connectorDeviceId: "door-1" });
    expect(lines.find((l) => l.message === "webhook delivery processed")).not.toHaveProperty("eventId");
    expect(JSON.stringify(r.logs)).not.toContain("acme-user-1");
  });
});
