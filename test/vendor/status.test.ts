import { describe, expect, it } from "vitest";
import { vendorErrorToResponseCode } from "../../engine/vendor/status.ts";
import { VendorError, type VendorErrorKind } from "../../engine/vendor/types.ts";

const http = (status: number) => new VendorError(`HTTP ${status}`, { kind: "http", status, attempts: 1 });
const of = (kind: VendorErrorKind) => new VendorError(kind, { kind, attempts: 1 });

describe("vendorErrorToResponseCode", () => {
  it.each([
    [400, 400],
    [422, 400],
    [401, 401],
    [403, 403],
    [404, 404],
    [409, 409],
    [429, 429],
    [410, 400],
    [418, 400],
    [500, 502],
    [503, 502],
    [302, 502],
  ])("vendor HTTP %i -> %i", (status, code) => {
    expect(vendorErrorToResponseCode(http(status))).toBe(code);
  });

  it("maps the non-HTTP kinds", () => {
    expect(vendorErrorToResponseCode(of("timeout"))).toBe(504);
    expect(vendorErrorToResponseCode(of("deadline"))).toBe(504);
    expect(vendorErrorToResponseCode(of("network"))).toBe(502);
    expect(vendorErrorToResponseCode(of("invalid-request"))).toBe(500);
    expect(vendorErrorToResponseCode(new Error("boom"))).toBe(500);
    expect(vendorErrorToResponseCode("not an error")).toBe(500);
  });

  it("lets the bundle's statusMap override by status and by kind", () => {
    const map = { "423": 409, "404": 400, timeout: 503 };
    expect(vendorErrorToResponseCode(http(423), map)).toBe(409);
    expect(vendorErrorToResponseCode(http(404), map)).toBe(400);
    expect(vendorErrorToResponseCode(http(401), map)).toBe(401);
    expect(vendorErrorToResponseCode(of("timeout"), map)).toBe(503);
    expect(vendorErrorToResponseCode(http(423), { "423": Number.NaN })).toBe(400);
  });
});
