/**
 * Entry point for everything that needs a bundle (CLI, build, local server, fixture runner):
 * load mappings/<vendor>/connector.yaml, run every check, and compile when nothing is wrong.
 */
import { readdir, readFile } from "node:fs/promises";
import type { Dirent } from "node:fs";
import { basename, join, relative, resolve } from "node:path";
import { isRecord } from "./calls.ts";
import { compileBundle } from "./compile.ts";
import type { CompiledBundle } from "./compiled.ts";
import { BundleError, hasErrors, sortDiagnostics, toPointer, type Diagnostic } from "./diagnostics.ts";
import { checkFixtures } from "./fixture-check.ts";
import { parseYaml, type LoadedYaml } from "./load.ts";
import type { ConnectorMapping } from "./mapping.types.ts";
import { checkMappingSchema } from "./schema-check.ts";
import { checkSemantics } from "./semantic-check.ts";
import { pathExists } from "../util/fs.ts";

export const CONNECTOR_FILE = "connector.yaml";

export interface BundleResult {
  /** Present only when there are no errors (warnings allowed). */
  bundle?: CompiledBundle;
  /** Sorted by file and position. */
  diagnostics: Diagnostic[];
}

/**
 * Checks connector.yaml text without touching the disk (editors, tests). `file` is the name used
 * in diagnostics and `Expr.at`; the bundle's folder is taken from it.
 */
export function validateMappingText(text: string, file: string): BundleResult {
  const loaded = parseYaml(text, file);
  if (loaded.diagnostics.length > 0) return { diagnostics: sortDiagnostics(loaded.diagnostics) };
  const diagnostics = [...checkMappingSchema(loaded.value, loaded), ...checkSemantics(loaded.value, loaded)];
  return finish(loaded, diagnostics);
}

/** Loads and checks the bundle in `dir` (connector.yaml, the files it names and tests/*.yaml). */
export async function loadAndValidateBundle(dir: string): Promise<BundleResult> {
  const absDir = resolve(dir);
  const file = relative(process.cwd(), join(absDir, CONNECTOR_FILE));
  let text: string;
  try {
    text = await readFile(join(absDir, CONNECTOR_FILE), "utf8");
  } catch (err) {
    return {
      diagnostics: [
        { severity: "error", file, line: 1, col: 1, path: "", rule: "bundle/missing-file", message: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` },
      ],
    };
  }
  const loaded = parseYaml(text, file);
  if (loaded.diagnostics.length > 0) return { diagnostics: sortDiagnostics([...loaded.diagnostics, ...(await checkFixtures(absDir))]) };

  const diagnostics = [
    ...checkMappingSchema(loaded.value, loaded),
    ...checkSemantics(loaded.value, loaded),
    ...(await checkBundleFiles(absDir, loaded)),
    ...(await checkFixtures(absDir, loaded.value)),
  ];
  return finish(loaded, diagnostics);
}

/** Like loadAndValidateBundle, but throws a BundleError listing every diagnostic when there are errors. */
export async function loadBundleOrThrow(dir: string): Promise<CompiledBundle> {
  const result = await loadAndValidateBundle(dir);
  if (!result.bundle) throw new BundleError(relative(process.cwd(), resolve(dir)) || ".", result.diagnostics);
  return result.bundle;
}

/** Bundle folders (those with a connector.yaml) under `mappingsDir`, sorted, as `<mappingsDir>/<vendor>`. */
export async function listBundles(mappingsDir = "mappings"): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(mappingsDir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const dir = join(mappingsDir, entry.name);
    if (await pathExists(join(dir, CONNECTOR_FILE))) out.push(dir);
  }
  return out.sort();
}

function finish(loaded: LoadedYaml, diagnostics: Diagnostic[]): BundleResult {
  const sorted = sortDiagnostics(diagnostics);
  if (hasErrors(sorted)) return { diagnostics: sorted };
  try {
    const bundle = compileBundle(loaded.value as ConnectorMapping, { file: loaded.file, positionOf: loaded.positionOf });
    return { bundle, diagnostics: sorted };
  } catch (err) {
    // A check missed something the compiler relies on: report it rather than crash.
    sorted.push({ severity: "error", file: loaded.file, line: 1, col: 1, path: "", rule: "bundle/compile", message: (err as Error).message });
    return { diagnostics: sorted };
  }
}

/** Files the bundle refers to, and its folder name. */
async function checkBundleFiles(absDir: string, loaded: LoadedYaml): Promise<Diagnostic[]> {
  const doc = loaded.value;
  if (!isRecord(doc)) return [];
  const out: Diagnostic[] = [];
  const api = isRecord(doc.api) ? doc.api : {};
  if (typeof api.openapi === "string" && !(await pathExists(resolve(absDir, api.openapi)))) {
    const pos = loaded.positionOf(["api", "openapi"]);
    out.push({ severity: "error", file: loaded.file, ...pos, path: toPointer(["api", "openapi"]), rule: "bundle/missing-file", message: `OpenAPI document ${JSON.stringify(api.openapi)} does not exist in the bundle` });
  }
  const vendorId = isRecord(doc.vendor) ? doc.vendor.id : undefined;
  if (typeof vendorId === "string" && vendorId !== basename(absDir)) {
    const pos = loaded.positionOf(["vendor", "id"]);
    out.push({
      severity: "warning",
      file: loaded.file,
      ...pos,
      path: "/vendor/id",
      rule: "bundle/vendor-id-folder",
      message: `vendor.id "${vendorId}" differs from the bundle folder name "${basename(absDir)}"`,
      hint: "the folder name is the artifact name; keep them equal",
    });
  }
  return out;
}
