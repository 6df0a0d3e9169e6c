/**
 * What every bench case shares: connectors bundled as the artifact is (build.mjs: esbuild,
 * minified ESM for node20, no keepNames), so the engine, the hand-written reference and the
 * floor are compared as they would ship; and the environment that points a LIFX connector at the
 * bench's fake LIFX and MI emulator.
 */
import path from "node:path";
import { build } from "esbuild";
import { LOCAL_TEST_CREDENTIALS } from "../engine/local/mi-emulator.ts";

/** Bundles `entryPoints` (name -> source) into `outdir` as `<name>.mjs`; returns the paths by name. */
export async function bundleLikeTheArtifact<Name extends string>(entryPoints: Record<Name, string>, outdir: string): Promise<Record<Name, string>> {
  await build({
    entryPoints,
    outdir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    mainFields: ["module", "main"],
    minify: true,
    legalComments: "none",
    logLevel: "silent",
    banner: { js: 'import { createRequire as __c } from "node:module"; const require = __c(import.meta.url);' },
  });
  return Object.fromEntries(Object.keys(entryPoints).map((name) => [name, path.join(outdir, `${name}.mjs`)])) as Record<Name, string>;
}

/** The environment of a LIFX connector under test: local credentials, the MI emulator, the fake LIFX. */
export function lifxBenchEnv(vendorOrigin: string, miUrl: string, region = "us-east-1"): Record<string, string> {
  return {
    AWS_REGION: region,
    AWS_ACCESS_KEY_ID: LOCAL_TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_TEST_CREDENTIALS.secretAccessKey,
    C2C_MI_ENDPOINT: miUrl,
    C2C_VENDOR_ORIGIN: vendorOrigin,
    LIFX_API: `${vendorOrigin}/v1`,
    C2C_LOG_LEVEL: "error",
    // The AWS SDK warns once per process about Node 20; keep stderr quiet.
    AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: "1",
  };
}
