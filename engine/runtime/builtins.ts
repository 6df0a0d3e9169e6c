/**
 * Native replacements for JSONata built-ins whose reference implementation grows faster than
 * n log n with the input, registered on every compiled expression (expressions.ts). A bundle
 * expression such as `$sort(responses.lights.location.id)[0]` runs over a whole account: with
 * JSONata's own `$sort` (a merge sort that copies the rest of the array at every merge step)
 * 20k lights take seconds and 50k run out of memory; here they take milliseconds.
 *
 * Each replacement gives JSONata's answer, errors included (same code, so the same message):
 * test/runtime/builtins.test.ts compares both on every bundle expression that calls one and on
 * random data. One deliberate extension: `$min`/`$max` also take an array of strings (JSONata
 * refuses it), ordered as `$sort` orders strings, so `$min(ids)` replaces `$sort(ids)[0]`.
 */
import type jsonata from "jsonata";

type Expression = ReturnType<typeof jsonata>;
type Comparator = (a: unknown, b: unknown) => unknown;
type Sequence = unknown[] & { sequence?: boolean };

/** JSONata's error shape: the evaluator fills the message from the code. */
function jsonataError(code: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(code), { code, ...extra });
}

const isNumber = (v: unknown) => typeof v === "number";
const isString = (v: unknown) => typeof v === "string";
const ascending = (a: any, b: any) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * `$sort(array[, function])`. Without a comparator: numbers or strings only (D3070 otherwise),
 * ascending, stable. With one: a stable merge sort where `function($a, $b)` true means $a goes
 * after $b, exactly JSONata's contract, in n log n comparator calls.
 */
async function sort(this: unknown, arr: Sequence | undefined, comparator?: Comparator): Promise<unknown> {
  if (arr === undefined) return undefined;
  if (arr.length <= 1) return arr;
  if (comparator === undefined) {
    if (!arr.every(isNumber) && !arr.every(isString)) throw jsonataError("D3070", { index: 1 });
    return Array.from(arr as unknown[]).sort(ascending); // V8 sorts stably
  }
  return mergeSort(Array.from(arr), comparator);
}

/** Bottom-up merge sort with index pointers: no copy per step, one scratch buffer per pass. */
async function mergeSort(items: unknown[], swaps: Comparator): Promise<unknown[]> {
  let src = items;
  let dst = new Array<unknown>(items.length);
  for (let width = 1; width < items.length; width *= 2) {
    for (let lo = 0; lo < items.length; lo += 2 * width) {
      const mid = Math.min(lo + width, items.length);
      const hi = Math.min(lo + 2 * width, items.length);
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) {
        // Left before right unless the comparator says swap: equal elements keep their order.
        if (await swaps(src[i], src[j])) dst[k++] = src[j++];
        else dst[k++] = src[i++];
      }
      while (i < mid) dst[k++] = src[i++];
      while (j < hi) dst[k++] = src[j++];
    }
    [src, dst] = [dst, src];
  }
  return src;
}

/**
 * `$distinct(array)`: first occurrences in order, by JSONata's deep equality, through a hash of a
 * canonical key (objects' keys sorted: equality ignores key order) instead of comparing every
 * value with every result. Values that are not JSON (functions) compare the quadratic way.
 */
function distinct(arr: Sequence | undefined): unknown {
  if (arr === undefined) return undefined;
  if (!Array.isArray(arr) || arr.length <= 1) return arr;
  const results: Sequence = [];
  if (arr.sequence) results.sequence = true;
  const seen = new Set<string>();
  const odd: unknown[] = [];
  for (const value of arr) {
    const key = canonicalKey(value);
    if (key === undefined) {
      if (!odd.some((o) => deepEquals(o, value))) {
        odd.push(value);
        results.push(value);
      }
    } else if (!seen.has(key)) {
      seen.add(key);
      results.push(value);
    }
  }
  return results;
}

