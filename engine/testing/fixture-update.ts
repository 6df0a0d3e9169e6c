/**
 * `c2c test --update`: writes what a fixture run actually produced (ACKs, HTTP answers, events,
 * the vendor requests the engine made) back into the fixture file, like a snapshot update.
 *
 * What the author chose is kept: an expectation that names only some members keeps naming only
 * those (a member the actual value lacks is removed), comments stay, and every line the update
 * does not touch stays byte for byte as written (the document is edited through the YAML
 * library, then only the changed lines are spliced into the original text).
 */
import { readFile, writeFile } from "node:fs/promises";
import { isDeepStrictEqual } from "node:util";
import { diffArrays } from "diff";
import { isMap, isSeq, parseDocument, type Document } from "yaml";
import type { FixtureResult } from "./fixture-runner.ts";
import { subsetMismatches } from "./compare.ts";

export interface FixtureUpdate {
  /** Whether the file was (or, with dryRun, would be) rewritten. */
  changed: boolean;
  /** What could not be updated automatically (a response the vendor never recorded, ...). */
  notes: string[];
}

type Path = Array<string | number>;

const STRINGIFY = { lineWidth: 0, flowCollectionPadding: true } as const;

export async function updateFixtureFile(file: string, result: FixtureResult, opts: { dryRun?: boolean } = {}): Promise<FixtureUpdate> {
  const original = await readFile(file, "utf8");
  const doc = parseDocument(original);
  const before = doc.toString(STRINGIFY);
  const notes: string[] = [];
  patchDocument(doc, result, notes);
  const after = doc.toString(STRINGIFY);
  if (after === before) return { changed: false, notes };
  const text = spliceChangedLines(original, before, after);
  if (!opts.dryRun) await writeFile(file, text);
  return { changed: true, notes };
}

/** Applies the actual results to the parsed fixture. Exported for tests. */
export function patchDocument(doc: Document, result: FixtureResult, notes: string[]): void {
  const raw = doc.toJS() as Record<string, any>;
  // What a step's answer is: an HTTP answer (webhook deliveries and their replays), a poll tick's round, or an ACK.
  const kindOf = (s: any, answer: unknown): "http" | "round" | "ack" =>
    s?.webhook !== undefined || (s?.replay !== undefined && typeof (answer as { statusCode?: unknown } | undefined)?.statusCode === "number") ? "http" : s?.poll !== undefined ? "round" : "ack";
  const steps: Array<{ expect: Path; answer: unknown; kind: "http" | "round" | "ack" }> = Array.isArray(raw.deliveries)
    ? raw.deliveries.map((s: any, i: number) => ({ expect: ["deliveries", i, "expect"], answer: result.answers[i], kind: kindOf(s, result.answers[i]) }))
    : [{ expect: ["expect"], answer: result.answers[0], kind: raw.webhook !== undefined ? "http" : "ack" }];

  for (const step of steps) {
    if (step.answer === undefined) continue;
    if (step.kind === "http") patchHttp(doc, [...step.expect, "http"], step.answer);
    else patchValue(doc, [...step.expect, step.kind], doc.getIn([...step.expect, step.kind]) === undefined ? undefined : toJs(doc, [...step.expect, step.kind]), step.answer);
  }

  // Events: element by element; extra ones appended whole, missing ones removed from the end.
  const expected = (toJs(doc, ["expect", "events"]) as unknown[] | undefined) ?? [];
  const actual = result.events;
  if (!isDeepStrictEqual(expected.length, actual.length) || subsetMismatches(expected, actual).length) {
    if (doc.getIn(["expect", "events"]) === undefined) {
      if (actual.length) doc.setIn(["expect", "events"], doc.createNode(actual));
    } else {
      for (let i = 0; i < Math.min(expected.length, actual.length); i++) patchValue(doc, ["expect", "events", i], expected[i], actual[i]);
      for (let i = expected.length; i < actual.length; i++) doc.addIn(["expect", "events"], doc.createNode(actual[i]));
      for (let i = expected.length - 1; i >= actual.length; i--) doc.deleteIn(["expect", "events", i]);
    }
  }

  // Vendor requests the simulator could not match: the recorded request takes what was sent.
  let diverged = false;
  for (const p of result.vendorProblems) {
    if (p.index === undefined) {
      notes.push(`${p.received.method} ${p.received.path} has no recorded exchange: add one with the vendor's response under vendor:`);
      diverged = true;
      continue;
    }
    const at: Path = ["vendor", p.index, "request"];
    if (p.reason.startsWith("header ")) {
      notes.push(`vendor exchange ${p.index + 1}: ${p.reason}; headers are not updated (they may carry credentials)`);
    } else {
      if (p.reason.startsWith("method ")) doc.setIn([...at, "method"], p.received.method);
      if (p.reason.startsWith("path ")) doc.setIn([...at, "path"], p.received.path);
      if (p.reason.startsWith("query ")) doc.setIn([...at, "query"], doc.createNode(p.received.query));
      if (p.reason.startsWith("body ")) doc.setIn([...at, "body"], doc.createNode(p.received.body ?? p.received.rawBody));
    }
    diverged = true;
  }
  // Exchanges the engine never asked for, in a run that otherwise followed the script, are dropped.
  if (!diverged && (raw.expect?.vendorRequests ?? "exact") === "exact") {
    const used = countUsed(result);
    const recorded = Array.isArray(raw.vendor) ? raw.vendor.length : 0;
    for (let i = recorded - 1; i >= used; i--) doc.deleteIn(["vendor", i]);
  }
}

