/**
 * Paginated discovery (one DEVICE_DISCOVERY per vendor page: 300 while more follow, 200 on the
 * last) for the cursor, page-number and Link styles; and General Authorization end to end: the
 * real Secrets Manager client reads the secret from a loopback emulator and the mapping's
 * `apply` puts the API key on every vendor call.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadBundleOrThrow } from "../../engine/mapping/bundle.ts";
import type { CompiledBundle } from "../../engine/mapping/compiled.ts";
import { FixtureHarness } from "../../engine/testing/fixture-runner.ts";
import type { Exchange } from "../../engine/testing/vendor-simulator.ts";
import { createEngine } from "../../engine/handler/create-handler.ts";
import { MemoryStateStore } from "../../engine/store/memory-store.ts";
import { RedactingLogger, memorySink, type LogRecord } from "../../engine/log/json-logger.ts";
import { startSecretsManagerEmulator, type SecretsManagerEmulator } from "../../engine/local/secrets-manager-emulator.ts";

const ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:paged-key-AbCdEf";
const VERSION = "EXAMPLE1-90ab-cdef-fedc-ba987EXAMPLE";
const API_KEY = "paged-api-key-7f3a9c";
const OWNER = "owner-42";
const auth = { auth: { type: "GeneralAuthorization", secretsManager: { arn: ARN, versionId: VERSION } } };
const discovery = (id: string) => ({
  header: auth,
  payload: { operationName: "AWS.DiscoverDevices", operationVersion: "1.0", connectorId: "paged-connector", deviceDiscoveryId: id },
});
const plug = (n: number) => ({ serial: `plug-${n}`, label: `Plug ${n}`, on: n % 2 === 0 });
const account: Exchange = { request: { method: "GET", path: "/v2/account", headers: { "x-api-key": API_KEY } }, response: { status: 200, body: { owner: OWNER } } };

let harness: FixtureHarness;
let secrets: SecretsManagerEmulator;
let bundle: CompiledBundle;
const logs: LogRecord[] = [];

beforeAll(async () => {
  [harness, secrets, bundle] = await Promise.all([
    FixtureHarness.start(),
    startSecretsManagerEmulator({ secrets: [{ arn: ARN, versionId: VERSION, value: { apiKey: API_KEY } }] }),
    loadBundleOrThrow("test/engine/bundles/paged"),
  ]);
  harness.applyEnv();
  process.env.C2C_SECRETS_MANAGER_ENDPOINT = secrets.endpoint;
});
afterAll(async () => {
  await harness.close();
  await secrets.close();
  const text = JSON.stringify(logs);
  expect(text).not.toContain(API_KEY);
});

/**
 * Without a dispatcher every page is read before the ACK. The ACK budget is not what these tests
 * measure (outbox.test.ts does): a generous one keeps a busy machine's first, cold request from
 * running out of it.
 */
const NOT_THE_SUBJECT_BUDGET_MS = 20_000;

function engine(b: CompiledBundle = bundle) {
  return createEngine(b, { store: new MemoryStateStore(), logger: new RedactingLogger(memorySink(logs)), dispatcher: undefined, ackBudgetMs: NOT_THE_SUBJECT_BUDGET_MS });
}

async function discover(b: CompiledBundle, exchanges: Exchange[], id: string) {
  harness.vendor.load(exchanges, "strict");
  harness.mi.reset();
  const ack = (await engine(b).handle(discovery(id), { getRemainingTimeInMillis: () => 30_000 })) as any;
  expect(ack.header.responseCode).toBe(200);
  expect(harness.vendor.problems).toEqual([]);
  expect(harness.vendor.unused()).toEqual([]);
  return harness.mi.events.map((e) => e.body as any);
}

function expectPages(events: any[], pages: string[][]) {
  expect(events.map((e) => e.StatusCode)).toEqual(pages.map((_, i) => (i < pages.length - 1 ? 300 : 200)));
  expect(events.map((e) => e.Devices.map((d: any) => d.ConnectorDeviceId))).toEqual(pages);
  for (const e of events) expect(e).toMatchObject({ Operation: "DEVICE_DISCOVERY", UserId: OWNER });
}

