/**
 * Typed view of engine/matter/data/matter-clusters.json (see its "legend"), which
 * scripts/generate-matter-data.ts writes from @matter/model.
 *
 * Every element carries its numeric `id` (compare with this) and `hexId`, the id as written in
 * the JSON (or, for fields, which the JSON stores as plain integers, formatted as "0x0000").
 */

/** Numeric [min, max] derived from the spec constraint or the base type. */
export type Range = [number, number];

/** Properties shared by attributes and command/event fields. */
export interface TypedElement {
  name: string;
  /** Matter type name: a base type ("uint16"), a semantic type ("temperature") or a datatype of the cluster ("StartUpOnOffEnum"). */
  type: string;
  /** Underlying integer type for enums, bitmaps and semantic types. */
  baseType?: string;
  /** "enum" | "bitmap" | ... when `type` names a datatype. */
  kind?: string;
  /** Conformance expression (see conformance.ts). */
  conformance: string;
  /** Spec constraint text, kept verbatim (may reference other attributes). */
  constraint?: string;
  range?: Range;
  nullable?: boolean;
  default?: unknown;
  minLength?: number;
  maxLength?: number;
  /** Element type of a list. */
  entryType?: string;
  /**
   * Device limits: the value must lie within attributes of the same cluster the device reports
   * (first reported one of each list wins), e.g. ColorTempPhysicalMin/MaxMireds.
   */
  limits?: { min?: string[]; max?: string[] };
  note?: string;
}

export interface AttributeDef extends TypedElement {
  id: number;
  hexId: string;
  /** e.g. "R V", "RW VO" (see legend.access). */
  access: string;
  writable: boolean;
  /** e.g. "X N S" (see legend.quality). */
  quality?: string;
  deprecated?: boolean;
  /** True for the global attributes every cluster has (ClusterRevision, FeatureMap, ...). */
  global?: boolean;
}

export interface FieldDef extends TypedElement {
  id: number;
  hexId: string;
}

export interface CommandDef {
  id: number;
  hexId: string;
  name: string;
  /** Invoke privilege (O=operate, M=manage, A=administer). */
  access: string;
  conformance: string;
  /** "status" or the name of the response command (see ClusterDef.responseCommands). */
  response: string;
  /** Request fields; for commands declared with `fieldsFrom` these are the referenced command's fields. */
  fields: FieldDef[];
  /** Name of the command whose fields this command reuses (e.g. MoveToLevelWithOnOff -> MoveToLevel). */
  fieldsFrom?: string;
  source?: string;
}

/** Server-to-client command sent in reply to a request command. Ids may overlap request ids. */
export interface ResponseCommandDef {
  id: number;
  hexId: string;
  name: string;
  fields: FieldDef[];
}

export interface EventDef {
  id: number;
  hexId: string;
  name: string;
  priority: string;
  conformance: string;
  fields: FieldDef[];
}

export interface FeatureDef {
  bit: number;
  code: string;
  name: string;
  conformance?: string;
}

export interface DatatypeDef {
  kind: string;
  base?: string;
  values?: { value: number; name: string; conformance?: string }[];
  /** Bit position; multi-bit fields ("1 to 2") also carry their width. */
  bits?: { name: string; bit: number; width?: number }[];
  fields?: { id: number; name: string; type: string; conformance: string; [extra: string]: unknown }[];
  constraint?: string;
  unit?: string;
  source?: string;
}

export interface ClusterDef {
  id: number;
  hexId: string;
  /** matter.js name, e.g. "OnOff". */
  name: string;
  /** Spec name MI uses as the capability name, e.g. "On/Off". */
  specName: string;
  /** e.g. "matter.OnOff@1.4". */
  awsCapabilityId: string;
  /** Cluster revision in Matter 1.4 (capability report "revision"). */
  revision: number;
  revision1_6?: number;
  classification: string;
  features: FeatureDef[];
  attributes: AttributeDef[];
  commands: CommandDef[];
  responseCommands: ResponseCommandDef[];
  events: EventDef[];
  /** Datatypes by name; includes those inherited through `datatypesFrom`. */
  datatypes: Record<string, DatatypeDef>;
  datatypesFrom?: string;
  /** Base cluster of a derived cluster (e.g. ConcentrationMeasurement); its members are included here. */
  derivedFrom?: string;
}

/** One parsed entry of a device type's per-cluster `elementRequirements`. */
export interface ElementRequirement {
  kind: "feature" | "attribute" | "command" | "event";
  /** As written in the JSON: features use the upper-cased feature name ("LIGHTING"), others the element name. */
  name: string;
  conformance?: string;
  constraint?: string;
  /** The original text, e.g. "feature LIGHTING conformance=M". */
  text: string;
}

export interface DeviceTypeClusterDef {
  id: number;
  hexId: string;
  name: string;
  /** Conformance of the cluster on this device type ("M", "O", "P, M", ...). */
  conformance: string;
  elementRequirements: ElementRequirement[];
}

export interface DeviceTypeDef {
  id: number;
  hexId: string;
  /** matter.js name, e.g. "ExtendedColorLight". */
  name: string;
  /** Spec name, e.g. "Extended Color Light". */
  specName: string;
  revision: number;
  /** "simple" | "utility" | "node". */
  class: string;
  category: string;
  serverClusters: DeviceTypeClusterDef[];
  clientClusters: DeviceTypeClusterDef[];
}

export interface SemanticTypeDef {
  base: string;
  description: string;
  range?: Range;
  unit?: string;
}
