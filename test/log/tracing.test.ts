/**
 * Optional tracing (issue #16 item 3): off by default, nothing of the Tracer is loaded; switched on
 * by C2C_TRACING=true (the template's Tracing parameter), each unit of work becomes an X-Ray
 * subsegment annotated with MI's correlation ids. The subsegments are caught where the X-Ray SDK
 * sends them: a UDP socket standing in for the X-Ray daemon (AWS_XRAY_DAEMON_ADDRESS), the
 * trace id coming from _X_AMZN_TRACE_ID as on Lambda.
 */
import { createSocket, type Socket } from "node:dgram";
import type { AddressInfo } from "node:net";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadBundleOrThrow } from "../../engine/mapping/bundle.ts";
import type { CompiledBundle } from "../../engine/mapping/compiled.ts";
import { FixtureHarness, FIXTURE_TOKEN } from "../../engine/testing/fixture-runner.ts";
import { createEngine } from "../../engine/handler/create-handler.ts";
import { MemoryStateStore } from "../../engine/store/memory-store.ts";
import { RedactingLogger, memorySink, type LogRecord } from "../../engine/log/json-logger.ts";
import { TRACING_ENV } from "../../engine/tracing/tracing.ts";

const lights = JSON.parse(readFileSync("mappings/lifx/tests/data/lights.json", "utf8"));
const ROOT = "1-5759e988-bd862e3fe1be46a994272793";
const auth = { auth: { type: "OAuth2.0", token: FIXTURE_TOKEN } };
const command = {
  header: auth,
  payload: {
    operationName: "AWS.SendCommand",
    operationVersion: "1.0",
    connectorId: "lifx-connector",
    connectorDeviceId: "d073d5141876",
    traceId: "trace-xray-1",
    endpoints: [{ id: "1", clusters: [{ id: "0x0006", commands: [{ "0x01": {} }] }] }],
  },
};
const ctx = { awsRequestId: "req-xray-1", getRemainingTimeInMillis: () => 30_000 };

let harness: FixtureHarness;
let bundle: CompiledBundle;
let daemon: Socket;
const documents: any[] = [];
const logs: LogRecord[] = [];

beforeAll(async () => {
  [harness, bundle] = await Promise.all([FixtureHarness.start(), loadBundleOrThrow("mappings/lifx")]);
  daemon = createSocket("udp4");
  // Each datagram: a JSON header line, then the (sub)segment document.
  daemon.on("message", (msg) => documents.push(JSON.parse(msg.toString("utf8").split("\n")[1]!)));
  await new Promise<void>((resolve) => daemon.bind(0, "127.0.0.1", resolve));
});
const LAMBDA_ENV = ["AWS_EXECUTION_ENV", "LAMBDA_TASK_ROOT", "AWS_XRAY_DAEMON_ADDRESS", "AWS_XRAY_CONTEXT_MISSING", "_X_AMZN_TRACE_ID"];
const savedEnv = Object.fromEntries(LAMBDA_ENV.map((k) => [k, process.env[k]]));
afterAll(async () => {
  await harness.close();
  daemon.close();
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

describe("tracing", () => {
  it("is off by default: no tracer is configured and the engine answers as ever", async () => {
    harness.applyEnv();
    const engine = createEngine(bundle, { store: new MemoryStateStore(), logger: new RedactingLogger(memorySink(logs)) }, { ...process.env, [TRACING_ENV]: "" });
    expect(engine.deps.tracing).toBeUndefined();
  });

  it("C2C_TRACING=true: the operation is a subsegment of the Lambda trace, annotated with MI's ids, never the token", async () => {
    harness.applyEnv();
    const { port } = daemon.address() as AddressInfo;
    Object.assign(process.env, {
      AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x",
      LAMBDA_TASK_ROOT: "/var/task",
      AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${port}`,
      AWS_XRAY_CONTEXT_MISSING: "IGNORE_ERROR",
      _X_AMZN_TRACE_ID: `Root=${ROOT};Parent=53995c3f42cd8ad8;Sampled=1`,
    });
    harness.vendor.load(
      [
        { request: { method: "GET", path: "/v1/lights/id:d073d5141876" }, response: { status: 200, body: [lights[0]] } },
        { request: { method: "PUT", path: "/v1/lights/id:d073d5141876/state" }, response: { status: 207, body: { results: [{ id: "d073d5141876", status: "ok" }] } } },
      ],
      "strict",
    );
    harness.mi.reset();
    const engine = createEngine(bundle, { store: new MemoryStateStore(), logger: new RedactingLogger(memorySink(logs)) }, { ...process.env, [TRACING_ENV]: "true" });
    expect(engine.deps.tracing).toBeTypeOf("function");
    const ack = (await engine.handle(command, ctx)) as any;
    expect(ack.header.responseCode).toBe(200);
    const deadline = Date.now() + 3000;
    while (!documents.some((d) => d.name === "## AWS.SendCommand") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const operation = documents.find((d) => d.name === "## AWS.SendCommand");
    expect(operation).toMatchObject({
      trace_id: ROOT,
      type: "subsegment",
      annotations: { operation: "AWS.SendCommand", traceId: "trace-xray-1", connectorDeviceId: "d073d5141876" },
    });
    expect(operation.end_time).toBeGreaterThanOrEqual(operation.start_time);
    expect(JSON.stringify(documents)).not.toContain(FIXTURE_TOKEN);
  });
});
