/** Public surface of the Matter data-model module. */
export * from "./ids.ts";
export * from "./types.ts";
export { ClusterTable, parseElementRequirement, type MatterRef } from "./cluster-table.ts";
export * from "./conformance.ts";
export * from "./device-types.ts";
export { editDistance, normalizeName, suggest } from "./suggest.ts";
export * from "./features.ts";
