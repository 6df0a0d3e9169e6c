/**
 * Vendor quotas declared in the bundle (`api.quota` for every call, `quota` on one call): requests
 * per minute and requests open at once, counted per user (the credentials a call is made with) or
 * for the whole connector, across invocations and containers through the state store.
 *
 *  - requests per minute: a sliding-window estimate over two fixed one-minute counters (the
 *    previous minute's count weighted by how much of it still overlaps the last 60 s, plus this
 *    minute's), each an atomic `increment` in the store; a request that would exceed the limit
 *    takes its count back and is refused;
 *  - open requests: N lease slots, each taken with `putIfAbsent` and released when the call ends;
 *    a container that dies holding one loses it only until the lease expires.
 *
 * A refused call is never sent: it fails with VendorError kind "quota" and the time after which
 * it may fit, and the operation defers the work through the job dispatcher (command hand-off,
 * discovery rest) instead of sending it.
 */
import { createHash } from "node:crypto";
import type { CompiledQuota } from "../mapping/compiled.ts";
import type { StateStore } from "../store/store.ts";
import { VendorError } from "../vendor/types.ts";

const MINUTE_MS = 60_000;
/** A refused call is retried no sooner than this (the estimate may free earlier, but not much). */
export const MIN_QUOTA_RETRY_MS = 1000;

/** Whose requests a quota counts: per user, the credentials' digest; per connector, one shared count. */
export function quotaSubject(quota: CompiledQuota, credentials: string): string {
  if (quota.per === "connector") return "connector";
  return createHash("sha256").update(credentials).digest("base64url").slice(0, 22);
}

export interface QuotaLease {
  release(): Promise<void>;
}

export class QuotaGate {
  constructor(
    private readonly store: StateStore,
    /** Namespace of the counters: the bundle's vendor id. */
    private readonly namespace: string,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Takes one request of every quota in `quotas` for `credentials`, or throws VendorError "quota"
   * (nothing taken) when one of them is used up. `leaseSeconds`: how long an open-request slot is
   * held if its release never comes.
   */
  async acquire(quotas: CompiledQuota[], credentials: string, leaseSeconds: number): Promise<QuotaLease> {
    const held: QuotaLease[] = [];
    try {
      for (const q of quotas) {
        const subject = quotaSubject(q, credentials);
        if (q.openRequests !== undefined) held.push(await this.openSlot(q, subject, leaseSeconds));
        if (q.requestsPerMinute !== undefined) await this.rate(q, subject);
      }
    } catch (err) {
      await releaseAll(held);
      throw err;
    }
    return { release: () => releaseAll(held) };
  }

  /**
   * Counts `used` requests of `quota` for `credentials` in the current minute, as if they had
   * been made: how a fixture starts from a store where the quota is (nearly) used up, without
   * making the calls. Only the requests-per-minute count; the counter keys stay in this module.
   */
  async presetUse(quota: CompiledQuota, credentials: string, used: number): Promise<void> {
    if (quota.requestsPerMinute === undefined || used <= 0) return;
    const window = Math.floor(this.now() / MINUTE_MS);
    await this.store.increment(this.rateKey(quota, quotaSubject(quota, credentials), window), used, 3 * 60);
  }

  private rateKey(q: CompiledQuota, subject: string, window: number): string {
    return `quota-rate:${this.namespace}:${q.name}:${subject}:${window}`;
  }

  private async rate(q: CompiledQuota, subject: string): Promise<void> {
    const limit = q.requestsPerMinute!;
    const now = this.now();
    const window = Math.floor(now / MINUTE_MS);
    const key = (w: number) => this.rateKey(q, subject, w);
    // Kept for two windows: the previous minute's count weighs on this one.
    const current = await this.store.increment(key(window), 1, 3 * 60);
    const previous = (await this.store.get<number>(key(window - 1))) ?? 0;
    const elapsed = (now % MINUTE_MS) / MINUTE_MS;
    const estimate = previous * (1 - elapsed) + current;
    if (estimate <= limit) return;
    await this.store.increment(key(window), -1, 3 * 60);
    // When the estimate (with this request) fits: the previous minute must weigh less, or, if this
    // minute alone is full, the next minute must begin and this one weigh less in turn.
    let waitMs: number;
    if (current <= limit && previous > 0) {
      const needed = 1 - (limit - current) / previous;
      waitMs = needed * MINUTE_MS - (now % MINUTE_MS);
    } else {
      waitMs = MINUTE_MS - (now % MINUTE_MS) + Math.max(0, 1 - (limit - 1) / current) * MINUTE_MS;
    }
    throw quotaError(`${q.name}: ${limit} requests per minute used up`, Math.max(MIN_QUOTA_RETRY_MS, Math.ceil(waitMs)));
  }

  private async openSlot(q: CompiledQuota, subject: string, leaseSeconds: number): Promise<QuotaLease> {
    const n = q.openRequests!;
    const start = Math.floor(Math.random() * n);
    for (let k = 0; k < n; k++) {
      const key = `quota-open:${this.namespace}:${q.name}:${subject}:${(start + k) % n}`;
      if (await this.store.putIfAbsent(key, { at: this.now() }, Math.max(1, Math.ceil(leaseSeconds)))) {
        return { release: () => this.store.delete(key) };
      }
    }
    throw quotaError(`${q.name}: ${n} open requests at once used up`, MIN_QUOTA_RETRY_MS);
  }
}

function quotaError(message: string, retryAfterMs: number): VendorError {
  // The message names the quota (a name from the bundle) only: it may reach MI as is.
  return new VendorError(`vendor quota ${message}`, { kind: "quota", retryAfterMs, shareable: true });
}

async function releaseAll(leases: QuotaLease[]): Promise<void> {
  for (const l of leases.splice(0)) await l.release().catch(() => undefined);
}