/** A string equal for exactly the values JSONata's deepEquals calls equal; undefined if not JSON. */
function canonicalKey(v: unknown): string | undefined {
  switch (typeof v) {
    case "string":
      return JSON.stringify(v);
    case "number":
      return Number.isFinite(v) ? `n${v === 0 ? 0 : v}` : undefined;
    case "boolean":
      return v ? "t" : "f";
    case "undefined":
      return "u";
    case "object": {
      if (v === null) return "l";
      const parts: string[] = [];
      if (Array.isArray(v)) {
        for (const item of v) {
          const k = canonicalKey(item);
          if (k === undefined) return undefined;
          parts.push(k);
        }
        // A sequence flag is an own property that JSONata's deepEquals does not look at for arrays.
        return `[${parts.join(",")}]`;
      }
      for (const name of Object.getOwnPropertyNames(v).sort()) {
        const k = canonicalKey((v as Record<string, unknown>)[name]);
        if (k === undefined) return undefined;
        parts.push(`${JSON.stringify(name)}:${k}`);
      }
      return `{${parts.join(",")}}`;
    }
    default:
      return undefined;
  }
}

/** JSONata's deepEquals (utils.js), for the values canonicalKey cannot key. */
function deepEquals(lhs: unknown, rhs: unknown): boolean {
  if (lhs === rhs) return true;
  if (typeof lhs === "object" && typeof rhs === "object" && lhs !== null && rhs !== null) {
    if (Array.isArray(lhs) && Array.isArray(rhs)) {
      return lhs.length === rhs.length && lhs.every((x, i) => deepEquals(x, rhs[i]));
    }
    const lk = Object.getOwnPropertyNames(lhs);
    const rk = Object.getOwnPropertyNames(rhs);
    if (lk.length !== rk.length) return false;
    lk.sort();
    rk.sort();
    return lk.every((k, i) => k === rk[i] && deepEquals((lhs as any)[k], (rhs as any)[k]));
  }
  return false;
}

/** `$max`/`$min` in one pass (JSONata spreads the array into Math.max: a stack overflow past ~100k). */
function extreme(name: "max" | "min") {
  const wins = name === "max" ? (a: any, b: any) => a > b : (a: any, b: any) => a < b;
  return (arr: unknown[] | undefined): unknown => {
    if (arr === undefined || arr.length === 0) return undefined;
    const first = arr[0];
    const kind = typeof first;
    if (kind !== "number" && kind !== "string") throw jsonataError("T0412", { index: 1, token: name, type: "numbers" });
    let best = first as number | string;
    for (let i = 1; i < arr.length; i++) {
      const v = arr[i];
      if (typeof v !== kind) throw jsonataError("T0412", { index: 1, token: name, type: "numbers" });
      if (wins(v, best)) best = v as number | string;
    }
    return best;
  };
}

/** The overrides with their signatures; JSONata validates and coerces arguments before the call. */
export const NATIVE_BUILTINS: Record<string, { fn: (...args: any[]) => unknown; signature: string }> = {
  sort: { fn: sort, signature: "<af?:a>" },
  distinct: { fn: distinct, signature: "<x:x>" },
  // JSONata's own are <a<n>:n>; strings are this engine's extension (see above).
  max: { fn: extreme("max"), signature: "<a:x>" },
  min: { fn: extreme("min"), signature: "<a:x>" },
};

export function registerNativeBuiltins(expression: Expression): Expression {
  for (const [name, { fn, signature }] of Object.entries(NATIVE_BUILTINS)) expression.registerFunction(name, fn, signature);
  return expression;
}

/** The built-ins the fast path (fast-path.ts) applies itself to a sequence of plain values. */
export const AGGREGATES = new Set(["sort", "min", "max", "distinct", "count"]);
export const BAIL_AGGREGATE = Symbol("not for the fast path");

/**
 * One of AGGREGATES over 2+ strings, numbers or booleans (the caller checks), with the native
 * functions' answers; BAIL_AGGREGATE where those would throw or JSONata would decide otherwise.
 */
export function aggregateOverSequence(name: string, seq: unknown[]): unknown {
  switch (name) {
    case "count":
      return seq.length;
    case "distinct": {
      const seen = new Set<unknown>();
      const out: unknown[] = [];
      for (const v of seq) {
        const key = typeof v === "number" && v === 0 ? 0 : v; // -0 equals 0
        if (!seen.has(key)) {
          seen.add(key);
          out.push(v);
        }
      }
      return out;
    }
    case "sort":
    case "min":
    case "max": {
      if (!seq.every(isNumber) && !seq.every(isString)) return BAIL_AGGREGATE;
      return name === "sort" ? Array.from(seq as unknown[]).sort(ascending) : extreme(name)(seq as unknown[]);
    }
    default:
      return BAIL_AGGREGATE;
  }
}
