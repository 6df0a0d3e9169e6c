/**
 * Webhook signature verification, declared by options from a mapping file rather than coded per
 * vendor. Fails closed: bad options, a missing header or an unparseable value reject the delivery.
 * No reason string ever carries the secret, the expected signature or the received signature.
 */
import { createHmac, createPublicKey, verify as verifySignature, type KeyObject } from "node:crypto";
import { constantTimeEqual, constantTimeEqualString } from "./constant-time.ts";
import type { WebhookRequest } from "./http-event.ts";
import { checkTimestampWindow } from "./timestamp.ts";

/** What the sender signed: the raw body, `<timestamp>.<body>`, or a template over {timestamp} {body} {method} {path}. */
export type SignedContent = "body" | "timestamp.body" | { template: string };

/**
 * "plain": the header holds one or more signatures separated by commas or spaces.
 * "kv": the header holds `key=value` pairs such as `t=1700000000,v1=abc,v1=def`.
 */
export type SignatureFormat = "plain" | "kv";

export interface SignatureHeaderOptions {
  /** Header carrying the signature; matched case-insensitively. */
  header: string;
  encoding: "hex" | "base64";
  /** Stripped from each signature value, e.g. "sha256=". A value without it is not a candidate. */
  prefix?: string;
  signatureFormat?: SignatureFormat;
  /** With signatureFormat "kv": the key whose values are signatures, e.g. "v1". Required for "kv". */
  kvKey?: string;
  /** With signatureFormat "kv": the key holding the delivery timestamp, e.g. "t". */
  kvTimestampKey?: string;
}

export interface ReplayProtectionOptions {
  /** Default "body". */
  signed?: SignedContent;
  /** Header carrying the delivery timestamp (epoch s, epoch ms or ISO date). */
  timestampHeader?: string;
  /** Accepted clock difference in either direction. Default 300. */
  toleranceSeconds?: number;
}

export interface NoVerifyOptions {
  scheme: "none";
}

export interface HmacVerifyOptions extends SignatureHeaderOptions, ReplayProtectionOptions {
  scheme: "hmac";
  algorithm: "sha1" | "sha256" | "sha512";
  secret: string;
  /** How the secret string turns into key bytes. Default "utf8". */
  secretEncoding?: "utf8" | "base64" | "hex";
}

export interface SharedSecretVerifyOptions {
  scheme: "sharedSecret";
  header: string;
  secret: string;
  /** Stripped from the header value before comparing, e.g. "Bearer ". */
  prefix?: string;
}

export interface PublicKeyVerifyOptions extends SignatureHeaderOptions, ReplayProtectionOptions {
  scheme: "publicKey";
  algorithm: "rsa-sha256" | "ecdsa-sha256" | "ed25519";
  /** PEM (SPKI or PKCS#1). */
  publicKey: string;
}

export type VerifyOptions = NoVerifyOptions | HmacVerifyOptions | SharedSecretVerifyOptions | PublicKeyVerifyOptions;

export type VerifyFailureCode =
  | "misconfigured"
  | "missing_signature"
  | "malformed_signature"
  | "signature_mismatch"
  | "missing_timestamp"
  | "invalid_timestamp"
  | "stale_timestamp"
  | "future_timestamp"
  /** HTTP message signatures: the keyId URL's host is not allowed, or its key could not be had. */
  | "key_not_allowed"
  | "key_unavailable"
  | "algorithm_not_allowed"
  /** A delivery whose signature was already accepted once. */
  | "replayed"
  /** Bearer tokens: not a JWT, bad signature, wrong issuer/audience, expired. */
  | "invalid_token";

export type VerifyResult = { ok: true } | { ok: false; code: VerifyFailureCode; reason: string };

const DEFAULT_TOLERANCE_SECONDS = 300;
const TEMPLATE_PLACEHOLDER = /\{(timestamp|body|method|path)\}/g;
const ANY_PLACEHOLDER = /\{([^{}]*)\}/g;

