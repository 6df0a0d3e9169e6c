/** Public surface of the mapping module: load, check and compile bundles. */
export { CONNECTOR_FILE, listBundles, loadAndValidateBundle, loadBundleOrThrow, validateMappingText, type BundleResult } from "./bundle.ts";
export { compileBundle, type CompileOptions } from "./compile.ts";
export * from "./compiled.ts";
export { BundleError, formatDiagnostic, hasErrors, sortDiagnostics, toPointer, type Diagnostic } from "./diagnostics.ts";
export { checkFixtures, listFixtureFiles } from "./fixture-check.ts";
export { loadYamlFile, parseYaml, type LoadedYaml, type Position, type PositionResolver } from "./load.ts";
export { checkAgainstSchema, checkMappingSchema, type SourceRef } from "./schema-check.ts";
export { checkSemantics } from "./semantic-check.ts";
