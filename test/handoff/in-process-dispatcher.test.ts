import { describe, expect, it } from "vitest";
import { InProcessDispatcher, InvalidDeferredJobError, createDeferredJob, type DeferredJob } from "../../engine/handoff/index.ts";
import { RedactingLogger, memorySink, type LogRecord } from "../../engine/log/json-logger.ts";

/** A clock and sleep that move together, so backoff and notBefore are observable without waiting. */
function fakeTime() {
  const t = { ms: 1_000_000, slept: [] as number[] };
  return {
    t,
    now: () => t.ms,
    sleep: async (ms: number) => {
      t.slept.push(ms);
      t.ms += ms;
    },
  };
}

describe("InProcessDispatcher", () => {
  it("runs a job after the current tick, and drain waits for it", async () => {
    const ran: DeferredJob[] = [];
    const d = new InProcessDispatcher({ run: (job) => void ran.push(job) });
    const job = createDeferredJob({ operation: "op", payload: { n: 1 } });
    await d.dispatch(job);
    expect(ran).toHaveLength(0);
    expect(d.pendingCount).toBe(1);
    await d.drain();
    expect(ran).toEqual([job]);
    expect(d.pendingCount).toBe(0);
  });

  it("retries a failing job with backoff until it succeeds", async () => {
    const time = fakeTime();
    const attempts: number[] = [];
    const exhausted: DeferredJob[] = [];
    const d = new InProcessDispatcher({
      run: (job) => {
        attempts.push(job.attempt);
        if (job.attempt < 3) throw new Error("vendor busy");
      },
      onExhausted: (job) => void exhausted.push(job),
      backoffMs: (attempt) => attempt * 1000,
      now: time.now,
      sleep: time.sleep,
    });
    await d.dispatch(createDeferredJob({ operation: "op", payload: null, maxAttempts: 4 }));
    await d.drain();
    expect(attempts).toEqual([1, 2, 3]);
    expect(time.t.slept).toEqual([1000, 2000]);
    expect(exhausted).toEqual([]);
  });

  it("calls onExhausted once with the last attempt and its error", async () => {
    const calls: Array<{ job: DeferredJob; error: unknown }> = [];
    const failure = new Error("still failing");
    let runs = 0;
    const d = new InProcessDispatcher({
      run: async () => {
        runs++;
        throw failure;
      },
      onExhausted: (job, error) => void calls.push({ job, error }),
      backoffMs: () => 0,
    });
    await d.dispatch(createDeferredJob({ operation: "op", payload: null, maxAttempts: 2 }));
    await d.drain();
    expect(runs).toBe(2);
    expect(calls).toHaveLength(1);
    expect(calls[0].job.attempt).toBe(2);
    expect(calls[0].error).toBe(failure);
  });

  it("survives an onExhausted callback that throws", async () => {
    const records: LogRecord[] = [];
    const d = new InProcessDispatcher({
      run: () => {
        throw new Error("x");
      },
      onExhausted: () => {
        throw new TypeError("hook broke");
      },
      backoffMs: () => 0,
      logger: new RedactingLogger(memorySink(records)),
    });
    await d.dispatch(createDeferredJob({ operation: "op", payload: null, maxAttempts: 1 }));
    await expect(d.drain()).resolves.toBeUndefined();
    expect(records.some((r) => r.level === "error" && r.errorName === "TypeError")).toBe(true);
  });

  it("waits until notBefore before the first attempt", async () => {
    const time = fakeTime();
    const startedAt: number[] = [];
    const d = new InProcessDispatcher({ run: () => void startedAt.push(time.now()), now: time.now, sleep: time.sleep });
    await d.dispatch(createDeferredJob({ operation: "op", payload: null, notBefore: time.now() + 5000 }));
    await d.drain();
    expect(time.t.slept).toEqual([5000]);
    expect(startedAt).toEqual([1_005_000]);
  });

  it("drain also waits for jobs dispatched by running jobs", async () => {
    const order: string[] = [];
    const d: InProcessDispatcher = new InProcessDispatcher({
      run: async (job) => {
        order.push(job.operation);
        if (job.operation === "first") await d.dispatch(createDeferredJob({ operation: "second", payload: null }));
      },
    });
    await d.dispatch(createDeferredJob({ operation: "first", payload: null }));
    await d.drain();
    expect(order).toEqual(["first", "second"]);
  });

  it("rejects something that is not a job, without running anything", async () => {
    let runs = 0;
    const d = new InProcessDispatcher({ run: () => void runs++ });
    await expect(d.dispatch({ kind: "deferred-job" } as unknown as DeferredJob)).rejects.toBeInstanceOf(
      InvalidDeferredJobError,
    );
    await d.drain();
    expect(runs).toBe(0);
  });

  it("logs failures by error name only: no payload or error text reaches a log line", async () => {
    const records: LogRecord[] = [];
    const token = "tok-secret-8812";
    const d = new InProcessDispatcher({
      run: () => {
        throw new Error(`refresh failed for ${token}`);
      },
      backoffMs: () => 0,
      logger: new RedactingLogger(memorySink(records)),
    });
    await d.dispatch(createDeferredJob({ operation: "op", payload: { accessToken: token }, maxAttempts: 2 }));
    await d.drain();
    expect(records.length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(records)).not.toContain(token);
  });

  it("needs a run callback", () => {
    expect(() => new InProcessDispatcher({} as never)).toThrow(/run/);
  });
});
