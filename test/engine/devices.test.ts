/**
 * Devices as real clouds describe them (issue #13): discovery's per-device calls with bounded
 * concurrency and rate, handed off when the budget runs out; endpoints generated per element;
 * commands on the profile (and generated endpoints) the device was discovered with, without a
 * device read; local refusals before any vendor call. A loopback vendor that counts requests in
 * flight, and the MI emulator.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadBundleOrThrow } from "../../engine/mapping/bundle.ts";
import type { CompiledBundle } from "../../engine/mapping/compiled.ts";
import { FIXTURE_TOKEN, FixtureHarness } from "../../engine/testing/fixture-runner.ts";
import { createEngine } from "../../engine/handler/create-handler.ts";
import type { EngineDeps } from "../../engine/handler/engine.ts";
import { VendorClient } from "../../engine/vendor/client.ts";
import { defaultTransport } from "../../engine/transport/http-transport.ts";
import { MemoryStateStore } from "../../engine/store/memory-store.ts";
import { RedactingLogger, memorySink, type LogRecord } from "../../engine/log/json-logger.ts";

const LONG = { getRemainingTimeInMillis: () => 30_000 };
const header = { auth: { type: "OAuth2.0", token: FIXTURE_TOKEN } };
const LOCATION = "95efee9b-6073-4871-b5ba-de6642187293";

/** A SmartThings-shaped vendor: n switches, status answers after `delayMs`; it records what it saw. */
class CountingVendor {
  inFlight = 0;
  maxInFlight = 0;
  readonly statusStarts: number[] = [];
  readonly requests: string[] = [];
  private server!: Server;

  constructor(
    private readonly devices: Array<{ deviceId: string; components: unknown[] }>,
    private readonly delayMs: number,
  ) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.answer(req).then((body) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body))));
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private async answer(req: IncomingMessage): Promise<unknown> {
    for await (const _ of req);
    const path = new URL(req.url ?? "/", "http://x").pathname;
    this.requests.push(`${req.method} ${path}`);
    if (path === "/v1/locations") return { items: [{ locationId: LOCATION }] };
    if (path === "/v1/devices") return { items: this.devices, _links: {} };
    const status = /^\/v1\/devices\/([^/]+)\/status$/.exec(path);
    if (status) {
      this.statusStarts.push(performance.now());
      this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
      await new Promise((r) => setTimeout(r, this.delayMs));
      this.inFlight--;
      return { components: { main: { switch: { switch: { value: "on" } } }, outlet1: { switch: { switch: { value: "off" } } } } };
    }
    if (/\/commands$/.test(path)) return {};
    return {};
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

const switchDevice = (n: number) => ({ deviceId: `switch-${n}`, label: `Switch ${n}`, components: [{ id: "main", capabilities: [{ id: "switch" }] }] });

let harness: FixtureHarness;
let st: CompiledBundle;
const logs: LogRecord[] = [];

beforeAll(async () => {
  [harness, st] = await Promise.all([FixtureHarness.start(), loadBundleOrThrow("mappings/smartthings")]);
  harness.applyEnv();
});
afterAll(async () => {
  await harness.close();
  expect(JSON.stringify(logs)).not.toContain(FIXTURE_TOKEN);
});

function engineAt(bundle: CompiledBundle, origin: string, overrides: Partial<EngineDeps> = {}) {
  return createEngine(bundle, { store: new MemoryStateStore(), logger: new RedactingLogger(memorySink(logs)), ...overrides }, { ...harness.env(), C2C_VENDOR_ORIGIN: origin });
}

const discover = (id: string) => ({ header, payload: { operationName: "AWS.DiscoverDevices", operationVersion: "1.0", connectorId: "st", deviceDiscoveryId: id } });

async function settledEvents(n: number) {
  await harness.mi.waitForEvents(n, 8000);
  await new Promise((r) => setTimeout(r, 150));
  return harness.mi.events.map((e) => e.body as any);
}

describe("discovery fan-out", () => {
  it("per-device calls run at most `concurrency` at a time, their starts spaced by `ratePerSecond`", async () => {
    const b = structuredClone(st);
    b.operations.discoverDevices.perDevice = { ...b.operations.discoverDevices.perDevice!, concurrency: 3, ratePerSecond: 40 };
    const vendor = new CountingVendor(Array.from({ length: 9 }, (_, i) => switchDevice(i + 1)), 60);
    const origin = await vendor.start();
    try {
      harness.mi.reset();
      // When the engine sends each status read (the vendor's arrival times carry the network's and a busy machine's jitter).
      const sentAt: number[] = [];
      const transport = defaultTransport();
      const vendorClient = new VendorClient({
        retry: b.api.retry,
        originOverride: origin,
        transport: (request) => {
          if (request.url.endsWith("/status")) sentAt.push(performance.now());
          return transport(request);
        },
      });
      // A budget that is not the subject here: the whole fan-out runs before the ACK.
      const ack = (await engineAt(b, origin, { vendor: vendorClient, ackBudgetMs: 20_000 }).handle(discover("fan1"), LONG)) as any;
      expect(ack.header.responseCode).toBe(200);
      const events = await settledEvents(1);
      expect(vendor.statusStarts).toHaveLength(9);
      expect(sentAt).toHaveLength(9);
      expect(vendor.maxInFlight).toBe(3);
      // 40/s: the i-th start at least i x 25 ms after the first. The engine never starts early (a
      // rate limit is a bound); 1 ms is left for building each request before the transport sees it.
      sentAt.forEach((t, i) => expect(t - sentAt[0]!, `start ${i}`).toBeGreaterThanOrEqual(i * 25 - 1));
      // Each device carries the value its status call returned.
      expect(events.flatMap((e) => e.Devices).map((d: any) => d.CapabilityReport.endpoints[0].clusters[0].attributes[0])).toEqual(Array(9).fill({ id: "0x0000", value: true }));
    } finally {
      await vendor.close();
    }
  });

  it("devices whose calls do not fit the budget are handed off and reported once, each status read once", async () => {
    const vendor = new CountingVendor(Array.from({ length: 12 }, (_, i) => switchDevice(i + 1)), 80);
    const origin = await vendor.start();
    try {
      harness.mi.reset();
      const b = structuredClone(st);
      b.operations.discoverDevices.perDevice = { ...b.operations.discoverDevices.perDevice!, concurrency: 2 };
      delete b.operations.discoverDevices.perDevice.ratePerSecond;
      // 750 ms of budget: room for a few devices before the ACK, the rest in the background job.
      const ack = (await engineAt(b, origin, { ackBudgetMs: 750 }).handle(discover("fan2"), LONG)) as any;
      expect(ack.header.responseCode).toBe(200);
      const ackedAfter = vendor.statusStarts.length;
      expect(ackedAfter).toBeLessThan(12);
      await harness.mi.waitForEvents(2, 8000);
      const deadline = Date.now() + 8000;
      while (!harness.mi.events.some((e) => (e.body as any).StatusCode === 200) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 150));
      const events = harness.mi.events.map((e) => e.body as any);
      const ids = events.flatMap((e) => e.Devices.map((d: any) => d.ConnectorDeviceId));
      expect(ids.sort()).toEqual(Array.from({ length: 12 }, (_, i) => `switch-${i + 1}`).sort());
      expect(events.at(-1).StatusCode).toBe(200);
      expect(events.slice(0, -1).every((e) => e.StatusCode === 300)).toBe(true);
      expect(vendor.statusStarts).toHaveLength(12);
    } finally {
      await vendor.close();
    }
  });
});

