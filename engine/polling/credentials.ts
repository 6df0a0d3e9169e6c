/**
 * The last credential MI sent for each user, kept so a scheduled poll can read that user's devices
 * (MI's requests are the only place a connector ever sees a credential). The trade-off: a token
 * lives in the state store between MI's requests. What bounds it:
 *  - encrypted by the engine (AES-256-GCM under C2C_ACCOUNT_KEY, engine/account/sealed.ts), the
 *    store key as authenticated data, on top of the table's encryption at rest;
 *  - OAuth access tokens are kept at most `polling.credentialTtlSeconds` after MI last sent them,
 *    and never past their own `exp` when they are JWTs (record TTL and a check on every read);
 *  - deleted when the vendor rejects the token (401/403) or the user is deactivated;
 *  - General Authorization: only the secret's ARN and version are kept, never its value.
 */
import { jwtClaims } from "../runtime/functions/encoding.ts";
import { open, seal } from "../account/sealed.ts";
import type { AuthHeader } from "../mi/protocol.ts";
import { keys } from "../operations/keys.ts";
import type { StateStore } from "../store/store.ts";

export interface PollCredential {
  auth: AuthHeader;
  /** The MI connector id the user's requests named (DEVICE_EVENTs carry it). */
  connectorId: string;
  /** Epoch ms after which the credential must not be used (OAuth); absent for secret references. */
  expiresAt?: number;
}

/** General Authorization references live as long as the user is active (renewed by every request). */
const SECRET_REFERENCE_TTL_SECONDS = 400 * 24 * 3600;

export class PollCredentials {
  constructor(
    private readonly store: StateStore,
    private readonly key: Buffer,
    private readonly ttlSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records the credential of an MI request; OAuth tokens with the shorter of the TTL and their own expiry. */
  async remember(userId: string, auth: AuthHeader, connectorId: string): Promise<void> {
    const now = this.now();
    const record: PollCredential = { auth, connectorId };
    let ttl = SECRET_REFERENCE_TTL_SECONDS;
    if (auth.type === "OAuth2.0") {
      const expiresAt = Math.min(now + this.ttlSeconds * 1000, jwtExpiry(auth.token) ?? Infinity);
      if (expiresAt <= now) return this.forget(userId);
      record.expiresAt = expiresAt;
      ttl = Math.ceil((expiresAt - now) / 1000);
    }
    const key = keys.pollCredential(userId);
    await this.store.put(key, seal(this.key, key, record), ttl);
  }

  /** The credential, or why there is none: never one past its expiry (an expired one is deleted). */
  async get(userId: string): Promise<{ credential: PollCredential } | { missing: "none" | "expired" | "unreadable" }> {
    const key = keys.pollCredential(userId);
    const sealed = await this.store.get(key);
    if (sealed === undefined) return { missing: "none" };
    const record = open(this.key, key, sealed) as PollCredential | undefined;
    if (!record || typeof record !== "object" || !record.auth) return { missing: "unreadable" };
    if (record.expiresAt !== undefined && record.expiresAt <= this.now()) {
      await this.forget(userId);
      return { missing: "expired" };
    }
    return { credential: record };
  }

  async forget(userId: string): Promise<void> {
    await this.store.delete(keys.pollCredential(userId));
  }
}

/** The `exp` of a JWT access token in epoch ms; undefined for opaque tokens. */
function jwtExpiry(token: string): number | undefined {
  if (token.split(".").length !== 3) return undefined;
  // The engine's own decoder (as $jwtClaims): jose stays in the lazily loaded webhook chunk.
  const exp = jwtClaims(token)?.exp;
  return typeof exp === "number" ? exp * 1000 : undefined;
}
