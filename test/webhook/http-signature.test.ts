/**
 * HTTP message signatures (draft-cavage and RFC 9421) on deliveries: valid ones accepted;
 * forged, tampered, replayed (stale), expired, wrong-key, wrong-algorithm and unsigned-digest
 * ones refused; keys from the bundle or fetched from an allow-listed keyId URL on a loopback key
 * server (cached, refetched on rotation, a disallowed host never contacted).
 */
import { createHash, createPrivateKey, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpbis, createSigner } from "http-message-signatures";
import { verifyHttpSignature, type HttpSignatureVerifyOptions } from "../../engine/webhook/http-signature.ts";
import { KeyFetcher, allowedKeyUrl } from "../../engine/webhook/key-fetch.ts";
import type { WebhookRequest } from "../../engine/webhook/http-event.ts";
import { startLoopbackServer, type LoopbackServer } from "../vendor/loopback-server.ts";

const NOW = Date.parse("2026-03-02T10:00:00Z");
const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const other = generateKeyPairSync("rsa", { modulusLength: 2048 });
const ed = generateKeyPairSync("ed25519");
const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
const pem = (k: KeyObject) => k.export({ type: "spki", format: "pem" }).toString();
/** The SmartThings fixtures' test key and its self-signed certificate (made for the fixtures). */
const certKey = createPrivateKey(readFileSync("mappings/smartthings/tests/data/webhook-test-signing-key.pem", "utf8"));
const certificate = readFileSync("mappings/smartthings/tests/data/webhook-test-signing-cert.pem", "utf8");

const BODY = JSON.stringify({ id: "evt-1", device: "lamp-1", on: true });

/** Signs like a draft-cavage sender: headers listed, Digest over the body, Date as IMF-fixdate. */
function cavageRequest(
  o: { key?: KeyObject; algorithm?: string; keyId?: string; body?: string; signedBody?: string; date?: number; headers?: string; carrier?: "signature" | "authorization"; signWith?: "rsa" | "ed25519" } = {},
): WebhookRequest {
  const body = o.body ?? BODY;
  const date = new Date(o.date ?? NOW).toUTCString();
  const digest = `SHA-256=${createHash("sha256").update(o.signedBody ?? body).digest("base64")}`;
  const headers: Record<string, string> = { host: "hooks.example.net", date, digest, "content-type": "application/json" };
  const list = o.headers ?? "(request-target) host date digest";
  const base = list
    .split(" ")
    .map((h) => (h === "(request-target)" ? "(request-target): post /hooks/in?x=1" : `${h}: ${headers[h]}`))
    .join("\n");
  const key = o.key ?? rsa.privateKey;
  const signature = sign(key.asymmetricKeyType === "ed25519" ? null : "sha256", Buffer.from(base), key).toString("base64");
  const params = `keyId="${o.keyId ?? "key-1"}",algorithm="${o.algorithm ?? "rsa-sha256"}",headers="${list}",signature="${signature}"`;
  if (o.carrier === "authorization") headers.authorization = `Signature ${params}`;
  else headers.signature = params;
  return { method: "POST", path: "/hooks/in", query: { x: "1" }, rawQuery: "x=1", headers, rawBody: Buffer.from(body) };
}

/** Signs per RFC 9421 with the library's signer (Content-Digest per RFC 9530). */
async function rfc9421Request(o: { key?: KeyObject; alg?: string; keyId?: string; created?: number; fields?: string[]; body?: string } = {}): Promise<WebhookRequest> {
  const body = o.body ?? BODY;
  const headers: Record<string, string> = {
    host: "hooks.example.net",
    "content-type": "application/json",
    "content-digest": `sha-256=:${createHash("sha256").update(BODY).digest("base64")}:`,
  };
  const signed = await httpbis.signMessage(
    {
      key: createSigner(o.key ?? ec.privateKey, (o.alg ?? "ecdsa-p256-sha256") as "ed25519", o.keyId ?? "key-ec"),
      fields: o.fields ?? ["@method", "@path", "@authority", "content-digest"],
      params: ["created", "keyid", "alg"],
      paramValues: { created: new Date(o.created ?? NOW) },
    },
    { method: "POST", url: "https://hooks.example.net/hooks/in", headers },
  );
  const lower = Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
  return { method: "POST", path: "/hooks/in", query: {}, headers: lower, rawBody: Buffer.from(body) };
}

