/**
 * Reads YAML while keeping where every value came from, so later checks (schema, JSONata,
 * Matter references) can report `file:line:col` for the exact scalar at fault.
 */
import { readFile } from "node:fs/promises";
import { relative } from "node:path";
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from "yaml";
import type { Diagnostic, Segment } from "./diagnostics.ts";

export interface Position {
  line: number;
  col: number;
}

/** Position of the node at a path; falls back to the nearest existing parent. */
export type PositionResolver = (path: readonly Segment[]) => Position;

export interface LoadedYaml {
  file: string;
  /** The document as plain JS (undefined when the text is not YAML at all). */
  value: unknown;
  /** "yaml/syntax" and "yaml/duplicate-key" errors; empty for a well-formed document. */
  diagnostics: Diagnostic[];
  /** Where the value at `path` starts. */
  positionOf: PositionResolver;
  /** Where the key of the last segment of `path` is written (for "this property is wrong"). */
  keyPositionOf: PositionResolver;
}

const START: Position = { line: 1, col: 1 };

/** Parses YAML text; `file` is only used in diagnostics. */
export function parseYaml(text: string, file: string): LoadedYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, keepSourceTokens: true, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined): Position => (offset === undefined ? START : lineCounter.linePos(offset));

  const diagnostics: Diagnostic[] = doc.errors.map((e) => {
    const pos = at(e.pos?.[0]);
    const duplicate = e.code === "DUPLICATE_KEY";
    return {
      severity: "error",
      file,
      line: pos.line,
      col: pos.col,
      path: "",
      rule: duplicate ? "yaml/duplicate-key" : "yaml/syntax",
      message: duplicate ? "duplicate key: a key may appear only once in a mapping" : firstLine(e.message),
    };
  });

  keepNumericKeysAsWritten(doc);

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    // Only reachable with alias bombs or unresolvable aliases; the document is not usable.
    if (diagnostics.length === 0) {
      diagnostics.push({ severity: "error", file, ...START, path: "", rule: "yaml/syntax", message: (err as Error).message });
    }
  }

  const resolve = (path: readonly Segment[], wantKey: boolean): Position => {
    const found = walk(doc, path);
    const node = wantKey && found.complete ? (found.key ?? found.node) : found.node;
    return at(node?.range?.[0]);
  };

  return {
    file,
    value,
    diagnostics,
    positionOf: (path) => resolve(path, false),
    keyPositionOf: (path) => resolve(path, true),
  };
}

/** Reads and parses a YAML file; diagnostics name it relative to the working directory. */
export async function loadYamlFile(absPath: string, file = relative(process.cwd(), absPath)): Promise<LoadedYaml> {
  const text = await readFile(absPath, "utf8");
  return parseYaml(text, file);
}

interface WalkResult {
  /** Deepest node reached. */
  node: Node | undefined;
  /** Key node of the last segment, when the whole path was found inside a mapping. */
  key: Node | undefined;
  complete: boolean;
}

function walk(doc: Document, path: readonly Segment[]): WalkResult {
  let node = doc.contents as Node | null;
  let key: Node | undefined;
  for (const segment of path) {
    if (node && isAlias(node)) node = (node.resolve(doc) as Node | undefined) ?? node;
    let next: Node | undefined;
    let nextKey: Node | undefined;
    if (node && isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && keyText(p.key) === String(segment));
      if (pair) {
        nextKey = pair.key as Node;
        // `key:` with nothing after it has no value node; the key is the best place to point at.
        next = (pair.value as Node | null) ?? nextKey;
        if (next && isScalar(next) && next.range === undefined) next = nextKey;
      }
    } else if (node && isSeq(node)) {
      const item = node.items[Number(segment)];
      if (item !== undefined && item !== null) next = item as Node;
    }
    if (!next) return { node: node ?? undefined, key, complete: false };
    node = next;
    key = nextKey;
  }
  return { node: node ?? undefined, key, complete: true };
}

/**
 * YAML reads the key `0x0008` as the number 8, which as a JS object key becomes "8": the id's
 * spelling is lost in messages and integer-like keys jump ahead of the others in iteration order.
 * Keys are names in this format, so they keep the text the author wrote.
 */
function keepNumericKeysAsWritten(doc: Document): void {
  visit(doc, {
    Pair(_, pair) {
      const key = pair.key;
      if (isScalar(key) && typeof key.value === "number" && typeof key.source === "string") key.value = key.source;
    },
  });
}

function keyText(key: unknown): string {
  if (isScalar(key)) return String(key.value);
  return String(key);
}

function firstLine(message: string): string {
  return message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
}