describe("paginated discovery", () => {
  it("cursor: the cursor of each page is sent back until there is none", async () => {
    const events = await discover(
      bundle,
      [
        account,
        { request: { method: "GET", path: "/v2/devices", query: { limit: "2" }, headers: { "x-api-key": API_KEY } }, response: { status: 200, body: { items: [plug(1), plug(2)], next_cursor: "c2" } } },
        { request: { method: "GET", path: "/v2/devices", query: { limit: "2", cursor: "c2" } }, response: { status: 200, body: { items: [plug(3), plug(4)], next_cursor: "c3" } } },
        { request: { method: "GET", path: "/v2/devices", query: { cursor: "c3" } }, response: { status: 200, body: { items: [plug(5)] } } },
      ],
      "cursor1",
    );
    expectPages(events, [["plug-1", "plug-2"], ["plug-3", "plug-4"], ["plug-5"]]);
    expect(events[0].Devices[0].CapabilityReport.endpoints[0].clusters[0].attributes).toEqual([{ id: "0x0000", value: false }]);
  });

  it("a large page is translated and sent one event at a time: memory holds one event of devices, not the page's", async () => {
    const paged = structuredClone(bundle);
    paged.operations.discoverDevices.list.pagination = { style: "page", param: "page", start: 1, maxPages: 10, hasMore: { src: "page < pages", at: "test" } };
    const plugs = Array.from({ length: 250 }, (_, i) => plug(i + 1));
    harness.vendor.load(
      [
        account,
        { request: { method: "GET", path: "/v2/devices", query: { page: "1" } }, response: { status: 200, body: { items: plugs, page: 1, pages: 2 } } },
        { request: { method: "GET", path: "/v2/devices", query: { page: "2" } }, response: { status: 200, body: { items: [plug(251)], page: 2, pages: 2 } } },
      ],
      "strict",
    );
    harness.mi.reset();
    // How many events MI had received when the last device of the big page was translated.
    let eventsBeforeLastDevice = -1;
    const traced = createEngine(paged, {
      store: new MemoryStateStore(),
      logger: new RedactingLogger(memorySink(logs)),
      dispatcher: undefined,
      ackBudgetMs: NOT_THE_SUBJECT_BUDGET_MS,
      tracer: ({ input }) => {
        if ((input as { serial?: string } | undefined)?.serial === "plug-250" && eventsBeforeLastDevice < 0) eventsBeforeLastDevice = harness.mi.events.length;
      },
    });
    const ack = (await traced.handle(discovery("big1"), { getRemainingTimeInMillis: () => 30_000 })) as any;
    expect(ack.header.responseCode).toBe(200);
    expect(eventsBeforeLastDevice).toBe(2);
    const events = harness.mi.events.map((e) => e.body as any);
    expect(events.map((e) => [e.StatusCode, e.Devices.length])).toEqual([
      [300, 100],
      [300, 100],
      [300, 50],
      [200, 1],
    ]);
  });

  it("page numbers: pages are counted up while hasMore holds", async () => {
    const paged = structuredClone(bundle);
    paged.operations.discoverDevices.list.pagination = {
      style: "page",
      param: "page",
      start: 1,
      maxPages: 10,
      hasMore: { src: "page < pages", at: "test" },
    };
    const events = await discover(
      paged,
      [
        account,
        { request: { method: "GET", path: "/v2/devices", query: { page: "1" } }, response: { status: 200, body: { items: [plug(1)], page: 1, pages: 2 } } },
        { request: { method: "GET", path: "/v2/devices", query: { page: "2" } }, response: { status: 200, body: { items: [plug(2)], page: 2, pages: 2 } } },
      ],
      "page1",
    );
    expectPages(events, [["plug-1"], ["plug-2"]]);
  });

  it("Link header: rel=next is followed on the vendor's own origin", async () => {
    const linked = structuredClone(bundle);
    linked.operations.discoverDevices.list.pagination = { style: "link", start: 1, maxPages: 10 };
    const events = await discover(
      linked,
      [
        account,
        {
          request: { method: "GET", path: "/v2/devices" },
          response: { status: 200, headers: { link: '<https://api.paged.test/v2/devices?after=p2>; rel="next"' }, body: { items: [plug(1), plug(2)] } },
        },
        { request: { method: "GET", path: "/v2/devices", query: { after: "p2" } }, response: { status: 200, body: { items: [plug(3)] } } },
      ],
      "link1",
    );
    expectPages(events, [["plug-1", "plug-2"], ["plug-3"]]);
  });
});

describe("General Authorization", () => {
  it("reads the secret once per version and sends the API key as the mapping declares", async () => {
    const before = secrets.calls;
    harness.vendor.load([account, account], "strict");
    const e = engine();
    for (const _ of [1, 2]) {
      const ack = (await e.handle(
        { header: auth, payload: { operationName: "AWS.ActivateUser", operationVersion: "1.0", connectorId: "paged-connector" } },
        { getRemainingTimeInMillis: () => 30_000 },
      )) as any;
      expect(ack).toMatchObject({ header: { responseCode: 200 }, payload: { userId: OWNER } });
    }
    expect(harness.vendor.problems).toEqual([]);
    expect(harness.vendor.received.every((r) => r.headers["x-api-key"] === API_KEY && !r.headers.authorization)).toBe(true);
    expect(secrets.calls - before).toBe(1);
  });

  it("a secret that cannot be read answers 404 without touching the vendor", async () => {
    harness.vendor.load([], "strict");
    const ack = (await engine().handle(
      {
        header: { auth: { type: "GeneralAuthorization", secretsManager: { arn: `${ARN}-missing`, versionId: VERSION } } },
        payload: { operationName: "AWS.ActivateUser", operationVersion: "1.0", connectorId: "paged-connector" },
      },
      { getRemainingTimeInMillis: () => 30_000 },
    )) as any;
    expect(ack.header.responseCode).toBe(404);
    expect(ack.payload.responseMessage).toMatch(/secret could not be read/);
    expect(harness.vendor.received).toEqual([]);
  });
});
