/**
 * A fast path for the simple expressions most mappings are made of (`label`, `power = 'on'`,
 * `$levelFromFraction(brightness)`, `{ 'power': 'on' }`, `a > 0 ? x : y`). JSONata's evaluator is
 * asynchronous and general; these shapes compile here to plain synchronous closures, which is what
 * makes discovery of thousands of devices fit the time budget.
 *
 * Correctness rule: the fast path must give JSONata's answer or step aside. A node kind it does
 * not know means no fast path for the expression (compile returns undefined); a value it is not
 * sure about at run time (an array in a path, which JSONata maps over; mixed-type comparisons;
 * non-integer numbers turned into strings) throws Bail and the caller evaluates with JSONata.
 * test/runtime/fast-path.test.ts checks both give the same results on every bundle expression.
 */
import { conversionFunctions } from "./functions.ts";
import { aggregateOverSequence, AGGREGATES, BAIL_AGGREGATE } from "./builtins.ts";

export class Bail extends Error {}
const BAIL = new Bail("fast path does not apply");

type Scope = { input: unknown; bindings: Record<string, unknown> };
export type FastExpression = (input: unknown, bindings: Record<string, unknown>) => unknown;
type Node = Record<string, any>;
type Compiled = (s: Scope) => unknown;

export function compileFast(ast: Node): FastExpression | undefined {
  try {
    const fn = node(ast);
    return (input, bindings) => fn({ input, bindings });
  } catch (err) {
    if (err instanceof Unsupported) return undefined;
    throw err;
  }
}

class Unsupported extends Error {}

/** Keys on a node that change a step's meaning (predicates, grouping, focus, ...). */
const MODIFIERS = ["stages", "predicate", "group", "focus", "index", "tuple", "keepArray", "consarray", "ancestor", "seekingParent", "keepSingletonArray"];

function node(n: Node): Compiled {
  if (n.type === "function" && AGGREGATES.has(n.procedure?.value) && onlyIndexPredicate(n)) return aggregate(n);
  if (MODIFIERS.some((k) => n[k] !== undefined)) throw new Unsupported();
  switch (n.type) {
    case "string":
    case "number":
      return () => n.value;
    case "value": {
      const v = n.value; // true, false, null
      return () => v;
    }
    case "path":
      return path(n.steps);
    case "name":
      return path([n]);
    case "variable":
      return variable(n.value);
    case "binary":
      return binary(n);
    case "condition": {
      const c = node(n.condition);
      const t = node(n.then);
      const e = n.else ? node(n.else) : () => undefined;
      return (s) => (truthy(c(s)) ? t(s) : e(s));
    }
    case "function":
      return call(n);
    case "unary":
      if (n.value === "{") return objectConstructor(n.lhs);
      if (n.value === "-") {
        const x = node(n.expression);
        return (s) => {
          const v = x(s);
          if (v === undefined) return undefined;
          if (typeof v !== "number") throw BAIL;
          return -v;
        };
      }
      throw new Unsupported();
    default:
      throw new Unsupported();
  }
}

function variable(name: string): Compiled {
  if (name === "") return (s) => guard(s.input);
  return (s) => guard(s.bindings[name]);
}

function path(steps: Node[]): Compiled {
  if (!steps.length) throw new Unsupported();
  const first = steps[0];
  let start: Compiled;
  let rest = steps;
  if (first.type === "variable" && !MODIFIERS.some((k) => first[k] !== undefined)) {
    start = variable(first.value);
    rest = steps.slice(1);
  } else if (first.type === "function" && !MODIFIERS.some((k) => first[k] !== undefined)) {
    // `$xyFromHueSaturation(h, s).x`: a step into what a function gives. JSONata calls it once per
    // item of an array input (that is its business); over one input, once, as here.
    const fn = call(first);
    start = (s) => {
      if (Array.isArray(s.input)) throw BAIL;
      return guard(fn(s));
    };
    rest = steps.slice(1);
  } else {
    start = (s) => guard(s.input);
  }
  const names = rest.map((st) => {
    if (st.type !== "name" || MODIFIERS.some((k) => st[k] !== undefined)) throw new Unsupported();
    return st.value as string;
  });
  return (s) => {
    let v = start(s);
    for (const name of names) {
      if (v === undefined || v === null || typeof v !== "object") return undefined;
      if (Array.isArray(v)) throw BAIL; // JSONata maps a path over arrays
      v = guard((v as Record<string, unknown>)[name]);
    }
    return v;
  };
}

