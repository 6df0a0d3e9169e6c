/**
 * The quotas a compiled bundle declares, by the name a bundle author knows them by: `api` for
 * `api.quota`, the call's name for a named call's own `quota` (counted as "call:<name>"). Used
 * by tools that start from a given quota state (fixtures' `given.quotaUsed`), never on the
 * request path.
 */
import type { CompiledBundle, CompiledQuota } from "../mapping/compiled.ts";

const CALL_PREFIX = "call:";

export function bundleQuotas(bundle: CompiledBundle): Map<string, CompiledQuota> {
  const out = new Map<string, CompiledQuota>();
  if (bundle.api.quota) out.set("api", bundle.api.quota);
  // Call quotas sit on the compiled calls wherever operations and profiles use them: walk the
  // plain data of the bundle (expressions included, cycles guarded) and collect each one once.
  const seen = new Set<object>();
  const walk = (value: unknown, depth: number): void => {
    if (value === null || typeof value !== "object" || seen.has(value) || depth > 40) return;
    seen.add(value);
    if (Array.isArray(value)) {
      for (const v of value) walk(v, depth + 1);
      return;
    }
    for (const [k, v] of Object.entries(value)) {
      if (k === "quota" && isCallQuota(v)) out.set(v.name.slice(CALL_PREFIX.length), v);
      else walk(v, depth + 1);
    }
  };
  for (const part of [bundle.operations, bundle.profiles, bundle.account, bundle.polling, bundle.webhooks]) walk(part, 0);
  return out;
}

function isCallQuota(v: unknown): v is CompiledQuota {
  return typeof v === "object" && v !== null && typeof (v as CompiledQuota).name === "string" && (v as CompiledQuota).name.startsWith(CALL_PREFIX);
}
