/**
 * Checks a bundle's fixture tests (tests/*.yaml) without running them: each parses, matches
 * schemas/fixture.schema.json, and every file it names exists. Running them is the fixture
 * runner's job; this keeps a broken fixture from surfacing only as a confusing test failure.
 */
import { readdir } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import fixtureSchema from "../../schemas/fixture.schema.json" with { type: "json" };
import { isRecord } from "./calls.ts";
import type { Diagnostic, Segment } from "./diagnostics.ts";
import { toPointer } from "./diagnostics.ts";
import { loadYamlFile, type LoadedYaml } from "./load.ts";
import { checkAgainstSchema } from "./schema-check.ts";
import { pathExists } from "../util/fs.ts";

export const FIXTURE_DIR = "tests";

/** Fixture files of a bundle, sorted; empty when the bundle has no tests folder. */
export async function listFixtureFiles(bundleDir: string): Promise<string[]> {
  const dir = join(bundleDir, FIXTURE_DIR);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith(".yaml") || n.endsWith(".yml"))
    .sort()
    .map((n) => join(dir, n));
}

/**
 * `mapping`: the bundle's connector.yaml as parsed, when it parsed: fixtures are then also
 * checked against what it declares (the quotas `given.quotaUsed` names).
 */
export async function checkFixtures(bundleDir: string, mapping?: unknown): Promise<Diagnostic[]> {
  const diagnostics: Diagnostic[] = [];
  const quotas = mapping === undefined ? undefined : declaredQuotas(mapping);
  for (const file of await listFixtureFiles(bundleDir)) {
    diagnostics.push(...(await checkFixtureFile(file, quotas)));
  }
  return diagnostics;
}

/**
 * Quotas `given.quotaUsed` may name: `api` for api.quota, and every named call with its own quota;
 * `perMinute` says whether it counts requests per minute (what a preset sets).
 */
export function declaredQuotas(mapping: unknown): Array<{ name: string; perMinute: boolean }> {
  if (!isRecord(mapping)) return [];
  const out: Array<{ name: string; perMinute: boolean }> = [];
  const add = (name: string, quota: unknown) => {
    if (quota !== undefined) out.push({ name, perMinute: isRecord(quota) && quota.requestsPerMinute !== undefined });
  };
  if (isRecord(mapping.api)) add("api", mapping.api.quota);
  if (isRecord(mapping.calls)) for (const [name, call] of Object.entries(mapping.calls)) if (isRecord(call)) add(name, call.quota);
  return out;
}

async function checkFixtureFile(absPath: string, quotas?: Array<{ name: string; perMinute: boolean }>): Promise<Diagnostic[]> {
  const loaded = await loadYamlFile(resolve(absPath));
  if (loaded.diagnostics.length > 0) return loaded.diagnostics;
  const diagnostics = checkAgainstSchema(fixtureSchema, loaded.value, loaded);
  const fixture = loaded.value;
  if (!isRecord(fixture)) return diagnostics;

  const named: Array<{ rel: unknown; path: Segment[] }> = [];
  if (isRecord(fixture.request) && Object.keys(fixture.request).length === 1) named.push({ rel: fixture.request.file, path: ["request", "file"] });
  if (Array.isArray(fixture.vendor)) {
    fixture.vendor.forEach((exchange, i) => {
      const response = isRecord(exchange) && isRecord(exchange.response) ? exchange.response : undefined;
      if (!response) return;
      if (response.bodyFile !== undefined) named.push({ rel: response.bodyFile, path: ["vendor", i, "response", "bodyFile"] });
      if (response.bodyFile !== undefined && "body" in response) {
        diagnostics.push(at(loaded, ["vendor", i, "response"], "fixture/body-and-body-file", "response has both `body` and `bodyFile`; keep one"));
      }
    });
  }
  const used = isRecord(fixture.given) && isRecord(fixture.given.quotaUsed) ? fixture.given.quotaUsed : undefined;
  if (used && quotas) {
    for (const name of Object.keys(used)) {
      const quota = quotas.find((q) => q.name === name);
      if (quota?.perMinute) continue;
      if (quota) {
        // A preset is a count of this minute's requests; open requests are held while calls run.
        diagnostics.push(at(loaded, ["given", "quotaUsed", name], "fixture/quota-without-rate", `given.quotaUsed names ${JSON.stringify(name)}, a quota without requestsPerMinute: there is no per-minute count to preset`, "quotaUsed presets requests per minute; open requests at once cannot be preset"));
        continue;
      }
      const names = quotas.map((q) => q.name);
      const hint = names.length ? `this bundle's quotas: ${names.join(", ")}` : "this bundle declares no quota (api.quota, or `quota` on a call)";
      diagnostics.push(at(loaded, ["given", "quotaUsed", name], "fixture/unknown-quota", `given.quotaUsed names ${JSON.stringify(name)}, which is not a quota of this bundle`, hint));
    }
  }
  for (const { rel, path } of named) {
    if (typeof rel !== "string" || rel === "") continue;
    const target = resolve(dirname(absPath), rel);
    if (!(await pathExists(target))) {
      diagnostics.push(at(loaded, path, "fixture/missing-file", `file ${JSON.stringify(rel)} does not exist`, `looked for ${relative(process.cwd(), target)}`));
    }
  }
  return diagnostics;
}

function at(loaded: LoadedYaml, path: Segment[], rule: string, message: string, hint?: string): Diagnostic {
  const pos = loaded.positionOf(path);
  return { severity: "error", file: loaded.file, line: pos.line, col: pos.col, path: toPointer(path), rule, message, ...(hint ? { hint } : {}) };
}