/** Arrays (JSONata sequences) and functions are JSONata's business. */
function guard(v: unknown): unknown {
  if (Array.isArray(v) || typeof v === "function") throw BAIL;
  return v;
}

function binary(n: Node): Compiled {
  if (n.value === "in") return includes(n);
  const l = node(n.lhs);
  const r = node(n.rhs);
  switch (n.value) {
    case "=":
    case "!=": {
      const neg = n.value === "!=";
      return (s) => {
        const a = l(s);
        const b = r(s);
        if (a === undefined || b === undefined) return false;
        if (isObject(a) || isObject(b)) throw BAIL;
        return neg ? a !== b : a === b;
      };
    }
    case "<":
    case ">":
    case "<=":
    case ">=": {
      const op = n.value as string;
      return (s) => {
        const a = l(s);
        const b = r(s);
        if (a === undefined || b === undefined) return undefined; // JSONata: no result, unlike = and !=
        if (!((typeof a === "number" && typeof b === "number") || (typeof a === "string" && typeof b === "string"))) throw BAIL;
        return op === "<" ? a < b : op === ">" ? a > b : op === "<=" ? a <= b : a >= b;
      };
    }
    case "and":
      return (s) => truthy(l(s)) && truthy(r(s));
    case "or":
      return (s) => truthy(l(s)) || truthy(r(s));
    case "&":
      return (s) => str(l(s)) + str(r(s));
    case "+":
    case "-":
    case "*":
    case "/":
    case "%": {
      const op = n.value as string;
      return (s) => {
        const a = l(s);
        const b = r(s);
        if (a === undefined || b === undefined) return undefined;
        if (typeof a !== "number" || typeof b !== "number") throw BAIL;
        const out = op === "+" ? a + b : op === "-" ? a - b : op === "*" ? a * b : op === "/" ? a / b : a % b;
        if (!Number.isFinite(out)) throw BAIL;
        return out;
      };
    }
    default:
      throw new Unsupported();
  }
}

function call(n: Node): Compiled {
  if (n.procedure?.type !== "variable") throw new Unsupported();
  const name = n.procedure.value as string;
  const args = (n.arguments as Node[]).map(node);
  const builtin = BUILTINS[name];
  if (builtin) {
    if (args.length !== 1) throw new Unsupported(); // $not() takes the context: JSONata's business
    const [a] = args as [Compiled];
    return (s) => builtin(a(s));
  }
  const f = conversionFunctions[name];
  if (!f) throw new Unsupported();
  const admit = admission(f.signature, args.length);
  return (s) => {
    const values = args.map((a) => a(s));
    if (!admit(values)) throw BAIL;
    return f.fn(...values);
  };
}

/**
 * JSONata built-ins whose answer over the values the fast path lets through (no arrays, no
 * functions: `guard` bails on those) is plain: `$not` negates JSONata's boolean cast (objects
 * bail in `truthy`), `$exists` tells whether there is a value. Both give undefined/false for
 * a missing value, as JSONata does.
 */
const BUILTINS: Record<string, (v: unknown) => unknown> = {
  not: (v) => (v === undefined ? undefined : !truthy(v)),
  exists: (v) => v !== undefined,
};

const NUMERIC_SIGNATURE = "<(nsl):n>";

