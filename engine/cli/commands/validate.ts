/** `c2c validate`: schema, semantic, fixture and OpenAPI checks of one or more bundles. */
import { join } from "node:path";
import { CONNECTOR_FILE, loadAndValidateBundle } from "../../mapping/bundle.ts";
import { sortDiagnostics, type Diagnostic } from "../../mapping/diagnostics.ts";
import { loadYamlFile } from "../../mapping/load.ts";
import { checkCallsAgainstOpenApi } from "../../mapping/openapi-check.ts";
import { displayPath, relativeToCwd, resolveBundleDirs } from "../bundles.ts";
import type { CliConsole, Printer } from "../io.ts";

export interface ValidateOptions {
  json?: boolean;
  strict?: boolean;
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

export async function validateCommand(bundles: string[], opts: ValidateOptions, con: CliConsole): Promise<number> {
  const dirs = await resolveBundleDirs(bundles, con.cwd);
  const reports: BundleReport[] = [];
  if (dirs.length > 1) con.err.line(con.err.c.dim(`checking ${dirs.length} bundles...`));
  for (const dir of dirs) {
    const diagnostics = (await validateBundleDir(dir)).map((d) => relativeToCwd(d, con.cwd));
    const errors = diagnostics.filter((d) => d.severity === "error").length;
    const warnings = diagnostics.length - errors;
    reports.push({ bundle: displayPath(dir, con.cwd), ok: errors === 0 && (!opts.strict || warnings === 0), errors, warnings, diagnostics });
  }
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
