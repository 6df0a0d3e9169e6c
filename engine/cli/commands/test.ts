/**
 * `c2c test`: a bundle's fixtures against the engine, on the loopback vendor simulator and MI
 * emulator. Snapshot-style loop: `--print-actual` shows what the engine produced, `--update`
 * writes it into the fixtures, `--watch` runs again on every change under the bundle.
 */
import { resolve } from "node:path";
import { loadAndValidateBundle } from "../../mapping/bundle.ts";
import { listFixtureFiles } from "../../mapping/fixture-check.ts";
import { FixtureHarness, type FixtureResult } from "../../testing/fixture-runner.ts";
import { engineTarget } from "../../testing/engine-target.ts";
import { loadFixture, type Fixture } from "../../testing/fixtures.ts";
import { updateFixtureFile } from "../../testing/fixture-update.ts";
import { displayPath, relativeToCwd, resolveBundleDirs } from "../bundles.ts";
import type { CliConsole } from "../io.ts";
import { watchFolders } from "../watch.ts";
import { formatDiagnosticLines } from "./validate.ts";

export interface TestOptions {
  filter?: string;
  /** Write the actual results into the fixtures that fail. */
  update?: boolean;
  /** Print the actual ACKs, HTTP answers and events of every fixture run. */
  printActual?: boolean;
  /** Run again whenever a file under the bundles changes, until `until` resolves (or Ctrl-C). */
  watch?: boolean;
  until?: Promise<unknown>;
}

/** Whether a fixture is selected by `--filter` (its name or file, case-insensitive). */
export function fixtureMatches(fixture: Fixture, filter: string | undefined): boolean {
  if (!filter) return true;
  const f = filter.toLowerCase();
  return fixture.name.toLowerCase().includes(f) || fixture.file.toLowerCase().includes(f);
}

/** How often `--update` re-runs a fixture whose vendor requests it corrected (later steps depend on them). */
const UPDATE_ROUNDS = 3;

export async function testCommand(bundles: string[], opts: TestOptions, con: CliConsole): Promise<number> {
  const dirs = await resolveBundleDirs(bundles, con.cwd);
  if (!opts.watch) return runOnce(dirs, opts, con);
  let code = await runOnce(dirs, opts, con);
  await watchFolders(dirs, opts.until, async (changed) => {
    con.out.line(con.out.c.dim(`\n${displayPath(changed, con.cwd)} changed; running again`));
    code = await runOnce(dirs, opts, con);
  });
  return code;
}

interface Plan {
  dir: string;
  fixtures: Fixture[];
  /** Fixture files that could not be read, with why (reported as failures, never a crash). */
  unreadable: Array<{ file: string; reason: string }>;
}

async function planBundle(dir: string, filter: string | undefined): Promise<Plan> {
  const plan: Plan = { dir, fixtures: [], unreadable: [] };
  for (const file of await listFixtureFiles(dir)) {
    try {
      const fixture = await loadFixture(file);
      if (fixtureMatches(fixture, filter)) plan.fixtures.push(fixture);
    } catch (err) {
      // validate names the line and column; here the file and the first line of the reason.
      const reason = err instanceof Error ? err.message.split("\n")[0] : String(err);
      if (!filter || file.toLowerCase().includes(filter.toLowerCase())) plan.unreadable.push({ file, reason });
    }
  }
  return plan;
}

