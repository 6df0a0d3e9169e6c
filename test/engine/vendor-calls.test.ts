/**
 * Vendor calls as real clouds make them (issue #13): error rules that classify an answer by its
 * status, headers and body; statusMap in every operation; next pages by a URL in the body or a
 * Link header (same host only), by a value the whole request is rebuilt from, and `maxPages`
 * counted across hand-offs. Real loopback vendor simulator and MI emulator throughout.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadBundleOrThrow } from "../../engine/mapping/bundle.ts";
import type { CompiledBundle } from "../../engine/mapping/compiled.ts";
import { FIXTURE_TOKEN, FixtureHarness } from "../../engine/testing/fixture-runner.ts";
import type { Exchange } from "../../engine/testing/vendor-simulator.ts";
import { createEngine } from "../../engine/handler/create-handler.ts";
import type { EngineDeps } from "../../engine/handler/engine.ts";
import { MemoryStateStore } from "../../engine/store/memory-store.ts";
import { RedactingLogger, memorySink, type LogRecord } from "../../engine/log/json-logger.ts";

const LONG = { getRemainingTimeInMillis: () => 30_000 };
const auth = { auth: { type: "OAuth2.0", token: FIXTURE_TOKEN } };
const expired500 = JSON.parse(readFileSync("mappings/smartthings/examples/error.500.token-expired.json", "utf8"));
const locations = JSON.parse(readFileSync("mappings/smartthings/tests/data/locations.json", "utf8"));
const ST_DEVICE = "b97058f4-c642-4162-8c2d-15009fdf5bfd";

let harness: FixtureHarness;
let st: CompiledBundle;
let pager: CompiledBundle;
const logs: LogRecord[] = [];

beforeAll(async () => {
  [harness, st, pager] = await Promise.all([FixtureHarness.start(), loadBundleOrThrow("mappings/smartthings"), loadBundleOrThrow("test/engine/bundles/pager")]);
  harness.applyEnv();
});
afterAll(async () => {
  await harness.close();
  expect(JSON.stringify(logs)).not.toContain(FIXTURE_TOKEN);
});

function engine(bundle: CompiledBundle, overrides: Partial<EngineDeps> = {}) {
  return createEngine(bundle, { store: new MemoryStateStore(), logger: new RedactingLogger(memorySink(logs)), ...overrides });
}

function load(exchanges: Exchange[]) {
  harness.vendor.load(exchanges, "strict");
  harness.mi.reset();
}

/** Settles background work (hand-offs) and returns the events MI received. */
async function eventsAfter(n: number) {
  if (n) await harness.mi.waitForEvents(n, 5000);
  await new Promise((r) => setTimeout(r, 150));
  return harness.mi.events.map((e) => e.body as any);
}

const request = (operationName: string, extra: Record<string, unknown> = {}) => ({
  header: auth,
  payload: { operationName, operationVersion: "1.0", connectorId: "st-connector", ...extra },
});