describe("the profile and endpoints a device was discovered with", () => {
  const strip = {
    deviceId: "strip-1",
    label: "Strip",
    components: [
      { id: "main", capabilities: [{ id: "switch" }] },
      { id: "outlet1", capabilities: [{ id: "switch" }] },
    ],
  };
  const command = (traceId: string, endpointId: string, cmd: string) => ({
    header,
    payload: {
      operationName: "AWS.SendCommand",
      operationVersion: "1.0",
      connectorId: "st",
      connectorDeviceId: "strip-1",
      traceId,
      endpoints: [{ id: endpointId, clusters: [{ id: "0x0006", commands: [{ [cmd]: {} }] }] }],
    },
  });

  it("a command on a generated endpoint uses the discovered profile and component: no device read", async () => {
    const vendor = new CountingVendor([strip], 1);
    const origin = await vendor.start();
    try {
      harness.mi.reset();
      const e = engineAt(st, origin);
      expect(((await e.handle(discover("strip1"), LONG)) as any).header.responseCode).toBe(200);
      const events = await settledEvents(1);
      expect(events[0].Devices[0].CapabilityReport.endpoints.map((x: any) => x.id)).toEqual(["main", "outlet1"]);
      vendor.requests.length = 0;
      const ack = (await e.handle(command("t-outlet1", "outlet1", "0x00"), LONG)) as any;
      expect(ack.header.responseCode).toBe(200);
      // Only the command (and the user id for its event): the device is not read first.
      expect(vendor.requests.filter((r) => r.startsWith("GET /v1/devices"))).toEqual([]);
      expect(vendor.requests).toContain("POST /v1/devices/strip-1/commands");
      const unknown = (await e.handle(command("t-outlet9", "outlet9", "0x00"), LONG)) as any;
      expect(unknown.header.responseCode).toBe(404);
    } finally {
      await vendor.close();
    }
  });
});

describe("local refusals", () => {
  it("a refused command answers the mapping's status and message; nothing is sent to the vendor", async () => {
    const vendor = new CountingVendor([switchDevice(1)], 1);
    const origin = await vendor.start();
    try {
      const b = structuredClone(st);
      const on = b.profiles.find((p) => p.id === "switch")!.endpoints[0].clusters[0].commands.find((c) => c.name === "On")!;
      on.action.refuse = [{ when: { src: "true", at: "test" }, status: 409, message: { src: "'switch-1 is locked by its owner'", at: "test" } }];
      harness.mi.reset();
      const e = engineAt(b, origin);
      await e.handle(discover("refuse1"), LONG);
      await settledEvents(1);
      vendor.requests.length = 0;
      const ack = (await e.handle(
        { header, payload: { operationName: "AWS.SendCommand", operationVersion: "1.0", connectorId: "st", connectorDeviceId: "switch-1", traceId: "t-refused", endpoints: [{ id: "1", clusters: [{ id: "0x0006", commands: [{ "0x01": {} }] }] }] } },
        LONG,
      )) as any;
      expect(ack).toMatchObject({ header: { responseCode: 409 }, payload: { responseMessage: "switch-1 is locked by its owner" } });
      expect(vendor.requests.filter((r) => r.startsWith("POST"))).toEqual([]);
    } finally {
      await vendor.close();
    }
  });
});
