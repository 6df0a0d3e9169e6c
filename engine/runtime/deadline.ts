/**
 * The time budget of one invocation. MI waits only a short time for the ACK, and the Lambda itself
 * has a hard end; every vendor call and every backoff sleep is bounded by what is left here, so the
 * engine answers (or hands work off) before the caller gives up on it.
 */
export class Deadline {
  private constructor(
    /** Absolute end, in the units of `now` (milliseconds). */
    private readonly endsAt: number,
    private readonly now: () => number,
  ) {}

  /** A budget of `ms` from now. */
  static after(ms: number, now: () => number = Date.now): Deadline {
    return new Deadline(now() + Math.max(0, finiteOr(ms, 0)), now);
  }

  /**
   * The smaller of `budgetMs` and the Lambda's remaining time minus `marginMs` (kept back so the
   * handler can still write its answer and logs). Without a context (local runs) the budget alone.
   */
  static fromLambdaContext(
    ctx: { getRemainingTimeInMillis(): number } | undefined,
    opts: { budgetMs: number; marginMs?: number },
    now: () => number = Date.now,
  ): Deadline {
    const margin = Math.max(0, finiteOr(opts.marginMs, DEFAULT_LAMBDA_MARGIN_MS));
    let ms = finiteOr(opts.budgetMs, 0);
    if (ctx && typeof ctx.getRemainingTimeInMillis === "function") {
      const remaining = ctx.getRemainingTimeInMillis();
      if (Number.isFinite(remaining)) ms = Math.min(ms, remaining - margin);
    }
    return Deadline.after(ms, now);
  }

  /** Milliseconds left; never negative. */
  remainingMs(): number {
    return Math.max(0, this.endsAt - this.now());
  }

  get expired(): boolean {
    return this.remainingMs() <= 0;
  }

  /**
   * A signal that aborts when the deadline passes, or after `capMs` if that comes first
   * (the per-attempt timeout of one HTTP call).
   */
  signal(capMs?: number): AbortSignal {
    const cap = capMs === undefined ? Infinity : Math.max(0, finiteOr(capMs, 0));
    const ms = Math.min(this.remainingMs(), cap);
    if (ms <= 0) return AbortSignal.abort(new DOMException("The time budget is used up", "TimeoutError"));
    // Without a cap every caller gets the deadline's one signal: each AbortSignal.timeout is a
    // timer and a GC-tracked signal that live until it fires, so one per event part of a large
    // discovery or delivery adds up (several µs each). The deadline is absolute, so it is the same.
    // Node timers overflow above 2^31-1 ms and would fire at once.
    if (capMs === undefined) return (this.whole ??= AbortSignal.timeout(Math.min(ms, MAX_TIMER_MS)));
    return AbortSignal.timeout(Math.min(ms, MAX_TIMER_MS));
  }

  /** The uncapped signal, made on first use. */
  private whole?: AbortSignal;

  /** A sub-budget: at most `ms`, never beyond this deadline. */
  child(ms: number): Deadline {
    return new Deadline(Math.min(this.endsAt, this.now() + Math.max(0, finiteOr(ms, 0))), this.now);
  }
}

/** Time kept back from the Lambda's remaining time for the handler's own epilogue. */
export const DEFAULT_LAMBDA_MARGIN_MS = 250;

const MAX_TIMER_MS = 2 ** 31 - 1;

function finiteOr(n: number | undefined, fallback: number): number {
  return typeof n === "number" && !Number.isNaN(n) ? (n === Infinity ? Number.MAX_SAFE_INTEGER : n) : fallback;
}
