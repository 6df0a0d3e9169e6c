/**
 * HTTP message signatures on webhook deliveries, in both forms senders use:
 *  - draft-cavage: `Signature: keyId="...",algorithm="...",headers="(request-target) digest date",signature="..."`
 *    (or the same after `Authorization: Signature `);
 *  - RFC 9421: `Signature-Input: sig1=("@method" "@path" "content-digest");created=...;keyid="..."`
 *    with `Signature: sig1=:...:`.
 * The signature base is built by the `http-message-signatures` library from the components the
 * delivery lists. Around it this module enforces what the library leaves to its caller: the
 * algorithm allow-list and the key type, the components the bundle requires, the body digest
 * (`Digest` or `Content-Digest`, which must itself be signed), and the time window (the signed
 * `Date` header or the `created`/`expires` parameters) against an injected clock.
 */
import { createHash, createPublicKey, verify as verifySignature, type KeyObject } from "node:crypto";
import { cavage, httpbis, type VerifyingKey } from "http-message-signatures";
import { parseDictionary, serializeDictionary, isInnerList, type Dictionary, type InnerList } from "structured-headers";
import { constantTimeEqual } from "./constant-time.ts";
import type { WebhookRequest } from "./http-event.ts";
import { KeyFetchError, type KeyFetcher, type KeyUrlPolicy } from "./key-fetch.ts";
import type { VerifyFailureCode, VerifyResult } from "./verify.ts";

/** Algorithm names as the bundle lists them (cavage spelling; RFC 9421 names are mapped onto them). */
export type HttpSignatureAlgorithm = "rsa-sha256" | "rsa-pss-sha512" | "ecdsa-sha256" | "ecdsa-p384-sha384" | "ed25519";

export interface HttpSignatureVerifyOptions {
  scheme: "httpSignature";
  algorithms: HttpSignatureAlgorithm[];
  /** Components every accepted signature must cover, e.g. ["(request-target)", "date"] or ["@method", "@path"]. */
  components?: string[];
  /** Accepted clock difference for `Date` and `created`. Default 300. */
  toleranceSeconds?: number;
  /** A key from the bundle (PEM), used whatever keyId says. */
  publicKey?: string;
  /** Or: keys fetched from the keyId URL. */
  keyUrl?: KeyUrlPolicy;
}

const DEFAULT_TOLERANCE_SECONDS = 300;

const ALGORITHM_ALIASES: Record<string, HttpSignatureAlgorithm> = {
  "rsa-sha256": "rsa-sha256",
  "rsa-v1_5-sha256": "rsa-sha256",
  "rsa-pss-sha512": "rsa-pss-sha512",
  "ecdsa-sha256": "ecdsa-sha256",
  "ecdsa-p256-sha256": "ecdsa-sha256",
  "ecdsa-p384-sha384": "ecdsa-p384-sha384",
  ed25519: "ed25519",
};

const KEY_TYPE_OF: Record<HttpSignatureAlgorithm, string> = {
  "rsa-sha256": "rsa",
  "rsa-pss-sha512": "rsa",
  "ecdsa-sha256": "ec",
  "ecdsa-p384-sha384": "ec",
  ed25519: "ed25519",
};

class SignatureRefused extends Error {
  constructor(
    readonly code: VerifyFailureCode,
    message: string,
  ) {
    super(message);
  }
}

/** One signature of the delivery, as the sender described it. */
interface ParsedSignature {
  style: "cavage" | "rfc9421";
  /** Covered components, normalised to RFC 9421 spelling ("@request-target", "date"). */
  components: string[];
  keyId?: string;
  alg?: string;
  created?: number;
  expires?: number;
  /** Headers to hand to the library: only this one signature. */
  headers: Record<string, string>;
}

export async function verifyHttpSignature(
  req: WebhookRequest,
  options: HttpSignatureVerifyOptions,
  keys: KeyFetcher,
  now: number = Date.now(),
): Promise<VerifyResult> {
  try {
    const candidates = parseSignatures(req);
    const required = (options.components ?? []).map(normaliseComponent);
    const suitable = candidates.filter((c) => required.every((r) => c.components.includes(r)));
    if (suitable.length === 0) {
      throw new SignatureRefused("malformed_signature", `no signature covers the required components ${required.join(" ")}`);
    }
    const sig = suitable[0];
    checkWindow(req, sig, options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS, now);
    checkDigest(req, sig);
    const ok = await verifyWith(req, sig, options, keys, now, false);
    if (ok) return { ok: true };
    // A key fetched earlier may have been rotated since: ask the key server once more.
    if (options.keyUrl && !options.publicKey && (await verifyWith(req, sig, options, keys, now, true))) return { ok: true };
    return { ok: false, code: "signature_mismatch", reason: "signature does not match the delivery" };
  } catch (err) {
    if (err instanceof SignatureRefused) return { ok: false, code: err.code, reason: err.message };
    if (err instanceof KeyFetchError) {
      return { ok: false, code: err.code === "host_not_allowed" ? "key_not_allowed" : "key_unavailable", reason: err.message };
    }
    // The library throws on malformed input (unknown component, bad structured field).
    return { ok: false, code: "malformed_signature", reason: "the signature headers could not be read" };
  }
}

