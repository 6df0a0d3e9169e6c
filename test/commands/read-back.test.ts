/**
 * Confirmation by read-back (command mapping `readBack`): the vendor's answer means "accepted",
 * so the command response carries no attribute; the read-back runs as a job of the SQS job queue
 * (loopback emulator, clock moved by the test) after the declared delay, reads the device from a
 * stateful loopback vendor and sends what it did as one DEVICE_EVENT, nothing when it did not
 * change. MI's retry of the command schedules no second read-back. The bundle is `c2c new`'s
 * scaffold with `readBack` on its Off command.
 */
import { createServer } from "node:http";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { scaffoldFiles } from "../../engine/cli/scaffold.ts";
import { loadBundleOrThrow } from "../../engine/mapping/bundle.ts";
import type { CompiledBundle } from "../../engine/mapping/compiled.ts";
import { FixtureHarness } from "../../engine/testing/fixture-runner.ts";
import { createEngine } from "../../engine/handler/create-handler.ts";
import type { Engine } from "../../engine/handler/engine.ts";
import { MemoryStateStore } from "../../engine/store/memory-store.ts";
import { startSqsEmulator, type SqsEmulator } from "../../engine/local/sqs-emulator.ts";
import { listenOnLoopback, type Listening } from "../../engine/local/loopback.ts";
import { LOCAL_TEST_CREDENTIALS } from "../../engine/local/mi-emulator.ts";
import { RedactingLogger, memorySink, type LogRecord } from "../../engine/log/json-logger.ts";
import type { BatchResponse } from "../../engine/events/buffer-consumer.ts";

const QUEUE = "c2c-read-back";
const TOKEN = "read-back-token-0001";
let dir: string;
let bundle: CompiledBundle;
let harness: FixtureHarness;
let sqs: SqsEmulator;
let vendor: Listening;
let clock = Date.now();
/** The vendor's device; a PUT is accepted at once and carried out when the test says so. */
let plug: { id: string; name: string; type: string; model: string; power: string };
let pending: string | undefined;
let vendorRequests: string[];
const ctx = { getRemainingTimeInMillis: () => 30_000 };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "c2c-read-back-"));
  const bundleDir = join(dir, "acme");
  for (const [rel, content] of Object.entries(scaffoldFiles({ id: "acme", bundleDir }))) {
    await mkdir(dirname(join(bundleDir, rel)), { recursive: true });
    const text = rel === "connector.yaml" ? content.replace(`body: "{ 'power': 'off' }"\n                confirms: { OnOff: "false" }`, `body: "{ 'power': 'off' }"\n                readBack: { afterSeconds: 5 }`) : content;
    await writeFile(join(bundleDir, rel), text);
  }
  [bundle, harness, sqs] = await Promise.all([loadBundleOrThrow(bundleDir), FixtureHarness.start(), startSqsEmulator({ now: () => clock })]);
  harness.applyEnv();
  vendor = await listenOnLoopback(
    createServer((req, res) => {
      vendorRequests.push(`${req.method} ${req.url}`);
      const json = (status: number, body: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
      if (req.method === "GET" && req.url === "/v1/devices") return json(200, { user: { id: "user-0001" }, devices: [plug] });
      if (req.method === "GET" && req.url === "/v1/devices/plug-1") return json(200, plug);
      if (req.method === "PUT" && req.url === "/v1/devices/plug-1/power") {
        let body = "";
        req.on("data", (c: Buffer) => (body += c.toString()));
        req.on("end", () => {
          pending = (JSON.parse(body) as { power: string }).power;
          json(202, { ok: true, status: "accepted" });
        });
        return;
      }
      json(404, {});
    }),
  );
});
afterAll(async () => {
  await Promise.all([harness.close(), sqs.close(), vendor.close()]);
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  sqs.reset();
  sqs.queueUrl(QUEUE);
  harness.mi.reset();
  plug = { id: "plug-1", name: "Desk lamp plug", type: "plug", model: "Acme Plug", power: "on" };
  pending = undefined;
  vendorRequests = [];
  clock = Date.now();
});