/**
 * Which argument values may go straight to a conversion function. JSONata checks the call
 * against the function's signature and, for the scalar and object types used here, passes the
 * values on unchanged (a missing value included), so a value whose type the signature names is
 * exactly what JSONata would hand over. Numeric functions take numbers only (their string
 * coercion stays JSONata-checked); anything else, or more arguments than the signature has,
 * steps aside.
 */
function admission(signature: string | undefined, argc: number): (values: unknown[]) => boolean {
  if (signature === undefined) throw new Unsupported();
  if (signature === NUMERIC_SIGNATURE) return (values) => values.every((v) => v === undefined || typeof v === "number");
  const params = signatureParams(signature);
  if (!params || argc > params.length || params.slice(argc).some((p) => !p.optional)) throw new Unsupported();
  return (values) => values.every((v, i) => v === undefined || params[i]!.types.includes(typeLetter(v)));
}

/** `<(snbl)ox?:x>` -> [{types: "snbl"}, {types: "o"}, {types: "snblo", optional}]; undefined for what this does not read. */
function signatureParams(signature: string): Array<{ types: string; optional: boolean }> | undefined {
  const m = /^<([^:>]*)(?::[a-z]+)?>$/.exec(signature);
  if (!m) return undefined;
  const params: Array<{ types: string; optional: boolean }> = [];
  const body = m[1]!;
  for (let i = 0; i < body.length; ) {
    let types: string;
    if (body[i] === "(") {
      const end = body.indexOf(")", i);
      if (end < 0) return undefined;
      types = body.slice(i + 1, end);
      i = end + 1;
    } else types = body[i++]!;
    if (!/^[snblox]+$/.test(types)) return undefined; // arrays, functions, context (-) and the like
    const optional = body[i] === "?";
    if (optional) i++;
    params.push({ types: types.replace("x", "snblo"), optional });
  }
  return params;
}

/** JSONata's type letter of a value the fast path lets through. */
function typeLetter(v: unknown): string {
  if (v === null) return "l";
  switch (typeof v) {
    case "string":
      return "s";
    case "number":
      return "n";
    case "boolean":
      return "b";
    case "object":
      return Array.isArray(v) ? "a" : "o";
    default:
      return "?";
  }
}

/**
 * `x in [...]` / `x in y`: JSONata's strict equality against each element (a single value on
 * the right counts as a list of one); false when either side is missing. The right side is a
 * list of literals or any value the fast path computes (a path giving an array bails).
 */
function includes(n: Node): Compiled {
  const l = node(n.lhs);
  const rhs = n.rhs as Node;
  const literal = rhs.type === "unary" && rhs.value === "[" && (rhs.expressions as Node[]).every((e) => ["string", "number", "value"].includes(e.type) && !MODIFIERS.some((k) => k !== "consarray" && e[k] !== undefined));
  if (rhs.type === "unary" && rhs.value === "[" && (!literal || MODIFIERS.some((k) => k !== "consarray" && rhs[k] !== undefined))) throw new Unsupported();
  const list = literal ? (rhs.expressions as Node[]).map((e) => e.value as unknown) : undefined;
  const r = literal ? undefined : node(rhs);
  return (s) => {
    const a = l(s);
    if (a === undefined) return false;
    if (isObject(a)) throw BAIL;
    if (list) return list.includes(a);
    const b = r!(s);
    if (b === undefined) return false;
    if (isObject(b)) throw BAIL;
    return a === b;
  };
}

/** Only a single integer index (`[0]`, `[-1]`) or nothing after the call. */
function onlyIndexPredicate(n: Node): boolean {
  const others = MODIFIERS.filter((k) => k !== "predicate" && n[k] !== undefined);
  if (others.length) return false;
  if (n.predicate === undefined) return true;
  const p = n.predicate as Node[];
  return p.length === 1 && p[0]!.type === "filter" && p[0]!.expr?.type === "number" && Number.isInteger(p[0]!.expr.value);
}

