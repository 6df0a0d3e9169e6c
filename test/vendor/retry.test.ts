import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Deadline } from "../../engine/runtime/deadline.ts";
import { VendorClient } from "../../engine/vendor/client.ts";
import { backoffDelayMs, parseRetryAfterMs } from "../../engine/vendor/retry.ts";
import { VendorError } from "../../engine/vendor/types.ts";
import { sendJson, startLoopbackServer, type LoopbackServer } from "./loopback-server.ts";
import { RETRY_3, recordingSleep, spec } from "./helpers.ts";

let server: LoopbackServer;
beforeAll(async () => {
  server = await startLoopbackServer();
});
afterAll(() => server.close());
beforeEach(() => {
  server.received.length = 0;
});

async function failure(p: Promise<unknown>): Promise<VendorError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(VendorError);
  return err as VendorError;
}

/** Answers the listed statuses in turn (with optional headers), then 200. */
function script(steps: Array<{ status: number; headers?: Record<string, string>; body?: unknown }>) {
  let i = 0;
  server.handle((_req, res) => {
    const step = steps[i++] ?? { status: 200, body: { done: true } };
    sendJson(res, step.status, step.body ?? { error: `status ${step.status}` }, step.headers);
  });
}

describe("retries", () => {
  it("retries a 503 and succeeds, with jittered exponential backoff", async () => {
    script([{ status: 503 }, { status: 503 }]);
    const { delays, sleep } = recordingSleep();
    const c = new VendorClient({ retry: RETRY_3, sleep, random: () => 0.5 });
    const res = await c.call(spec(server.origin), Deadline.after(10_000));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ done: true });
    expect(res.attempts).toBe(3);
    expect(server.received).toHaveLength(3);
    expect(delays).toEqual([50, 100]); // 0.5 * 100, 0.5 * 200
  });

  it("honours Retry-After in seconds and as an HTTP date", async () => {
    script([
      { status: 429, headers: { "retry-after": "2" } },
      { status: 503, headers: { "retry-after": new Date(Date.now() + 3000).toUTCString() } },
    ]);
    const { delays, sleep } = recordingSleep();
    const c = new VendorClient({ retry: RETRY_3, sleep, random: () => 0 });
    const res = await c.call(spec(server.origin), Deadline.after(60_000));
    expect(res.attempts).toBe(3);
    expect(delays[0]).toBe(2000);
    // An HTTP date has one-second resolution.
    expect(delays[1]).toBeGreaterThan(1000);
    expect(delays[1]).toBeLessThanOrEqual(3000);
  });

  it("gives up at once when Retry-After is longer than the remaining budget", async () => {
    script([{ status: 429, headers: { "retry-after": "30" } }]);
    const { delays, sleep } = recordingSleep();
    const c = new VendorClient({ retry: RETRY_3, sleep });
    const err = await failure(c.call(spec(server.origin), Deadline.after(1500)));
    expect(err.kind).toBe("http");
    expect(err.status).toBe(429);
    expect(err.retryAfterMs).toBe(30_000);
    expect(err.attempts).toBe(1);
    expect(delays).toEqual([]);
    expect(server.received).toHaveLength(1);
  });

  it("reports the last 429 with its body once the attempts are used up", async () => {
    script([{ status: 429 }, { status: 429 }, { status: 429, body: { error: "slow down" } }]);
    const { delays, sleep } = recordingSleep();
    const c = new VendorClient({ retry: RETRY_3, sleep, random: () => 1 });
    const err = await failure(c.call(spec(server.origin), Deadline.after(10_000)));
    expect(err.kind).toBe("http");
    expect(err.status).toBe(429);
    expect(err.attempts).toBe(3);
    expect(err.body).toEqual({ error: "slow down" });
    expect(delays).toEqual([100, 200]);
    expect(server.received).toHaveLength(3);
  });

  it("does not retry a 404", async () => {
    script([{ status: 404, body: { error: "no such device" } }]);
    const { delays, sleep } = recordingSleep();
    const c = new VendorClient({ retry: RETRY_3, sleep });
    const err = await failure(c.call(spec(server.origin), Deadline.after(10_000)));
    expect(err.kind).toBe("http");
    expect(err.status).toBe(404);
    expect(err.body).toEqual({ error: "no such device" });
    expect(err.attempts).toBe(1);
    expect(delays).toEqual([]);
    expect(server.received).toHaveLength(1);
  });

  it("treats acceptStatus as success", async () => {
    script([{ status: 404, body: { error: "unknown token" } }]);
    const c = new VendorClient({ retry: RETRY_3 });
    const res = await c.call(spec(server.origin, { acceptStatus: [404] }), Deadline.after(10_000));
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: "unknown token" });
  });

  it("retries network errors, then reports kind network", async () => {
    const closed = await startLoopbackServer();
    const origin = closed.origin;
    await closed.close();
    const { delays, sleep } = recordingSleep();
    const c = new VendorClient({ retry: RETRY_3, sleep, random: () => 1 });
    const err = await failure(c.call(spec(origin), Deadline.after(10_000)));
    expect(err.kind).toBe("network");
    expect(err.attempts).toBe(3);
    expect(delays).toEqual([100, 200]);
  });

  it("does not follow redirects (credential headers would go along)", async () => {
    server.handle((_req, res) => {
      res.writeHead(302, { location: "http://other.invalid/steal" });
      res.end();
    });
    const c = new VendorClient({ retry: RETRY_3 });
    const err = await failure(c.call(spec(server.origin, { auth: { kind: "header", name: "X-Api-Key", value: "k-123456" } }), Deadline.after(5000)));
    expect(err.kind).toBe("http");
    expect(err.status).toBe(302);
  });
});

