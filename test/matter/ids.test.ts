import { describe, expect, it } from "vitest";
import {
  READ_STATE,
  UPDATE_STATE,
  formatAttributeId,
  formatClusterId,
  formatCommandId,
  formatEventId,
  formatFieldId,
  parseMatterId,
} from "../../engine/matter/ids.ts";

describe("parseMatterId", () => {
  it.each([
    ["0x0006", 6],
    ["0x6", 6],
    ["0X0006", 6],
    ["0x001c", 0x1c],
    ["0x001C", 0x1c],
    ["0xff01", 0xff01],
    ["0x00000000", 0],
    ["0x15771002", 0x15771002],
    ["0xFFFFFFFF", 0xffffffff],
    ["6", 6],
    ["0", 0],
    ["768", 768],
    ["0006", 6],
    [6, 6],
    [0, 0],
  ])("parses %j as %d", (input, expected) => {
    expect(parseMatterId(input)).toBe(expected);
  });

  it.each([
    ["", /Invalid Matter id ""/],
    ["0x", /Invalid Matter id "0x"/],
    ["0xG1", /hex string/],
    ["-1", /Invalid Matter id "-1"/],
    [" 6", /Invalid Matter id/],
    ["6.5", /Invalid Matter id/],
    ["OnOff", /Invalid Matter id "OnOff"/],
    ["0x100000000", /between 0 and 0xFFFFFFFF/],
    [-1, /between 0 and 0xFFFFFFFF/],
    [1.5, /between 0 and 0xFFFFFFFF/],
    [Number.NaN, /Invalid Matter id/],
    [2 ** 32, /between 0 and 0xFFFFFFFF/],
  ])("rejects %j", (input, message) => {
    expect(() => parseMatterId(input as string | number)).toThrow(message);
  });

  it("rejects non-string, non-number input with a clear error", () => {
    expect(() => parseMatterId(null as unknown as string)).toThrow(/Invalid Matter id null/);
    expect(() => parseMatterId(undefined as unknown as string)).toThrow(/Invalid Matter id undefined/);
  });
});

describe("formatting", () => {
  it("formats cluster and attribute ids with 4 digits, 8 for vendor ids", () => {
    expect(formatClusterId(6)).toBe("0x0006");
    expect(formatClusterId(0x1c)).toBe("0x001C");
    expect(formatClusterId(0x0300)).toBe("0x0300");
    expect(formatClusterId(0x15771002)).toBe("0x15771002");
    expect(formatClusterId(0x10000)).toBe("0x00010000");
    expect(formatAttributeId(0)).toBe("0x0000");
    expect(formatAttributeId(0xfffd)).toBe("0xFFFD");
    expect(formatAttributeId(0x4001)).toBe("0x4001");
  });

  it("formats command and event ids with 2 digits, growing as needed", () => {
    expect(formatCommandId(0)).toBe("0x00");
    expect(formatCommandId(10)).toBe("0x0A");
    expect(formatCommandId(0x4c)).toBe("0x4C");
    expect(formatCommandId(UPDATE_STATE)).toBe("0xFF01");
    expect(formatCommandId(READ_STATE)).toBe("0xFF02");
    expect(formatCommandId(0x123)).toBe("0x0123");
    expect(formatEventId(1)).toBe("0x01");
    expect(formatEventId(0xff)).toBe("0xFF");
  });

  it("formats field ids with 4 digits", () => {
    expect(formatFieldId(0)).toBe("0x0000");
    expect(formatFieldId(3)).toBe("0x0003");
  });

  it("round-trips through parse", () => {
    for (const n of [0, 1, 0xa, 0xff, 0x100, 0xfffd, 0x10000, 0x15771002, 0xffffffff]) {
      expect(parseMatterId(formatClusterId(n))).toBe(n);
      expect(parseMatterId(formatCommandId(n))).toBe(n);
    }
  });

  it("refuses to format invalid ids", () => {
    expect(() => formatClusterId(-1)).toThrow(/Invalid Matter id/);
    expect(() => formatCommandId(1.5)).toThrow(/Invalid Matter id/);
    expect(() => formatFieldId(2 ** 32)).toThrow(/Invalid Matter id/);
  });

  it("exports MI's custom state commands", () => {
    expect(UPDATE_STATE).toBe(0xff01);
    expect(READ_STATE).toBe(0xff02);
  });
});
