/** `c2c test`: a bundle's fixtures against the engine, on the loopback vendor simulator and MI emulator. */
import { resolve } from "node:path";
import { loadAndValidateBundle } from "../../mapping/bundle.ts";
import { FixtureHarness, type FixtureResult } from "../../testing/fixture-runner.ts";
import { engineTarget } from "../../testing/engine-target.ts";
import { loadFixtures, type Fixture } from "../../testing/fixtures.ts";
import { displayPath, relativeToCwd, resolveBundleDirs } from "../bundles.ts";
import type { CliConsole } from "../io.ts";
import { formatDiagnosticLines } from "./validate.ts";

export interface TestOptions {
  filter?: string;
}

/** Whether a fixture is selected by `--filter` (its name or file, case-insensitive). */
export function fixtureMatches(fixture: Fixture, filter: string | undefined): boolean {
  if (!filter) return true;
  const f = filter.toLowerCase();
  return fixture.name.toLowerCase().includes(f) || fixture.file.toLowerCase().includes(f);
}

export async function testCommand(bundles: string[], opts: TestOptions, con: CliConsole): Promise<number> {
  const dirs = await resolveBundleDirs(bundles, con.cwd);
  const { out, err } = con;
  let passed = 0;
  let failed = 0;
  let broken = 0;
  const plans: Array<{ dir: string; fixtures: Fixture[] }> = [];
  for (const dir of dirs) plans.push({ dir, fixtures: (await loadFixtures(dir)).filter((f) => fixtureMatches(f, opts.filter)) });
  const total = plans.reduce((n, p) => n + p.fixtures.length, 0);
  err.line(err.c.dim(`running ${total} fixture${total === 1 ? "" : "s"} from ${dirs.length} bundle${dirs.length === 1 ? "" : "s"}...`));

  // The harness points the engine at its loopback servers through process.env; put it back after.
  const savedEnv = { ...process.env };
  const harness = await FixtureHarness.start();
  try {
    for (const { dir, fixtures } of plans) {
      out.line(out.c.bold(displayPath(dir, con.cwd)));
      const result = await loadAndValidateBundle(dir);
      if (!result.bundle) {
        broken++;
        for (const d of result.diagnostics.map((x) => relativeToCwd(x, con.cwd))) {
          if (d.severity === "error") for (const l of formatDiagnosticLines(d, out)) out.line(`  ${l}`);
        }
        out.line(`  ${out.c.red("✗")} the bundle does not validate; its ${fixtures.length} fixture(s) were not run`);
        failed += fixtures.length;
        continue;
      }
      if (fixtures.length === 0) out.line(out.c.dim(opts.filter ? `  no fixture matches ${JSON.stringify(opts.filter)}` : "  no fixtures (add tests/*.yaml)"));
      const target = engineTarget(result.bundle);
      for (const fixture of fixtures) {
        const r = await harness.run(target, fixture);
        printResult(r, con);
        if (r.passed) passed++;
        else failed++;
      }
    }
  } finally {
    await harness.close();
    for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
    Object.assign(process.env, savedEnv);
  }
  const summary = `${passed} passed, ${failed} failed`;
  out.line(failed ? out.c.red(summary) : out.c.green(summary));
  return failed > 0 || broken > 0 ? 1 : 0;
}

function printResult(r: FixtureResult, con: CliConsole): void {
  const { out } = con;
  const mark = r.passed ? out.c.green("✓") : out.c.red("✗");
  out.line(`  ${mark} ${r.fixture.name} ${out.c.dim(`(${r.durationMs} ms)`)}`);
  if (r.passed) return;
  out.line(out.c.dim(`      ${displayPath(resolve(process.cwd(), r.fixture.file), con.cwd)}`));
  for (const failure of r.failures) {
    for (const line of failure.split("\n")) out.line(`      ${colorDiffLine(line, con)}`);
  }
}

function colorDiffLine(line: string, con: CliConsole): string {
  if (line.startsWith("- ")) return con.out.c.red(line);
  if (line.startsWith("+ ")) return con.out.c.green(line);
  return line;
}
