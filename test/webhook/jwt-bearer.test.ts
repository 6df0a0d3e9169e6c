/**
 * Signed bearer tokens on push deliveries, checked against a JWKS served by a loopback key
 * server: a valid token is accepted; forged (unknown key), tampered, expired, not-yet-valid,
 * wrong issuer, wrong audience, disallowed algorithm, missing claims and missing header are
 * refused; a rotated key is picked up by fetching the set again.
 */
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SignJWT } from "jose";
import { JwksCache, verifyJwtBearer, type JwtVerifyOptions } from "../../engine/webhook/jwt-bearer.ts";
import type { WebhookRequest } from "../../engine/webhook/http-event.ts";
import { startLoopbackServer, type LoopbackServer } from "../vendor/loopback-server.ts";

const NOW = Date.parse("2026-03-02T10:00:00Z");
const AUDIENCE = "https://abc.lambda-url.eu-west-1.on.aws/";
const SERVICE_ACCOUNT = "push@project.iam.gserviceaccount.com";
const k1 = generateKeyPairSync("rsa", { modulusLength: 2048 });
const k2 = generateKeyPairSync("rsa", { modulusLength: 2048 });
const stranger = generateKeyPairSync("rsa", { modulusLength: 2048 });
const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });

let server: LoopbackServer;
let served: Array<{ key: KeyObject; kid: string; alg: string }> = [{ key: k1.publicKey, kid: "k1", alg: "RS256" }];

beforeAll(async () => {
  server = await startLoopbackServer();
  server.handle((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ keys: served.map((s) => ({ ...s.key.export({ format: "jwk" }), kid: s.kid, alg: s.alg, use: "sig" })) }));
  });
});
afterAll(() => server.close());

const options = (extra: Partial<JwtVerifyOptions> = {}): JwtVerifyOptions => ({
  scheme: "jwt",
  jwksUrl: `${server.origin}/certs`,
  issuer: ["accounts.google.com", "https://accounts.google.com"],
  audience: [AUDIENCE],
  algorithms: ["RS256"],
  claims: { email: SERVICE_ACCOUNT, email_verified: true },
  ...extra,
});

async function token(o: { key?: KeyObject; kid?: string; alg?: string; iss?: string; aud?: string; iat?: number; exp?: number; nbf?: number; email?: string } = {}): Promise<string> {
  const iat = o.iat ?? Math.floor(NOW / 1000) - 10;
  const jwt = new SignJWT({ email: o.email ?? SERVICE_ACCOUNT, email_verified: true })
    .setProtectedHeader({ alg: o.alg ?? "RS256", kid: o.kid ?? "k1", typ: "JWT" })
    .setIssuer(o.iss ?? "https://accounts.google.com")
    .setAudience(o.aud ?? AUDIENCE)
    .setSubject("113774264463038321964")
    .setIssuedAt(iat)
    .setExpirationTime(o.exp ?? iat + 3600);
  if (o.nbf !== undefined) jwt.setNotBefore(o.nbf);
  return jwt.sign(o.key ?? k1.privateKey);
}

function request(authorization?: string): WebhookRequest {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (authorization !== undefined) headers.authorization = authorization;
  return { method: "POST", path: "/", query: {}, headers, rawBody: Buffer.from("{}") };
}

describe("JWT bearer verification against a JWKS", () => {
  it("accepts a valid token and exposes its claims", async () => {
    const result = await verifyJwtBearer(request(`Bearer ${await token()}`), options(), new JwksCache(), NOW);
    expect(result).toMatchObject({ ok: true, claims: { email: SERVICE_ACCOUNT } });
  });

  it("refuses forged, tampered, expired and not-yet-valid tokens", async () => {
    const jwks = new JwksCache({ cooldownMs: 0 });
    const forged = await token({ key: stranger.privateKey });
    expect(await verifyJwtBearer(request(`Bearer ${forged}`), options(), jwks, NOW)).toMatchObject({ ok: false, code: "invalid_token" });
    const [h, p, s] = (await token()).split(".");
    const claims = JSON.parse(Buffer.from(p, "base64url").toString());
    const tampered = [h, Buffer.from(JSON.stringify({ ...claims, email: "attacker@example.com" })).toString("base64url"), s].join(".");
    expect(await verifyJwtBearer(request(`Bearer ${tampered}`), options(), jwks, NOW)).toMatchObject({ ok: false, code: "invalid_token" });
    const expired = await token({ iat: Math.floor(NOW / 1000) - 7200, exp: Math.floor(NOW / 1000) - 3600 });
    expect(await verifyJwtBearer(request(`Bearer ${expired}`), options(), jwks, NOW)).toMatchObject({ ok: false, code: "stale_timestamp" });
    const early = await token({ nbf: Math.floor(NOW / 1000) + 600 });
    expect(await verifyJwtBearer(request(`Bearer ${early}`), options(), jwks, NOW)).toMatchObject({ ok: false, code: "invalid_token" });
  });

  it("refuses a wrong issuer, a wrong audience, a pinned claim that differs and a disallowed algorithm", async () => {
    const jwks = new JwksCache();
    expect(await verifyJwtBearer(request(`Bearer ${await token({ iss: "https://evil.example" })}`), options(), jwks, NOW)).toMatchObject({ ok: false, code: "invalid_token" });
    expect(await verifyJwtBearer(request(`Bearer ${await token({ aud: "https://other.endpoint/" })}`), options(), jwks, NOW)).toMatchObject({ ok: false, code: "invalid_token" });
    expect(await verifyJwtBearer(request(`Bearer ${await token({ email: "someone@else.example" })}`), options(), jwks, NOW)).toMatchObject({ ok: false, code: "invalid_token" });
    served = [...served, { key: ec.publicKey, kid: "ec1", alg: "ES256" }];
    const es = await token({ key: ec.privateKey, kid: "ec1", alg: "ES256" });
    expect(await verifyJwtBearer(request(`Bearer ${es}`), options(), new JwksCache(), NOW)).toMatchObject({ ok: false, code: "invalid_token" });
    served = served.slice(0, 1);
  });

  it("refuses a missing or non-bearer Authorization header", async () => {
    expect(await verifyJwtBearer(request(), options(), new JwksCache(), NOW)).toMatchObject({ ok: false, code: "missing_signature" });
    expect(await verifyJwtBearer(request("Basic abc"), options(), new JwksCache(), NOW)).toMatchObject({ ok: false, code: "malformed_signature" });
  });

  it("picks up a rotated key: an unknown kid makes the key set be fetched again", async () => {
    const jwks = new JwksCache({ cooldownMs: 0 });
    expect(await verifyJwtBearer(request(`Bearer ${await token()}`), options(), jwks, NOW)).toMatchObject({ ok: true });
    served = [{ key: k2.publicKey, kid: "k2", alg: "RS256" }];
    const before = server.received.length;
    expect(await verifyJwtBearer(request(`Bearer ${await token({ key: k2.privateKey, kid: "k2" })}`), options(), jwks, NOW)).toMatchObject({ ok: true });
    expect(server.received.length).toBe(before + 1);
    served = [{ key: k1.publicKey, kid: "k1", alg: "RS256" }];
  });
});
