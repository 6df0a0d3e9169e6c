import { createHmac, generateKeyPairSync, sign } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { WebhookRequest } from "../../engine/webhook/http-event.ts";
import { validateVerifyOptions, verifyWebhook, type HmacVerifyOptions, type PublicKeyVerifyOptions, type VerifyOptions, type VerifyResult } from "../../engine/webhook/verify.ts";

const SECRET = "whsec-7f3a9c1e-test-only";
const NOW = 1_710_000_000_000;
const NOW_S = String(NOW / 1000);
const BODY = JSON.stringify({ event: "switch.toggled", deviceId: "lamp-7", on: false });

function request(headers: Record<string, string>, body: string | Buffer = BODY): WebhookRequest {
  return { method: "POST", path: "/webhooks/vendor", headers, query: {}, rawBody: Buffer.isBuffer(body) ? body : Buffer.from(body) };
}

function hmac(algorithm: string, data: string | Buffer, encoding: "hex" | "base64", secret: string | Buffer = SECRET): string {
  return createHmac(algorithm, secret).update(data).digest(encoding);
}

function expectFailure(result: VerifyResult, code: string): string {
  expect(result.ok).toBe(false);
  if (result.ok) throw new Error("unreachable");
  expect(result.code).toBe(code);
  return result.reason;
}

const reasons: string[] = [];
function collect(result: VerifyResult): VerifyResult {
  if (!result.ok) reasons.push(result.reason);
  return result;
}