function fail(code: VerifyFailureCode, reason: string): VerifyResult {
  return { ok: false, code, reason };
}

/**
 * Problems with the options, as field descriptions (never values). Empty when usable.
 * The mapping loader can call this at load time; verifyWebhook calls it on every delivery too.
 */
export function validateVerifyOptions(options: VerifyOptions): string[] {
  const problems: string[] = [];
  const o = options as unknown as Record<string, unknown>;
  if (typeof o !== "object" || o === null) return ["options must be an object"];
  const nonEmpty = (field: string) => {
    if (typeof o[field] !== "string" || (o[field] as string) === "") problems.push(`${field} must be a non-empty string`);
  };
  const oneOf = (field: string, allowed: readonly string[], optional = false) => {
    if (optional && o[field] === undefined) return;
    if (!allowed.includes(o[field] as string)) problems.push(`${field} must be one of ${allowed.join(", ")}`);
  };
  switch (o.scheme) {
    case "none":
      return problems;
    case "sharedSecret":
      nonEmpty("header");
      nonEmpty("secret");
      if (o.prefix !== undefined && typeof o.prefix !== "string") problems.push("prefix must be a string");
      return problems;
    case "hmac":
      oneOf("algorithm", ["sha1", "sha256", "sha512"]);
      nonEmpty("secret");
      oneOf("secretEncoding", ["utf8", "base64", "hex"], true);
      break;
    case "publicKey":
      oneOf("algorithm", ["rsa-sha256", "ecdsa-sha256", "ed25519"]);
      nonEmpty("publicKey");
      break;
    default:
      return ["scheme must be one of none, hmac, sharedSecret, publicKey"];
  }
  nonEmpty("header");
  oneOf("encoding", ["hex", "base64"]);
  if (o.prefix !== undefined && typeof o.prefix !== "string") problems.push("prefix must be a string");
  oneOf("signatureFormat", ["plain", "kv"], true);
  if (o.signatureFormat === "kv") nonEmpty("kvKey");
  if (o.kvTimestampKey !== undefined && o.signatureFormat !== "kv") problems.push("kvTimestampKey needs signatureFormat kv");
  if (o.timestampHeader !== undefined) nonEmpty("timestampHeader");
  if (o.toleranceSeconds !== undefined && !(typeof o.toleranceSeconds === "number" && o.toleranceSeconds > 0 && Number.isFinite(o.toleranceSeconds))) {
    problems.push("toleranceSeconds must be a positive number");
  }
  const signed = o.signed;
  const hasTimestampSource = o.timestampHeader !== undefined || o.kvTimestampKey !== undefined;
  if (signed === undefined || signed === "body") {
    // nothing more to check
  } else if (signed === "timestamp.body") {
    if (!hasTimestampSource) problems.push("signed timestamp.body needs timestampHeader or kvTimestampKey");
  } else if (typeof signed === "object" && signed !== null && typeof (signed as { template?: unknown }).template === "string") {
    const template = (signed as { template: string }).template;
    for (const match of template.matchAll(ANY_PLACEHOLDER)) {
      if (!["timestamp", "body", "method", "path"].includes(match[1])) problems.push(`signed template has unknown placeholder {${match[1]}}`);
    }
    if (template.includes("{timestamp}") && !hasTimestampSource) problems.push("signed template uses {timestamp} but no timestampHeader or kvTimestampKey is set");
  } else {
    problems.push('signed must be "body", "timestamp.body" or { template }');
  }
  return problems;
}

export function verifyWebhook(req: WebhookRequest, options: VerifyOptions, now: number = Date.now()): VerifyResult {
  const problems = validateVerifyOptions(options);
  if (problems.length > 0) return fail("misconfigured", `webhook verification options are invalid: ${problems.join("; ")}`);
  switch (options.scheme) {
    case "none":
      return { ok: true };
    case "sharedSecret":
      return verifySharedSecret(req, options);
    case "hmac":
    case "publicKey":
      return verifySigned(req, options, now);
  }
}

