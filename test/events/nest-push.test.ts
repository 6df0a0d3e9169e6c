/**
 * The Google Nest bundle's event path end to end on loopback: Pub/Sub pushes authenticated by a
 * Google-style OIDC token (RS256, JWKS served by a loopback key server), base64 `message.data`,
 * partial trait updates. Proves, on a real vendor's payloads:
 *  - known device state: after discovery, a temperature-only update is reported on the
 *    thermostat's Thermostat cluster, with only the attribute that changed; a device never seen
 *    falls back to matching (which partial SDM traits cannot satisfy: acknowledged, not sent);
 *  - users on events: the SDM event's opaque userId is mapped to the MI user id the device was
 *    discovered for, and after AWS.DeactivateUser nothing is sent for that user;
 *  - a forged, expired or wrong-audience token is refused with 401 and sends nothing.
 */
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SignJWT } from "jose";
import { loadAndValidateBundle } from "../../engine/mapping/bundle.ts";
import type { CompiledBundle } from "../../engine/mapping/compiled.ts";
import { createEngine } from "../../engine/handler/create-handler.ts";
import { SendConnectorEventClient } from "../../engine/mi/client.ts";
import { LOCAL_TEST_CREDENTIALS, startMiEmulator, type MiEmulator } from "../../engine/local/mi-emulator.ts";
import { RedactingLogger, memorySink, type LogRecord } from "../../engine/log/json-logger.ts";
import { MemoryStateStore } from "../../engine/store/memory-store.ts";
import { VendorClient } from "../../engine/vendor/client.ts";
import { createWebhookHandler } from "../../engine/webhook/ingress.ts";
import { DeliveryAuthenticator } from "../../engine/webhook/authenticate.ts";
import { deliveryEvent } from "../../engine/webhook/delivery-event.ts";
import { startLoopbackServer, type LoopbackServer } from "../vendor/loopback-server.ts";

const NEST = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "mappings", "nest");
const AUDIENCE = "https://nest-hooks.lambda-url.eu-west-1.on.aws/";
const PUSHER = "sdm-push@my-gcp-project.iam.gserviceaccount.com";
const MI_USER = "AVPHwEtyzgSxu6EuaIOfvzmr7oaxdgaoIGxHM0JlBCW7Nv4NKfD3XU3C";
const DEVICE = "AVPHwEuBfnPOnTqzVFT4IONX2Qqhu9EJ4ubO-bNnQ-yi";
const google = generateKeyPairSync("rsa", { modulusLength: 2048 });
const stranger = generateKeyPairSync("rsa", { modulusLength: 2048 });

let mi: MiEmulator;
let server: LoopbackServer;
let bundle: CompiledBundle;
const example = (name: string) => readFile(path.join(NEST, "examples", name), "utf8");

beforeAll(async () => {
  [mi, server] = await Promise.all([startMiEmulator(), startLoopbackServer()]);
  const [structures, devices] = await Promise.all([example("structures.response.json"), example("devices.response.json")]);
  server.handle((req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    if (req.rawUrl === "/certs") res.end(JSON.stringify({ keys: [{ ...google.publicKey.export({ format: "jwk" }), kid: "g1", alg: "RS256", use: "sig" }] }));
    else if (req.rawUrl.endsWith("/structures")) res.end(structures);
    else if (req.rawUrl.endsWith("/devices")) res.end(devices);
    else res.end("{}");
  });
  const loaded = await loadAndValidateBundle(NEST);
  if (!loaded.bundle) throw new Error(JSON.stringify(loaded.diagnostics));
  // The bundle names Google's JWKS; here the loopback key server stands in for it.
  bundle = { ...loaded.bundle, webhooks: { ...loaded.bundle.webhooks!, verify: { ...loaded.bundle.webhooks!.verify, jwksUrl: `${server.origin}/certs` } } };
});
afterAll(async () => {
  await Promise.all([mi.close(), server.close()]);
});
beforeEach(() => mi.reset());