function parseSignatures(req: WebhookRequest): ParsedSignature[] {
  const h = req.headers;
  if (h["signature-input"] !== undefined) return parseRfc9421(h["signature-input"], h["signature"], h);
  const cavageValue = h["signature"] ?? (/^signature\s+/i.test(h["authorization"] ?? "") ? h["authorization"].replace(/^signature\s+/i, "") : undefined);
  if (cavageValue === undefined || cavageValue.trim() === "") throw new SignatureRefused("missing_signature", "the delivery carries no HTTP message signature");
  return [parseCavage(cavageValue, h)];
}

function parseCavage(value: string, headers: Record<string, string>): ParsedSignature {
  const params = new Map<string, string>();
  for (const match of value.matchAll(/\s*([A-Za-z]+)\s*=\s*(?:"([^"]*)"|([^,]*))\s*(?:,|$)/g)) {
    const name = match[1].toLowerCase();
    if (params.has(name)) throw new SignatureRefused("malformed_signature", `signature parameter ${name} appears twice`);
    params.set(name, match[2] ?? match[3] ?? "");
  }
  if (!params.get("signature")) throw new SignatureRefused("malformed_signature", "the Signature header has no signature parameter");
  // The draft's default when `headers` is absent is `(created)` (v10+) or `date` (older); signers
  // that rely on a default are ambiguous, so the list must be explicit.
  const list = params.get("headers");
  if (list === undefined || list.trim() === "") throw new SignatureRefused("malformed_signature", "the Signature header does not list its signed headers");
  const components = list.trim().toLowerCase().split(/\s+/).map(normaliseComponent);
  const parsed: ParsedSignature = {
    style: "cavage",
    components,
    headers: { ...withoutSignatureHeaders(headers), signature: value },
  };
  if (params.has("keyid")) parsed.keyId = params.get("keyid");
  if (params.has("algorithm")) parsed.alg = params.get("algorithm");
  for (const name of ["created", "expires"] as const) {
    const raw = params.get(name);
    if (raw === undefined) continue;
    if (!/^\d+(\.\d+)?$/.test(raw)) throw new SignatureRefused("invalid_timestamp", `signature parameter ${name} is not epoch seconds`);
    parsed[name] = Number(raw);
  }
  return parsed;
}

function parseRfc9421(inputValue: string, signatureValue: string | undefined, headers: Record<string, string>): ParsedSignature[] {
  if (signatureValue === undefined || signatureValue.trim() === "") throw new SignatureRefused("missing_signature", "Signature-Input without a Signature header");
  let inputs: Dictionary;
  let signatures: Dictionary;
  try {
    inputs = parseDictionary(inputValue);
    signatures = parseDictionary(signatureValue);
  } catch {
    throw new SignatureRefused("malformed_signature", "Signature-Input or Signature is not a structured dictionary");
  }
  const out: ParsedSignature[] = [];
  for (const [label, input] of inputs) {
    const signature = signatures.get(label);
    if (!signature || !isInnerList(input)) continue;
    const [items, params] = input as InnerList;
    const parsed: ParsedSignature = {
      style: "rfc9421",
      // Component parameters (";req", ";sf") stay part of the name: a required plain "@path" is not a ";req" one.
      components: items.map(([name, p]) => [String(name).toLowerCase(), ...[...p.keys()].map((k) => `;${k}`)].join("")),
      headers: {
        ...withoutSignatureHeaders(headers),
        "signature-input": serializeDictionary(new Map([[label, input]])),
        signature: serializeDictionary(new Map([[label, signature]])),
      },
    };
    const keyId = params.get("keyid");
    if (typeof keyId === "string") parsed.keyId = keyId;
    const alg = params.get("alg");
    if (typeof alg === "string") parsed.alg = alg;
    for (const name of ["created", "expires"] as const) {
      const v = params.get(name);
      if (typeof v === "number") parsed[name] = v;
    }
    out.push(parsed);
  }
  if (out.length === 0) throw new SignatureRefused("malformed_signature", "no Signature-Input label has a matching signature");
  return out;
}

function withoutSignatureHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (k !== "signature" && k !== "authorization" && k !== "signature-input") out[k] = v;
  // Authorization may itself be a signed header in other schemes; cavage never signs its own carrier.
  if (headers.authorization !== undefined && !/^signature\s+/i.test(headers.authorization)) out.authorization = headers.authorization;
  return out;
}

/** "(request-target)" -> "@request-target"; header names lower case. */
function normaliseComponent(component: string): string {
  const c = component.trim().toLowerCase();
  const m = /^\((.*)\)$/.exec(c);
  return m ? `@${m[1]}` : c;
}

/**
 * Replay protection: the signature must say when it was made, through a signed `Date` header or
 * a `created` parameter, and that moment must be within the window; `expires` must not be past.
 */
function checkWindow(req: WebhookRequest, sig: ParsedSignature, toleranceSeconds: number, now: number): void {
  const tolerance = toleranceSeconds * 1000;
  let dated = false;
  if (sig.components.includes("date")) {
    const raw = req.headers["date"];
    // Date.parse reads the IMF-fixdate of RFC 9110 (and the obsolete forms it still allows).
    const at = raw === undefined ? NaN : Date.parse(raw);
    if (Number.isNaN(at)) throw new SignatureRefused("invalid_timestamp", "the signed Date header is missing or not an HTTP-date");
    windowCheck(at, now, tolerance, toleranceSeconds);
    dated = true;
  }
  if (sig.created !== undefined) {
    windowCheck(sig.created * 1000, now, tolerance, toleranceSeconds);
    dated = true;
  }
  if (sig.expires !== undefined && sig.expires * 1000 + 1000 < now) throw new SignatureRefused("stale_timestamp", "the signature has expired");
  if (!dated) throw new SignatureRefused("missing_timestamp", "the signature covers neither a Date header nor a created time");
}

function windowCheck(at: number, now: number, tolerance: number, toleranceSeconds: number): void {
  if (now - at > tolerance) throw new SignatureRefused("stale_timestamp", `replayed or stale delivery: signed ${Math.round((now - at) / 1000)}s ago (tolerance ${toleranceSeconds}s)`);
  if (at - now > tolerance) throw new SignatureRefused("future_timestamp", `signature dated ${Math.round((at - now) / 1000)}s in the future (tolerance ${toleranceSeconds}s)`);
}

/**
 * A body is only authenticated through its digest: a delivery with a body must carry `Digest`
 * (RFC 3230: `SHA-256=<base64>`) or `Content-Digest` (RFC 9530: `sha-256=:<base64>:`), the
 * signature must cover it, and it must match the bytes received.
 */
function checkDigest(req: WebhookRequest, sig: ParsedSignature): void {
  const hasBody = req.rawBody.length > 0;
  const contentDigest = req.headers["content-digest"];
  const digest = req.headers["digest"];
  if (!hasBody && contentDigest === undefined && digest === undefined) return;
  let expected: Array<{ alg: string; value: Buffer }>;
  let header: string;
  if (contentDigest !== undefined) {
    header = "content-digest";
    expected = parseContentDigest(contentDigest);
  } else if (digest !== undefined) {
    header = "digest";
    expected = parseLegacyDigest(digest);
  } else {
    throw new SignatureRefused("malformed_signature", "the delivery has a body but no Digest or Content-Digest header");
  }
  if (!sig.components.includes(header)) throw new SignatureRefused("malformed_signature", `the signature does not cover the ${header} header`);
  const known = expected.filter((e) => e.alg === "sha-256" || e.alg === "sha-512");
  if (known.length === 0) throw new SignatureRefused("malformed_signature", `${header} names no sha-256 or sha-512 digest`);
  for (const e of known) {
    const actual = createHash(e.alg === "sha-256" ? "sha256" : "sha512").update(req.rawBody).digest();
    if (!constantTimeEqual(actual, e.value)) throw new SignatureRefused("signature_mismatch", `the body does not match its ${header}`);
  }
}

function parseContentDigest(value: string): Array<{ alg: string; value: Buffer }> {
  try {
    return [...parseDictionary(value)].flatMap(([alg, item]) => (item[0] instanceof ArrayBuffer ? [{ alg: alg.toLowerCase(), value: Buffer.from(item[0]) }] : []));
  } catch {
    throw new SignatureRefused("malformed_signature", "Content-Digest is not a structured dictionary");
  }
}

function parseLegacyDigest(value: string): Array<{ alg: string; value: Buffer }> {
  return value.split(",").flatMap((part) => {
    const eq = part.indexOf("=");
    if (eq < 0) return [];
    return [{ alg: part.slice(0, eq).trim().toLowerCase(), value: Buffer.from(part.slice(eq + 1).trim(), "base64") }];
  });
}