function verifySharedSecret(req: WebhookRequest, options: SharedSecretVerifyOptions): VerifyResult {
  const value = req.headers[options.header.toLowerCase()];
  if (value === undefined || value === "") return fail("missing_signature", `header ${options.header} is missing`);
  const prefix = options.prefix ?? "";
  if (!value.toLowerCase().startsWith(prefix.toLowerCase())) {
    return fail("malformed_signature", `header ${options.header} does not start with the expected prefix`);
  }
  if (!constantTimeEqualString(options.secret, value.slice(prefix.length).trim())) {
    return fail("signature_mismatch", `header ${options.header} does not carry the shared secret`);
  }
  return { ok: true };
}

function verifySigned(req: WebhookRequest, options: HmacVerifyOptions | PublicKeyVerifyOptions, now: number): VerifyResult {
  const headerValue = req.headers[options.header.toLowerCase()];
  if (headerValue === undefined || headerValue.trim() === "") return fail("missing_signature", `signature header ${options.header} is missing`);

  const parsed = parseSignatureHeader(headerValue, options);
  if (parsed.signatures.length === 0) {
    return fail("malformed_signature", `signature header ${options.header} holds no ${options.encoding} signature in the expected format`);
  }

  let timestamp: string | undefined;
  if (options.kvTimestampKey !== undefined) {
    timestamp = parsed.timestamp;
    if (timestamp === undefined) return fail("missing_timestamp", `signature header ${options.header} has no ${options.kvTimestampKey} timestamp`);
  } else if (options.timestampHeader !== undefined) {
    timestamp = req.headers[options.timestampHeader.toLowerCase()];
    if (timestamp === undefined || timestamp.trim() === "") return fail("missing_timestamp", `timestamp header ${options.timestampHeader} is missing`);
  }
  if (timestamp !== undefined) {
    const window = checkTimestampWindow(timestamp, options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS, now);
    if (!window.ok) return fail(window.code, window.reason);
  }

  const content = signedContent(req, options.signed ?? "body", timestamp ?? "");
  if (options.scheme === "hmac") {
    const expected = createHmac(options.algorithm, Buffer.from(options.secret, options.secretEncoding ?? "utf8")).update(content).digest();
    // Every candidate is compared, so timing does not reveal which one (if any) matched.
    let matched = false;
    for (const candidate of parsed.signatures) matched = constantTimeEqual(expected, candidate) || matched;
    return matched ? { ok: true } : fail("signature_mismatch", "signature does not match the delivery");
  }
  return verifyWithPublicKey(options, content, parsed.signatures);
}

function verifyWithPublicKey(options: PublicKeyVerifyOptions, content: Buffer, signatures: Buffer[]): VerifyResult {
  let key: KeyObject;
  try {
    key = createPublicKey(options.publicKey);
  } catch {
    return fail("misconfigured", "publicKey is not a readable PEM public key");
  }
  const expectedType = { "rsa-sha256": "rsa", "ecdsa-sha256": "ec", ed25519: "ed25519" }[options.algorithm];
  if (key.asymmetricKeyType !== expectedType) {
    return fail("misconfigured", `publicKey is a ${key.asymmetricKeyType ?? "unknown"} key but algorithm is ${options.algorithm}`);
  }
  const attempts: Array<() => boolean> = [];
  for (const signature of signatures) {
    if (options.algorithm === "ed25519") attempts.push(() => verifySignature(null, content, key, signature));
    else if (options.algorithm === "rsa-sha256") attempts.push(() => verifySignature("sha256", content, key, signature));
    else {
      // Senders use either DER or raw r||s (IEEE P1363, as in JWS); accept both.
      attempts.push(() => verifySignature("sha256", content, { key, dsaEncoding: "der" }, signature));
      attempts.push(() => verifySignature("sha256", content, { key, dsaEncoding: "ieee-p1363" }, signature));
    }
  }
  const matched = attempts.some((attempt) => {
    try {
      return attempt();
    } catch {
      return false; // a garbled signature makes OpenSSL throw rather than return false
    }
  });
  return matched ? { ok: true } : fail("signature_mismatch", "signature does not match the delivery");
}

