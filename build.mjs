#!/usr/bin/env node
/**
 * Builds one deployable Lambda artifact per mapping bundle:
 *
 *   node build.mjs [bundle...] [--out dir]
 *
 * For each bundle (default: every folder of mappings/ with a connector.yaml) it writes dist/<bundle>/:
 *   bundle.json        the validated, compiled mapping (what the function runs)
 *   index.mjs(.map)    esbuild bundle of engine/handler/lambda.ts with bundle.json inlined
 *   function.zip       index.mjs, its lazily loaded chunks/ and source maps, ready for Lambda
 *   template.json      CloudFormation template (engine/deploy/template.ts)
 *   registration.json  CreateCloudConnector / CreateConnectorDestination bodies (engine/registration),
 *                      the same document `c2c registration` prints
 *
 * The build fails (exit 1) on mapping errors, and when the function would carry a YAML parser or a
 * schema compiler: those belong to build time, and a cold start should not pay for them.
 */
import { mkdir, rm, stat, writeFile } from "node:fs/promises";
import { createWriteStream } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { tsImport } from "tsx/esm/api";
import yazl from "yazl";

const ROOT = path.dirname(fileURLToPath(import.meta.url));
const ENTRY = path.join(ROOT, "engine/handler/lambda.ts");
const VIRTUAL_BUNDLE = "c2c:compiled-bundle";
export const MAX_ZIP_BYTES = 1024 * 1024;

