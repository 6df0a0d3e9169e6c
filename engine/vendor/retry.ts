/** Backoff arithmetic for vendor retries. */
import type { RetryPolicy } from "./types.ts";

/**
 * Full-jitter exponential backoff: a random wait below min(maxDelay, base * 2^(attempt-1)), so
 * many connectors retrying at once spread out instead of hitting the vendor in waves.
 * `attempt` is the number of the attempt that just failed (1-based).
 */
export function backoffDelayMs(attempt: number, policy: RetryPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.max(0, Math.floor(random() * Math.max(0, ceiling)));
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfterMs(value: string | null | undefined, now: () => number = Date.now): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now());
}

export function normalizeRetryPolicy(policy: RetryPolicy): RetryPolicy {
  const int = (n: unknown, fallback: number) => (typeof n === "number" && Number.isFinite(n) && n >= 0 ? n : fallback);
  return {
    maxAttempts: Math.max(1, Math.floor(int(policy.maxAttempts, 1))),
    baseDelayMs: int(policy.baseDelayMs, 0),
    maxDelayMs: int(policy.maxDelayMs, 0),
    retryOn: Array.isArray(policy.retryOn) ? policy.retryOn.filter((s) => Number.isInteger(s)) : [],
  };
}