describe("error rules: a 500 that says the token expired is a 401 at once, with the vendor's message", () => {
  const tokenExpired: Exchange["response"] = { status: 500, body: expired500 };
  const cases: Array<[string, Record<string, unknown>, Exchange[], number]> = [
    ["AWS.ActivateUser", {}, [{ request: { method: "GET", path: "/v1/locations" }, response: tokenExpired }], 0],
    ["AWS.DeactivateUser", {}, [{ request: { method: "GET", path: "/v1/locations" }, response: tokenExpired }], 0],
    ["AWS.DiscoverDevices", { deviceDiscoveryId: "expired1" }, [{ request: { method: "GET", path: "/v1/locations" }, response: tokenExpired }], 1],
    [
      "AWS.SendCommand",
      {
        connectorDeviceId: ST_DEVICE,
        traceId: "trace-expired",
        endpoints: [{ id: "1", clusters: [{ id: "0x0006", commands: [{ "0x01": {} }] }] }],
      },
      [
        { request: { method: "GET", path: `/v1/devices/${ST_DEVICE}` }, response: tokenExpired },
        { request: { method: "GET", path: "/v1/locations" }, response: { status: 200, body: locations } },
      ],
      1,
    ],
  ];

  it.each(cases)("%s", async (operation, extra, exchanges, events) => {
    load(exchanges);
    const ack = (await engine(st).handle(request(operation, extra), LONG)) as any;
    expect(ack.header.responseCode).toBe(401);
    expect(ack.payload.responseMessage).toContain("vendor error InternalError, Token expired at");
    // The server's file path in the vendor's message never reaches MI.
    expect(ack.payload.responseMessage).not.toMatch(/srv|auth\.js|\//);
    const received = await eventsAfter(events);
    // One request to the failing endpoint: not retried (the policy allows 2 attempts), not handed off.
    expect(harness.vendor.problems).toEqual([]);
    expect(harness.vendor.unused()).toEqual([]);
    expect(received).toHaveLength(events);
    for (const e of received) {
      expect(e.StatusCode).toBe(401);
      expect(e.Message).toBe("vendor error InternalError, Token expired at");
    }
  });

  it("without the rule the same answer is retried and reported as 502", async () => {
    const plain = structuredClone(st);
    plain.api.errors = [];
    load([
      { request: { method: "GET", path: "/v1/locations" }, response: tokenExpired },
      { request: { method: "GET", path: "/v1/locations" }, response: tokenExpired },
    ]);
    const ack = (await engine(plain, { dispatcher: undefined }).handle(request("AWS.ActivateUser"), LONG)) as any;
    expect(ack.header.responseCode).toBe(502);
    expect(harness.vendor.unused()).toEqual([]);
  });

  it("an error code inside a 200 fails the call with the rule's status", async () => {
    const b = structuredClone(st);
    b.api.errors = [{ when: { src: "$status = 200 and $exists(error)", at: "test" }, status: 409, code: { src: "error.code", at: "test" }, message: { src: "error.message", at: "test" } }];
    load([{ request: { method: "GET", path: "/v1/locations" }, response: { status: 200, body: { error: { code: "Busy", message: "location is locked (C:\\srv\\x.dll)" } } } }]);
    const ack = (await engine(b).handle(request("AWS.ActivateUser"), LONG)) as any;
    expect(ack).toMatchObject({ header: { responseCode: 409 }, payload: { responseMessage: "AWS.ActivateUser failed: vendor error Busy, location is locked" } });
  });
});

describe("statusMap applies in every operation", () => {
  it("discovery: a vendor status mapped to 401 is final, not retried in the background", async () => {
    const b = structuredClone(pager);
    b.api.statusMap = { "500": 401 };
    load(Array.from({ length: 3 }, () => ({ request: { method: "GET", path: "/v1/me" }, response: { status: 500, body: { message: "expired" } } })));
    const ack = (await engine(b).handle(request("AWS.DiscoverDevices", { deviceDiscoveryId: "mapped1" }), LONG)) as any;
    expect(ack.header.responseCode).toBe(401);
    const events = await eventsAfter(1);
    expect(events.map((e) => e.StatusCode)).toEqual([401]);
    // The call's own retries (3 attempts) happen; no background job adds more.
    expect(harness.vendor.received).toHaveLength(3);
  });

  it("error kinds such as `timeout` are valid statusMap keys", async () => {
    const { loadAndValidateBundle } = await import("../../engine/mapping/bundle.ts");
    const { bundle, diagnostics } = await loadAndValidateBundle("mappings/smartthings");
    expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(bundle!.api.statusMap).toMatchObject({ timeout: 504 });
  });
});

describe("pagination", () => {
  const page = (ids: string[], next?: string) => ({ items: ids.map((id) => ({ id, name: `Plug ${id}`, on: true })), ...(next ? { next } : {}) });
  const me: Exchange = { request: { method: "GET", path: "/v1/me" }, response: { status: 200, body: { id: "owner1" } } };

  it("url style: the body's next URL is followed on the same host", async () => {
    const b = structuredClone(pager);
    b.operations.discoverDevices.list.pagination = { style: "url", next: { src: "links.next", at: "test" }, start: 1, maxPages: 10 };
    load([
      me,
      { request: { method: "GET", path: "/v1/devices" }, response: { status: 200, body: { ...page(["a"]), links: { next: "https://api.pager.test/v1/devices?after=a&n=1" } } } },
      { request: { method: "GET", path: "/v1/devices", query: { after: "a", n: "1" } }, response: { status: 200, body: page(["b"]) } },
    ]);
    const ack = (await engine(b).handle(request("AWS.DiscoverDevices", { deviceDiscoveryId: "url1" }), LONG)) as any;
    expect(ack.header.responseCode).toBe(200);
    const events = await eventsAfter(2);
    expect(events.map((e) => [e.StatusCode, e.Devices.map((d: any) => d.ConnectorDeviceId)])).toEqual([[300, ["a"]], [200, ["b"]]]);
    expect(harness.vendor.problems).toEqual([]);
  });

  it.each([
    ["a next URL in the body", "url"],
    ["a Link header", "link"],
  ])("%s pointing at another host is refused with a clear error; the token never goes there", async (_name, style) => {
    const b = structuredClone(pager);
    b.operations.discoverDevices.list.pagination =
      style === "url" ? { style: "url", next: { src: "links.next", at: "test" }, start: 1, maxPages: 10 } : { style: "link", start: 1, maxPages: 10 };
    const evil = "https://collector.evil.test/v1/devices?after=a";
    load([
      me,
      {
        request: { method: "GET", path: "/v1/devices" },
        response: { status: 200, headers: style === "link" ? { link: `<${evil}>; rel="next"` } : {}, body: { ...page(["a"]), links: { next: evil } } },
      },
    ]);
    const ack = (await engine(b).handle(request("AWS.DiscoverDevices", { deviceDiscoveryId: `evil${style}` }), LONG)) as any;
    expect(ack.header.responseCode).toBe(500);
    expect(ack.payload.responseMessage).toContain("points to another host (collector.evil.test)");
    const events = await eventsAfter(1);
    expect(events.at(-1)).toMatchObject({ StatusCode: 500 });
    expect(harness.vendor.received).toHaveLength(2);
    expect(harness.vendor.problems).toEqual([]);
  });

  it("request style: the whole request is rebuilt per page, a page object JSON-encoded in a query parameter", async () => {
    const b = structuredClone(pager);
    b.operations.discoverDevices.list.pagination = { style: "request", next: { src: "paging.next", at: "test" }, start: 1, maxPages: 10 };
    b.operations.discoverDevices.list.query = {
      q: { expr: { src: "$string({ 'size': 1, 'page': cursor ? cursor : { 'index': 0 } })", at: "test" } },
    };
    load([
      me,
      { request: { method: "GET", path: "/v1/devices", query: { q: '{"size":1,"page":{"index":0}}' } }, response: { status: 200, body: { ...page(["a"]), paging: { next: { index: 1, token: "t1" } } } } },
      { request: { method: "GET", path: "/v1/devices", query: { q: '{"size":1,"page":{"index":1,"token":"t1"}}' } }, response: { status: 200, body: page(["b"]) } },
    ]);
    const ack = (await engine(b).handle(request("AWS.DiscoverDevices", { deviceDiscoveryId: "req1" }), LONG)) as any;
    expect(ack.header.responseCode).toBe(200);
    const events = await eventsAfter(2);
    expect(events.map((e) => e.Devices.map((d: any) => d.ConnectorDeviceId))).toEqual([["a"], ["b"]]);
    expect(harness.vendor.problems).toEqual([]);
    expect(harness.vendor.unused()).toEqual([]);
  });

  it("maxPages counts every page request across hand-offs", async () => {
    // Each invocation has room for one page, so every page after the first is a hand-off.
    const pages: Exchange[] = [1, 2, 3, 4, 5].map((n) => ({
      request: { method: "GET", path: "/v1/devices", ...(n > 1 ? { query: { cursor: `c${n}` } } : {}) },
      response: { status: 200, body: page([`p${n}`], `c${n + 1}`), delayMs: 40 },
    }));
    harness.vendor.load([me, pages[0], me, pages[1], me, pages[2], me, pages[3], me, pages[4]], "strict");
    harness.mi.reset();
    const e = engine(pager, { ackBudgetMs: 420, jobBudgetMs: 420 });
    const ack = (await e.handle(request("AWS.DiscoverDevices", { deviceDiscoveryId: "maxpages1" }), LONG)) as any;
    expect(ack.header.responseCode).toBe(200);
    const events = await eventsAfter(3);
    const pageRequests = harness.vendor.received.filter((r) => r.path === "/v1/devices");
    expect(pageRequests).toHaveLength(3); // maxPages: 3, though every page names a next cursor
    expect(events.map((ev) => ev.StatusCode)).toEqual([300, 300, 200]);
    expect(events.flatMap((ev) => ev.Devices.map((d: any) => d.ConnectorDeviceId))).toEqual(["p1", "p2", "p3"]);
  });
});
