/**
 * Editor support (issue #16, item 5): a schema modeline in every bundle YAML file (the scaffold and
 * the bundles under mappings/), .vscode/settings.json mapping the schemas onto mappings/**, and
 * `c2c validate --watch --json` as the diagnostics source of .vscode/tasks.json's problem matcher.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { cli, REPO } from "./helpers.ts";
import { consoles } from "../../engine/cli/io.ts";
import { validateCommand } from "../../engine/cli/commands/validate.ts";

/** The YAML extension's globs (`**` any folders, `*` within one), as a RegExp; path.matchesGlob is experimental on Node 20. */
function matchesGlob(file: string, glob: string): boolean {
  const source = glob
    .split(/(\*\*\/|\*)/)
    .map((part) => (part === "**/" ? "(?:.*/)?" : part === "*" ? "[^/]*" : part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${source}$`).test(file);
}

const MODELINE = /^# yaml-language-server: \$schema=(\S+)\n/;

/** VS Code's settings and tasks are JSON with comments: drop the comment lines. */
async function readJsonc(file: string): Promise<any> {
  const text = await readFile(file, "utf8");
  return JSON.parse(text.split("\n").filter((l) => !l.trim().startsWith("//")).join("\n"));
}

/** Every YAML file an author edits in a bundle: connector.yaml and tests/*.yaml. */
async function bundleYamlFiles(bundleDir: string): Promise<Array<{ file: string; schema: string }>> {
  // connector.yaml: the mapping schema plus every Matter name (generated), for completion of names.
  const files = [{ file: join(bundleDir, "connector.yaml"), schema: "editor/connector.schema.json" }];
  for (const name of (await readdir(join(bundleDir, "tests"))).filter((n) => n.endsWith(".yaml")).sort()) {
    files.push({ file: join(bundleDir, "tests", name), schema: "fixture.schema.json" });
  }
  return files;
}

async function expectModelines(bundleDir: string): Promise<number> {
  const files = await bundleYamlFiles(bundleDir);
  for (const { file, schema } of files) {
    const ref = MODELINE.exec(await readFile(file, "utf8"))?.[1];
    expect(ref, `${file}: first line is the schema modeline`).toBeDefined();
    // The path resolves, relative to the file, to the repository's schema of that kind of file.
    expect(resolve(dirname(file), ref!), file).toBe(join(REPO, "schemas", schema));
  }
  return files.length;
}

const bundles = (await readdir(join(REPO, "mappings"), { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);

let parent: string;
beforeAll(async () => {
  parent = await mkdtemp(join(tmpdir(), "c2c-editor-"));
});
afterAll(async () => {
  await rm(parent, { recursive: true, force: true });
});

describe("schema modelines", () => {
  it.each(bundles)("every YAML file of mappings/%s starts with the modeline of its schema", async (bundle) => {
    expect(await expectModelines(join(REPO, "mappings", bundle))).toBeGreaterThan(1);
  });

  it("c2c new writes the modeline into every YAML file it scaffolds (relative to where it scaffolds)", async () => {
    expect((await cli(["new", "modelined", "--dir", parent])).code).toBe(0);
    expect(await expectModelines(join(parent, "modelined"))).toBe(4);
  });
});

describe(".vscode/settings.json", () => {
  it("maps the mapping schema onto every connector.yaml and the fixture schema onto every fixture under mappings/", async () => {
    const settings = await readJsonc(join(REPO, ".vscode/settings.json"));
    const schemas = settings["yaml.schemas"] as Record<string, string[]>;
    for (const schemaPath of Object.keys(schemas)) await expect(readFile(join(REPO, schemaPath), "utf8")).resolves.toContain('"$schema"');
    const schemaFor = (file: string) => Object.entries(schemas).filter(([, globs]) => globs.some((g) => matchesGlob(file, g))).map(([s]) => s);
    // connector.yaml gets the editor schema: the mapping schema plus the Matter names (schemas/editor/).
    const editorSchema = JSON.parse(await readFile(join(REPO, "schemas/editor/connector.schema.json"), "utf8"));
    expect(editorSchema.allOf[0]).toEqual({ $ref: "../mapping.schema.json" });
    const expected = (schema: string) => `./schemas/${schema}`;
    for (const bundle of bundles) {
      for (const { file, schema } of await bundleYamlFiles(join(REPO, "mappings", bundle))) {
        expect(schemaFor(relative(REPO, file)), file).toEqual([expected(schema)]);
      }
    }
    // Example payloads and research notes are not bundle YAML: no schema claims them.
    expect(schemaFor("mappings/lifx/examples/list-lights.response.json")).toEqual([]);
    expect(schemaFor("mappings/lifx/RESEARCH.md")).toEqual([]);
  });
});

describe("c2c validate --watch --json", () => {
  it("prints diagnostics as JSON lines per run, again after each edit, readable by the tasks.json problem matcher", async () => {
    expect((await cli(["new", "watched", "--dir", parent])).code).toBe(0);
    const dir = join(parent, "watched");
    const connector = join(dir, "connector.yaml");
    let stdout = "";
    let stop!: () => void;
    const until = new Promise<void>((r) => (stop = r));
    const con = consoles({ stdout: { write: (s: string) => (stdout += s) }, stderr: { write: () => true }, cwd: parent, env: {} });
    const running = validateCommand([dir], { watch: true, json: true, until }, con);
    const runs = () => stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    const ends = () => runs().filter((r) => r.type === "end");

    await waitFor(() => ends().length === 1);
    expect(runs()).toEqual([{ type: "start", bundles: ["watched"] }, { type: "end", ok: true, errors: 0, warnings: 0 }]);

    // An edit that breaks a Matter name: the next run reports it with file, line, col, rule, severity, message.
    const text = await readFile(connector, "utf8");
    const attribute = `              OnOff: "power = 'on'"`;
    expect(text).toContain(attribute);
    await writeFile(connector, text.replace(attribute, attribute.replace("OnOff:", "OnOf:")));
    await waitFor(() => ends().length === 2);
    const second = runs().slice(2);
    const diagnostics = second.filter((r) => r.type === "diagnostic");
    expect(diagnostics.length).toBeGreaterThan(0);
    const wrongLine = text.split("\n").findIndex((l) => l === attribute) + 1;
    expect(diagnostics).toContainEqual(
      expect.objectContaining({ file: "watched/connector.yaml", line: wrongLine, severity: "error", rule: "matter/unknown-attribute" }),
    );
    for (const d of diagnostics) expect(Object.keys(d)).toEqual(["type", "file", "line", "col", "severity", "rule", ...(d.hint ? ["hint"] : []), "message"]);
    expect(second.at(-1)).toMatchObject({ type: "end", ok: false, errors: diagnostics.filter((d) => d.severity === "error").length });

    // The problem matcher of .vscode/tasks.json reads exactly those lines.
    const tasks = await readJsonc(join(REPO, ".vscode/tasks.json"));
    const task = tasks.tasks.find((t: { args?: string[] }) => t.args?.join(" ") === "c2c validate --watch --json");
    expect(task.isBackground).toBe(true);
    const matcher = task.problemMatcher;
    const pattern = new RegExp(matcher.pattern.regexp);
    const lines = stdout.split("\n").filter((l) => l.startsWith('{"type":"diagnostic"'));
    for (const [i, line] of lines.entries()) {
      const m = pattern.exec(line);
      expect(m, line).not.toBeNull();
      const d = diagnostics[i]!;
      expect(m![matcher.pattern.file]).toBe(d.file);
      expect(Number(m![matcher.pattern.line])).toBe(d.line);
      expect(Number(m![matcher.pattern.column])).toBe(d.col);
      expect(m![matcher.pattern.severity]).toBe(d.severity);
      expect(m![matcher.pattern.code]).toBe(d.rule);
      expect(JSON.parse(`"${m![matcher.pattern.message]}"`)).toBe(d.message);
    }
    expect(new RegExp(matcher.background.beginsPattern).test(JSON.stringify({ type: "start", bundles: [] }))).toBe(true);
    expect(new RegExp(matcher.background.endsPattern).test(stdout.split("\n").filter(Boolean).at(-1)!)).toBe(true);

    // Fixed again: a clean run, and the editor's problems clear.
    await writeFile(connector, text);
    await waitFor(() => ends().length === 3);
    expect(runs().slice(-2)).toEqual([{ type: "start", bundles: ["watched"] }, { type: "end", ok: true, errors: 0, warnings: 0 }]);
    stop();
    expect(await running).toBe(0);
  }, 30_000);

  it("the problem matcher reads messages with quotes and backslashes, and hints", async () => {
    const tasks = await readJsonc(join(REPO, ".vscode/tasks.json"));
    const matcher = tasks.tasks[0].problemMatcher;
    const { diagnosticJsonLine } = await import("../../engine/cli/commands/validate.ts");
    const d = { severity: "warning" as const, file: "mappings/a b/connector.yaml", line: 3, col: 7, path: "/x", rule: "jsonata/syntax", hint: 'use "x"', message: 'expected "}" got \\ here' };
    const m = new RegExp(matcher.pattern.regexp).exec(diagnosticJsonLine(d));
    expect(m).not.toBeNull();
    expect(m![matcher.pattern.file]).toBe(d.file);
    expect(m![matcher.pattern.severity]).toBe("warning");
    expect(JSON.parse(`"${m![matcher.pattern.message]}"`)).toBe(d.message);
  });
});

async function waitFor(check: () => boolean, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 25));
  }
}