interface ParsedSignatureHeader {
  signatures: Buffer[];
  timestamp?: string;
}

function parseSignatureHeader(value: string, options: SignatureHeaderOptions): ParsedSignatureHeader {
  let rawSignatures: string[];
  let timestamp: string | undefined;
  if (options.signatureFormat === "kv") {
    rawSignatures = [];
    for (const part of value.split(",")) {
      const eq = part.indexOf("=");
      if (eq < 0) continue;
      const key = part.slice(0, eq).trim();
      const item = part.slice(eq + 1).trim();
      if (key === options.kvKey) rawSignatures.push(item);
      else if (options.kvTimestampKey !== undefined && key === options.kvTimestampKey && timestamp === undefined) timestamp = item;
    }
  } else {
    rawSignatures = splitPlain(value, options.prefix);
  }
  const signatures: Buffer[] = [];
  for (const raw of rawSignatures) {
    const stripped = stripPrefix(raw, options.prefix);
    if (stripped === undefined) continue;
    const decoded = decodeSignature(stripped, options.encoding);
    if (decoded !== undefined) signatures.push(decoded);
  }
  return { signatures, timestamp };
}

/** A prefix containing a separator (e.g. "Signature ") is taken off the whole value before splitting. */
function splitPlain(value: string, prefix: string | undefined): string[] {
  let text = value.trim();
  if (prefix !== undefined && /[\s,]/.test(prefix)) {
    if (!text.toLowerCase().startsWith(prefix.toLowerCase())) return [];
    text = text.slice(prefix.length);
    return text.split(/[\s,]+/).filter((s) => s !== "").map((s) => prefix + s);
  }
  return text.split(/[\s,]+/).filter((s) => s !== "");
}

function stripPrefix(value: string, prefix: string | undefined): string | undefined {
  if (prefix === undefined || prefix === "") return value;
  return value.toLowerCase().startsWith(prefix.toLowerCase()) ? value.slice(prefix.length) : undefined;
}

function decodeSignature(value: string, encoding: "hex" | "base64"): Buffer | undefined {
  if (encoding === "hex") {
    return /^(?:[0-9a-fA-F]{2})+$/.test(value) ? Buffer.from(value, "hex") : undefined;
  }
  // Standard and URL-safe alphabets both appear in the wild; Buffer decodes either.
  return /^[A-Za-z0-9+/_-]+={0,2}$/.test(value) ? Buffer.from(value, "base64") : undefined;
}

/** Built from bytes so a non-UTF-8 body is signed exactly as received. */
function signedContent(req: WebhookRequest, signed: SignedContent, timestamp: string): Buffer {
  const template = signed === "body" ? "{body}" : signed === "timestamp.body" ? "{timestamp}.{body}" : signed.template;
  const parts: Buffer[] = [];
  let last = 0;
  for (const match of template.matchAll(TEMPLATE_PLACEHOLDER)) {
    const index = match.index ?? 0;
    parts.push(Buffer.from(template.slice(last, index), "utf8"));
    const name = match[1];
    if (name === "body") parts.push(req.rawBody);
    else if (name === "timestamp") parts.push(Buffer.from(timestamp, "utf8"));
    else if (name === "method") parts.push(Buffer.from(req.method, "utf8"));
    else parts.push(Buffer.from(req.path, "utf8"));
    last = index + match[0].length;
  }
  parts.push(Buffer.from(template.slice(last), "utf8"));
  return Buffer.concat(parts);
}