async function runOnce(dirs: string[], opts: TestOptions, con: CliConsole): Promise<number> {
  const { out, err } = con;
  let passed = 0;
  let failed = 0;
  let updated = 0;
  let broken = 0;
  const plans: Plan[] = [];
  for (const dir of dirs) plans.push(await planBundle(dir, opts.filter));
  const total = plans.reduce((n, p) => n + p.fixtures.length + p.unreadable.length, 0);
  err.line(err.c.dim(`running ${total} fixture${total === 1 ? "" : "s"} from ${dirs.length} bundle${dirs.length === 1 ? "" : "s"}...`));

  // The harness points the engine at its loopback servers through process.env; put it back after.
  const savedEnv = { ...process.env };
  const harness = await FixtureHarness.start();
  try {
    for (const { dir, fixtures, unreadable } of plans) {
      out.line(out.c.bold(displayPath(dir, con.cwd)));
      const result = await loadAndValidateBundle(dir);
      if (!result.bundle) {
        broken++;
        for (const d of result.diagnostics.map((x) => relativeToCwd(x, con.cwd))) {
          if (d.severity === "error") for (const l of formatDiagnosticLines(d, out)) out.line(`  ${l}`);
        }
        const count = fixtures.length + unreadable.length;
        out.line(`  ${out.c.red("✗")} the bundle does not validate; its ${count} fixture(s) were not run (c2c validate names every problem)`);
        failed += count;
        continue;
      }
      for (const u of unreadable) {
        out.line(`  ${out.c.red("✗")} ${displayPath(resolve(u.file), con.cwd)}: cannot be read: ${u.reason}`);
        failed++;
      }
      if (fixtures.length === 0 && unreadable.length === 0) out.line(out.c.dim(opts.filter ? `  no fixture matches ${JSON.stringify(opts.filter)}` : "  no fixtures (add tests/*.yaml)"));
      const target = engineTarget(result.bundle);
      for (const fixture of fixtures) {
        let r = await harness.run(target, fixture);
        if (!r.passed && opts.update) {
          const wrote = await updateUntilStable(harness, target, r, con);
          if (wrote.changed) updated++;
          r = wrote.result;
        }
        printResult(r, con, opts);
        if (r.passed) passed++;
        else failed++;
      }
    }
  } finally {
    await harness.close();
    for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
    Object.assign(process.env, savedEnv);
  }
  const summary = `${passed} passed, ${failed} failed${opts.update ? `, ${updated} updated` : ""}`;
  out.line(failed ? out.c.red(summary) : out.c.green(summary));
  if (opts.filter && total === 0) {
    err.line(err.c.red(`no fixture matches --filter ${JSON.stringify(opts.filter)}`));
    return 1;
  }
  return failed > 0 || broken > 0 ? 1 : 0;
}

/** Writes the actual results into the fixture, re-running while its vendor script changed. */
async function updateUntilStable(
  harness: FixtureHarness,
  target: ReturnType<typeof engineTarget>,
  first: FixtureResult,
  con: CliConsole,
): Promise<{ result: FixtureResult; changed: boolean }> {
  let r = first;
  let changed = false;
  const file = resolve(process.cwd(), first.fixture.file);
  for (let round = 0; round < UPDATE_ROUNDS && !r.passed; round++) {
    const u = await updateFixtureFile(file, r);
    for (const n of u.notes) con.out.line(con.out.c.yellow(`      note: ${n}`));
    if (!u.changed) break;
    changed = true;
    con.out.line(con.out.c.cyan(`      updated ${displayPath(file, con.cwd)}`));
    r = await harness.run(target, await loadFixture(file));
  }
  return { result: r, changed };
}

function printResult(r: FixtureResult, con: CliConsole, opts: TestOptions): void {
  const { out } = con;
  const mark = r.passed ? out.c.green("✓") : out.c.red("✗");
  out.line(`  ${mark} ${r.fixture.name} ${out.c.dim(`(${r.durationMs} ms)`)}`);
  if (!r.passed) {
    out.line(out.c.dim(`      ${displayPath(resolve(process.cwd(), r.fixture.file), con.cwd)}`));
    for (const failure of r.failures) {
      for (const line of failure.split("\n")) out.line(`      ${colorDiffLine(line, con)}`);
    }
  }
  if (opts.printActual) {
    const actual = { answers: r.answers, vendorRequests: r.vendorRequests, events: r.events };
    out.line(out.c.dim("      actual:"));
    for (const line of JSON.stringify(actual, null, 2).split("\n")) out.line(`      ${line}`);
  }
}

function colorDiffLine(line: string, con: CliConsole): string {
  if (line.startsWith("- ")) return con.out.c.red(line);
  if (line.startsWith("+ ")) return con.out.c.green(line);
  return line;
}
