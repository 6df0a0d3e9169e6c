/**
 * Problems found in a mapping bundle, each tied to a place in a file, so an author can jump
 * straight to it. Every check (YAML, schema, semantics, fixtures) reports through this shape.
 */

export interface Diagnostic {
  severity: "error" | "warning";
  /** Path relative to the working directory, e.g. "mappings/acme/connector.yaml". */
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  col: number;
  /** JSON pointer into the document, e.g. "/profiles/color/endpoints/0/clusters/OnOff". */
  path: string;
  /** Stable identifier of the check, e.g. "schema/required" or "matter/unknown-cluster". */
  rule: string;
  message: string;
  hint?: string;
}

export type Segment = string | number;

/** RFC 6901 JSON pointer for a path of keys and indexes. */
export function toPointer(path: readonly Segment[]): string {
  return path.map((s) => "/" + String(s).replace(/~/g, "~0").replace(/\//g, "~1")).join("");
}

/** Inverse of toPointer; numeric-looking segments stay strings (callers look them up by value). */
export function fromPointer(pointer: string): string[] {
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

/** `file:line:col: error rule: message (hint)` — the format editors and CI annotate from. */
export function formatDiagnostic(d: Diagnostic): string {
  const hint = d.hint ? ` (${d.hint})` : "";
  return `${d.file}:${d.line}:${d.col}: ${d.severity} ${d.rule}: ${d.message}${hint}`;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}

/** Orders by file, then position, so output reads top to bottom like the file. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col);
}

/** "did you mean X?" from ClusterTable/suggest() candidates, or undefined when there are none. */
export function didYouMean(candidates: readonly string[]): string | undefined {
  if (candidates.length === 0) return undefined;
  return `did you mean ${candidates.map((c) => JSON.stringify(c)).join(" or ")}?`;
}

/** Thrown by loadBundleOrThrow: a bundle that cannot run, with every problem found. */
export class BundleError extends Error {
  readonly diagnostics: Diagnostic[];

  constructor(source: string, diagnostics: Diagnostic[]) {
    const errors = diagnostics.filter((d) => d.severity === "error");
    const lines = sortDiagnostics(diagnostics).map(formatDiagnostic);
    super(`Mapping bundle ${source} has ${errors.length} error(s):\n${lines.join("\n")}`);
    this.name = "BundleError";
    this.diagnostics = diagnostics;
  }
}
