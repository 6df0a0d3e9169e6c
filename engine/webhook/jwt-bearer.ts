/**
 * Deliveries authenticated by a signed bearer token (push services that sign an OIDC token per
 * push, e.g. a message service pushing to an HTTPS endpoint): `Authorization: Bearer <JWT>`,
 * verified with `jose` against the JWKS the bundle declares: signature, algorithm allow-list,
 * issuer, audience, expiry and not-before (with a small clock tolerance), and any claims the
 * bundle pins (e.g. the pushing service account's email). Key rotation: a token whose `kid` is
 * not in the cached set makes jose fetch the set again (at most once per cooldown).
 */
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from "jose";
import type { WebhookRequest } from "./http-event.ts";
import type { VerifyResult } from "./verify.ts";

export interface JwtVerifyOptions {
  scheme: "jwt";
  jwksUrl: string;
  issuer: string[];
  audience: string[];
  algorithms: string[];
  /** Claim name -> the value it must hold. */
  claims?: Record<string, string | boolean>;
  /** Header with the token. Default "Authorization" with prefix "Bearer ". */
  header?: string;
  prefix?: string;
  /** Accepted clock difference for exp/nbf/iat. Default 60. */
  toleranceSeconds?: number;
}

export interface JwksCacheOptions {
  /** Minimum time between two fetches of a key set (rotation). Default 30 s. */
  cooldownMs?: number;
  /** How long a key set is used without asking again. Default 10 min. */
  maxAgeMs?: number;
  /**
   * Key sets given instead of fetched, by URL: for tooling that plays the sender (the fixture
   * runner signs deliveries with a test key and hands its public set here). Never set on Lambda.
   */
  localKeySets?: Record<string, JSONWebKeySet>;
}

/** One remote key set per URL, per container. */
export class JwksCache {
  private readonly sets = new Map<string, JWTVerifyGetKey>();
  constructor(private readonly options: JwksCacheOptions = {}) {}

  get(url: string): JWTVerifyGetKey {
    let set = this.sets.get(url);
    const local = this.options.localKeySets?.[url];
    if (!set && local) {
      set = createLocalJWKSet(local);
      this.sets.set(url, set);
    }
    if (!set) {
      set = createRemoteJWKSet(new URL(url), {
        cooldownDuration: this.options.cooldownMs ?? 30_000,
        cacheMaxAge: this.options.maxAgeMs ?? 600_000,
        timeoutDuration: 800,
      });
      this.sets.set(url, set);
    }
    return set;
  }
}

export async function verifyJwtBearer(req: WebhookRequest, options: JwtVerifyOptions, jwks: JwksCache, now: number = Date.now()): Promise<VerifyResult & { claims?: Record<string, unknown> }> {
  const headerName = (options.header ?? "Authorization").toLowerCase();
  const prefix = options.prefix ?? "Bearer ";
  const value = req.headers[headerName];
  if (value === undefined || value.trim() === "") return { ok: false, code: "missing_signature", reason: `header ${options.header ?? "Authorization"} is missing` };
  if (!value.toLowerCase().startsWith(prefix.toLowerCase())) return { ok: false, code: "malformed_signature", reason: "the header does not carry a bearer token" };
  const token = value.slice(prefix.length).trim();
  try {
    const { payload } = await jwtVerify(token, jwks.get(options.jwksUrl), {
      issuer: options.issuer,
      audience: options.audience,
      algorithms: options.algorithms,
      currentDate: new Date(now),
      clockTolerance: options.toleranceSeconds ?? 60,
      requiredClaims: ["exp"],
    });
    for (const [claim, expected] of Object.entries(options.claims ?? {})) {
      if (payload[claim] !== expected) return { ok: false, code: "invalid_token", reason: `the token's ${claim} claim is not the expected one` };
    }
    return { ok: true, claims: payload as Record<string, unknown> };
  } catch (err) {
    // jose's messages name claims and checks, never the token; its codes say which check failed.
    if (err instanceof errors.JWKSTimeout || (err instanceof Error && /fetch|network|ECONNREFUSED/i.test(err.message) && !(err instanceof errors.JOSEError))) {
      return { ok: false, code: "key_unavailable", reason: "the key set could not be fetched" };
    }
    if (err instanceof errors.JWTExpired) return { ok: false, code: "stale_timestamp", reason: "the token has expired" };
    if (err instanceof errors.JOSEError) return { ok: false, code: "invalid_token", reason: `${err.code}: ${err.message}` };
    return { ok: false, code: "key_unavailable", reason: "the key set could not be fetched" };
  }
}