/**
 * `$sort(path)[0]`, `$min(path)`, `$count($distinct(path))` ...: the native built-in over the
 * sequence a plain path maps to, synchronously. Whole accounts go through these (the user id of
 * an account is often the smallest of something), so JSONata's asynchronous walk over every
 * element is what this saves. Anything but a sequence of 2+ plain values steps aside.
 */
function aggregate(n: Node): Compiled {
  const args = n.arguments as Node[];
  if (args.length !== 1) throw new Unsupported();
  const arg = args[0]!;
  const items: (s: Scope) => unknown[] =
    arg.type === "path" || arg.type === "name"
      ? sequencePath(arg.type === "name" ? [arg] : arg.steps)
      : arg.type === "function" && AGGREGATES.has(arg.procedure?.value) && arg.predicate === undefined
        ? sequenceOf(aggregate(arg))
        : (() => {
            throw new Unsupported();
          })();
  const name = n.procedure.value as string;
  const index: number | undefined = n.predicate ? n.predicate[0].expr.value : undefined;
  return (s) => {
    const seq = items(s);
    if (seq.length < 2) throw BAIL; // JSONata's wrapping and unwrapping of 0 or 1 values: let it
    for (const v of seq) if (v === null || typeof v === "object" || typeof v === "function") throw BAIL;
    const out = aggregateOverSequence(name, seq);
    if (out === BAIL_AGGREGATE) throw BAIL;
    if (index === undefined) return guard(out);
    if (!Array.isArray(out)) throw BAIL;
    return out[index < 0 ? out.length + index : index];
  };
}

/** A result that is itself a sequence (`$distinct(...)` inside `$count(...)`). */
function sequenceOf(c: Compiled): (s: Scope) => unknown[] {
  return (s) => {
    const v = c(s);
    if (!Array.isArray(v)) throw BAIL;
    return v;
  };
}

/**
 * What JSONata's path `a.b.c` maps to, as a flat list: every array met along the way is mapped
 * over and flattened one level. Nested arrays (JSONata flattens those recursively) step aside.
 */
function sequencePath(steps: Node[]): (s: Scope) => unknown[] {
  const names = steps.map((st) => {
    if (st.type !== "name" || MODIFIERS.some((k) => st[k] !== undefined)) throw new Unsupported();
    return st.value as string;
  });
  return (s) => {
    if (Array.isArray(s.input)) throw BAIL;
    let seq: unknown[] = [s.input];
    for (const name of names) {
      const next: unknown[] = [];
      for (const item of seq) {
        if (Array.isArray(item)) throw BAIL;
        if (item === null || typeof item !== "object") continue;
        const v = (item as Record<string, unknown>)[name];
        if (v === undefined) continue;
        if (Array.isArray(v)) {
          for (const e of v) {
            if (Array.isArray(e)) throw BAIL;
            next.push(e);
          }
        } else next.push(v);
      }
      seq = next;
    }
    return seq;
  };
}

function objectConstructor(pairs: Node[][]): Compiled {
  const entries = pairs.map(([k, v]) => {
    if (k.type !== "string") throw new Unsupported();
    return [k.value as string, node(v)] as const;
  });
  return (s) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of entries) {
      const value = v(s);
      if (value !== undefined) out[k] = value;
    }
    return out;
  };
}

function isObject(v: unknown): boolean {
  return v !== null && typeof v === "object";
}

/** JSONata's boolean cast for the values the fast path lets through. */
function truthy(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === "boolean") return v;
  if (typeof v === "number") return v !== 0;
  if (typeof v === "string") return v.length > 0;
  throw BAIL; // objects: JSONata's rule depends on their content
}

/** JSONata's string cast for the values the fast path lets through. */
function str(v: unknown): string {
  if (v === undefined) return "";
  if (typeof v === "string") return v;
  if (typeof v === "boolean") return String(v);
  if (typeof v === "number" && Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  throw BAIL; // JSONata formats other numbers to 15 significant digits; let it
}
