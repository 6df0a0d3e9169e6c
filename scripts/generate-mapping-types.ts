/**
 * Generates engine/mapping/mapping.types.ts from schemas/mapping.schema.json, the single source of
 * truth of the mapping format. Run `npm run generate` after editing the schema; a test fails when
 * the committed file is stale.
 */
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { compile } from "json-schema-to-typescript";

const root = fileURLToPath(new URL("..", import.meta.url));
export const MAPPING_TYPES_FILE = `${root}engine/mapping/mapping.types.ts`;

export async function renderMappingTypes(): Promise<string> {
  const schema = JSON.parse(await readFile(`${root}schemas/mapping.schema.json`, "utf8"));
  return compile(stripRefSiblings(schema) as Parameters<typeof compile>[0], "ConnectorMapping", {
    bannerComment:
      "/* Generated from schemas/mapping.schema.json by scripts/generate-mapping-types.ts. Do not edit: edit the schema and run `npm run generate`. */",
    additionalProperties: false,
    unreachableDefinitions: true,
    format: false,
    style: { singleQuote: false },
  });
}

/**
 * A `$ref` with sibling keywords (a description for editors) makes the generator emit a duplicate
 * type (Call1, Call2, ...). The siblings only document the use site, so drop them for typing.
 */
function stripRefSiblings(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(stripRefSiblings);
  if (node && typeof node === "object") {
    const obj = node as Record<string, unknown>;
    if (typeof obj.$ref === "string") return { $ref: obj.$ref };
    return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, stripRefSiblings(v)]));
  }
  return node;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await writeFile(MAPPING_TYPES_FILE, await renderMappingTypes());
  console.log(`wrote ${MAPPING_TYPES_FILE}`);
}
