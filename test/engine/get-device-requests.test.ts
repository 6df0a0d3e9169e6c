/**
 * getDevice with several named requests (issue #13 item 1): one device's state spread over
 * resources joined by id. The requests go out in order, a later one sees the earlier bodies
 * (`responses.<name>`), and `device` is evaluated over all of them: the profile matches on one
 * resource, the attribute reads on another. A loopback vendor (the fixture simulator) and the MI
 * emulator; the bundle is written here, vendor-neutral.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateMappingText } from "../../engine/mapping/bundle.ts";
import type { CompiledBundle } from "../../engine/mapping/compiled.ts";
import { createEngine } from "../../engine/handler/create-handler.ts";
import { MemoryStateStore } from "../../engine/store/memory-store.ts";
import { RedactingLogger, memorySink } from "../../engine/log/json-logger.ts";
import { FIXTURE_TOKEN, FixtureHarness } from "../../engine/testing/fixture-runner.ts";

const LONG = { getRemainingTimeInMillis: () => 30_000 };
let harness: FixtureHarness;
beforeAll(async () => {
  harness = await FixtureHarness.start();
  harness.applyEnv();
});
afterAll(async () => {
  await harness.close();
});

function bundle(getDevice: string): CompiledBundle {
  const text = `apiVersion: c2c.mapping/v1
vendor: { id: joined, name: Joined }
api: { baseUrl: "https://api.joined.test/v2" }
calls:
  describe: { method: GET, path: "/things/{id}", pathParams: { id: deviceId } }
  state: { method: GET, path: "/states/{stateId}", pathParams: { stateId: "responses.description.stateId" } }
operations:
  activateUser: { userId: "'u1'" }
  discoverDevices:
    list: { method: GET, path: /things }
    devices: things
    userId: "'u1'"
    device: { id: id }
${getDevice}
profiles:
  lamp:
    match: "kind = 'lamp'"
    endpoints:
      - id: "1"
        deviceTypes: [Dimmable Light]
        clusters:
          OnOff:
            attributes:
              OnOff: "state.power = 'on'"
          LevelControl:
            attributes:
              CurrentLevel: "state.level"
`;
  const { bundle, diagnostics } = validateMappingText(text, "joined/connector.yaml");
  if (!bundle) throw new Error(JSON.stringify(diagnostics.filter((d) => d.severity === "error")));
  return bundle;
}

const JOINED = `  getDevice:
    requests:
      - { use: describe, name: description }
      - { use: state, name: status }
    device: "$merge([responses.description, { 'state': responses.status }])"`;

const readState = {
  header: { auth: { type: "OAuth2.0", token: FIXTURE_TOKEN } },
  payload: {
    operationName: "AWS.SendCommand",
    operationVersion: "1.0",
    connectorId: "joined-connector",
    connectorDeviceId: "lamp-7",
    traceId: "trace-joined",
    endpoints: [{ id: "1", clusters: [{ id: "0x0008", commands: [{ "0xff02": {} }] }] }],
  },
};

async function run(b: CompiledBundle) {
  const logger = new RedactingLogger(memorySink([]));
  const engine = createEngine(b, { store: new MemoryStateStore(), logger });
  const ack = (await engine.handle(readState, LONG)) as any;
  await harness.mi.waitForEvents(1, 3000).catch(() => undefined);
  return { ack, events: harness.mi.events.map((e) => e.body as any) };
}

describe("getDevice.requests", () => {
  it("reads the resources in order (the second from the first's body) and joins them: profile from one, values from the other", async () => {
    harness.vendor.load([
      { request: { method: "GET", path: "/v2/things/lamp-7" }, response: { status: 200, body: { id: "lamp-7", kind: "lamp", stateId: "s-99" } } },
      { request: { method: "GET", path: "/v2/states/s-99" }, response: { status: 200, body: { power: "on", level: 200 } } },
    ]);
    harness.mi.reset();
    const { ack, events } = await run(bundle(JOINED));
    expect(ack.header.responseCode).toBe(200);
    expect(harness.vendor.problems).toEqual([]);
    expect(harness.vendor.received.map((r) => r.path)).toEqual(["/v2/things/lamp-7", "/v2/states/s-99"]);
    expect(events).toHaveLength(1);
    expect(events[0].StatusCode).toBe(200);
    expect(events[0].MatterEndpoint.clusters[0]).toMatchObject({ id: "0x0008", attributes: { "0x0000": 200 } });
  });

  it("with only the first resource (no join) the profile matches but the value is not there", async () => {
    harness.vendor.load([{ request: { method: "GET", path: "/v2/things/lamp-7" }, response: { status: 200, body: { id: "lamp-7", kind: "lamp", stateId: "s-99" } } }]);
    harness.mi.reset();
    const { events } = await run(bundle(`  getDevice:\n    request: { use: describe }\n    device: "$"`));
    expect(harness.vendor.received.map((r) => r.path)).toEqual(["/v2/things/lamp-7"]);
    expect(events[0].MatterEndpoint?.clusters?.[0]?.attributes?.["0x0000"]).toBeUndefined();
  });

  it("a failing later request fails the read with its status: no half-joined device", async () => {
    harness.vendor.load([
      { request: { method: "GET", path: "/v2/things/lamp-7" }, response: { status: 200, body: { id: "lamp-7", kind: "lamp", stateId: "s-99" } } },
      { request: { method: "GET", path: "/v2/states/s-99" }, response: { status: 404, body: { error: "no such state" } } },
    ]);
    harness.mi.reset();
    const { ack, events } = await run(bundle(JOINED));
    expect(ack.header.responseCode).toBe(404);
    expect(events.map((e) => e.StatusCode)).toEqual([404]);
  });
});
