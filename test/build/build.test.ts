/**
 * Builds every bundle of mappings/ with `node build.mjs` (as CI and integrators do) into a temp dir and
 * checks what ships: the artifact files, its size, the absence of build-time code, the template and
 * the registration bodies.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { forbiddenInputs, MAX_ZIP_BYTES } from "../../build.mjs";
import { listBundles } from "../../engine/mapping/bundle.ts";
import { placeholdersIn } from "../../engine/registration/registration.ts";
import { checkTemplate } from "./cfn-check.ts";
import { cli } from "../cli/helpers.ts";

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const bundles = (await listBundles(path.join(ROOT, "mappings"))).map((d) => path.basename(d));
let out: string;

beforeAll(async () => {
  out = await mkdtemp(path.join(tmpdir(), "c2c-build-"));
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

/** Central directory entry names of a zip (enough to check what a zip holds without unzipping). */
function zipEntries(zip: Buffer): string[] {
  const names: string[] = [];
  for (let i = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06])), off = zip.readUInt32LE(i + 16); zip.readUInt32LE(off) === 0x02014b50; ) {
    const nameLen = zip.readUInt16LE(off + 28);
    names.push(zip.toString("utf8", off + 46, off + 46 + nameLen));
    off += 46 + nameLen + zip.readUInt16LE(off + 30) + zip.readUInt16LE(off + 32);
  }
  return names;
}

it("finds bundles to build", () => {
  expect(bundles.length).toBeGreaterThan(0);
});

