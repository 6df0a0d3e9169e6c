/**
 * JSONata evaluation for compiled mappings. Each expression is compiled once per container (the
 * cache is keyed by source text, on first use) with the conversion function library and the native
 * built-ins (builtins.ts: n log n `$sort`, `$distinct`, `$min`, `$max`) registered, then evaluated
 * with an input document (`$`) and the evaluation context bound as `$variables`.
 */
import jsonata from "jsonata";
import type { Expr } from "../mapping/compiled.ts";
import { registerConversionFunctions } from "./functions.ts";
import { registerNativeBuiltins } from "./builtins.ts";
import { Bail, compileFast, type FastExpression } from "./fast-path.ts";

type Compiled = { jsonata: ReturnType<typeof jsonata>; fast?: FastExpression };

/** Called for every evaluation when tracing (`c2c invoke --trace`). */
export type ExpressionTracer = (entry: { at: string; src: string; input: unknown; output?: unknown; error?: string }) => void;

/**
 * What went wrong in an evaluation, as text. JSONata throws plain objects (`{ code, position,
 * token, message }`), not Errors, so `String(err)` would print "[object Object]". The offending
 * `value` JSONata attaches is left out: it is vendor data and may be a user id.
 */
export function describeEvaluationError(err: unknown): string {
  if (err && typeof err === "object") {
    const e = err as { code?: unknown; position?: unknown; token?: unknown; message?: unknown };
    const message = typeof e.message === "string" && e.message !== "" ? e.message : err instanceof Error ? err.name : "evaluation failed";
    const where = typeof e.position === "number" ? ` at character ${e.position}` : "";
    const token = typeof e.token === "string" && e.token !== "" ? ` near \`${e.token}\`` : "";
    const code = typeof e.code === "string" ? `${e.code}${where}${token}: ` : where || token ? `${where.trim()}${token}: ` : "";
    return `${code}${message}`;
  }
  return String(err);
}

export class ExpressionError extends Error {
  /** JSONata error code (T2002, D3001, ...), when JSONata raised it. */
  readonly code?: string;
  /** Character offset within the expression that JSONata reported. */
  readonly position?: number;
  /** The cause as text, JSONata code and position included. */
  readonly detail: string;

  constructor(
    readonly at: string,
    readonly src: string,
    cause: unknown,
  ) {
    const detail = describeEvaluationError(cause);
    super(`${at}: expression \`${src}\` failed: ${detail}`);
    this.name = "ExpressionError";
    this.detail = detail;
    const c = cause as { code?: unknown; position?: unknown } | undefined;
    if (c && typeof c.code === "string") this.code = c.code;
    if (c && typeof c.position === "number") this.position = c.position;
  }
}

const cache = new Map<string, Compiled>();

function compiled(expr: Expr): Compiled {
  let c = cache.get(expr.src);
  if (!c) {
    let j: ReturnType<typeof jsonata>;
    try {
      j = jsonata(expr.src);
    } catch (err) {
      throw new ExpressionError(expr.at, expr.src, err);
    }
    registerConversionFunctions(j);
    registerNativeBuiltins(j);
    c = { jsonata: j, fast: compileFast(j.ast() as Record<string, any>) };
    cache.set(expr.src, c);
  }
  return c;
}

export class Evaluator {
  constructor(private readonly tracer?: ExpressionTracer) {}

  /**
   * Evaluates `expr` over `input` with `bindings` as `$name` variables. JSONata's "no match"
   * (undefined) is returned as undefined; sequences are plain arrays.
   */
  /**
   * Evaluates `expr` over `input` with `bindings` as `$name` variables. JSONata's "no match"
   * (undefined) is returned as undefined; sequences are plain arrays.
   */
  async evaluate(expr: Expr, input: unknown, bindings: Record<string, unknown> = {}): Promise<unknown> {
    return this.evaluateNow(expr, input, bindings);
  }

  /**
   * The same, but synchronous when the fast path answers (the common case): hot loops over
   * thousands of devices skip a promise per expression. Returns a Promise otherwise.
   */
  evaluateNow(expr: Expr, input: unknown, bindings: Record<string, unknown> = {}): unknown {
    const c = compiled(expr);
    let quick: unknown;
    try {
      quick = fast(c, input, bindings);
    } catch (err) {
      this.tracer?.({ at: expr.at, src: expr.src, input, error: describeEvaluationError(err) });
      throw new ExpressionError(expr.at, expr.src, err);
    }
    if (quick !== NO_FAST) {
      this.tracer?.({ at: expr.at, src: expr.src, input, output: quick });
      return quick;
    }
    return c.jsonata.evaluate(input, bindings).then(
      (v) => {
        const out = normalize(v);
        this.tracer?.({ at: expr.at, src: expr.src, input, output: out });
        return out;
      },
      (err: unknown) => {
        this.tracer?.({ at: expr.at, src: expr.src, input, error: describeEvaluationError(err) });
        throw new ExpressionError(expr.at, expr.src, err);
      },
    );
  }
}

const NO_FAST = Symbol("no fast path");

/** The fast path's answer, or NO_FAST when JSONata must evaluate. */
function fast(c: Compiled, input: unknown, bindings: Record<string, unknown>): unknown {
  if (!c.fast) return NO_FAST;
  try {
    return c.fast(input, bindings);
  } catch (err) {
    if (err instanceof Bail) return NO_FAST;
    throw err;
  }
}

/** JSONata marks result sequences with a `sequence` flag; strip it so results compare as plain JSON. */
function normalize(v: unknown): unknown {
  if (Array.isArray(v) && (v as { sequence?: boolean }).sequence) return Array.from(v);
  return v;
}
