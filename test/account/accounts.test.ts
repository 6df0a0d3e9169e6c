/**
 * Account capabilities end to end, with the loopback vendor simulator and MI emulator: a bootstrap
 * that runs once per user (memory and DynamoDB through dynalite, two engines standing for two
 * containers), encrypted values, a secret value that never reaches a log line, a per-user host
 * from a JWT claim checked against allowedHosts, a user id from a response header, HMAC-signed
 * requests, a refresh on a stale status, and deletion at DeactivateUser.
 */
import { createHmac, createHash } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadBundleOrThrow } from "../../engine/mapping/bundle.ts";
import type { CompiledBundle } from "../../engine/mapping/compiled.ts";
import { FixtureHarness, FIXTURE_CLIENT } from "../../engine/testing/fixture-runner.ts";
import { createEngine } from "../../engine/handler/create-handler.ts";
import { DynamoDbStateStore, createStateTable } from "../../engine/store/dynamodb-store.ts";
import { MemoryStateStore } from "../../engine/store/memory-store.ts";
import type { StateStore } from "../../engine/store/store.ts";
import { startDynalite, type LocalDynamo } from "../../engine/local/dynalite.ts";
import { RedactingLogger } from "../../engine/log/json-logger.ts";
import { SecretRegistry } from "../../engine/log/redact.ts";
import { keys } from "../../engine/operations/keys.ts";
import type { Exchange } from "../../engine/testing/vendor-simulator.ts";

const APP_KEY = "app-key-7f3a9c1e5b2d4f60";
const APP_KEY_2 = "app-key-rotated-0b1c2d3e4f";
const USER = "vault-user-42";
const jwt = (claims: Record<string, unknown>) =>
  ["e30", Buffer.from(JSON.stringify(claims)).toString("base64url"), "c2ln"].join(".");
const TOKEN = jwt({ sub: "u42", api: "https://u42.vault.test" });
const CTX = { getRemainingTimeInMillis: () => 30_000 };

let harness: FixtureHarness;
let dynamo: LocalDynamo;
let bundle: CompiledBundle;
const logs: string[] = [];

beforeAll(async () => {
  [harness, dynamo, bundle] = await Promise.all([FixtureHarness.start(), startDynalite(), loadBundleOrThrow("test/account/bundles/vault")]);
  harness.applyEnv();
  process.env.C2C_ACCOUNT_KEY = "test-account-key-0123456789abcdef0123456789";
});
afterAll(async () => {
  delete process.env.C2C_ACCOUNT_KEY;
  await harness.close();
  await dynamo.close();
  // Every log line of this suite: no token, no secret account value, no client secret.
  expect(logs.length).toBeGreaterThan(10);
  const all = logs.join("\n");
  for (const secret of [TOKEN, APP_KEY, APP_KEY_2, FIXTURE_CLIENT.secret]) expect(all).not.toContain(secret);
});
beforeEach(() => harness.mi.reset());

function engineOn(store: StateStore) {
  const logger = new RedactingLogger((line) => logs.push(typeof line === "string" ? line : JSON.stringify(line)), new SecretRegistry(), {}, "debug");
  // Without a dispatcher the whole operation runs before the ACK; the ACK budget is not what these
  // tests measure, and a busy machine's first DynamoDB round trips must not run out of it.
  return createEngine(bundle, { store, logger, dispatcher: undefined, ackBudgetMs: 20_000 });
}

const request = (operationName: string, extra: Record<string, unknown> = {}, token = TOKEN) => ({
  header: { auth: { type: "OAuth2.0", token } },
  payload: { operationName, operationVersion: "1.0", connectorId: "vault-connector", ...extra },
});
const on = (traceId: string) =>
  request("AWS.SendCommand", {
    connectorDeviceId: "plug-1",
    traceId,
    endpoints: [{ id: "1", clusters: [{ id: "0x0006", commands: [{ "0x01": {} }] }] }],
  });