async function verifyWith(
  req: WebhookRequest,
  sig: ParsedSignature,
  options: HttpSignatureVerifyOptions,
  keys: KeyFetcher,
  now: number,
  fresh: boolean,
): Promise<boolean> {
  const key = await keyFor(sig, options, keys, now, fresh);
  const algorithm = algorithmFor(sig, key, options.algorithms);
  const verifier: VerifyingKey = {
    verify: async (data, signature) => verifyBytes(algorithm, key, data, signature),
  };
  const message = {
    method: req.method,
    url: `https://${req.headers.host ?? "localhost"}${req.path}${queryOf(req)}`,
    headers: sig.headers,
  };
  // Time checks were made above against the injected clock; the library's own use the wall clock.
  const config = { keyLookup: async () => verifier, tolerance: Number.POSITIVE_INFINITY };
  const result = sig.style === "cavage" ? await cavage.verifyMessage(config, message) : await httpbis.verifyMessage(config, message);
  return result === true;
}

/** The query as received; payload 1.0 events only keep it decoded, so it is re-encoded there. */
function queryOf(req: WebhookRequest): string {
  const raw = req.rawQuery ?? new URLSearchParams(req.query).toString();
  return raw === "" ? "" : `?${raw}`;
}

async function keyFor(sig: ParsedSignature, options: HttpSignatureVerifyOptions, keys: KeyFetcher, now: number, fresh: boolean): Promise<KeyObject> {
  if (options.publicKey !== undefined) {
    try {
      return createPublicKey(options.publicKey);
    } catch {
      throw new SignatureRefused("misconfigured", "publicKey is not a readable PEM public key");
    }
  }
  if (!options.keyUrl) throw new SignatureRefused("misconfigured", "neither publicKey nor keyUrl is declared");
  if (!sig.keyId) throw new SignatureRefused("malformed_signature", "the signature names no keyId to fetch the key from");
  return keys.get(sig.keyId, options.keyUrl, now, fresh);
}

/** The algorithm to verify with: the one the sender names (if any) must be allowed and fit the key. */
function algorithmFor(sig: ParsedSignature, key: KeyObject, allowed: HttpSignatureAlgorithm[]): HttpSignatureAlgorithm {
  const keyType = key.asymmetricKeyType ?? "unknown";
  const named = sig.alg?.toLowerCase();
  if (named !== undefined && named !== "hs2019") {
    const alg = ALGORITHM_ALIASES[named];
    if (alg === undefined || !allowed.includes(alg)) throw new SignatureRefused("algorithm_not_allowed", "the signature's algorithm is not on webhooks.verify.algorithms");
    if (KEY_TYPE_OF[alg] !== keyType) throw new SignatureRefused("algorithm_not_allowed", `the signature's algorithm does not fit the ${keyType} key`);
    return alg;
  }
  // hs2019 or no algorithm: "derive it from the key" (cavage draft 12, RFC 9421 §3.2).
  const fitting = allowed.filter((a) => KEY_TYPE_OF[a] === keyType);
  if (fitting.length === 0) throw new SignatureRefused("algorithm_not_allowed", `no allowed algorithm fits the ${keyType} key`);
  if (keyType === "ec") {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    const want = curve === "secp384r1" ? "ecdsa-p384-sha384" : "ecdsa-sha256";
    if (!fitting.includes(want)) throw new SignatureRefused("algorithm_not_allowed", "no allowed algorithm fits the key's curve");
    return want;
  }
  return fitting[0];
}

function verifyBytes(algorithm: HttpSignatureAlgorithm, key: KeyObject, data: Buffer, signature: Buffer): boolean {
  const attempt = (fn: () => boolean) => {
    try {
      return fn();
    } catch {
      return false; // a garbled signature makes OpenSSL throw rather than return false
    }
  };
  switch (algorithm) {
    case "ed25519":
      return attempt(() => verifySignature(null, data, key, signature));
    case "rsa-sha256":
      return attempt(() => verifySignature("sha256", data, key, signature));
    case "rsa-pss-sha512":
      return attempt(() => verifySignature("sha512", data, { key, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: 64 }, signature));
    case "ecdsa-sha256":
    case "ecdsa-p384-sha384": {
      const hash = algorithm === "ecdsa-sha256" ? "sha256" : "sha384";
      // RFC 9421 uses raw r||s; cavage senders mostly DER. Accept both.
      return attempt(() => verifySignature(hash, data, { key, dsaEncoding: "ieee-p1363" }, signature)) || attempt(() => verifySignature(hash, data, { key, dsaEncoding: "der" }, signature));
    }
  }
}
