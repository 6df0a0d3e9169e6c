import { describe, expect, it } from "vitest";
import {
  InvalidDeferredJobError,
  assertDeferredJob,
  createDeferredJob,
  defaultBackoffMs,
  isDeferredJob,
  nextAttempt,
  type DeferredJob,
} from "../../engine/handoff/index.ts";

const valid: DeferredJob = {
  kind: "deferred-job",
  version: 1,
  jobId: "job-1",
  operation: "AWS.DiscoverDevices",
  attempt: 1,
  maxAttempts: 3,
  payload: { page: 2 },
};

describe("isDeferredJob", () => {
  it("accepts a job, also after a JSON round trip that drops an undefined payload", () => {
    expect(isDeferredJob(valid)).toBe(true);
    expect(isDeferredJob({ ...valid, notBefore: 1_700_000_000_000 })).toBe(true);
    expect(isDeferredJob(JSON.parse(JSON.stringify({ ...valid, payload: undefined })))).toBe(true);
  });

  it.each([
    ["null", null],
    ["an array", [valid]],
    ["an MI request", { header: { auth: {} }, payload: { operationName: "AWS.SendCommand" } }],
    ["another kind", { ...valid, kind: "job" }],
    ["another version", { ...valid, version: 2 }],
    ["an empty jobId", { ...valid, jobId: "" }],
    ["a missing operation", { ...valid, operation: undefined }],
    ["attempt 0", { ...valid, attempt: 0 }],
    ["a fractional attempt", { ...valid, attempt: 1.5 }],
    ["attempt above maxAttempts", { ...valid, attempt: 4 }],
    ["maxAttempts 0", { ...valid, maxAttempts: 0, attempt: 0 }],
    ["a non-numeric notBefore", { ...valid, notBefore: "soon" }],
  ])("rejects %s", (_label, value) => {
    expect(isDeferredJob(value)).toBe(false);
    expect(() => assertDeferredJob(value)).toThrow(InvalidDeferredJobError);
  });
});

describe("createDeferredJob", () => {
  it("starts at attempt 1 with a fresh id and the default attempt budget", () => {
    const a = createDeferredJob({ operation: "AWS.SendCommand", payload: { x: 1 } });
    const b = createDeferredJob({ operation: "AWS.SendCommand", payload: { x: 1 } });
    expect(isDeferredJob(a)).toBe(true);
    expect(a).toMatchObject({ attempt: 1, maxAttempts: 3, operation: "AWS.SendCommand", payload: { x: 1 } });
    expect(a.jobId).not.toBe(b.jobId);
    expect(a).not.toHaveProperty("notBefore");
  });

  it("rejects a bad operation or attempt budget", () => {
    expect(() => createDeferredJob({ operation: "", payload: null })).toThrow(/operation/);
    expect(() => createDeferredJob({ operation: "x", payload: null, maxAttempts: 0 })).toThrow(/maxAttempts/);
  });
});

describe("nextAttempt", () => {
  it("increments the attempt and schedules it after the backoff", () => {
    const retry = nextAttempt(valid, 10_000, (attempt) => attempt * 100);
    expect(retry).toEqual({ ...valid, attempt: 2, notBefore: 10_100 });
    expect(nextAttempt(retry!, 20_000, (attempt) => attempt * 100)).toMatchObject({ attempt: 3, notBefore: 20_200 });
  });

  it("is undefined once the last attempt has been used", () => {
    expect(nextAttempt({ ...valid, attempt: 3 }, 0)).toBeUndefined();
  });

  it("backs off exponentially with a cap", () => {
    expect([1, 2, 3].map(defaultBackoffMs)).toEqual([500, 1000, 2000]);
    expect(defaultBackoffMs(50)).toBe(30_000);
  });
});