const me: Exchange = { request: { method: "GET", path: "/me" }, response: { status: 200, headers: { "x-user-id": USER }, body: {} } };
const bootstrap = (appKey = APP_KEY): Exchange[] => [
  { request: { method: "POST", path: "/keys", body: { user: USER } }, response: { status: 200, body: { appKey } } },
  { request: { method: "GET", path: "/homes" }, response: { status: 200, body: { homes: [{ id: "home-9" }] } } },
];
const command = (appKey = APP_KEY, status = 200): Exchange => ({
  request: { method: "POST", path: "/homes/home-9/devices/plug-1", headers: { "x-app-key": appKey }, body: { on: true } },
  response: { status, body: {} },
});

async function dynamoStore(table: string): Promise<DynamoDbStateStore> {
  const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "y" } });
  await createStateTable(client, table);
  return new DynamoDbStateStore({ tableName: table, client });
}

function expectNoProblems() {
  expect(harness.vendor.problems).toEqual([]);
}

describe.each([
  ["memory", async () => new MemoryStateStore()],
  ["DynamoDB (dynalite)", () => dynamoStore(`accounts-${Math.random().toString(36).slice(2, 8)}`)],
])("account bootstrap with the %s store", (_name, makeStore) => {
  it("runs once at ActivateUser; later operations read the stored values (a second container too)", async () => {
    const store: StateStore = await makeStore();
    const first = engineOn(store);
    harness.vendor.load([me, ...bootstrap(), command()], "strict");
    const ack = (await first.handle(request("AWS.ActivateUser"), CTX)) as any;
    expect(ack.header.responseCode).toBe(200);
    expect(ack.payload.userId).toBe(USER);
    expect((await first.handle(on("t-1"), CTX)) as any).toMatchObject({ header: { responseCode: 200 } });
    expectNoProblems();
    expect(harness.vendor.received.map((r) => `${r.method} ${r.path}`)).toEqual(["GET /me", "POST /keys", "GET /homes", "POST /homes/home-9/devices/plug-1"]);

    // Encrypted at rest: the record holds neither the key nor the home id in clear.
    const raw = JSON.stringify(await store.get(keys.account(USER)));
    expect(raw).not.toContain(APP_KEY);
    expect(raw).not.toContain("home-9");

    if (store.durable) {
      // Another container (a fresh engine on the same table): no identity, no bootstrap call.
      const second = engineOn(store);
      harness.vendor.load([command()], "strict");
      expect((await second.handle(on("t-2"), CTX)) as any).toMatchObject({ header: { responseCode: 200 } });
      expectNoProblems();
      expect(harness.vendor.received).toHaveLength(1);
    }
  });
});

