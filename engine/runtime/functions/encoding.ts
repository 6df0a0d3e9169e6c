/**
 * Lookup and encoding helpers for mappings: enum tables, JWT claims (e.g. a user id inside a
 * vendor access token), base64 for webhook envelopes and sha256 for stable ids.
 */
import { createHash } from "node:crypto";
import { describe } from "./numeric.ts";

type Scalar = string | number | boolean;

function assertMapObject(map: unknown, fnName: string): asserts map is Record<string, unknown> {
  if (map === null || typeof map !== "object" || Array.isArray(map)) {
    throw new Error(`$${fnName}: the map must be an object like {"heat": 4, "off": 0}, got ${describe(map)}`);
  }
}

/**
 * $enumMap(value, map, default?): map[String(value)], or `default` when the key is absent.
 * A missing value yields undefined (not the default), so a missing vendor field stays missing.
 */
export function enumMap(value: unknown, map: unknown, fallback?: unknown): unknown {
  assertMapObject(map, "enumMap");
  if (value === undefined || value === null) return undefined;
  const key = String(value as Scalar);
  return Object.hasOwn(map, key) ? map[key] : fallback;
}

/**
 * $enumReverse(value, map, default?): the first key whose value equals `value` (numbers and
 * numeric strings compare equal, so 4 finds "heat" in {"heat": 4} and so does "4").
 */
export function enumReverse(value: unknown, map: unknown, fallback?: unknown): unknown {
  assertMapObject(map, "enumReverse");
  if (value === undefined || value === null) return undefined;
  for (const [key, candidate] of Object.entries(map)) {
    if (candidate === value || (isScalar(candidate) && isScalar(value) && String(candidate) === String(value))) return key;
  }
  return fallback;
}

function isScalar(v: unknown): v is Scalar {
  return typeof v === "string" || typeof v === "number" || typeof v === "boolean";
}

/**
 * $jwtClaim(token, claim): a claim from the JWT payload, WITHOUT verifying the signature (only
 * for tokens the connector itself received from the vendor's token endpoint). Undefined when
 * the token is not a JWT or lacks the claim. A "Bearer " prefix is tolerated.
 */
export function jwtClaim(token: unknown, claim: unknown): unknown {
  if (typeof claim !== "string" || claim === "") throw new Error("$jwtClaim: the claim name must be a non-empty string");
  const payload = jwtClaims(token);
  return payload && Object.hasOwn(payload, claim) ? payload[claim] : undefined;
}

/**
 * $jwtClaims(token): every claim of the JWT payload as an object, decoded only (MI obtained the
 * token from the vendor; the connector does not verify it). Undefined when it is not a JWT.
 */
export function jwtClaims(token: unknown): Record<string, unknown> | undefined {
  if (typeof token !== "string") return undefined;
  const parts = token.replace(/^Bearer\s+/i, "").split(".");
  if (parts.length !== 3 || !/^[A-Za-z0-9_-]+$/.test(parts[1])) return undefined;
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
  if (payload === null || typeof payload !== "object" || Array.isArray(payload)) return undefined;
  return payload as Record<string, unknown>;
}

const BASE64 = /^(?:[A-Za-z0-9+/]*={0,2}|[A-Za-z0-9_-]*)$/;

/** $base64Decode(s): UTF-8 text of standard or URL-safe base64 (padding optional). */
export function base64Decode(s: unknown): string | undefined {
  if (s === undefined || s === null) return undefined;
  if (typeof s !== "string") throw new Error(`$base64Decode: expected a string, got ${describe(s)}`);
  const compact = s.replace(/\s+/g, "");
  if (!BASE64.test(compact) || compact.replace(/=+$/, "").length % 4 === 1) {
    throw new Error("$base64Decode: input is not valid base64");
  }
  return Buffer.from(compact, /[-_]/.test(compact) ? "base64url" : "base64").toString("utf8");
}

/** $base64Encode(s): standard base64 of the UTF-8 bytes of s. */
export function base64Encode(s: unknown): string | undefined {
  if (s === undefined || s === null) return undefined;
  if (typeof s !== "string" && typeof s !== "number" && typeof s !== "boolean") {
    throw new Error(`$base64Encode: expected a string, got ${describe(s)}`);
  }
  return Buffer.from(String(s), "utf8").toString("base64");
}

/** $sha256(s): lower-case hex SHA-256 of the UTF-8 bytes of s. */
export function sha256(s: unknown): string | undefined {
  if (s === undefined || s === null) return undefined;
  if (typeof s !== "string" && typeof s !== "number" && typeof s !== "boolean") {
    throw new Error(`$sha256: expected a string, got ${describe(s)}`);
  }
  return createHash("sha256").update(String(s), "utf8").digest("hex");
}
