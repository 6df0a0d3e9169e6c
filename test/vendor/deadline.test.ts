import { describe, expect, it } from "vitest";
import { Deadline } from "../../engine/runtime/deadline.ts";

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

describe("Deadline", () => {
  it("counts down from its budget and expires", () => {
    const c = clock();
    const d = Deadline.after(1500, c.now);
    expect(d.remainingMs()).toBe(1500);
    expect(d.expired).toBe(false);
    c.advance(1000);
    expect(d.remainingMs()).toBe(500);
    c.advance(600);
    expect(d.remainingMs()).toBe(0);
    expect(d.expired).toBe(true);
  });

  it("takes the smaller of the budget and the Lambda's remaining time minus the margin", () => {
    const c = clock();
    const plenty = Deadline.fromLambdaContext({ getRemainingTimeInMillis: () => 60_000 }, { budgetMs: 1500, marginMs: 200 }, c.now);
    expect(plenty.remainingMs()).toBe(1500);
    const short = Deadline.fromLambdaContext({ getRemainingTimeInMillis: () => 1000 }, { budgetMs: 1500, marginMs: 200 }, c.now);
    expect(short.remainingMs()).toBe(800);
    const none = Deadline.fromLambdaContext(undefined, { budgetMs: 1500 }, c.now);
    expect(none.remainingMs()).toBe(1500);
    const gone = Deadline.fromLambdaContext({ getRemainingTimeInMillis: () => 100 }, { budgetMs: 1500, marginMs: 200 }, c.now);
    expect(gone.expired).toBe(true);
  });

  it("child budgets never outlive the parent", () => {
    const c = clock();
    const d = Deadline.after(1000, c.now);
    expect(d.child(300).remainingMs()).toBe(300);
    expect(d.child(5000).remainingMs()).toBe(1000);
    c.advance(900);
    expect(d.child(300).remainingMs()).toBe(100);
  });

  it("signal aborts at the cap when the cap comes first, and at once when the budget is gone", async () => {
    const d = Deadline.after(10_000);
    const capped = d.signal(20);
    expect(capped.aborted).toBe(false);
    await new Promise((r) => setTimeout(r, 60));
    expect(capped.aborted).toBe(true);

    const c = clock();
    const spent = Deadline.after(10, c.now);
    c.advance(10);
    expect(spent.signal(1000).aborted).toBe(true);
  });

  it("signal aborts at the deadline when it comes before the cap", async () => {
    const d = Deadline.after(20);
    const s = d.signal(10_000);
    await new Promise((r) => setTimeout(r, 60));
    expect(s.aborted).toBe(true);
  });

  it("gives every uncapped caller the deadline's one signal (a timer per deadline, not per event), which aborts at the deadline", async () => {
    const d = Deadline.after(30);
    const first = d.signal();
    expect(d.signal()).toBe(first);
    expect(d.signal(10_000)).not.toBe(first); // a cap is a timer of its own
    expect(first.aborted).toBe(false);
    await new Promise((r) => setTimeout(r, 80));
    expect(first.aborted).toBe(true);
    expect(d.signal().aborted).toBe(true);

    const c = clock();
    const spent = Deadline.after(10, c.now);
    const early = spent.signal();
    c.advance(10);
    expect(spent.signal().aborted).toBe(true); // used up by its clock: aborted at once
    expect(early.aborted).toBe(false); // the timer made earlier still runs to the real deadline
  });
});