describe("hmac", () => {
  for (const algorithm of ["sha1", "sha256", "sha512"] as const) {
    for (const encoding of ["hex", "base64"] as const) {
      it(`accepts a valid ${algorithm} signature in ${encoding} and rejects a mismatch`, () => {
        const options: HmacVerifyOptions = { scheme: "hmac", algorithm, encoding, header: "X-Signature", secret: SECRET };
        const good = request({ "x-signature": hmac(algorithm, BODY, encoding) });
        expect(verifyWebhook(good, options, NOW)).toEqual({ ok: true });
        const otherAlgorithm = algorithm === "sha256" ? "sha512" : "sha256";
        const bad = request({ "x-signature": hmac(otherAlgorithm, BODY, encoding) });
        expectFailure(collect(verifyWebhook(bad, options, NOW)), "signature_mismatch");
      });
    }
  }

  const github: HmacVerifyOptions = { scheme: "hmac", algorithm: "sha256", encoding: "hex", header: "x-hub-signature-256", prefix: "sha256=", secret: SECRET };

  it("strips a prefix and accepts upper-case hex", () => {
    const sig = hmac("sha256", BODY, "hex").toUpperCase();
    expect(verifyWebhook(request({ "x-hub-signature-256": `sha256=${sig}` }), github, NOW)).toEqual({ ok: true });
    expectFailure(collect(verifyWebhook(request({ "x-hub-signature-256": sig }), github, NOW)), "malformed_signature");
  });

  it("rejects the wrong secret, a tampered body and a missing header with distinct codes", () => {
    const wrongSecret = request({ "x-hub-signature-256": `sha256=${hmac("sha256", BODY, "hex", "not-the-secret")}` });
    expectFailure(collect(verifyWebhook(wrongSecret, github, NOW)), "signature_mismatch");
    const tampered = request({ "x-hub-signature-256": `sha256=${hmac("sha256", BODY, "hex")}` }, BODY.replace("false", "true "));
    expectFailure(collect(verifyWebhook(tampered, github, NOW)), "signature_mismatch");
    const missing = expectFailure(collect(verifyWebhook(request({}), github, NOW)), "missing_signature");
    expect(missing).toContain("x-hub-signature-256");
    expectFailure(collect(verifyWebhook(request({ "x-hub-signature-256": "sha256=zz-not-hex" }), github, NOW)), "malformed_signature");
    // A truncated signature is a different length: rejected without throwing from timingSafeEqual.
    const truncated = request({ "x-hub-signature-256": `sha256=${hmac("sha256", BODY, "hex").slice(0, 40)}` });
    expectFailure(collect(verifyWebhook(truncated, github, NOW)), "signature_mismatch");
  });

  it("accepts when any of several space or comma separated signatures matches (secret rotation)", () => {
    const old = hmac("sha256", BODY, "base64", "old-secret");
    const current = hmac("sha256", BODY, "base64");
    const options: HmacVerifyOptions = { scheme: "hmac", algorithm: "sha256", encoding: "base64", header: "x-sig", secret: SECRET };
    expect(verifyWebhook(request({ "x-sig": `${old} ${current}` }), options, NOW)).toEqual({ ok: true });
    expect(verifyWebhook(request({ "x-sig": `${old},${current}` }), options, NOW)).toEqual({ ok: true });
    expectFailure(verifyWebhook(request({ "x-sig": `${old} ${old}` }), options, NOW), "signature_mismatch");
  });

  it("accepts a base64 secret and URL-safe base64 signatures", () => {
    const key = Buffer.from("binary-key-\u0001\u0002");
    const options: HmacVerifyOptions = { scheme: "hmac", algorithm: "sha256", encoding: "base64", header: "x-sig", secret: key.toString("base64"), secretEncoding: "base64" };
    const sig = hmac("sha256", BODY, "base64", key).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    expect(verifyWebhook(request({ "x-sig": sig }), options, NOW)).toEqual({ ok: true });
  });

  describe("timestamps", () => {
    const options: HmacVerifyOptions = {
      scheme: "hmac",
      algorithm: "sha256",
      encoding: "hex",
      header: "x-signature",
      signed: "timestamp.body",
      timestampHeader: "x-timestamp",
      secret: SECRET,
    };
    const signedAt = (ts: string) => request({ "x-signature": hmac("sha256", `${ts}.${BODY}`, "hex"), "x-timestamp": ts });

    it("accepts a fresh timestamp in seconds, milliseconds or ISO form", () => {
      expect(verifyWebhook(signedAt(NOW_S), options, NOW)).toEqual({ ok: true });
      expect(verifyWebhook(signedAt(String(NOW - 60_000)), options, NOW)).toEqual({ ok: true });
      expect(verifyWebhook(signedAt(new Date(NOW + 30_000).toISOString()), options, NOW)).toEqual({ ok: true });
    });

    it("rejects stale, future, missing and unparseable timestamps with distinct reasons", () => {
      const stale = expectFailure(collect(verifyWebhook(signedAt(String(NOW / 1000 - 301)), options, NOW)), "stale_timestamp");
      const future = expectFailure(collect(verifyWebhook(signedAt(String(NOW / 1000 + 301)), options, NOW)), "future_timestamp");
      expect(stale).toMatch(/^replayed or stale delivery/);
      expect(future).toMatch(/^replayed or stale delivery/);
      expect(stale).not.toBe(future);
      const noTimestamp = request({ "x-signature": hmac("sha256", `.${BODY}`, "hex") });
      expectFailure(collect(verifyWebhook(noTimestamp, options, NOW)), "missing_timestamp");
      expectFailure(collect(verifyWebhook(signedAt("yesterday"), options, NOW)), "invalid_timestamp");
    });

    it("honours toleranceSeconds and detects a timestamp swapped after signing", () => {
      const wide = { ...options, toleranceSeconds: 3600 };
      expect(verifyWebhook(signedAt(String(NOW / 1000 - 1800)), wide, NOW)).toEqual({ ok: true });
      const swapped = signedAt(NOW_S);
      swapped.headers["x-timestamp"] = String(NOW / 1000 - 1);
      expectFailure(collect(verifyWebhook(swapped, options, NOW)), "signature_mismatch");
    });

    it("signs a template over method, path, timestamp and body", () => {
      const templated: HmacVerifyOptions = { ...options, signed: { template: "v0:{timestamp}:{method} {path}:{body}" } };
      const sig = hmac("sha256", `v0:${NOW_S}:POST /webhooks/vendor:${BODY}`, "hex");
      expect(verifyWebhook(request({ "x-signature": sig, "x-timestamp": NOW_S }), templated, NOW)).toEqual({ ok: true });
      const otherPath = { ...request({ "x-signature": sig, "x-timestamp": NOW_S }), path: "/elsewhere" };
      expectFailure(verifyWebhook(otherPath, templated, NOW), "signature_mismatch");
    });
  });

  describe("key=value signature headers", () => {
    const options: HmacVerifyOptions = {
      scheme: "hmac",
      algorithm: "sha256",
      encoding: "hex",
      header: "x-vendor-signature",
      signatureFormat: "kv",
      kvKey: "v1",
      kvTimestampKey: "t",
      signed: "timestamp.body",
      secret: SECRET,
    };

    it("reads t= and any v1= entry, ignoring other schemes", () => {
      const sig = hmac("sha256", `${NOW_S}.${BODY}`, "hex");
      const header = `t=${NOW_S},v0=${"ab".repeat(32)},v1=${"cd".repeat(32)},v1=${sig}`;
      expect(verifyWebhook(request({ "x-vendor-signature": header }), options, NOW)).toEqual({ ok: true });
      expectFailure(collect(verifyWebhook(request({ "x-vendor-signature": `t=${NOW_S},v0=${sig}` }), options, NOW)), "malformed_signature");
      expectFailure(collect(verifyWebhook(request({ "x-vendor-signature": `v1=${sig}` }), options, NOW)), "missing_timestamp");
      const old = String(NOW / 1000 - 600);
      const oldSig = hmac("sha256", `${old}.${BODY}`, "hex");
      expectFailure(collect(verifyWebhook(request({ "x-vendor-signature": `t=${old},v1=${oldSig}` }), options, NOW)), "stale_timestamp");
    });
  });
});