const withKey = (publicKey: KeyObject, extra: Partial<HttpSignatureVerifyOptions> = {}): HttpSignatureVerifyOptions => ({
  scheme: "httpSignature",
  algorithms: ["rsa-sha256", "ecdsa-sha256", "ed25519"],
  publicKey: pem(publicKey),
  ...extra,
});

const keys = new KeyFetcher();

describe("draft-cavage signatures", () => {
  it("accepts an RSA-SHA256 signature over (request-target), host, date and digest", async () => {
    expect(await verifyHttpSignature(cavageRequest(), withKey(rsa.publicKey, { components: ["(request-target)", "date", "digest"] }), keys, NOW)).toEqual({ ok: true });
  });

  it("accepts the Authorization: Signature carrier and Ed25519 (hs2019 derives the algorithm from the key)", async () => {
    const req = cavageRequest({ key: ed.privateKey, algorithm: "hs2019", carrier: "authorization" });
    expect(await verifyHttpSignature(req, withKey(ed.publicKey), keys, NOW)).toEqual({ ok: true });
  });

  it("refuses a tampered body (its Digest no longer matches)", async () => {
    const req = cavageRequest({ body: BODY.replace("true", "false"), signedBody: BODY });
    expect(await verifyHttpSignature(req, withKey(rsa.publicKey), keys, NOW)).toMatchObject({ ok: false, code: "signature_mismatch" });
  });

  it("refuses a tampered signed header and a forged signature (made with another key)", async () => {
    const req = cavageRequest();
    req.headers.host = "evil.example.net";
    expect(await verifyHttpSignature(req, withKey(rsa.publicKey), keys, NOW)).toMatchObject({ ok: false, code: "signature_mismatch" });
    expect(await verifyHttpSignature(cavageRequest({ key: other.privateKey }), withKey(rsa.publicKey), keys, NOW)).toMatchObject({ ok: false, code: "signature_mismatch" });
  });

  it("refuses a replay outside the Date window and a delivery dated in the future", async () => {
    expect(await verifyHttpSignature(cavageRequest({ date: NOW - 301_000 }), withKey(rsa.publicKey), keys, NOW)).toMatchObject({ ok: false, code: "stale_timestamp" });
    expect(await verifyHttpSignature(cavageRequest({ date: NOW + 301_000 }), withKey(rsa.publicKey), keys, NOW)).toMatchObject({ ok: false, code: "future_timestamp" });
    expect(await verifyHttpSignature(cavageRequest({ date: NOW - 299_000 }), withKey(rsa.publicKey), keys, NOW)).toEqual({ ok: true });
  });

  it("refuses a signature that does not cover the digest, the date, or a required component", async () => {
    expect(await verifyHttpSignature(cavageRequest({ headers: "(request-target) host date" }), withKey(rsa.publicKey), keys, NOW)).toMatchObject({ ok: false, code: "malformed_signature" });
    expect(await verifyHttpSignature(cavageRequest({ headers: "(request-target) host digest" }), withKey(rsa.publicKey), keys, NOW)).toMatchObject({ ok: false, code: "missing_timestamp" });
    const opts = withKey(rsa.publicKey, { components: ["(request-target)"] });
    expect(await verifyHttpSignature(cavageRequest({ headers: "host date digest" }), opts, keys, NOW)).toMatchObject({ ok: false, code: "malformed_signature" });
  });

  it("refuses an algorithm off the allow-list, and one that does not fit the key", async () => {
    const rsaOnly = withKey(ed.publicKey, { algorithms: ["rsa-sha256"] });
    expect(await verifyHttpSignature(cavageRequest({ key: ed.privateKey, algorithm: "ed25519" }), rsaOnly, keys, NOW)).toMatchObject({ ok: false, code: "algorithm_not_allowed" });
    expect(await verifyHttpSignature(cavageRequest({ key: ed.privateKey, algorithm: "rsa-sha256" }), withKey(ed.publicKey), keys, NOW)).toMatchObject({ ok: false, code: "algorithm_not_allowed" });
  });

  it("refuses a delivery without any signature", async () => {
    const req = cavageRequest();
    delete req.headers.signature;
    expect(await verifyHttpSignature(req, withKey(rsa.publicKey), keys, NOW)).toMatchObject({ ok: false, code: "missing_signature" });
  });
});