/** Inputs that must never reach the artifact: they only make sense at build time. */
export const FORBIDDEN_INPUTS = [
  { pattern: /node_modules\/yaml\//, why: "YAML parser (mappings are compiled to JSON at build time)" },
  { pattern: /node_modules\/ajv\/(lib|dist)\/compile\//, why: "ajv schema compiler (use engine/generated/validators.js)" },
  { pattern: /node_modules\/ajv\/(lib|dist)\/(core|ajv)\.[jt]s$/, why: "ajv core (use engine/generated/validators.js)" },
  { pattern: /node_modules\/json-schema-to-typescript\//, why: "type generator" },
  // The compiled bundle carries the Matter types of the elements it maps; the full model stays out.
  { pattern: /engine\/matter\/data\/|node_modules\/@matter\//, why: "the full Matter model (the compiled bundle carries what the bundle maps)" },
];

function parseArgs(argv) {
  const bundles = [];
  let outDir = path.join(ROOT, "dist");
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--out") outDir = path.resolve(argv[++i] ?? "");
    else if (argv[i].startsWith("--out=")) outDir = path.resolve(argv[i].slice(6));
    else bundles.push(argv[i]);
  }
  return { bundles, outDir };
}

const load = (file) => tsImport(path.join(ROOT, file), import.meta.url);

/** Resolves `c2c:compiled-bundle` to the compiled JSON of the bundle being built. */
function compiledBundlePlugin(compiled) {
  return {
    name: "c2c-compiled-bundle",
    setup(b) {
      b.onResolve({ filter: /^c2c:compiled-bundle$/ }, () => ({ path: VIRTUAL_BUNDLE, namespace: "c2c-bundle" }));
      b.onLoad({ filter: /.*/, namespace: "c2c-bundle" }, () => ({ contents: JSON.stringify(compiled), loader: "json" }));
    },
  };
}

/** The inputs of an esbuild metafile that must not ship, with the reason. */
export function forbiddenInputs(metafile) {
  const problems = [];
  for (const input of Object.keys(metafile.inputs)) {
    const normalized = input.split(path.sep).join("/");
    for (const rule of FORBIDDEN_INPUTS) if (rule.pattern.test(normalized)) problems.push({ input, why: rule.why });
  }
  return problems;
}

/** Why a module is in the bundle: the chain of importers from the entry point, for the error message. */
function importChain(metafile, target) {
  const importers = new Map();
  for (const [file, info] of Object.entries(metafile.inputs)) {
    for (const imp of info.imports) if (!importers.has(imp.path)) importers.set(imp.path, file);
  }
  const chain = [target];
  for (let cur = importers.get(target); cur && chain.length < 20 && !chain.includes(cur); cur = importers.get(cur)) chain.push(cur);
  return chain.reverse().join(" -> ");
}

async function bundleFunction(compiled, outDir) {
  const result = await build({
    entryPoints: { index: ENTRY },
    outdir: outDir,
    outExtension: { ".js": ".mjs" },
    // Code loaded lazily (the DynamoDB, Lambda and Secrets Manager clients, the credential chain)
    // goes into chunks of its own: a cold start then compiles only what every invocation needs.
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // ES module builds first: the AWS SDK then tree-shakes to the commands the engine uses.
    mainFields: ["module", "main"],
    minify: true,
    sourcemap: true,
    // Sources stay out of the map: it only needs to turn minified stack traces into file:line.
    sourcesContent: false,
    metafile: true,
    legalComments: "none",
    logLevel: "silent",
    // Some dependencies (the AWS SDK, jsonata) are CommonJS and call require() for Node built-ins.
    banner: { js: 'import { createRequire as __c2cCreateRequire } from "node:module"; const require = __c2cCreateRequire(import.meta.url);' },
    plugins: [compiledBundlePlugin(compiled)],
    absWorkingDir: ROOT,
  });
  return result.metafile;
}

function zipFiles(files, outFile) {
  return new Promise((resolve, reject) => {
    const zip = new yazl.ZipFile();
    // A fixed mtime keeps the zip byte-identical across builds of the same inputs.
    for (const [file, name] of files) zip.addFile(file, name, { mtime: new Date("2020-01-01T00:00:00Z"), mode: 0o644 });
    zip.end();
    zip.outputStream.pipe(createWriteStream(outFile)).on("close", resolve).on("error", reject);
  });
}

const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;

/** Builds one bundle folder; returns a summary, or throws with a readable message. */
export async function buildBundle(bundleDir, outRoot, modules) {
  const { loadAndValidateBundle, formatDiagnostic, deployTemplate, registrationRequests, registrationDocument } = modules;
  const name = path.basename(bundleDir);
  const result = await loadAndValidateBundle(bundleDir);
  const warnings = result.diagnostics.filter((d) => d.severity !== "error");
  if (!result.bundle) {
    const err = new Error(`${name}: the mapping has errors\n${result.diagnostics.map((d) => `  ${formatDiagnostic(d)}`).join("\n")}`);
    err.diagnostics = result.diagnostics;
    throw err;
  }
  const compiled = result.bundle;
  const out = path.join(outRoot, name);
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  await writeFile(path.join(out, "bundle.json"), JSON.stringify(compiled, null, 2) + "\n");

  const indexFile = path.join(out, "index.mjs");
  const metafile = await bundleFunction(compiled, out);
  await writeFile(path.join(out, "meta.json"), JSON.stringify(metafile));
  const forbidden = forbiddenInputs(metafile);
  if (forbidden.length > 0) {
    // One line per rule, with the import chain of its first module: that chain says which file to fix.
    const byRule = new Map();
    for (const p of forbidden) if (!byRule.has(p.why)) byRule.set(p.why, p);
    const lines = [...byRule.values()].map((p) => `  ${p.why} (${forbidden.filter((f) => f.why === p.why).length} modules)\n    via ${importChain(metafile, p.input)}`);
    throw new Error(`${name}: the function bundle contains build-time code:\n${lines.join("\n")}`);
  }

  const zipFile = path.join(out, "function.zip");
  // Every output of the build (entry, chunks, source maps), paths relative to the function root.
  const shipped = Object.keys(metafile.outputs)
    .map((f) => path.relative(out, path.resolve(ROOT, f)))
    .sort();
  await zipFiles(shipped.map((rel) => [path.join(out, rel), rel.split(path.sep).join("/")]), zipFile);
  await writeFile(path.join(out, "template.json"), JSON.stringify(deployTemplate(compiled), null, 2) + "\n");
  await writeFile(path.join(out, "registration.json"), JSON.stringify(registrationDocument(registrationRequests(compiled)), null, 2) + "\n");

  return {
    name,
    out,
    indexBytes: (await stat(indexFile)).size,
    files: shipped,
    zipBytes: (await stat(zipFile)).size,
    warnings: warnings.map((d) => formatDiagnostic(d)),
  };
}

export async function loadBuildModules() {
  const [bundle, diagnostics, template, registration] = await Promise.all([
    load("engine/mapping/bundle.ts"),
    load("engine/mapping/diagnostics.ts"),
    load("engine/deploy/template.ts"),
    load("engine/registration/registration.ts"),
  ]);
  return {
    loadAndValidateBundle: bundle.loadAndValidateBundle,
    listBundles: bundle.listBundles,
    formatDiagnostic: diagnostics.formatDiagnostic,
    deployTemplate: template.deployTemplate,
    registrationRequests: registration.registrationRequests,
    registrationDocument: registration.registrationDocument,
  };
}

async function main() {
  const { bundles, outDir } = parseArgs(process.argv.slice(2));
  const modules = await loadBuildModules();
  const dirs = bundles.length > 0
    ? bundles.map((b) => (b.includes("/") ? b : path.join("mappings", b)))
    : await modules.listBundles(path.join(ROOT, "mappings"));
  if (dirs.length === 0) {
    console.error("build: no bundle found (mappings/<vendor>/connector.yaml)");
    return 1;
  }
  let failed = 0;
  for (const dir of dirs) {
    try {
      const s = await buildBundle(path.resolve(ROOT, dir), outDir, modules);
      for (const w of s.warnings) console.warn(`  ${w}`);
      const verdict = s.zipBytes <= MAX_ZIP_BYTES ? "ok" : "OVER the 1 MB target";
      console.log(`built ${path.relative(process.cwd(), s.out) || s.out}: index.mjs ${kb(s.indexBytes)}, function.zip ${kb(s.zipBytes)} (${verdict})`);
    } catch (err) {
      failed++;
      console.error(`build failed: ${err.message}`);
    }
  }
  return failed > 0 ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main();
}