/** Vendor exchanges consumed in order: every failure line naming an unmade request is one unused. */
function countUsed(result: FixtureResult): number {
  const unused = result.failures.filter((f) => f.startsWith("expected vendor request ")).length;
  return result.fixture.vendor.length - unused;
}

function patchHttp(doc: Document, path: Path, answer: unknown): void {
  const a = answer as { statusCode?: unknown; body?: unknown };
  if (typeof a?.statusCode !== "number") return;
  if (doc.getIn(path) === undefined) {
    doc.setIn(path, doc.createNode({ status: a.statusCode }));
    return;
  }
  if (doc.getIn([...path, "status"]) !== a.statusCode) doc.setIn([...path, "status"], a.statusCode);
  const expected = toJs(doc, [...path, "body"]);
  if (expected === undefined) return;
  if (typeof expected === "string") {
    if (expected !== a.body) doc.setIn([...path, "body"], String(a.body ?? ""));
    return;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(String(a.body));
  } catch {
    doc.setIn([...path, "body"], String(a.body ?? ""));
    return;
  }
  patchValue(doc, [...path, "body"], expected, parsed);
}

/**
 * Makes the expectation at `path` match `actual` with the fewest edits: members the expectation
 * names are patched in place (their comments stay), members it leaves out stay left out.
 */
function patchValue(doc: Document, path: Path, expected: unknown, actual: unknown): void {
  if (expected === undefined) {
    if (actual !== undefined) doc.setIn(path, doc.createNode(actual));
    return;
  }
  if (!subsetMismatches(expected, actual).length) return;
  if (isObject(expected) && isObject(actual) && isMap(doc.getIn(path, true))) {
    for (const [k, v] of Object.entries(expected)) {
      if (!(k in actual) || actual[k] === undefined) doc.deleteIn([...path, k]);
      else patchValue(doc, [...path, k], v, actual[k]);
    }
    return;
  }
  if (Array.isArray(expected) && Array.isArray(actual) && expected.length === actual.length && isSeq(doc.getIn(path, true))) {
    expected.forEach((v, i) => patchValue(doc, [...path, i], v, actual[i]));
    return;
  }
  doc.setIn(path, doc.createNode(actual));
}

function toJs(doc: Document, path: Path): unknown {
  const node = doc.getIn(path, true) as { toJSON?: () => unknown } | unknown;
  if (node && typeof node === "object" && typeof (node as { toJSON?: unknown }).toJSON === "function") return (node as { toJSON(): unknown }).toJSON();
  return node;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * The original text with only the lines that the edit changed replaced. `before` and `after` are
 * the document printed before and after the edit; the printer normalises some spacing (flow
 * collection padding, quotes), so printing the edited document whole would touch lines the
 * update never changed. When the printer did not keep the line structure, the edited print is
 * the answer.
 */
export function spliceChangedLines(original: string, before: string, after: string): string {
  const orig = original.split("\n");
  const base = before.split("\n");
  if (orig.length !== base.length) return after;
  const out: string[] = [];
  let i = 0;
  for (const part of diffArrays(base, after.split("\n"))) {
    if (part.added) out.push(...part.value);
    else if (part.removed) i += part.value.length;
    else {
      out.push(...orig.slice(i, i + part.value.length));
      i += part.value.length;
    }
  }
  return out.join("\n");
}
