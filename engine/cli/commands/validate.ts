/**
 * `c2c validate`: schema, semantic, fixture and OpenAPI checks of one or more bundles. With
 * `--watch --json` it is the editor's diagnostics source: one JSON line per diagnostic, framed by a
 * start and an end line per run, re-run after every edit (.vscode/tasks.json consumes it).
 */
import { join, sep } from "node:path";
import { CONNECTOR_FILE, loadAndValidateBundle } from "../../mapping/bundle.ts";
import { sortDiagnostics, type Diagnostic } from "../../mapping/diagnostics.ts";
import { loadYamlFile } from "../../mapping/load.ts";
import { checkCallsAgainstOpenApi } from "../../mapping/openapi-check.ts";
import { displayPath, relativeToCwd, resolveBundleDirs } from "../bundles.ts";
import type { CliConsole, Printer } from "../io.ts";
import { watchFolders } from "../watch.ts";

export interface ValidateOptions {
  json?: boolean;
  strict?: boolean;
  /** Validate again after every change under the bundles, until `until` resolves (or Ctrl-C). */
  watch?: boolean;
  until?: Promise<unknown>;
}

export interface BundleReport {
  bundle: string;
  ok: boolean;
  errors: number;
  warnings: number;
  diagnostics: Diagnostic[];
}

/** Every check of one bundle folder, the OpenAPI check included. */
export async function validateBundleDir(dir: string): Promise<Diagnostic[]> {
  const result = await loadAndValidateBundle(dir);
  const diagnostics = [...result.diagnostics];
  // Only worth it when the YAML parsed; syntax errors are already reported.
  if (!diagnostics.some((d) => d.rule.startsWith("yaml/") || d.rule === "bundle/missing-file")) {
    const loaded = await loadYamlFile(join(dir, CONNECTOR_FILE));
    diagnostics.push(...(await checkCallsAgainstOpenApi(loaded, dir)));
  }
  return sortDiagnostics(diagnostics);
}

async function reportBundle(dir: string, opts: ValidateOptions, con: CliConsole): Promise<BundleReport> {
  const diagnostics = (await validateBundleDir(dir)).map((d) => relativeToCwd(d, con.cwd));
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  const warnings = diagnostics.length - errors;
  return { bundle: displayPath(dir, con.cwd), ok: errors === 0 && (!opts.strict || warnings === 0), errors, warnings, diagnostics };
}

export async function validateCommand(bundles: string[], opts: ValidateOptions, con: CliConsole): Promise<number> {
  const dirs = await resolveBundleDirs(bundles, con.cwd);
  if (opts.watch) return watchCommand(dirs, opts, con);
  const reports: BundleReport[] = [];
  if (dirs.length > 1) con.err.line(con.err.c.dim(`checking ${dirs.length} bundles...`));
  for (const dir of dirs) reports.push(await reportBundle(dir, opts, con));
  const ok = reports.every((r) => r.ok);
  if (opts.json) {
    const summary = {
      ok,
      strict: !!opts.strict,
      errors: reports.reduce((n, r) => n + r.errors, 0),
      warnings: reports.reduce((n, r) => n + r.warnings, 0),
      bundles: reports,
    };
    con.out.line(JSON.stringify(summary, null, 2));
    return ok ? 0 : 1;
  }
  for (const r of reports) printReport(r, con.out);
  if (reports.length > 1) {
    const failed = reports.filter((r) => !r.ok).length;
    con.out.line(failed ? con.out.c.red(`${failed} of ${reports.length} bundles failed`) : con.out.c.green(`${reports.length} bundles valid`));
  }
  return ok ? 0 : 1;
}

/**
 * One diagnostic as one JSON line, keys in a fixed order (type, file, line, col, severity, rule,
 * [hint], message) so that a problem matcher's regular expression can read it; `message` last, as it
 * is the only member whose text is free.
 */
export function diagnosticJsonLine(d: Diagnostic): string {
  return JSON.stringify({
    type: "diagnostic",
    file: d.file,
    line: d.line,
    col: d.col,
    severity: d.severity,
    rule: d.rule,
    ...(d.hint ? { hint: d.hint } : {}),
    message: d.message,
  });
}

/**
 * `--watch`: validate every bundle, then again after each edit. Only the edited bundle is checked
 * again, but every run reports all bundles, because an editor clears its problems at each start line.
 * With `--json`: `{"type":"start"}`, a line per diagnostic, `{"type":"end",...}`; else the usual text.
 */
async function watchCommand(dirs: string[], opts: ValidateOptions, con: CliConsole): Promise<number> {
  const reports = new Map<string, BundleReport>();
  const emit = async (changed: string[]): Promise<boolean> => {
    if (opts.json) con.out.line(JSON.stringify({ type: "start", bundles: dirs.map((d) => displayPath(d, con.cwd)) }));
    for (const dir of changed) {
      try {
        reports.set(dir, await reportBundle(dir, opts, con));
      } catch (err) {
        // A folder that vanished mid-edit (or another read error) is said, and the watch goes on.
        const message = err instanceof Error ? err.message : String(err);
        const d: Diagnostic = { severity: "error", file: displayPath(dir, con.cwd), line: 1, col: 1, path: "", rule: "bundle/unreadable", message };
        reports.set(dir, { bundle: displayPath(dir, con.cwd), ok: false, errors: 1, warnings: 0, diagnostics: [d] });
      }
    }
    const all = dirs.map((d) => reports.get(d)!);
    const ok = all.every((r) => r.ok);
    if (opts.json) {
      for (const r of all) for (const d of r.diagnostics) con.out.line(diagnosticJsonLine(d));
      const errors = all.reduce((n, r) => n + r.errors, 0);
      const warnings = all.reduce((n, r) => n + r.warnings, 0);
      con.out.line(JSON.stringify({ type: "end", ok, errors, warnings }));
    } else {
      for (const r of all) printReport(r, con.out);
      con.out.line(con.out.c.dim("watching for changes (Ctrl-C stops)"));
    }
    return ok;
  };
  let ok = await emit(dirs);
  await watchFolders(dirs, opts.until, async (changed) => {
    const owner = dirs.filter((d) => changed === d || changed.startsWith(d + sep));
    ok = await emit(owner.length ? owner : dirs);
  });
  return ok ? 0 : 1;
}

/** `file:line:col: severity rule: message`, then the hint indented on its own line. */
export function formatDiagnosticLines(d: Diagnostic, p: Printer): string[] {
  const sev = d.severity === "error" ? p.c.red(p.c.bold("error")) : p.c.yellow("warning");
  const lines = [`${p.c.bold(`${d.file}:${d.line}:${d.col}`)}: ${sev} ${p.c.dim(d.rule)}: ${d.message}`];
  if (d.hint) lines.push(`    ${p.c.cyan("hint:")} ${d.hint}`);
  return lines;
}

function printReport(r: BundleReport, p: Printer): void {
  for (const d of r.diagnostics) for (const l of formatDiagnosticLines(d, p)) p.line(l);
  const counts = [r.errors ? `${r.errors} error${r.errors === 1 ? "" : "s"}` : "", r.warnings ? `${r.warnings} warning${r.warnings === 1 ? "" : "s"}` : ""].filter(Boolean).join(", ");
  if (r.ok) p.line(`${p.c.green("✓")} ${r.bundle}: valid${counts ? ` (${counts})` : ""}`);
  else p.line(`${p.c.red("✗")} ${r.bundle}: ${counts}`);
}
