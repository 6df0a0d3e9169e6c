/**
 * Translation written once, run synchronously when it can. A translation (a capability report,
 * a profile match, a discovered device) is a generator that yields each expression it needs and
 * receives its value; `runSteps` answers them with `Evaluator.evaluateNow`. While every answer is
 * synchronous (the fast path: nearly every mapping expression), the whole translation runs as
 * plain calls and returns its result: no promise, no microtask, no async-hook callback per
 * expression, which is most of what 50k devices cost through `async`/`await`. The first answer
 * that is a promise (JSONata's own evaluator) switches the same generator to asynchronous
 * stepping, so nothing is evaluated twice and the order of evaluations stays the same.
 */
import type { Expr } from "../mapping/compiled.ts";
import type { Evaluator } from "./expressions.ts";

/** One expression to evaluate: what a translation yields. */
export interface Evaluation {
  expr: Expr;
  input: unknown;
  bindings: Record<string, unknown>;
}

/** A translation giving `T`: yields evaluations, receives their values. */
export type Steps<T> = Generator<Evaluation, T, unknown>;

/** The evaluation a translation yields (`const v = yield evaluation(expr, input, b)`). */
export function evaluation(expr: Expr, input: unknown, bindings: Record<string, unknown>): Evaluation {
  return { expr, input, bindings };
}

/**
 * Runs `steps` to the end: the result itself when every evaluation answered synchronously, a
 * promise of it from the first one that did not. An evaluation's error is thrown into the
 * generator at the yield that asked for it, as `await` would.
 */
export function runSteps<T>(evaluator: Evaluator, steps: Steps<T>): T | Promise<T> {
  let next = steps.next();
  while (!next.done) {
    const { expr, input, bindings } = next.value;
    let value: unknown;
    try {
      value = evaluator.evaluateNow(expr, input, bindings);
    } catch (err) {
      next = steps.throw(err);
      continue;
    }
    if (value instanceof Promise) return continueAsync(evaluator, steps, value);
    next = steps.next(value);
  }
  return next.value;
}

async function continueAsync<T>(evaluator: Evaluator, steps: Steps<T>, first: Promise<unknown>): Promise<T> {
  let pending: Promise<unknown> | undefined = first;
  let outcome: { value: unknown } | { error: unknown } = { value: undefined };
  for (;;) {
    if (pending) {
      try {
        outcome = { value: await pending };
      } catch (error) {
        outcome = { error };
      }
      pending = undefined;
    }
    const next = "error" in outcome ? steps.throw(outcome.error) : steps.next(outcome.value);
    if (next.done) return next.value;
    const { expr, input, bindings } = next.value;
    try {
      const value = evaluator.evaluateNow(expr, input, bindings);
      if (value instanceof Promise) pending = value;
      else outcome = { value };
    } catch (error) {
      outcome = { error };
    }
  }
}
