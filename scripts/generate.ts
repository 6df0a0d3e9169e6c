/**
 * `npm run generate`: regenerates every committed generated file, in dependency order.
 *  1. engine/mapping/mapping.types.ts        from schemas/mapping.schema.json
 *  2. schemas/send-connector-event.schema.json from the Smithy shapes (if that generator is present)
 *  3. engine/matter/data/matter-clusters.json from @matter/model (the Matter 1.4 model)
 *  3b. schemas/editor/connector.schema.json (Matter names for editor completion) from that data
 *  4. engine/generated/validators.js (+ .d.ts) from the MI and SendConnectorEvent schemas; it must run
 *     after step 2, since it embeds the SendConnectorEvent schema.
 */
import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { MAPPING_TYPES_FILE, renderMappingTypes } from "./generate-mapping-types.ts";
import { writeMatterData } from "./generate-matter-data.ts";
import { writeValidators } from "./generate-validators.ts";
import { writeEditorSchema } from "./generate-editor-schema.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

writeFileSync(MAPPING_TYPES_FILE, await renderMappingTypes());
console.log(`wrote ${path.relative(ROOT, MAPPING_TYPES_FILE)}`);

const sceGenerator = path.join(ROOT, "scripts/generate-sce-schema.ts");
if (existsSync(sceGenerator)) {
  const sce = (await import(pathToFileURL(sceGenerator).href)) as {
    SCHEMA_FILE: string;
    renderSendConnectorEventSchema(): string;
  };
  writeFileSync(sce.SCHEMA_FILE, sce.renderSendConnectorEventSchema());
  console.log(`wrote ${path.relative(ROOT, sce.SCHEMA_FILE)}`);
}

writeMatterData();
writeEditorSchema();
writeValidators();