function engine(logs: LogRecord[]): Engine {
  return createEngine(bundle, { store: new MemoryStateStore(), logger: new RedactingLogger(memorySink(logs)) }, {
    ...harness.env(),
    C2C_VENDOR_ORIGIN: vendor.endpoint,
    C2C_JOB_QUEUE_URL: sqs.queueUrl(QUEUE),
    C2C_SQS_ENDPOINT: sqs.endpoint,
    AWS_REGION: sqs.region,
    AWS_ACCESS_KEY_ID: LOCAL_TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_TEST_CREDENTIALS.secretAccessKey,
  });
}

const request = (operationName: string, extra: Record<string, unknown> = {}) => ({
  header: { auth: { type: "OAuth2.0", token: TOKEN } },
  payload: { operationName, operationVersion: "1.0", connectorId: "acme-connector", ...extra },
});
const off = (traceId: string) =>
  request("AWS.SendCommand", { connectorDeviceId: "plug-1", traceId, endpoints: [{ id: "1", clusters: [{ id: "0x0006", commands: [{ "0x00": {} }] }] }] });

async function drain(e: Engine): Promise<number> {
  let jobs = 0;
  for (let event = sqs.poll(QUEUE); event.Records.length > 0; event = sqs.poll(QUEUE)) {
    jobs += event.Records.length;
    sqs.complete(QUEUE, event, (await e.handle(event, ctx)) as BatchResponse);
  }
  return jobs;
}
const byOperation = (op: string) => harness.mi.events.filter((ev: any) => ev.body.Operation === op).map((ev: any) => ev.body);

describe("read-back after a command the vendor only accepted", () => {
  it("the response claims no attribute; the read-back after the delay sends the confirmed state once; MI's retry schedules none", async () => {
    const logs: LogRecord[] = [];
    const e = engine(logs);
    expect(((await e.handle(request("AWS.ActivateUser"), ctx)) as any).header.responseCode).toBe(200);
    expect(((await e.handle(request("AWS.DiscoverDevices", { deviceDiscoveryId: "1001" }), ctx)) as any).header.responseCode).toBe(200);
    harness.mi.reset();

    expect(((await e.handle(off("trace-rb-1"), ctx)) as any).header.responseCode).toBe(200);
    const [response] = byOperation("DEVICE_COMMAND_RESPONSE");
    expect(response.MatterEndpoint.clusters).toEqual([{ id: "0x0006", commands: { "0x00": { responseCode: 200 } } }]);
    // One read-back job, due after the declared 5 s, holding no token in clear.
    expect(sqs.messages(QUEUE)).toHaveLength(1);
    expect(Math.round((sqs.messages(QUEUE)[0]!.visibleAt - clock) / 1000)).toBe(5);
    expect(await drain(e)).toBe(0); // not due yet

    plug.power = pending!; // the device carries the command out
    clock += 5_000;
    expect(await drain(e)).toBe(1);
    const events = byOperation("DEVICE_EVENT");
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ ConnectorDeviceId: "plug-1", UserId: "user-0001", MatterEndpoint: { id: "1", clusters: [{ id: "0x0006", attributes: { "0x0000": false } }] } });
    expect(vendorRequests.filter((r) => r === "GET /v1/devices/plug-1")).toHaveLength(1); // the read-back (the profile came from discovery)

    // MI retries the same command: the stored answer, no second vendor command, no second read-back.
    const puts = vendorRequests.filter((r) => r.startsWith("PUT")).length;
    expect(((await e.handle(off("trace-rb-1"), ctx)) as any).header.responseCode).toBe(200);
    expect(sqs.messages(QUEUE)).toHaveLength(0);
    expect(vendorRequests.filter((r) => r.startsWith("PUT")).length).toBe(puts);
    expect(JSON.stringify(logs)).not.toContain(TOKEN);
  });

  it("a device that did not carry the command out gets no DEVICE_EVENT: nothing is confirmed", async () => {
    const e = engine([]);
    await e.handle(request("AWS.ActivateUser"), ctx);
    await e.handle(request("AWS.DiscoverDevices", { deviceDiscoveryId: "1002" }), ctx);
    harness.mi.reset();
    expect(((await e.handle(off("trace-rb-2"), ctx)) as any).header.responseCode).toBe(200);
    clock += 5_000;
    expect(await drain(e)).toBe(1); // still "on" at the vendor
    expect(byOperation("DEVICE_EVENT")).toHaveLength(0);
    expect(byOperation("DEVICE_COMMAND_RESPONSE")[0].MatterEndpoint.clusters[0].attributes).toBeUndefined();
  });
});
