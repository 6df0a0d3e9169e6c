/**
 * `use:` resolution: a call site (operation request, command, attribute write) starts from a
 * named entry of `calls` and overrides it. Shared by the semantic check and the compiler so both
 * see the same merged call, and each field remembers which object in the document supplied it
 * (for positions in diagnostics and `Expr.at`).
 */
import type { Segment } from "./diagnostics.ts";

/** Fields a call site may carry; other keys of a command (requests, confirms, ...) are not call fields. */
export const CALL_FIELDS = [
  "use",
  "name",
  "method",
  "path",
  "baseUrl",
  "pathParams",
  "query",
  "headers",
  "body",
  "form",
  "auth",
  "timeoutMs",
  "success",
  "acceptStatus",
  "pagination",
  "idempotent",
  "batch",
  "errors",
  // Named calls carry these too: a field missing here is silently dropped from every `use:` of
  // the call (a call's `quota` was, so a declared vendor limit was never counted).
  "quota",
  "baseUrlFrom",
  "sign",
] as const;

/** Map-valued fields merge key by key: a use site can add one header without repeating the rest. */
const MAP_FIELDS = new Set<string>(["pathParams", "query", "headers", "form"]);

export interface ResolvedCall {
  /** The merged call (without `use`). */
  fields: Record<string, unknown>;
  /**
   * Document path of the object that supplied each field; map fields are tracked per key as
   * "pathParams/id". The value's own path is `[...origin, field]` (or `[...origin, field, key]`).
   */
  origin: Map<string, Segment[]>;
  /** Names of the named calls merged in, outermost first. */
  uses: string[];
}

export type CallResolution =
  | { ok: true; call: ResolvedCall }
  | { ok: false; problem: "unknown-use"; name: string; at: Segment[]; known: string[] }
  | { ok: false; problem: "use-cycle"; chain: string[]; at: Segment[] };

/**
 * Merges a call site with the named calls it uses (transitively). `calls` is the document's
 * `calls` object; `site` may be any object (only CALL_FIELDS are taken from it).
 */
export function resolveCall(calls: unknown, site: Record<string, unknown>, sitePath: Segment[]): CallResolution {
  return resolveWith(isRecord(calls) ? calls : {}, site, sitePath, []);
}

function resolveWith(calls: Record<string, unknown>, site: Record<string, unknown>, sitePath: Segment[], chain: string[]): CallResolution {
  let base: ResolvedCall = { fields: {}, origin: new Map(), uses: [] };
  if (typeof site.use === "string") {
    const name = site.use;
    if (chain.includes(name)) return { ok: false, problem: "use-cycle", chain: [...chain, name], at: [...sitePath, "use"] };
    const named = calls[name];
    if (!isRecord(named)) return { ok: false, problem: "unknown-use", name, at: [...sitePath, "use"], known: Object.keys(calls) };
    const inner = resolveWith(calls, named, ["calls", name], [...chain, name]);
    if (!inner.ok) return inner;
    base = { ...inner.call, uses: [name, ...inner.call.uses] };
  }
  const fields = { ...base.fields };
  const origin = new Map(base.origin);
  for (const field of CALL_FIELDS) {
    if (field === "use" || !(field in site) || site[field] === undefined) continue;
    const value = site[field];
    if (MAP_FIELDS.has(field) && isRecord(value)) {
      const merged = isRecord(fields[field]) ? { ...(fields[field] as Record<string, unknown>) } : {};
      for (const [key, v] of Object.entries(value)) {
        merged[key] = v;
        origin.set(`${field}/${key}`, sitePath);
      }
      fields[field] = merged;
    } else {
      fields[field] = value;
    }
    origin.set(field, sitePath);
  }
  return { ok: true, call: { fields, origin, uses: base.uses } };
}

/** Path of a merged field's value in the document. */
export function fieldPath(call: ResolvedCall, field: string, key?: string): Segment[] {
  if (key !== undefined) {
    const owner = call.origin.get(`${field}/${key}`) ?? call.origin.get(field) ?? [];
    return [...owner, field, key];
  }
  return [...(call.origin.get(field) ?? []), field];
}

/** `{name}` placeholders of a path, in order. */
export function pathPlaceholders(path: string): string[] {
  return [...path.matchAll(/\{([^{}]*)\}/g)].map((m) => m[1]);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
