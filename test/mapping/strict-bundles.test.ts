/**
 * `c2c validate --strict` passes on every bundle of mappings/: no errors and no warnings (a write
 * mapped on a read-only attribute, a constant outside its type, a missing required cluster, ...).
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { listBundles, loadAndValidateBundle } from "../../engine/mapping/bundle.ts";
import { formatDiagnostic } from "../../engine/mapping/index.ts";

const bundles = await listBundles(path.resolve("mappings"));

describe.each(bundles.map((b) => path.basename(b)))("mappings/%s", (name) => {
  it("validates with no warning (--strict)", async () => {
    const result = await loadAndValidateBundle(path.resolve("mappings", name));
    expect(result.diagnostics.map((d) => formatDiagnostic(d))).toEqual([]);
  });
});
