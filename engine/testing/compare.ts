/**
 * Expected-versus-actual comparison for fixtures: objects match when every key the expectation
 * lists matches (keys it leaves out are not checked); arrays must match element by element and in
 * length; scalars must be equal. Failures carry a readable diff.
 */
import { diffLines } from "diff";

export interface Mismatch {
  path: string;
  expected: unknown;
  actual: unknown;
}

export function subsetMismatches(expected: unknown, actual: unknown, path = "$"): Mismatch[] {
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
