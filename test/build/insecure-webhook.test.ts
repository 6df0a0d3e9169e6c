/**
 * No unauthenticated endpoint by accident (issue #14 item 3), as `node build.mjs` shows it: a
 * bundle whose webhooks declare `verify: { scheme: none }` does not build; with `insecure: true`
 * and a reason it builds, and the build prints the warning naming the file, line and rule.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scaffoldFiles } from "../../engine/cli/scaffold.ts";

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "c2c-insecure-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The scaffold's webhook bundle with its verify block replaced. */
async function bundleWith(name: string, verify: string): Promise<string> {
  const bundleDir = path.join(dir, name);
  for (const [rel, content] of Object.entries(scaffoldFiles({ id: name, bundleDir, webhook: true }))) {
    await mkdir(path.dirname(path.join(bundleDir, rel)), { recursive: true });
    const text = rel === "connector.yaml" ? content.replace(/\n {2}verify:\n(?: {4}.*\n)+/, `\n  verify:\n${verify}`) : content;
    if (rel === "connector.yaml") expect(text).toContain("scheme: none");
    await writeFile(path.join(bundleDir, rel), text);
  }
  return bundleDir;
}

async function build(bundleDir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [path.join(ROOT, "build.mjs"), bundleDir, "--out", path.join(dir, "out")], { cwd: ROOT });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

describe("verify: none at build", () => {
  it("fails without insecure: true, and builds with it while printing the warning", async () => {
    const refused = await build(await bundleWith("openhook", "    scheme: none\n"));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/connector\.yaml:\d+:\d+.*insecure/);

    const allowed = await build(await bundleWith("lanhook", '    scheme: none\n    insecure: true\n    reason: "the vendor posts from the LAN bridge only, with no way to sign"\n'));
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stdout).toContain("built ");
    expect(allowed.stderr).toMatch(/connector\.yaml:\d+:\d+.*(unauthenticated|insecure)/);
  }, 60_000);
});