describe.each(bundles)("node build.mjs %s", (bundle) => {
  const dir = () => path.join(out, bundle);

  beforeAll(async () => {
    await run(process.execPath, [path.join(ROOT, "build.mjs"), bundle, "--out", out], { cwd: ROOT });
  }, 60_000);

  it("writes a zip under 1 MB holding index.mjs, every chunk it loads, and source maps", async () => {
    const zip = await readFile(path.join(dir(), "function.zip"));
    expect(zip.length).toBeLessThanOrEqual(MAX_ZIP_BYTES);
    const entries = zipEntries(zip);
    expect(entries).toContain("index.mjs");
    expect(entries).toContain("index.mjs.map");
    expect((await stat(path.join(dir(), "index.mjs"))).size).toBeGreaterThan(1000);
    // Self-contained: every relative import of every shipped module names a shipped file.
    for (const entry of entries.filter((e) => e.endsWith(".mjs"))) {
      expect(entries).toContain(`${entry}.map`);
      const code = await readFile(path.join(dir(), entry), "utf8");
      for (const m of code.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)) {
        expect(entries).toContain(path.posix.join(path.posix.dirname(entry), m[1]));
      }
    }
  });

  it("ships no YAML parser, no schema compiler, and the compiled bundle inlined", async () => {
    const meta = JSON.parse(await readFile(path.join(dir(), "meta.json"), "utf8"));
    const inputs = Object.keys(meta.inputs);
    expect(inputs.some((i) => i.includes("engine/handler/lambda.ts"))).toBe(true);
    expect(inputs.filter((i) => /node_modules\/(yaml|json-schema-to-typescript)\/|node_modules\/ajv\/dist\/(compile\/|core\.js|ajv\.js)/.test(i))).toEqual([]);
    expect(inputs.filter((i) => /engine\/mapping\/(load|schema-check|bundle)\.ts$/.test(i))).toEqual([]);
    // The artifact carries the Matter types of what the bundle maps (in bundle.json), not the model.
    expect(inputs.filter((i) => /engine\/matter\/data\/|@matter\//.test(i))).toEqual([]);
    const compiled = JSON.parse(await readFile(path.join(dir(), "bundle.json"), "utf8"));
    expect(compiled.vendor.id).toBe(bundle);
    const code = await readFile(path.join(dir(), "index.mjs"), "utf8");
    expect(code).toContain(JSON.stringify(compiled.api.baseUrl));
  });

  it("keeps the webhook stack out of what a cold start loads (a chunk loaded on the first delivery)", async () => {
    type Output = { inputs: Record<string, unknown>; imports: Array<{ path: string; kind: string }> };
    const outputs = JSON.parse(await readFile(path.join(dir(), "meta.json"), "utf8")).outputs as Record<string, Output>;
    // index.mjs and every chunk it imports statically, transitively: what an import of the artifact compiles.
    const eager = new Set<string>();
    const visit = (file: string) => {
      if (eager.has(file) || !outputs[file]) return;
      eager.add(file);
      for (const i of outputs[file]!.imports) if (i.kind === "import-statement") visit(i.path);
    };
    visit(Object.keys(outputs).find((file) => file.endsWith("/index.mjs"))!);
    const inputs = [...eager].flatMap((file) => Object.keys(outputs[file]!.inputs));
    expect(inputs.some((i) => i.includes("engine/handler/lambda.ts"))).toBe(true);
    expect(inputs.some((i) => i.includes("engine/mi/event-normalize.ts"))).toBe(true);
    expect(inputs.filter((i) => /engine\/webhook\/(ingress|verify|http-signature|jwt-bearer|key-fetch)\.ts$|node_modules\/(jose|http-message-signatures|structured-headers)\//.test(i))).toEqual([]);
    // Nor the tracer: only a function with tracing on loads it (next test).
    expect(inputs.filter((i) => /node_modules\/(aws-xray-sdk-core|@aws-lambda-powertools\/tracer)\//.test(i))).toEqual([]);
  });

  it("keeps the tracer (Powertools Tracer, X-Ray SDK) out of index.mjs: only a function with tracing on loads its chunk", async () => {
    const meta = JSON.parse(await readFile(path.join(dir(), "meta.json"), "utf8"));
    const tracerInputs = (inputs: string[]) => inputs.filter((i) => /node_modules\/(aws-xray-sdk-core|@aws-lambda-powertools\/tracer)\//.test(i));
    const outputs = Object.entries<{ inputs: Record<string, unknown> }>(meta.outputs).filter(([name]) => name.endsWith(".mjs"));
    const entry = outputs.find(([name]) => name.endsWith("index.mjs"))!;
    expect(tracerInputs(Object.keys(entry[1].inputs))).toEqual([]);
    // ...but it ships, in a lazily loaded chunk.
    expect(outputs.some(([name, o]) => name.includes("chunks/") && tracerInputs(Object.keys(o.inputs)).length > 0)).toBe(true);
  });

  it("writes a valid template and registration bodies", async () => {
    const template = JSON.parse(await readFile(path.join(dir(), "template.json"), "utf8"));
    expect(checkTemplate(template)).toEqual([]);
    const registration = JSON.parse(await readFile(path.join(dir(), "registration.json"), "utf8"));
    expect(registration.CreateCloudConnector.EndpointType).toBe("LAMBDA");
    expect(placeholdersIn(registration)).toContain("$.CreateCloudConnector.EndpointConfig.lambda.arn: <LAMBDA_ARN>");
    // The file is what `c2c registration` prints for the same bundle: same keys, same bodies.
    const printed = await cli(["registration", bundle]);
    expect(printed.code).toBe(0);
    expect(Object.keys(registration)).toEqual(Object.keys(JSON.parse(printed.stdout)));
    expect(registration).toEqual(JSON.parse(printed.stdout));
  });
});

describe("build failures", () => {
  it("exits 1 with the mapping's diagnostics when the bundle has errors", async () => {
    const broken = path.join(ROOT, "test/mapping/bundles/broken");
    const err = await run(process.execPath, [path.join(ROOT, "build.mjs"), broken, "--out", out], { cwd: ROOT }).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(1);
    expect(err?.stderr).toMatch(/broken: the mapping has errors\n\s+\S+connector\.yaml:\d+:\d+/);
  }, 30_000);

  it("flags YAML parsers and schema compilers in a metafile", () => {
    const found = forbiddenInputs({
      inputs: {
        "engine/handler/lambda.ts": {},
        "node_modules/yaml/dist/index.js": {},
        "node_modules/ajv/dist/compile/index.js": {},
        "node_modules/ajv/dist/runtime/ucs2length.js": {},
        "node_modules/json-schema-to-typescript/dist/src/index.js": {},
      },
    });
    expect(found.map((f) => f.input)).toEqual([
      "node_modules/yaml/dist/index.js",
      "node_modules/ajv/dist/compile/index.js",
      "node_modules/json-schema-to-typescript/dist/src/index.js",
    ]);
  });
});
