import { describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { FIXTURES, REPO } from "./helpers.ts";

const run = promisify(execFile);
const BIN = join(REPO, "bin", "c2c.mjs");

async function spawnCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(BIN, args, { cwd: REPO, env: { ...process.env, NO_COLOR: "1" } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("bin/c2c.mjs", () => {
  it("is executable and runs from the repository without a build", async () => {
    expect(() => accessSync(BIN, constants.X_OK)).not.toThrow();
    const r = await spawnCli(["validate", "lifx"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("✓ mappings/lifx: valid");
    expect(r.stderr).not.toContain("NodeVersionSupportWarning");
  }, 20_000);

  it("exits 1 for a broken bundle and 0 for --help", async () => {
    const broken = await spawnCli(["validate", join(FIXTURES, "broken")]);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain("jsonata/syntax");
    const help = await spawnCli(["invoke", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Examples:");
    expect(help.stdout).toContain("--vendor-url");
  }, 20_000);
});