describe("sharedSecret", () => {
  const options: VerifyOptions = { scheme: "sharedSecret", header: "X-Webhook-Token", secret: SECRET };

  it("accepts the exact secret and rejects anything else", () => {
    expect(verifyWebhook(request({ "x-webhook-token": SECRET }), options, NOW)).toEqual({ ok: true });
    expectFailure(collect(verifyWebhook(request({ "x-webhook-token": SECRET.slice(0, -1) }), options, NOW)), "signature_mismatch");
    expectFailure(collect(verifyWebhook(request({ "x-webhook-token": `${SECRET}x` }), options, NOW)), "signature_mismatch");
    expectFailure(collect(verifyWebhook(request({}), options, NOW)), "missing_signature");
  });

  it("strips a declared prefix such as Bearer", () => {
    const bearer: VerifyOptions = { scheme: "sharedSecret", header: "authorization", prefix: "Bearer ", secret: SECRET };
    expect(verifyWebhook(request({ authorization: `Bearer ${SECRET}` }), bearer, NOW)).toEqual({ ok: true });
    expectFailure(collect(verifyWebhook(request({ authorization: `Basic ${SECRET}` }), bearer, NOW)), "malformed_signature");
  });
});

describe("publicKey", () => {
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const ed = generateKeyPairSync("ed25519");
  const ec = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const pem = (key: typeof rsa.publicKey) => key.export({ type: "spki", format: "pem" }).toString();

  it("verifies RSA-SHA256 signatures in base64 and hex", () => {
    const sig = sign("sha256", Buffer.from(BODY), rsa.privateKey);
    for (const encoding of ["base64", "hex"] as const) {
      const options: PublicKeyVerifyOptions = { scheme: "publicKey", algorithm: "rsa-sha256", header: "x-sig", encoding, publicKey: pem(rsa.publicKey) };
      expect(verifyWebhook(request({ "x-sig": sig.toString(encoding) }), options, NOW)).toEqual({ ok: true });
      expectFailure(verifyWebhook(request({ "x-sig": sig.toString(encoding) }, `${BODY} `), options, NOW), "signature_mismatch");
    }
  });

  it("verifies Ed25519 over timestamp + body and rejects another key's signature", () => {
    const options: PublicKeyVerifyOptions = {
      scheme: "publicKey",
      algorithm: "ed25519",
      header: "x-signature-ed25519",
      encoding: "hex",
      publicKey: pem(ed.publicKey),
      signed: { template: "{timestamp}{body}" },
      timestampHeader: "x-signature-timestamp",
    };
    const sig = sign(null, Buffer.from(`${NOW_S}${BODY}`), ed.privateKey).toString("hex");
    expect(verifyWebhook(request({ "x-signature-ed25519": sig, "x-signature-timestamp": NOW_S }), options, NOW)).toEqual({ ok: true });
    const stranger = generateKeyPairSync("ed25519");
    const forged = sign(null, Buffer.from(`${NOW_S}${BODY}`), stranger.privateKey).toString("hex");
    expectFailure(verifyWebhook(request({ "x-signature-ed25519": forged, "x-signature-timestamp": NOW_S }), options, NOW), "signature_mismatch");
    expectFailure(verifyWebhook(request({ "x-signature-ed25519": "abcd", "x-signature-timestamp": NOW_S }), options, NOW), "signature_mismatch");
  });

  it("verifies ECDSA P-256 in DER and raw r||s encodings", () => {
    const options: PublicKeyVerifyOptions = { scheme: "publicKey", algorithm: "ecdsa-sha256", header: "x-sig", encoding: "base64", publicKey: pem(ec.publicKey) };
    const der = sign("sha256", Buffer.from(BODY), ec.privateKey);
    const raw = sign("sha256", Buffer.from(BODY), { key: ec.privateKey, dsaEncoding: "ieee-p1363" });
    expect(verifyWebhook(request({ "x-sig": der.toString("base64") }), options, NOW)).toEqual({ ok: true });
    expect(verifyWebhook(request({ "x-sig": raw.toString("base64") }), options, NOW)).toEqual({ ok: true });
  });

  it("reports an unreadable or mismatched key as misconfiguration", () => {
    const sig = sign(null, Buffer.from(BODY), ed.privateKey).toString("base64");
    const notPem: PublicKeyVerifyOptions = { scheme: "publicKey", algorithm: "ed25519", header: "x-sig", encoding: "base64", publicKey: "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----" };
    expectFailure(verifyWebhook(request({ "x-sig": sig }), notPem, NOW), "misconfigured");
    const wrongType: PublicKeyVerifyOptions = { ...notPem, publicKey: pem(rsa.publicKey) };
    expect(expectFailure(verifyWebhook(request({ "x-sig": sig }), wrongType, NOW), "misconfigured")).toContain("rsa");
  });
});