describe("account values in calls", () => {
  it("the per-user host from the token claim, the app key header and the request signature", async () => {
    const engine = engineOn(new MemoryStateStore());
    harness.vendor.load([me, ...bootstrap(), command()], "strict");
    await engine.handle(request("AWS.ActivateUser"), CTX);
    await engine.handle(on("t-sign"), CTX);
    expectNoProblems();
    const sent = harness.vendor.received.at(-1)!;
    expect(sent.headers["x-app-key"]).toBe(APP_KEY);
    expect(sent.headers["sign_method"]).toBe("HMAC-SHA256");
    // Recompute the signature independently from what arrived.
    const bodyHash = createHash("sha256").update(sent.rawBody).digest("hex");
    const text = `${FIXTURE_CLIENT.id}${TOKEN}${sent.headers.t}${sent.headers.nonce}POST\n${bodyHash}\n\n${sent.path}`;
    expect(sent.headers.sign).toBe(createHmac("sha256", FIXTURE_CLIENT.secret).update(text).digest("hex").toUpperCase());
    expect(sent.headers.nonce).toMatch(/^[0-9a-f]{32}$/);
  });

  it("a stale status runs the bootstrap again and retries the call once with the fresh values", async () => {
    const engine = engineOn(new MemoryStateStore());
    harness.vendor.load([me, ...bootstrap(), command(APP_KEY, 403), ...bootstrap(APP_KEY_2), command(APP_KEY_2)], "strict");
    await engine.handle(request("AWS.ActivateUser"), CTX);
    expect((await engine.handle(on("t-stale"), CTX)) as any).toMatchObject({ header: { responseCode: 200 } });
    expectNoProblems();
    expect(harness.vendor.received).toHaveLength(7);
  });

  it("a stale status that persists after one refresh is reported, not retried forever", async () => {
    const engine = engineOn(new MemoryStateStore());
    harness.vendor.load([me, ...bootstrap(), command(APP_KEY, 403), ...bootstrap(APP_KEY_2), command(APP_KEY_2, 403)], "strict");
    await engine.handle(request("AWS.ActivateUser"), CTX);
    const ack = (await engine.handle(on("t-stale-2"), CTX)) as any;
    expect(ack.header.responseCode).toBe(403);
    expectNoProblems();
    expect(harness.vendor.received).toHaveLength(7);
  });

  it("DeactivateUser deletes the stored values (the revoke call may still read them)", async () => {
    const store = new MemoryStateStore();
    const engine = engineOn(store);
    harness.vendor.load([me, ...bootstrap(), { request: { method: "DELETE", path: "/keys/home-9" }, response: { status: 204 } }], "strict");
    await engine.handle(request("AWS.ActivateUser"), CTX);
    expect(await store.get(keys.account(USER))).toBeDefined();
    expect((await engine.handle(request("AWS.DeactivateUser"), CTX)) as any).toMatchObject({ header: { responseCode: 200 } });
    expectNoProblems();
    expect(await store.get(keys.account(USER))).toBeUndefined();
  });

  it("a base URL from data naming an undeclared host is refused before anything is sent", async () => {
    const engine = engineOn(new MemoryStateStore());
    harness.vendor.load([me], "strict");
    const ack = (await engine.handle(request("AWS.ActivateUser", {}, jwt({ api: "https://vault.test.evil.example" })), CTX)) as any;
    expect(ack.header.responseCode).not.toBe(200);
    expect(ack.payload.responseMessage).toContain("host vault.test.evil.example is not in api.allowedHosts");
    expect(harness.vendor.received).toHaveLength(0);
  });

  it("a plain-http base URL from data is refused (the token would travel in clear)", async () => {
    const engine = engineOn(new MemoryStateStore());
    harness.vendor.load([me], "strict");
    const ack = (await engine.handle(request("AWS.ActivateUser", {}, jwt({ api: "http://u1.vault.test" })), CTX)) as any;
    expect(ack.header.responseCode).not.toBe(200);
    expect(harness.vendor.received).toHaveLength(0);
  });

  it("without the claim the static base URL is used", async () => {
    const engine = engineOn(new MemoryStateStore());
    harness.vendor.load([me, ...bootstrap()], "strict");
    const ack = (await engine.handle(request("AWS.ActivateUser", {}, jwt({ sub: "x" })), CTX)) as any;
    expect(ack.header.responseCode).toBe(200);
    expectNoProblems();
  });
});

describe("trace (c2c invoke --trace)", () => {
  it("never prints a secret account value: the bootstrap response is masked, later uses are redacted", async () => {
    const { createLocalEngine } = await import("../../engine/cli/local-engine.ts");
    const { expressionTracer, tracingFetch } = await import("../../engine/cli/trace.ts");
    const { Printer } = await import("../../engine/cli/io.ts");
    let text = "";
    const out = new Printer({ write: (t: string) => (text += t) }, { NO_COLOR: "1" });
    const secrets = new SecretRegistry();
    secrets.add(TOKEN);
    const { engine } = createLocalEngine(bundle, {
      vendorOrigin: harness.vendor.origin,
      miUrl: harness.mi.url,
      region: "us-east-1",
      logSink: (line) => logs.push(typeof line === "string" ? line : JSON.stringify(line)),
      secrets,
      tracer: expressionTracer(out, secrets),
      vendorFetch: tracingFetch(out, secrets),
    });
    harness.vendor.load([me, ...bootstrap(), command()], "strict");
    await engine.handle(request("AWS.ActivateUser"), CTX);
    await engine.handle(on("t-trace"), CTX);
    expectNoProblems();
    expect(text).toContain("POST /keys");
    expect(text).toContain("not shown: carries secret account values");
    expect(text).toContain("home-9"); // non-secret values are traced as usual
    expect(text.split("\n").filter((l) => l.includes(APP_KEY))).toEqual([]);
  });
});