function rig() {
  const logs: LogRecord[] = [];
  const logger = new RedactingLogger(memorySink(logs));
  const store = new MemoryStateStore();
  const sink = new SendConnectorEventClient({ endpoint: mi.url, region: mi.region, credentials: async () => ({ ...LOCAL_TEST_CREDENTIALS }), maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 20 });
  const vendor = new VendorClient({ retry: bundle.api.retry, logger, originOverride: server.origin });
  const engine = createEngine(bundle, { store, logger, sink, vendor }, {});
  engine.deps.webhook = createWebhookHandler(engine, {
    env: { C2C_CONNECTOR_ID: "nest-connector", NEST_PUSH_AUDIENCE: AUDIENCE, NEST_PUSH_SERVICE_ACCOUNT: PUSHER },
    authenticator: new DeliveryAuthenticator({ jwks: { cooldownMs: 0 } }),
  });
  const mi_ = (operationName: string, extra: Record<string, unknown> = {}) =>
    engine.handle({ header: { auth: { type: "OAuth2.0", token: "nest-access-token-1" } }, payload: { operationName, operationVersion: "1.0", connectorId: "nest-connector", ...extra } });
  return {
    logs,
    discover: () => mi_("AWS.DiscoverDevices", { deviceDiscoveryId: "d1", connectorDeviceIdList: [] }),
    deactivate: () => mi_("AWS.DeactivateUser"),
    async push(file: string, o: { key?: KeyObject; aud?: string; exp?: number } = {}) {
      const iat = Math.floor(Date.now() / 1000) - 5;
      const token = await new SignJWT({ email: PUSHER, email_verified: true })
        .setProtectedHeader({ alg: "RS256", kid: "g1", typ: "JWT" })
        .setIssuer("https://accounts.google.com")
        .setAudience(o.aud ?? AUDIENCE)
        .setSubject("109876543210987654321")
        .setIssuedAt(iat)
        .setExpirationTime(o.exp ?? iat + 3600)
        .sign(o.key ?? google.privateKey);
      return (await engine.handle(deliveryEvent({ path: "/", headers: { authorization: `Bearer ${token}` }, body: await example(file) }))) as { statusCode: number; body: string };
    },
  };
}

const deviceEvents = () => mi.events.map((e) => e.body as Record<string, any>).filter((e) => e.Operation === "DEVICE_EVENT");

describe("Google Nest pushes", () => {
  it("reports a temperature-only update on the discovered thermostat's cluster, with the MI user id", async () => {
    const r = rig();
    await r.discover();
    const res = await r.push("push.temperature.json");
    expect(res.statusCode).toBe(200);
    expect(deviceEvents()).toEqual([
      expect.objectContaining({
        UserId: MI_USER,
        ConnectorDeviceId: DEVICE,
        MatterEndpoint: { id: "1", clusters: [{ id: "0x0201", attributes: { "0x0000": 2120 } }] },
      }),
    ]);
    // A mode change carries two traits: only what they change is sent.
    expect((await r.push("push.mode.json")).statusCode).toBe(200);
    expect(deviceEvents()[1].MatterEndpoint).toEqual({ id: "1", clusters: [{ id: "0x0201", attributes: { "0x001C": 3, "0x0011": 2400 } }] });
  });

  it("falls back to matching for a device never discovered: partial traits match no profile, acknowledged without events", async () => {
    const r = rig();
    const res = await r.push("push.temperature.json");
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ received: 1, unmapped: 1, sent: 0 });
    expect(deviceEvents()).toHaveLength(0);
  });

  it("ignores relation updates", async () => {
    const r = rig();
    await r.discover();
    expect(JSON.parse((await r.push("push.relation.json")).body)).toMatchObject({ ignored: 1, sent: 0 });
  });

  it("sends nothing for the user after AWS.DeactivateUser, although the event names the vendor's own user id", async () => {
    const r = rig();
    await r.discover();
    await r.deactivate();
    const res = await r.push("push.temperature.json");
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ suppressed: 1, sent: 0 });
    expect(deviceEvents()).toHaveLength(0);
  });

  it("refuses forged, expired and wrong-audience tokens with 401", async () => {
    const r = rig();
    await r.discover();
    expect((await r.push("push.temperature.json", { key: stranger.privateKey })).statusCode).toBe(401);
    expect((await r.push("push.temperature.json", { exp: Math.floor(Date.now() / 1000) - 120 })).statusCode).toBe(401);
    expect((await r.push("push.temperature.json", { aud: "https://someone-else.example/" })).statusCode).toBe(401);
    expect(deviceEvents()).toHaveLength(0);
    // No token, user id or service account in any log line.
    const text = JSON.stringify(r.logs);
    expect(text).not.toContain(MI_USER);
    expect(text).not.toContain("eyJ");
  });
});
