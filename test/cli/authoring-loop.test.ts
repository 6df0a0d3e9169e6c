/**
 * The authoring loop (issue #16): invoke exits promptly, JSONata runtime errors are readable and
 * positioned, `c2c test` diffs show the whole actual value, broken fixtures are reported,
 * `--filter` without a match fails, `c2c invoke FIXTURE` replays exactly that fixture, and
 * `--update` / `--print-actual` / `--watch`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cli, REPO } from "./helpers.ts";
import { subsetDiff } from "../../engine/testing/compare.ts";
import { consoles } from "../../engine/cli/io.ts";
import { testCommand } from "../../engine/cli/commands/test.ts";
import { startMiEmulator } from "../../engine/local/mi-emulator.ts";
import { runCli } from "../../engine/cli/main.ts";

let parent: string;
beforeAll(async () => {
  parent = await mkdtemp(join(tmpdir(), "c2c-loop-"));
});
afterAll(async () => {
  await rm(parent, { recursive: true, force: true });
});

async function scaffold(name: string): Promise<string> {
  expect((await cli(["new", name, "--dir", parent])).code).toBe(0);
  return join(parent, name);
}

async function edit(file: string, from: string | RegExp, to: string): Promise<void> {
  const text = await readFile(file, "utf8");
  const next = text.replace(from, to);
  expect(next).not.toBe(text);
  await writeFile(file, next);
}

describe("c2c invoke", () => {
  it("exits within 1 s of its last output (no timer left running)", async () => {
    let lastOutput = 0;
    const child = spawn(join(REPO, "bin", "c2c.mjs"), ["invoke", "lifx", "mappings/lifx/tests/activate-user.yaml"], {
      cwd: REPO,
      env: { ...process.env, NO_COLOR: "1" },
    });
    let stdout = "";
    child.stdout.on("data", (d) => {
      stdout += d;
      lastOutput = Date.now();
    });
    child.stderr.on("data", () => (lastOutput = Date.now()));
    const code = await new Promise<number | null>((r) => child.on("exit", r));
    const exitedAt = Date.now();
    expect(code).toBe(0);
    expect(stdout).toContain('"responseCode": 200');
    // What this measures: nothing keeps the process alive after its answer. (How long a cold CLI
    // takes to start is the machine's, not the CLI's: bounded only by the test's timeout.)
    expect(exitedAt - lastOutput).toBeLessThan(1000);
  }, 60_000);

  it("shows a JSONata runtime error with its code and position, never [object Object] or a local path", async () => {
    const dir = await scaffold("jerr");
    await edit(join(dir, "connector.yaml"), `body: "{ 'power': 'off' }"`, `body: "{ 'power': $number(fields.nope & 'x') }"`);
    const r = await cli(["invoke", dir, join(dir, "tests", "send-command-off.yaml"), "--trace"]);
    const all = r.stdout + r.stderr;
    expect(all).not.toContain("[object Object]");
    expect(r.stdout).toMatch(/err: D3030 at character \d+ near `number`: Unable to cast value to a number/);
    const message = "mapping error in connector.yaml line 81 column 23, JSONata D3030 at character 19";
    expect(r.stdout).toContain(`"responseMessage": "${message}"`);
    // The event's Message keeps the position intact (only characters MI allows) and no folder.
    expect(r.stdout).toContain(`"Message": "${message}"`);
    for (const line of r.stdout.split("\n").filter((l) => /"(Message|message|responseMessage)"/.test(l))) expect(line).not.toContain(parent);
    expect(r.code).toBe(1);
  });

  it("replays exactly the fixture: its failures, settings and webhook steps", async () => {
    // A failure fixture: the vendor's 401 is replayed, not the success recorded elsewhere.
    const unauthorized = await cli(["invoke", "lifx", "mappings/lifx/tests/activate-user-unauthorized.yaml"]);
    expect(unauthorized.stdout).toMatch(/"responseCode": 401/);
    expect(unauthorized.stderr).toContain("fixture expectation holds");
    expect(unauthorized.code).toBe(1);

    // A webhook fixture, traced: the HTTP answer, the expressions, the DEVICE_EVENT.
    const hook = await cli(["invoke", "netatmo", "mappings/netatmo/tests/webhook-set-point.yaml", "--trace"]);
    expect(hook.stdout).toMatch(/HTTP answer \(\d+ ms\)/);
    expect(hook.stdout).toContain('"statusCode": 200');
    expect(hook.stdout).toMatch(/ƒ mappings\/netatmo\/connector\.yaml:\d+:\d+/);
    expect(hook.stdout).toContain('"Operation": "DEVICE_EVENT"');
    expect(hook.stderr).toContain("fixture expectation holds");
    expect(hook.code).toBe(0);

    // Settings of the fixture reach the engine: a fixture whose expectation depends on them holds.
    const dir = await scaffold("settings");
    await edit(join(dir, "connector.yaml"), `body: "{ 'power': 'off' }"`, `body: "{ 'power': settings.offWord }"`);
    await edit(join(dir, "connector.yaml"), /^settings:.*$|^(api:)/m, "settings:\n  offWord: \"off\"\n$1");
    const fixture = join(dir, "tests", "send-command-off.yaml");
    await edit(fixture, /^request:/m, "settings: { offWord: halt }\nrequest:");
    await edit(fixture, `body: { power: "off" }`, `body: { power: halt }`);
    const withSettings = await cli(["invoke", dir, fixture]);
    expect(withSettings.stderr).toContain("fixture expectation holds");
    expect(withSettings.code).toBe(0);
  });

  it("sends events to C2C_MI_ENDPOINT when it is set", async () => {
    const mi = await startMiEmulator({ region: "us-east-1" });
    try {
      let stdout = "";
      const code = await runCli(["invoke", "lifx", "mappings/lifx/tests/discover-devices.yaml"], {
        stdout: { write: (s: string) => (stdout += s) },
        stderr: { write: () => true },
        cwd: REPO,
        env: { C2C_MI_ENDPOINT: mi.url, AWS_REGION: "us-east-1" },
      });
      // The default credential chain signs; the emulator verifies with the local key pair.
      expect(code).toBe(0);
      expect(stdout).toContain(`sent to ${mi.url}`);
      expect(mi.events.map((e) => e.body.Operation)).toEqual(["DEVICE_DISCOVERY"]);
    } finally {
      await mi.close();
    }
  });
});

describe("c2c test", () => {
  it("diffs show the whole actual object, and a missing array element as missing", () => {
    const diff = subsetDiff({ a: [{ x: 1 }, { x: 2 }, { x: 3 }], b: 1 }, { a: [{ x: 1, y: 9 }, { x: 3, y: 9 }], b: 2, c: "context" });
    const lines = diff.split("\n");
    // Members the expectation leaves out are context, not hidden.
    expect(lines).toContain('    "c": "context"');
    expect(lines).toContain('-   "b": 1,');
    expect(lines).toContain('+   "b": 2,');
    // The element {x: 2} is missing: shown removed; {x: 3} stays paired with its actual element.
    expect(diff).toMatch(/-\s+"x": 2\n/);
    expect(diff).not.toMatch(/-\s+"x": 3/);
  });

  it("prints the full actual event in a failing fixture's diff", async () => {
    const dir = await scaffold("diffs");
    const fixture = join(dir, "tests", "discover-devices.yaml");
    await edit(fixture, "          ConnectorDeviceName: Desk lamp plug\n", "");
    await edit(fixture, "Model: Acme Plug", "Model: Other Plug");
    const r = await cli(["test", dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/\n\s+-\s+"Model": "Other Plug"\n\s+\+\s+"Model": "Acme Plug"\n/);
    // The member the expectation omits shows as unmarked context.
    expect(r.stdout).toMatch(/\n {6} {2}\s+"ConnectorDeviceName": "Desk lamp plug",\n/);
  });

  it("reports a fixture with a YAML error or a missing bodyFile instead of crashing", async () => {
    const dir = await scaffold("brokenfx");
    await writeFile(join(dir, "tests", "zz-yaml.yaml"), "name: [unclosed\nrequest: {}\n");
    const r = await cli(["test", dir]);
    expect(r.stderr).not.toContain("unexpected error");
    expect(r.stdout).toContain("zz-yaml.yaml");
    expect(r.code).toBe(1);

    await rm(join(dir, "tests", "zz-yaml.yaml"));
    await edit(join(dir, "tests", "discover-devices.yaml"), "bodyFile: data/devices.json", "bodyFile: data/nope.json");
    const missing = await cli(["test", dir]);
    expect(missing.stderr).not.toContain("unexpected error");
    expect(missing.stdout).toMatch(/nope\.json/);
    expect(missing.code).toBe(1);
  });

  it("--filter that matches nothing exits non-zero", async () => {
    const r = await cli(["test", "lifx", "--filter", "no-such-fixture-anywhere"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no fixture matches --filter "no-such-fixture-anywhere"');
  });

  it("--update writes the actual results, keeping comments and untouched lines byte for byte", async () => {
    const dir = await scaffold("upd");
    const activate = join(dir, "tests", "activate-user.yaml");
    const discover = join(dir, "tests", "discover-devices.yaml");
    const originalDiscover = await readFile(discover, "utf8");
    await edit(activate, "expect:\n  ack:\n", "expect:\n  # the author's comment\n  ack:\n");
    await edit(activate, "userId: user-0001", "userId: someone-else");
    await edit(discover, "Model: Acme Plug", "Model: Other Plug");
    const edited = await readFile(discover, "utf8");
    const r = await cli(["test", dir, "--update"]);
    expect(r.stdout).toMatch(/updated .*activate-user\.yaml/);
    expect(r.stdout).toMatch(/3 passed, 0 failed, 2 updated/);
    expect(r.code).toBe(0);
    // Only the wrong line changed; the comment on it stays.
    expect(await readFile(discover, "utf8")).toBe(originalDiscover);
    expect(edited).not.toBe(originalDiscover);
    expect(await readFile(activate, "utf8")).toContain("  # the author's comment\n  ack:\n    header: { responseCode: 200 }\n    payload: { userId: user-0001 }\n");
    expect((await cli(["test", dir])).code).toBe(0);
  });

  it("--update leaves every existing fixture unchanged when nothing changed", async () => {
    const copy = join(parent, "repo-copy");
    await cp(join(REPO, "mappings"), join(copy, "mappings"), { recursive: true });
    const before = await snapshot(join(copy, "mappings"));
    const r = await cli(["test", "--update"], copy);
    expect(r.stdout).toMatch(/, 0 failed, 0 updated/);
    expect(r.code).toBe(0);
    expect(await snapshot(join(copy, "mappings"))).toEqual(before);
  }, 60_000);

  it("--print-actual prints the answers, vendor requests and events", async () => {
    const r = await cli(["test", "lifx", "--filter", "activate-user.yaml", "--print-actual"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("actual:");
    expect(r.stdout).toMatch(/"answers": \[\n\s+\{\n\s+"header": \{\n\s+"responseCode": 200/);
    expect(r.stdout).toMatch(/"vendorRequests": \[\n\s+\{\n\s+"method": "GET",\n\s+"path": "\/v1\/lights\/all"/);
  });

  it("--watch runs again after an edit", async () => {
    const dir = await scaffold("watched");
    let stdout = "";
    let stop!: () => void;
    const until = new Promise<void>((r) => (stop = r));
    const con = consoles({ stdout: { write: (s: string) => (stdout += s) }, stderr: { write: () => true }, cwd: REPO, env: {} });
    const running = testCommand([dir], { watch: true, until }, con);
    await waitFor(() => /3 passed, 0 failed/.test(stdout));
    await edit(join(dir, "tests", "activate-user.yaml"), "userId: user-0001", "userId: changed");
    await waitFor(() => /2 passed, 1 failed/.test(stdout));
    expect(stdout).toMatch(/activate-user\.yaml changed; running again/);
    stop();
    await running;
  });
});

async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out[join(e.parentPath, e.name)] = await readFile(join(e.parentPath, e.name), "utf8");
  }
  return out;
}

async function waitFor(check: () => boolean, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 25));
  }
}