describe("RFC 9421 signatures", () => {
  it("accepts ECDSA P-256 and Ed25519 over @method @path @authority content-digest with a created time", async () => {
    expect(await verifyHttpSignature(await rfc9421Request(), withKey(ec.publicKey, { components: ["@method", "@path", "content-digest"] }), keys, NOW)).toEqual({ ok: true });
    const edReq = await rfc9421Request({ key: ed.privateKey, alg: "ed25519" });
    expect(await verifyHttpSignature(edReq, withKey(ed.publicKey), keys, NOW)).toEqual({ ok: true });
  });

  it("refuses a tampered body, an old created time and a wrong key", async () => {
    expect(await verifyHttpSignature(await rfc9421Request({ body: "{}" }), withKey(ec.publicKey), keys, NOW)).toMatchObject({ ok: false, code: "signature_mismatch" });
    expect(await verifyHttpSignature(await rfc9421Request({ created: NOW - 600_000 }), withKey(ec.publicKey), keys, NOW)).toMatchObject({ ok: false, code: "stale_timestamp" });
    const wrongKey = generateKeyPairSync("ec", { namedCurve: "P-256" });
    expect(await verifyHttpSignature(await rfc9421Request(), withKey(wrongKey.publicKey), keys, NOW)).toMatchObject({ ok: false, code: "signature_mismatch" });
  });

  it("refuses a signature whose Content-Digest is not among the signed components", async () => {
    const req = await rfc9421Request({ fields: ["@method", "@path"] });
    expect(await verifyHttpSignature(req, withKey(ec.publicKey), keys, NOW)).toMatchObject({ ok: false, code: "malformed_signature" });
  });
});

