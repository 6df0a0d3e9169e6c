import { describe, expect, it } from "vitest";
import { checkTimestampWindow, parseDeliveryTimestamp } from "../../engine/webhook/timestamp.ts";

describe("parseDeliveryTimestamp", () => {
  it("tells epoch seconds from milliseconds by magnitude and reads ISO dates", () => {
    expect(parseDeliveryTimestamp("1710000000")).toBe(1_710_000_000_000);
    expect(parseDeliveryTimestamp("1710000000.5")).toBe(1_710_000_000_500);
    expect(parseDeliveryTimestamp("1710000000123")).toBe(1_710_000_000_123);
    expect(parseDeliveryTimestamp(" 2024-03-09T16:00:00Z ")).toBe(Date.UTC(2024, 2, 9, 16));
    expect(parseDeliveryTimestamp("2024-03-09T17:00:00+01:00")).toBe(Date.UTC(2024, 2, 9, 16));
  });

  it("rejects what is not a timestamp", () => {
    for (const value of ["", "abc", "-5", "1e9", "March 9", "2024-13-45T99:00:00Z"]) {
      expect(parseDeliveryTimestamp(value)).toBeUndefined();
    }
  });
});

describe("checkTimestampWindow", () => {
  const now = 1_710_000_000_000;
  it("accepts the window edges and rejects beyond them on either side", () => {
    expect(checkTimestampWindow(String(now / 1000 - 300), 300, now)).toEqual({ ok: true });
    expect(checkTimestampWindow(String(now / 1000 + 300), 300, now)).toEqual({ ok: true });
    expect(checkTimestampWindow(String(now / 1000 - 301), 300, now)).toMatchObject({ ok: false, code: "stale_timestamp" });
    expect(checkTimestampWindow(String(now / 1000 + 301), 300, now)).toMatchObject({ ok: false, code: "future_timestamp" });
    expect(checkTimestampWindow("soon", 300, now)).toMatchObject({ ok: false, code: "invalid_timestamp" });
  });
});
