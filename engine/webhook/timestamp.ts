/**
 * Delivery timestamps as vendors send them: epoch seconds, epoch milliseconds or ISO 8601.
 * Epoch units are told apart by magnitude: 1e11 seconds is the year 5138, 1e11 ms is 1973,
 * so anything above it is milliseconds.
 */
const MILLISECONDS_THRESHOLD = 1e11;

/** Epoch milliseconds, or undefined when the value is not a recognizable timestamp. */
export function parseDeliveryTimestamp(value: string): number | undefined {
  const text = value.trim();
  if (text === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) {
    const n = Number(text);
    if (!Number.isFinite(n)) return undefined;
    return n > MILLISECONDS_THRESHOLD ? n : n * 1000;
  }
  // Only date-shaped strings go to Date.parse, which otherwise accepts odd inputs like "1".
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

export type TimestampCheck =
  | { ok: true }
  | { ok: false; code: "invalid_timestamp" | "stale_timestamp" | "future_timestamp"; reason: string };

/** Rejects deliveries outside the replay window on either side of `now`. */
export function checkTimestampWindow(value: string, toleranceSeconds: number, now: number): TimestampCheck {
  const at = parseDeliveryTimestamp(value);
  if (at === undefined) {
    return { ok: false, code: "invalid_timestamp", reason: "delivery timestamp is not epoch seconds, epoch milliseconds or an ISO date" };
  }
  const skewSeconds = Math.round((now - at) / 1000);
  if (Math.abs(now - at) <= toleranceSeconds * 1000) return { ok: true };
  if (skewSeconds > 0) {
    return {
      ok: false,
      code: "stale_timestamp",
      reason: `replayed or stale delivery: timestamp is ${skewSeconds}s in the past (tolerance ${toleranceSeconds}s)`,
    };
  }
  return {
    ok: false,
    code: "future_timestamp",
    reason: `replayed or stale delivery: timestamp is ${-skewSeconds}s in the future (tolerance ${toleranceSeconds}s)`,
  };
}
