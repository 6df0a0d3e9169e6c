/**
 * Turns what the user typed (`acme`, `mappings/acme`, `./my/bundle`) into bundle folders, and
 * diagnostics' file names into paths relative to where the user stands.
 */
import { isAbsolute, join, relative, resolve } from "node:path";
import { CONNECTOR_FILE, listBundles } from "../mapping/bundle.ts";
import type { Diagnostic } from "../mapping/diagnostics.ts";
import { CliError } from "./io.ts";
import { pathExists } from "../util/fs.ts";

export const MAPPINGS_DIR = "mappings";



/** Absolute folder of one bundle: a folder path, or a vendor name under mappings/. */
export async function resolveBundleDir(arg: string, cwd: string): Promise<string> {
  const direct = resolve(cwd, arg);
  if (await pathExists(join(direct, CONNECTOR_FILE))) return direct;
  if (!arg.includes("/") && !arg.includes("\\") && !isAbsolute(arg)) {
    const named = resolve(cwd, MAPPINGS_DIR, arg);
    if (await pathExists(join(named, CONNECTOR_FILE))) return named;
  }
  const known = (await listBundles(resolve(cwd, MAPPINGS_DIR))).map((d) => relative(resolve(cwd, MAPPINGS_DIR), d));
  const hint = known.length ? ` (bundles under ${MAPPINGS_DIR}/: ${known.join(", ")})` : "";
  throw new CliError(`no bundle at ${JSON.stringify(arg)}: expected a folder with ${CONNECTOR_FILE} or a name under ${MAPPINGS_DIR}/${hint}`);
}

/** The bundles named, or every bundle under mappings/ when none is. */
export async function resolveBundleDirs(args: string[], cwd: string): Promise<string[]> {
  if (args.length > 0) return Promise.all(args.map((a) => resolveBundleDir(a, cwd)));
  const all = (await listBundles(resolve(cwd, MAPPINGS_DIR))).map((d) => resolve(d));
  if (all.length === 0) throw new CliError(`no bundles found under ${join(cwd, MAPPINGS_DIR)}; name one, e.g. \`c2c validate path/to/bundle\``);
  return all;
}

/** Diagnostics name files relative to the process; the user reads them relative to `cwd`. */
export function relativeToCwd(d: Diagnostic, cwd: string): Diagnostic {
  const abs = resolve(process.cwd(), d.file);
  return { ...d, file: displayPath(abs, cwd) };
}

/** Relative to `cwd` when inside it, else absolute (a "../../tmp/x" path helps nobody). */
export function displayPath(absPath: string, cwd: string): string {
  const rel = relative(cwd, absPath);
  if (rel === "") return ".";
  return rel.startsWith("..") || isAbsolute(rel) ? absPath : rel;
}