describe("scheme none and option validation", () => {
  it("accepts anything with scheme none", () => {
    expect(verifyWebhook(request({}), { scheme: "none" }, NOW)).toEqual({ ok: true });
  });

  it("fails closed on bad options, naming fields but never values", () => {
    const emptySecret = { scheme: "hmac", algorithm: "sha256", encoding: "hex", header: "x", secret: "" } as VerifyOptions;
    expect(expectFailure(verifyWebhook(request({ x: "00" }), emptySecret, NOW), "misconfigured")).toContain("secret must be a non-empty string");
    const needsTimestamp = { scheme: "hmac", algorithm: "sha256", encoding: "hex", header: "x", secret: SECRET, signed: "timestamp.body" } as VerifyOptions;
    expect(validateVerifyOptions(needsTimestamp)).toEqual(["signed timestamp.body needs timestampHeader or kvTimestampKey"]);
    const unknown = { scheme: "hmac", algorithm: "md5", encoding: "hex", header: "x", secret: SECRET, signed: { template: "{nonce}.{body}" } } as unknown as VerifyOptions;
    const problems = validateVerifyOptions(unknown);
    expect(problems).toContain("algorithm must be one of sha1, sha256, sha512");
    expect(problems).toContain("signed template has unknown placeholder {nonce}");
    expect(problems.join(" ")).not.toContain(SECRET);
    expect(validateVerifyOptions({ scheme: "magic" } as unknown as VerifyOptions)).toHaveLength(1);
    expect(validateVerifyOptions({ scheme: "hmac", algorithm: "sha1", encoding: "hex", header: "h", secret: SECRET, signatureFormat: "kv" })).toEqual(["kvKey must be a non-empty string"]);
  });
});

describe("reasons", () => {
  it("never contain the secret or the expected signature", () => {
    // Runs last in this file: `reasons` holds every failure collected above.
    expect(reasons.length).toBeGreaterThan(15);
    const expectedSignatures = [hmac("sha256", BODY, "hex"), hmac("sha256", BODY, "base64"), hmac("sha256", `${NOW_S}.${BODY}`, "hex")];
    for (const reason of reasons) {
      expect(reason).not.toContain(SECRET);
      for (const signature of expectedSignatures) {
        expect(reason).not.toContain(signature);
        expect(reason.toLowerCase()).not.toContain(signature.slice(0, 16).toLowerCase());
      }
    }
  });
});
