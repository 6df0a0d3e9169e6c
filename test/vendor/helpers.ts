import type { VendorCallSpec, RetryPolicy } from "../../engine/vendor/types.ts";

export function spec(baseUrl: string, overrides: Partial<VendorCallSpec> = {}): VendorCallSpec {
  return {
    method: "GET",
    baseUrl,
    path: "/devices",
    pathParams: {},
    query: {},
    headers: {},
    auth: { kind: "none" },
    timeoutMs: 2000,
    ...overrides,
  };
}

export const NO_RETRY: RetryPolicy = { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0, retryOn: [] };
export const RETRY_3: RetryPolicy = { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1000, retryOn: [429, 500, 502, 503, 504] };

/** A sleep that records the requested delays and returns at once. */
export function recordingSleep(): { delays: number[]; sleep: (ms: number) => Promise<void> } {
  const delays: number[] = [];
  return { delays, sleep: async (ms) => void delays.push(ms) };
}