describe("keys fetched from the keyId URL", () => {
  let server: LoopbackServer;
  let current = rsa.publicKey;
  beforeAll(async () => {
    server = await startLoopbackServer();
    server.handle((req, res) => {
      if (req.rawUrl.startsWith("/actor")) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ id: "actor", publicKey: { id: "actor#main-key", publicKeyPem: pem(current) } }));
      } else if (req.rawUrl.startsWith("/pl/")) {
        // A key server that names keys by path and serves X.509 certificates (SmartThings').
        res.writeHead(200, { "content-type": "application/x-pem-file" });
        res.end(certificate);
      } else if (req.rawUrl === "/jwks") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ keys: [{ ...ed.publicKey.export({ format: "jwk" }), kid: "ed-1" }] }));
      } else {
        res.writeHead(404).end();
      }
    });
  });
  afterAll(() => server.close());
  const policy = (extra = {}) => ({ scheme: "httpSignature" as const, algorithms: ["rsa-sha256" as const, "ed25519" as const], keyUrl: { allowedHosts: ["127.0.0.1"], pemPath: "publicKey.publicKeyPem", ...extra } });

  it("fetches the key from an allowed host once and reuses it within the TTL", async () => {
    const fetcher = new KeyFetcher();
    const before = server.received.length;
    const keyId = `${server.origin}/actor#main-key`;
    expect(await verifyHttpSignature(cavageRequest({ keyId }), policy(), fetcher, NOW)).toEqual({ ok: true });
    expect(await verifyHttpSignature(cavageRequest({ keyId }), policy(), fetcher, NOW + 1000)).toEqual({ ok: true });
    expect(server.received.length - before).toBe(1);
  });

  it("reads a JWKS and picks the key by the URL fragment", async () => {
    const req = cavageRequest({ key: ed.privateKey, algorithm: "ed25519", keyId: `${server.origin}/jwks#ed-1` });
    expect(await verifyHttpSignature(req, { scheme: "httpSignature", algorithms: ["ed25519"], keyUrl: { allowedHosts: ["127.0.0.1"] } }, new KeyFetcher(), NOW)).toEqual({ ok: true });
  });

  it("refetches once when the sender rotated its key", async () => {
    const fetcher = new KeyFetcher();
    const keyId = `${server.origin}/actor#main-key`;
    current = rsa.publicKey;
    expect(await verifyHttpSignature(cavageRequest({ keyId }), policy(), fetcher, NOW)).toEqual({ ok: true });
    current = other.publicKey;
    const later = NOW + 60_000;
    expect(await verifyHttpSignature(cavageRequest({ keyId, key: other.privateKey, date: later }), policy(), fetcher, later)).toEqual({ ok: true });
    current = rsa.publicKey;
  });

  it("never contacts a host that is not on the allow-list", async () => {
    const before = server.received.length;
    const keyId = `${server.origin.replace("127.0.0.1", "localhost")}/actor#main-key`;
    expect(await verifyHttpSignature(cavageRequest({ keyId }), policy(), new KeyFetcher(), NOW)).toMatchObject({ ok: false, code: "key_not_allowed" });
    expect(await verifyHttpSignature(cavageRequest({ keyId: "https://attacker.example/key" }), policy(), new KeyFetcher(), NOW)).toMatchObject({ ok: false, code: "key_not_allowed" });
    expect(server.received.length).toBe(before);
  });

  it("resolves a keyId that is a path against keyUrl.baseUrl and reads a certificate; a //host path stays on the base host", async () => {
    const before = server.received.length;
    const keyUrl = { allowedHosts: ["127.0.0.1"], baseUrl: server.origin };
    const options = { scheme: "httpSignature" as const, algorithms: ["rsa-sha256" as const], keyUrl };
    expect(await verifyHttpSignature(cavageRequest({ key: certKey, keyId: "/pl/useast1/test-key" }), options, new KeyFetcher(), NOW)).toEqual({ ok: true });
    expect(server.received.at(-1)?.rawUrl).toBe("/pl/useast1/test-key");
    // Not a relative reference: "//attacker.example/..." is a path on the base host, never another host.
    expect(allowedKeyUrl("//attacker.example/pl/k", keyUrl).host).toBe(new URL(server.origin).host);
    // A wrong key under a path keyId is still refused; without baseUrl a path is no URL at all.
    expect(await verifyHttpSignature(cavageRequest({ key: other.privateKey, keyId: "/pl/useast1/test-key" }), options, new KeyFetcher(), NOW)).toMatchObject({ ok: false });
    expect(await verifyHttpSignature(cavageRequest({ key: certKey, keyId: "/pl/useast1/test-key" }), policy(), new KeyFetcher(), NOW)).toMatchObject({ ok: false, code: "key_not_allowed" });
    expect(server.received.length - before).toBeGreaterThanOrEqual(2);
  });

  it("says the key is unavailable (so the vendor retries) when the key server fails", async () => {
    const keyId = `${server.origin}/missing#k`;
    expect(await verifyHttpSignature(cavageRequest({ keyId }), policy(), new KeyFetcher(), NOW)).toMatchObject({ ok: false, code: "key_unavailable" });
  });
});

