/**
 * Expected-versus-actual comparison for fixtures: objects match when every key the expectation
 * lists matches (keys it leaves out are not checked; `{ $absent: true }` says the key must not be
 * there); arrays must match element by element and in length; scalars must be equal. Failures
 * carry a readable diff.
 */
import { diffArrays, diffLines } from "diff";

export interface Mismatch {
  path: string;
  expected: unknown;
  actual: unknown;
}

/** `{ $absent: true }` in an expectation: the member must not be there (a response claiming no attribute). */
export function isAbsentMarker(expected: unknown): boolean {
  return isPlainObject(expected) && Object.keys(expected).length === 1 && expected.$absent === true;
}

export function subsetMismatches(expected: unknown, actual: unknown, path = "$"): Mismatch[] {
  if (isAbsentMarker(expected)) return actual === undefined ? [] : [{ path, expected, actual }];
  if (expected !== null && typeof expected === "object" && !Array.isArray(expected)) {
    if (actual === null || typeof actual !== "object" || Array.isArray(actual)) return [{ path, expected, actual }];
    return Object.entries(expected).flatMap(([k, v]) => subsetMismatches(v, (actual as Record<string, unknown>)[k], `${path}.${k}`));
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return [{ path, expected, actual }];
    return expected.flatMap((v, i) => subsetMismatches(v, actual[i], `${path}[${i}]`));
  }
  return Object.is(expected, actual) || expected === actual ? [] : [{ path, expected, actual }];
}

/** A line diff of two JSON values, `-` expected and `+` actual. */
export function jsonDiff(expected: unknown, actual: unknown, color = false): string {
  const parts = diffLines(JSON.stringify(expected, null, 2) + "\n", JSON.stringify(actual, null, 2) + "\n");
  const red = (s: string) => (color ? `\x1b[31m${s}\x1b[39m` : s);
  const green = (s: string) => (color ? `\x1b[32m${s}\x1b[39m` : s);
  return parts
    .flatMap((p) =>
      p.value
        .replace(/\n$/, "")
        .split("\n")
        .map((line) => (p.added ? green(`+ ${line}`) : p.removed ? red(`- ${line}`) : `  ${line}`)),
    )
    .join("\n");
}

/**
 * The expectation as the whole actual value would look if it matched: the actual value, with the
 * members the expectation names replaced by what it expects (recursively). Diffing this against
 * the actual value shows every actual member, and marks only what the expectation disagrees
 * with; members it leaves out appear unmarked, as context. Arrays keep the expected length, so a
 * missing element shows as missing rather than as a shifted neighbour.
 */
export function expectedView(expected: unknown, actual: unknown): unknown {
  if (isPlainObject(expected) && isPlainObject(actual)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(actual)) out[k] = k in expected ? expectedView(expected[k], v) : v;
    for (const [k, v] of Object.entries(expected)) if (!(k in actual) && !isAbsentMarker(v)) out[k] = v;
    return out;
  }
  if (Array.isArray(expected) && Array.isArray(actual)) return arrayView(expected, actual);
  return expected;
}

/**
 * Arrays are aligned first (elements that match stay paired even when one is missing before
 * them); a run of unmatched expected elements is paired with the run of actual ones in its
 * place, element by element, so a changed member shows as that member. Expected elements left
 * over show as removed, actual ones as added.
 */
function arrayView(expected: unknown[], actual: unknown[]): unknown[] {
  const out: unknown[] = [];
  const parts = diffArrays(expected, actual, { comparator: (e, a) => subsetMismatches(e, a).length === 0 });
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (!part.added && !part.removed) {
      out.push(...part.value.map((_, k) => actual[actualIndex(parts, i) + k]));
    } else if (part.removed) {
      const next = parts[i + 1];
      const paired = next?.added ? next.value : [];
      part.value.forEach((e, k) => out.push(k < paired.length ? expectedView(e, paired[k]) : e));
      if (next?.added) i++;
    }
    // An added run not preceded by a removed one: actual-only elements, absent from the view.
  }
  return out;
}

function actualIndex(parts: Array<{ added?: boolean; removed?: boolean; count?: number; value: unknown[] }>, upTo: number): number {
  let n = 0;
  for (let i = 0; i < upTo; i++) if (!parts[i].removed) n += parts[i].value.length;
  return n;
}

/** A diff of the whole actual value against the expectation (see expectedView): `-` expected, `+` actual. */
export function subsetDiff(expected: unknown, actual: unknown, color = false): string {
  return jsonDiff(expectedView(expected, actual), actual, color);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}
