/**
 * HTTP message signatures through the whole webhook endpoint (engine, loopback MI emulator,
 * loopback key server): a signed delivery becomes a DEVICE_EVENT; the same delivery replayed is
 * refused with 401 and sends nothing; a tampered one is 401; a key server that is down gives 503
 * (the vendor redelivers); a keyId on a host off the allow-list is 401 and never fetched.
 */
import { createHash, generateKeyPairSync, sign } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startMiEmulator, type MiEmulator } from "../../engine/local/mi-emulator.ts";
import type { CompiledBundle } from "../../engine/mapping/compiled.ts";
import { deliveryEvent } from "../../engine/webhook/delivery-event.ts";
import { acmeBundle, CONNECTOR_ID, contactEvent, rig } from "../events/helpers.ts";
import { startLoopbackServer, type LoopbackServer } from "../vendor/loopback-server.ts";

const keyPair = generateKeyPairSync("rsa", { modulusLength: 2048 });
let mi: MiEmulator;
let keyServer: LoopbackServer;
let bundle: CompiledBundle;
let keyServerUp = true;

beforeAll(async () => {
  [mi, keyServer] = await Promise.all([startMiEmulator(), startLoopbackServer()]);
  keyServer.handle((_req, res) => {
    if (!keyServerUp) return res.writeHead(503).end();
    res.writeHead(200, { "content-type": "application/x-pem-file" });
    res.end(keyPair.publicKey.export({ type: "spki", format: "pem" }));
  });
  const acme = await acmeBundle();
  bundle = {
    ...acme,
    webhooks: {
      ...acme.webhooks!,
      handshakes: [],
      verify: { scheme: "httpSignature", algorithms: ["rsa-sha256"], components: ["(request-target)", "date", "digest"], keyUrl: { allowedHosts: ["127.0.0.1"] } },
    },
  };
});
afterAll(async () => {
  await Promise.all([mi.close(), keyServer.close()]);
});
beforeEach(() => mi.reset());

function signedDelivery(body: unknown, o: { keyId?: string; tamper?: boolean } = {}): Record<string, unknown> {
  const raw = JSON.stringify(body);
  const date = new Date().toUTCString();
  const digest = `SHA-256=${createHash("sha256").update(raw).digest("base64")}`;
  const base = `(request-target): post /hooks/acme\ndate: ${date}\ndigest: ${digest}`;
  const signature = sign("sha256", Buffer.from(base), keyPair.privateKey).toString("base64");
  const keyId = o.keyId ?? `${keyServer.origin}/keys/acme`;
  return deliveryEvent({
    path: "/hooks/acme",
    headers: { date, digest, signature: `keyId="${keyId}",algorithm="rsa-sha256",headers="(request-target) date digest",signature="${signature}"` },
    body: o.tamper ? raw.replace("true", "false") : raw,
  });
}

const env = { C2C_CONNECTOR_ID: CONNECTOR_ID };

describe("HTTP message signatures at the webhook endpoint", () => {
  it("accepts a signed delivery once; the identical delivery replayed is refused and sends nothing", async () => {
    const r = rig(bundle, mi, { env });
    const delivery = signedDelivery({ events: [contactEvent("sig-1", true)] });
    expect(((await r.engine.handle(delivery)) as any).statusCode).toBe(200);
    expect(mi.events).toHaveLength(1);
    expect(((await r.engine.handle(delivery)) as any).statusCode).toBe(401);
    expect(mi.events).toHaveLength(1);
    expect(r.logs.some((l) => l.code === "replayed")).toBe(true);
  });

  it("refuses a tampered body with 401", async () => {
    const r = rig(bundle, mi, { env });
    expect(((await r.engine.handle(signedDelivery({ events: [contactEvent("sig-2", true)] }, { tamper: true }))) as any).statusCode).toBe(401);
    expect(mi.events).toHaveLength(0);
  });

  it("answers 503 when the key server is down, so the vendor redelivers; the redelivery then passes", async () => {
    const r = rig(bundle, mi, { env });
    keyServerUp = false;
    const delivery = signedDelivery({ events: [contactEvent("sig-3", true)] }, { keyId: `${keyServer.origin}/keys/down` });
    expect(((await r.engine.handle(delivery)) as any).statusCode).toBe(503);
    keyServerUp = true;
    const r2 = rig(bundle, mi, { env, store: r.store });
    expect(((await r2.engine.handle(delivery)) as any).statusCode).toBe(200);
    expect(mi.events).toHaveLength(1);
  });

  it("never fetches a key from a host off the allow-list", async () => {
    const r = rig(bundle, mi, { env });
    const before = keyServer.received.length;
    const delivery = signedDelivery({ events: [contactEvent("sig-4", true)] }, { keyId: `${keyServer.origin.replace("127.0.0.1", "localhost")}/keys/acme` });
    expect(((await r.engine.handle(delivery)) as any).statusCode).toBe(401);
    expect(keyServer.received.length).toBe(before);
    expect(mi.events).toHaveLength(0);
  });
});