describe("timeouts and the deadline", () => {
  it("a hanging server ends in kind timeout at the per-attempt cap", async () => {
    server.handle(() => {
      /* never answers */
    });
    const c = new VendorClient({ retry: RETRY_3 });
    // The budget (30 s) outlasts the test's own timeout: only the 150 ms cap can end this call in time.
    const err = await failure(c.call(spec(server.origin, { timeoutMs: 150 }), Deadline.after(30_000)));
    expect(err.kind).toBe("timeout");
    expect(err.attempts).toBe(1);
    expect(server.received).toHaveLength(1);
  });

  it("a server that sends headers but stalls the body also ends in kind timeout", async () => {
    server.handle((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"partial":');
    });
    const c = new VendorClient({ retry: RETRY_3 });
    const err = await failure(c.call(spec(server.origin, { timeoutMs: 150 }), Deadline.after(30_000)));
    expect(err.kind).toBe("timeout");
  });

  it("a hanging server ends in kind deadline when the budget is shorter than the cap", async () => {
    server.handle(() => {
      /* never answers */
    });
    const c = new VendorClient({ retry: RETRY_3 });
    const err = await failure(c.call(spec(server.origin, { timeoutMs: 10_000 }), Deadline.after(150)));
    expect(err.kind).toBe("deadline");
  });

  it("an expired deadline sends nothing", async () => {
    const c = new VendorClient({ retry: RETRY_3 });
    let t = 0;
    const d = Deadline.after(100, () => t);
    t = 200;
    const err = await failure(c.call(spec(server.origin), d));
    expect(err.kind).toBe("deadline");
    expect(err.attempts).toBe(0);
    expect(server.received).toHaveLength(0);
  });

  it("a backoff that would outlast the budget fails at once with the last error", async () => {
    script([{ status: 503 }]);
    const { delays, sleep } = recordingSleep();
    const c = new VendorClient({ retry: { maxAttempts: 5, baseDelayMs: 5000, maxDelayMs: 5000, retryOn: [503] }, sleep, random: () => 1 });
    const err = await failure(c.call(spec(server.origin), Deadline.after(1000)));
    expect(err.kind).toBe("http");
    expect(err.status).toBe(503);
    expect(delays).toEqual([]);
  });
});

describe("backoff arithmetic", () => {
  it("caps at maxDelayMs and scales with the random draw", () => {
    const p = { maxAttempts: 9, baseDelayMs: 100, maxDelayMs: 1000, retryOn: [] };
    expect(backoffDelayMs(1, p, () => 1)).toBe(100);
    expect(backoffDelayMs(3, p, () => 1)).toBe(400);
    expect(backoffDelayMs(8, p, () => 1)).toBe(1000);
    expect(backoffDelayMs(3, p, () => 0)).toBe(0);
  });

  it("reads Retry-After seconds and dates, and ignores garbage", () => {
    expect(parseRetryAfterMs("5")).toBe(5000);
    expect(parseRetryAfterMs(new Date(10_000).toUTCString(), () => 4000)).toBe(6000);
    expect(parseRetryAfterMs(new Date(1000).toUTCString(), () => 4000)).toBe(0);
    expect(parseRetryAfterMs("soon")).toBeUndefined();
    expect(parseRetryAfterMs(null)).toBeUndefined();
  });
});
