/**
 * Public keys fetched from the URL a signed delivery names (`keyId`), for senders that publish
 * their signing keys instead of handing them out once. Only hosts on the bundle's allow-list are
 * ever contacted (anyone can put any URL in a header), over https except on loopback, with a
 * short timeout so the fetch fits the delivery's budget. Keys are cached per URL with a TTL;
 * failures are not cached beyond a short cooldown, so a rotated or briefly unavailable key
 * server recovers on its own.
 *
 * The document may be a PEM public key, a JWK, a JWKS (the key whose `kid` is the URL's fragment
 * or the keyId, or the only key), or JSON holding a PEM at a declared dot path (e.g.
 * `publicKey.publicKeyPem` in an actor document).
 */
import { createPublicKey, type KeyObject, type JsonWebKey } from "node:crypto";
import { getAtPath } from "./dot-path.ts";

export class KeyFetchError extends Error {
  constructor(
    readonly code: "host_not_allowed" | "fetch_failed" | "unreadable_key",
    message: string,
  ) {
    super(message);
    this.name = "KeyFetchError";
  }
}

export interface KeyUrlPolicy {
  /** Host names (exact, lower case) keys may be fetched from. */
  allowedHosts: string[];
  /** How long a fetched key is reused. Default 3600. */
  ttlSeconds?: number;
  /** Dot path of a PEM inside a JSON document. */
  pemPath?: string;
  /** Origin a keyId that is a path is resolved against (senders that name keys by path). */
  baseUrl?: string;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);
const FETCH_TIMEOUT_MS = 800;
const FAILURE_COOLDOWN_MS = 30_000;
const MAX_KEY_DOCUMENT_BYTES = 64 * 1024;

/** The URL when it may be fetched under the policy; a KeyFetchError saying why not otherwise. */
export function allowedKeyUrl(keyId: string, policy: KeyUrlPolicy): URL {
  let url: URL;
  try {
    // A path keyId joins the declared origin as text ("/pl/a" under "https://h/keys" is "https://h/keys/pl/a"), never
    // as a relative reference: "//evil.example/x" must not become another host. The allow-list is checked after.
    url = policy.baseUrl !== undefined && keyId.startsWith("/") ? new URL(policy.baseUrl.replace(/\/+$/, "") + keyId) : new URL(keyId);
  } catch {
    throw new KeyFetchError("host_not_allowed", policy.baseUrl !== undefined ? "keyId is neither a path nor a URL" : "keyId is not a URL");
  }
  const host = url.hostname.toLowerCase();
  if (!policy.allowedHosts.map((h) => h.toLowerCase()).includes(host)) {
    throw new KeyFetchError("host_not_allowed", "keyId names a host that is not on webhooks.verify.keyUrl.allowedHosts");
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && LOOPBACK.has(host))) {
    throw new KeyFetchError("host_not_allowed", "keys are fetched over https only");
  }
  if (url.username || url.password) throw new KeyFetchError("host_not_allowed", "keyId URL carries credentials");
  return url;
}

interface CacheEntry {
  at: number;
  key?: Promise<KeyObject>;
  failedAt?: number;
}

export class KeyFetcher {
  private readonly cache = new Map<string, CacheEntry>();

  constructor(private readonly fetchImpl: typeof fetch = (...args) => fetch(...args)) {}

  /**
   * The key at `keyId`. `fresh` skips a cached copy older than the cooldown (a signature that
   * fails with a cached key may have been made with a rotated one).
   */
  async get(keyId: string, policy: KeyUrlPolicy, now: number, fresh = false): Promise<KeyObject> {
    const url = allowedKeyUrl(keyId, policy);
    const cacheKey = url.href;
    const ttlMs = (policy.ttlSeconds ?? 3600) * 1000;
    const hit = this.cache.get(cacheKey);
    if (hit?.failedAt !== undefined && now - hit.failedAt < FAILURE_COOLDOWN_MS) {
      throw new KeyFetchError("fetch_failed", "the key server failed recently; not asked again yet");
    }
    if (hit?.key && now - hit.at < ttlMs && !(fresh && now - hit.at >= FAILURE_COOLDOWN_MS)) return hit.key;
    const key = this.load(url, keyId, policy);
    this.cache.set(cacheKey, { at: now, key });
    key.catch(() => this.cache.set(cacheKey, { at: now, failedAt: now }));
    return key;
  }

  private async load(url: URL, keyId: string, policy: KeyUrlPolicy): Promise<KeyObject> {
    let text: string;
    try {
      const res = await this.fetchImpl(url, {
        headers: { accept: "application/json, application/jwk-set+json, application/x-pem-file, text/plain" },
        redirect: "error", // a redirect could lead off the allow-list
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      });
      if (!res.ok) throw new KeyFetchError("fetch_failed", `the key server answered ${res.status}`);
      text = await res.text();
    } catch (err) {
      if (err instanceof KeyFetchError) throw err;
      throw new KeyFetchError("fetch_failed", "the key server could not be reached");
    }
    if (text.length > MAX_KEY_DOCUMENT_BYTES) throw new KeyFetchError("unreadable_key", "the key document is too large");
    return parseKeyDocument(text, url.hash.slice(1) || keyId, policy.pemPath);
  }
}

/** A public key out of a PEM, JWK, JWKS or JSON-with-PEM document. */
export function parseKeyDocument(text: string, kid: string, pemPath?: string): KeyObject {
  const trimmed = text.trim();
  try {
    if (trimmed.startsWith("-----BEGIN")) return publicOnly(createPublicKey(trimmed));
    const doc = JSON.parse(trimmed) as unknown;
    if (pemPath !== undefined) {
      const pem = getAtPath(doc, pemPath);
      if (typeof pem === "string") return publicOnly(createPublicKey(pem));
      throw new KeyFetchError("unreadable_key", `the key document has no PEM at ${pemPath}`);
    }
    const record = doc as { keys?: unknown; kty?: unknown };
    if (Array.isArray(record.keys)) {
      const keys = record.keys as Array<JsonWebKey & { kid?: string }>;
      const chosen = keys.find((k) => k.kid === kid) ?? (keys.length === 1 ? keys[0] : undefined);
      if (!chosen) throw new KeyFetchError("unreadable_key", "the key set has no key with the delivery's key id");
      return publicOnly(createPublicKey({ key: chosen, format: "jwk" }));
    }
    if (typeof record.kty === "string") return publicOnly(createPublicKey({ key: doc as JsonWebKey, format: "jwk" }));
  } catch (err) {
    if (err instanceof KeyFetchError) throw err;
    throw new KeyFetchError("unreadable_key", "the key document is not a readable public key");
  }
  throw new KeyFetchError("unreadable_key", "the key document is neither PEM, JWK nor JWKS");
}

function publicOnly(key: KeyObject): KeyObject {
  if (key.type !== "public") throw new KeyFetchError("unreadable_key", "the key document is not a public key");
  return key;
}
