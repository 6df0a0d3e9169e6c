/**
 * Test what ships: every bundle's fixtures run against the BUILT artifact (dist/<bundle>/index.mjs,
 * built here by `node build.mjs` into a temp dir), imported in-process and invoked like Lambda would.
 */
import { execFile } from "node:child_process";
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listBundles } from "../../engine/mapping/bundle.ts";
import { loadFixtures, type Fixture } from "../../engine/testing/fixtures.ts";
import { FixtureHarness, type InvokeTarget } from "../../engine/testing/fixture-runner.ts";

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const bundleDirs = await listBundles(path.join(ROOT, "mappings"));
let out: string;
let harness: FixtureHarness;
let imports = 0;

beforeAll(async () => {
  out = await mkdtemp(path.join(tmpdir(), "c2c-artifact-"));
  await run(process.execPath, [path.join(ROOT, "build.mjs"), ...bundleDirs.map((d) => path.basename(d)), "--out", out], { cwd: ROOT });
  harness = await FixtureHarness.start();
}, 120_000);
afterAll(async () => {
  await harness?.close();
  if (out) await rm(out, { recursive: true, force: true });
});

/**
 * Node's own loader, not vitest's transforming one, so the artifact runs exactly as built (and fast):
 * require() of an ES module without top-level await (Node >= 20.19).
 */
const nativeRequire = createRequire(import.meta.url);

/**
 * A fresh instance of the artifact per fixture: fresh in-memory
 * state, and the handler reads the harness environment when it creates its engine, as in a new container.
 */
function artifactTarget(bundle: string): () => Promise<InvokeTarget> {
  return async () => {
    // A copy under a new name is a new module instance (require caches by file).
    const file = path.join(out, bundle, `index.instance-${++imports}.mjs`);
    await copyFile(path.join(out, bundle, "index.mjs"), file);
    const mod = nativeRequire(file) as { handler: (event: unknown, context?: unknown) => Promise<unknown> };
    return { invoke: (event, context) => mod.handler(event, context) };
  };
}

describe.each(bundleDirs.map((d) => path.basename(d)))("built artifact of %s", async (bundle) => {
  const fixtures = await loadFixtures(path.join(ROOT, "mappings", bundle));

  it("has fixtures to run", () => {
    expect(fixtures.length).toBeGreaterThan(0);
  });

  // Settings are compiled into the artifact, so fixtures that override them only run in-process (test/bundles).
  // So do fixtures that sign a JWT: the artifact fetches the bundle's jwksUrl itself, and only the
  // in-process target can be handed the test key's public set instead.
  const signsJwt = (f: Fixture) => [f.webhook, ...(f.deliveries ?? []).map((s) => s.webhook)].some((w) => w?.sign?.scheme === "jwt");
  // Fixtures that start from a given store state (quota counts) need the in-process engine's store.
  const inProcessOnly = (f: Fixture) => f.given !== undefined;
  // And fixtures signed with an HTTP Signature: the artifact fetches the keyId's key from the
  // vendor's key server itself (no network here); in-process the runner answers for that server.
  const signsHttp = (f: Fixture) => [f.webhook, ...(f.deliveries ?? []).map((s) => s.webhook)].some((w) => w?.sign?.scheme === "httpSignature");
  const runnable = fixtures.filter((f) => !f.settings && !signsJwt(f) && !signsHttp(f) && !inProcessOnly(f));
  const givenState = fixtures.filter((f) => !f.settings && !signsJwt(f) && !signsHttp(f) && inProcessOnly(f));
  if (givenState.length) it.skip.each(givenState.map((f) => [f.name]))("%s (starts from a given store state)", () => {});
  const overriding = fixtures.filter((f) => f.settings);
  if (overriding.length) it.skip.each(overriding.map((f) => [f.name]))("%s (overrides settings)", () => {});
  const jwtSigned = fixtures.filter((f) => !f.settings && signsJwt(f));
  if (jwtSigned.length) it.skip.each(jwtSigned.map((f) => [f.name]))("%s (signs a JWT against the bundle's jwksUrl)", () => {});
  const httpSigned = fixtures.filter((f) => !f.settings && signsHttp(f));
  if (httpSigned.length) it.skip.each(httpSigned.map((f) => [f.name]))("%s (signs an HTTP Signature whose key the artifact would fetch from the vendor's key server)", () => {});
  it.each(runnable.map((f) => [f.name, f] as const))("%s", async (_name, fixture) => {
    const result = await harness.run(artifactTarget(bundle), fixture);
    expect(result.failures.join("\n\n")).toBe("");
  });
});
