/**
 * Batched writes: requests of one call, made by several commands (or attribute writes) of one MI
 * request, become fewer vendor requests as the call's `batch` declares. Requests are grouped by
 * everything that addresses them (method, URL, path parameters, query, headers); a group is sent
 * at the place of its first member, so the order of the MI request is kept.
 */
import type { CallBatch } from "../../mapping/compiled.ts";
import type { StoredRequest } from "./plan.ts";

export interface BatchMember {
  /** Opaque id of the part that made the request. */
  id: number;
  request: StoredRequest;
}

/** What addresses a request: members with equal keys may share one vendor request. */
export function batchKey(name: string, r: StoredRequest): string {
  return JSON.stringify([name, r.method, r.baseUrl, r.path, r.pathParams, r.query, r.headers]);
}

/** One vendor request per returned entry, with the members whose effect it carries. */
export function combine(batch: CallBatch, members: BatchMember[]): Array<{ request: StoredRequest; members: number[] }> {
  if (members.length <= 1) return members.map((m) => ({ request: m.request, members: [m.id] }));
  if ("merge" in batch) {
    const json = members.reduce<unknown>((acc, m) => deepMerge(acc, m.request.json), undefined);
    return [{ request: { ...members[0].request, json }, members: members.map((m) => m.id) }];
  }
  // items: concatenate the arrays under one body field, chunked at `max`; other fields deep-merged.
  const items: Array<{ item: unknown; member: number }> = [];
  let rest: unknown;
  for (const m of members) {
    const body = (m.request.json ?? {}) as Record<string, unknown>;
    const list = body[batch.items];
    for (const item of Array.isArray(list) ? list : list === undefined ? [] : [list]) items.push({ item, member: m.id });
    const { [batch.items]: _omit, ...others } = body;
    rest = deepMerge(rest, others);
  }
  const out: Array<{ request: StoredRequest; members: number[] }> = [];
  for (let i = 0; i < items.length; i += batch.max) {
    const chunk = items.slice(i, i + batch.max);
    out.push({
      request: { ...members[0].request, json: { ...((rest ?? {}) as object), [batch.items]: chunk.map((c) => c.item) } },
      members: [...new Set(chunk.map((c) => c.member))],
    });
  }
  return out;
}

/** Objects merge key by key, recursively; anything else (arrays, scalars) is replaced by the later value. */
export function deepMerge(a: unknown, b: unknown): unknown {
  if (b === undefined) return a;
  if (!isPlainObject(a) || !isPlainObject(b)) return b;
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = deepMerge(out[k], v);
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === "object" && !Array.isArray(v);
}
