/**
 * Writes engine/matter/data/matter-clusters.json from the matter.js data model (@matter/model,
 * a devDependency pinned to the release that carries Matter 1.4): every cluster with an id
 * (application, utility and node clusters, derived clusters with their base's members), every
 * device type with its cluster and element requirements.
 *
 * Runs at dev time only (`npm run generate`); the engine reads the JSON through
 * engine/matter/cluster-table.ts and never imports @matter/model. The compiled bundle carries
 * the type of each element it maps, so the Lambda artifact holds only what its bundle uses.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  AttributeModel,
  ClusterModel,
  CommandModel,
  DatatypeModel,
  DeviceTypeModel,
  EventModel,
  FieldModel,
  Matter,
  RequirementModel,
  Specification,
  ValueModel,
} from "@matter/model";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const MATTER_DATA_FILE = path.join(ROOT, "engine/matter/data/matter-clusters.json");
const SPEC_NAMES_FILE = path.join(ROOT, "scripts/matter/spec-names.json");
const DEVICE_LIMITS_FILE = path.join(ROOT, "scripts/matter/device-limits.json");
const MODEL_VERSION = (JSON.parse(readFileSync(path.join(ROOT, "node_modules/@matter/model/package.json"), "utf8")) as { version: string }).version;

type Json = Record<string, unknown>;
type Range = [number, number];

/** Integer widths of the Matter base types (Core spec 7.18.1); 64-bit values stop at what a JSON number holds exactly. */
const INTEGER_BITS: Record<string, { bits: number; signed: boolean }> = {};
for (const bits of [8, 16, 24, 32, 40, 48, 56, 64]) {
  INTEGER_BITS[`uint${bits}`] = { bits, signed: false };
  INTEGER_BITS[`int${bits}`] = { bits, signed: true };
}
for (const bits of [8, 16, 32, 64]) INTEGER_BITS[`map${bits}`] = { bits, signed: false };
for (const bits of [8, 16]) INTEGER_BITS[`enum${bits}`] = { bits, signed: false };

/**
 * Semantic types whose range the spec fixes (Core spec 7.19.2) but the model states only in prose.
 * Units are recorded for `c2c matter` and the authoring guide.
 */
const SEMANTIC_TYPES: Record<string, { range?: Range; unit?: string }> = {
  percent: { range: [0, 100], unit: "1 %" },
  percent100ths: { range: [0, 10000], unit: "0.01 % (e.g. 5000 = 50.00 %)" },
  temperature: { range: [-27315, 32767], unit: "0.01 degC (e.g. 2150 = 21.50 degC)" },
  "temp-diff": { unit: "0.01 degC" },
  "epoch-s": { unit: "seconds since 2000-01-01 UTC" },
  "epoch-us": { unit: "microseconds since 2000-01-01 UTC" },
  "elapsed-s": { unit: "seconds" },
  "posix-ms": { unit: "milliseconds since 1970-01-01 UTC" },
  "systime-ms": { unit: "milliseconds" },
  "systime-us": { unit: "microseconds" },
  "amperage-mA": { unit: "mA" },
  "voltage-mV": { unit: "mV" },
  "power-mW": { unit: "mW" },
  "energy-mWh": { unit: "mWh" },
  "money": { unit: "currency minor units" },
};

/** Cluster classifications whose elements are not a device's state (used for the `classification` hint). */
type Limits = { min?: string[]; max?: string[] };
type ClusterLimits = { commands?: Record<string, Record<string, Limits>>; attributes?: Record<string, Limits> };
const deviceLimits = JSON.parse(readFileSync(DEVICE_LIMITS_FILE, "utf8")) as Record<string, ClusterLimits>;

const specNames = JSON.parse(readFileSync(SPEC_NAMES_FILE, "utf8")) as { clusters: Record<string, string>; deviceTypes: Record<string, string> };

const hex = (n: number, digits: number): string => {
  const s = n.toString(16).toUpperCase();
  let width = digits;
  while (s.length > width) width *= 2;
  return "0x" + s.padStart(width, "0");
};

const str = (v: unknown): string => (v === undefined || v === null ? "" : String(v));

/** "IlluminanceMeasurement" -> "Illuminance Measurement" for names the spec-name list lacks. */
function splitCamel(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, "$1 $2");
}

function integerRange(base: string, nullable: boolean): Range | undefined {
  const info = INTEGER_BITS[base];
  if (!info) return undefined;
  const safeBits = Math.min(info.bits, 53);
  let min = info.signed ? -(2 ** (safeBits - 1)) : 0;
  let max = info.signed ? 2 ** (safeBits - 1) - 1 : 2 ** safeBits - 1;
  if (info.bits > 53) {
    min = info.signed ? Number.MIN_SAFE_INTEGER : 0;
    max = Number.MAX_SAFE_INTEGER;
  }
  // A nullable integer encodes null in its top (unsigned) or bottom (signed) value.
  if (nullable && info.bits <= 53 && !base.startsWith("map") && !base.startsWith("enum")) {
    if (info.signed) min += 1;
    else max -= 1;
  }
  return [min, max];
}

/** A numeric bound of a constraint when it is a literal number (references and expressions give undefined). */
function literal(bound: unknown): number | undefined {
  if (typeof bound === "number") return bound;
  if (typeof bound === "bigint") return Number(bound);
  return undefined;
}

interface ConstraintLike {
  value?: unknown;
  min?: unknown;
  max?: unknown;
  parts?: ConstraintLike[];
}

/**
 * Narrows the type's range by a constraint's literal bounds. A list of parts ("1 to
 * numberOfPinUsersSupported, 65534") spans from the lowest to the highest part; a bound that
 * references another attribute leaves the type's bound in place (validate and the run-time
 * device limits handle those).
 */
function numericRange(constraint: ConstraintLike, [typeMin, typeMax]: Range): Range {
  if (constraint.parts && constraint.parts.length > 0) {
    const ranges = constraint.parts.map((p) => numericRange(p, [typeMin, typeMax]));
    return [Math.min(...ranges.map((r) => r[0])), Math.max(...ranges.map((r) => r[1]))];
  }
  const exact = literal(constraint.value);
  if (exact !== undefined) return [exact, exact];
  const min = literal(constraint.min);
  const max = literal(constraint.max);
  return [min !== undefined ? Math.max(typeMin, min) : typeMin, max !== undefined ? Math.min(typeMax, max) : typeMax];
}

/** The semantic or base type a value resolves to (e.g. "temperature", "uint8"), walking through aliases. */
function globalBaseName(model: ValueModel): string | undefined {
  let base = model.base as ValueModel | undefined;
  while (base) {
    if (!(base.parent instanceof ClusterModel)) return base.name;
    base = base.base as ValueModel | undefined;
  }
  return undefined;
}

const usedSemanticTypes = new Map<string, Json>();

/** Type information shared by attributes and fields. */
function typed(model: ValueModel): Json {
  const out: Json = {};
  const type = model.type ?? globalBaseName(model) ?? "unknown";
  out.type = type;
  const metatype = str(model.effectiveMetatype);
  const primitive = model.primitiveBase?.name;
  const nullable = model.effectiveQuality.nullable === true;
  const definedInCluster = model.base instanceof DatatypeModel && model.base.parent instanceof ClusterModel;
  if (definedInCluster) {
    out.kind = metatype === "object" ? "struct" : metatype === "array" ? "list" : metatype;
  } else if (metatype === "array") {
    out.kind = "list";
  }
  if (primitive && primitive !== type) out.baseType = primitive;
  const semantic = globalBaseName(model);
  if (semantic && SEMANTIC_TYPES[semantic] && !usedSemanticTypes.has(semantic)) {
    usedSemanticTypes.set(semantic, { base: model.primitiveBase?.name, description: str(model.base?.description) || semantic, ...SEMANTIC_TYPES[semantic] });
  }
  out.conformance = str(model.conformance);
  const constraint = model.constraint;
  const text = str(constraint);
  if (text && text !== "all") out.constraint = text;
  if (metatype === "array") {
    const entry = model.listEntry;
    if (entry) out.entryType = entry.type ?? globalBaseName(entry) ?? "unknown";
    if (literal(constraint.max) !== undefined) out.maxLength = literal(constraint.max);
    if (literal(constraint.min) !== undefined) out.minLength = literal(constraint.min);
  } else if (metatype === "string" || metatype === "bytes") {
    if (literal(constraint.max) !== undefined) out.maxLength = literal(constraint.max);
    if (literal(constraint.min) !== undefined) out.minLength = literal(constraint.min);
    if (literal(constraint.value) !== undefined) out.minLength = out.maxLength = literal(constraint.value);
  } else if (primitive && INTEGER_BITS[primitive] && metatype !== "enum" && metatype !== "bitmap") {
    out.range = numericRange(constraint, SEMANTIC_TYPES[semantic ?? ""]?.range ?? integerRange(primitive, nullable)!);
  } else if (metatype === "float") {
    // single/double: any finite number; a literal constraint still narrows it.
    if (literal(constraint.min) !== undefined || literal(constraint.max) !== undefined) {
      out.range = [literal(constraint.min) ?? -Number.MAX_VALUE, literal(constraint.max) ?? Number.MAX_VALUE];
    }
  }
  if (nullable) out.nullable = true;
  const def = model.default;
  if (def === null || typeof def === "number" || typeof def === "boolean" || typeof def === "string") out.default = def;
  return out;
}

function attribute(a: AttributeModel): Json {
  const { type, ...rest } = typed(a);
  const access = str(a.effectiveAccess) || str(a.access);
  const quality = str(a.quality);
  return {
    id: hex(a.id, 4),
    name: a.name,
    type,
    ...rest,
    access,
    writable: a.writable,
    ...(quality ? { quality } : {}),
    ...(str(a.conformance) === "D" ? { deprecated: true } : {}),
  };
}

/** Fields the model lists without a type are disallowed placeholders ("Ignored", conformance X). */
const typedFields = (members: unknown[]): FieldModel[] => members.filter((m): m is FieldModel => m instanceof FieldModel && (m.type !== undefined || m.base !== undefined));

function field(f: FieldModel): Json {
  return { id: f.id, name: f.name, ...typed(f) };
}

function command(c: CommandModel): Json {
  const out: Json = {
    id: hex(c.id, 2),
    name: c.name,
    // Invoke privilege only ("O", "M T"): commands are never read or written.
    access: (str(c.effectiveAccess) || "O").replace(/^R?W?\s+/, "") || "O",
    conformance: str(c.conformance),
    response: c.response ?? "status",
    fields: typedFields(c.members).map(field),
  };
  if (c.type && c.type !== c.name) out.fieldsFrom = c.type;
  return out;
}

function event(e: EventModel): Json {
  return {
    id: hex(e.id, 2),
    name: e.name,
    priority: str(e.priority),
    conformance: str(e.conformance),
    fields: typedFields(e.members).map(field),
  };
}

function datatype(d: DatatypeModel): Json {
  const metatype = str(d.effectiveMetatype);
  const out: Json = { kind: metatype === "object" ? "struct" : metatype, ...(d.type ? { base: d.type } : {}) };
  const members = d.members as FieldModel[];
  if (metatype === "enum") {
    out.values = members.map((m) => ({ value: m.id, name: m.name, ...(str(m.conformance) && str(m.conformance) !== "M" ? { conformance: str(m.conformance) } : {}) }));
  } else if (metatype === "bitmap") {
    out.bits = members.map((m) => {
      const value = literal(m.constraint.value);
      const min = literal(m.constraint.min);
      const max = literal(m.constraint.max);
      // Multi-bit fields ("1 to 2") carry their width; single bits only their position.
      if (value !== undefined) return { name: m.name, bit: value };
      return { name: m.name, bit: min ?? 0, ...(max !== undefined && min !== undefined ? { width: max - min + 1 } : {}) };
    });
  } else if (metatype === "object") {
    out.fields = members.map(field);
  }
  const constraint = str(d.constraint);
  if (constraint && constraint !== "all") out.constraint = constraint;
  return out;
}

function feature(f: FieldModel): Json {
  return { bit: literal(f.constraint.value) ?? 0, code: f.name, name: str(f.description), conformance: str(f.conformance) };
}

function classificationOf(c: ClusterModel): string {
  let cur: ClusterModel | undefined = c;
  while (cur) {
    if (cur.classification) return cur.classification;
    cur = cur.base as ClusterModel | undefined;
  }
  return "application";
}

/** "installedOpenLimitLift" -> the cluster's attribute name "InstalledOpenLimitLift", if there is one. */
function attributeNamed(c: ClusterModel, ref: unknown): string | undefined {
  if (!ref || typeof ref !== "object" || (ref as { type?: string }).type !== "reference") return undefined;
  const name = String((ref as { name: string }).name).toLowerCase();
  return c.attributes.find((a) => a.name.toLowerCase() === name)?.name;
}

/** Bounds that name other attributes of the cluster: the device's own limits. */
function constraintLimits(c: ClusterModel, model: ValueModel): Limits | undefined {
  const constraint = model.constraint as ConstraintLike;
  const min = attributeNamed(c, constraint.min);
  const max = attributeNamed(c, constraint.max);
  if (!min && !max) return undefined;
  return { ...(min ? { min: [min] } : {}), ...(max ? { max: [max] } : {}) };
}

function withLimits(out: Json, limits: Limits | undefined): Json {
  return limits ? { ...out, limits } : out;
}

function cluster(c: ClusterModel): Json {
  const id = c.id!;
  const datatypes: Record<string, Json> = {};
  for (const d of c.datatypes) datatypes[d.name] = datatype(d);
  // Derived clusters (e.g. the concentration measurements) use their base cluster's datatypes.
  for (let base = c.base as ClusterModel | undefined; base; base = base.base as ClusterModel | undefined) {
    for (const d of base.datatypes) datatypes[d.name] ??= datatype(d);
  }
  // Global attributes (ClusterRevision, FeatureMap, lists) live once in `globalAttributes`.
  const declared = deviceLimits[c.name] ?? {};
  const attributes = c.attributes
    .filter((a) => a.id < 0xfff8)
    .map((a) => withLimits(attribute(a), declared.attributes?.[a.name] ?? constraintLimits(c, a)));
  const commandWithLimits = (x: CommandModel): Json => {
    const out = command(x);
    const fieldLimits = declared.commands?.[x.name] ?? {};
    out.fields = (out.fields as Json[]).map((f, i) => withLimits(f, fieldLimits[f.name as string] ?? constraintLimits(c, typedFields(x.members)[i])));
    return out;
  };
  const requests = c.commands.filter((x) => x.direction !== "response");
  const responses = c.commands.filter((x) => x.direction === "response");
  return {
    id: hex(id, 4),
    idDec: id,
    name: c.name,
    specName: specNames.clusters[String(id)] ?? splitCamel(c.name),
    awsCapabilityId: `matter.${c.name}@${Specification.REVISION}`,
    revision: c.revision,
    classification: classificationOf(c),
    ...(c.base ? { derivedFrom: c.base.name } : {}),
    features: c.features.map(feature),
    attributes,
    commands: requests.map(commandWithLimits),
    responseCommands: responses.map((r) => ({ id: hex(r.id, 2), name: r.name, fields: typedFields(r.members).map(field) })),
    events: c.events.map(event),
    datatypes,
  };
}

function requirement(r: RequirementModel): Json {
  const elements = r.children
    .filter((e): e is RequirementModel => e instanceof RequirementModel)
    .map((e) => {
      const parts = [`${e.element} ${e.name}`];
      const conformance = str(e.conformance);
      const constraint = str(e.constraint);
      if (conformance) parts.push(`conformance=${conformance}`);
      if (constraint && constraint !== "all") parts.push(`constraint=${constraint}`);
      return parts.length > 1 ? parts.join(" ") : undefined;
    })
    // A bare mention ("attribute DeviceTypeList") states nothing beyond the cluster's own conformance.
    .filter((e): e is string => e !== undefined);
  return { id: hex(r.id!, 4), name: r.name, conformance: str(r.conformance) || "M", ...(elements.length ? { elementRequirements: elements } : {}) };
}

function deviceType(d: DeviceTypeModel): Json {
  const reqs = d.children.filter((r): r is RequirementModel => r instanceof RequirementModel);
  return {
    id: hex(d.id!, 4),
    idDec: d.id,
    name: d.name,
    specName: specNames.deviceTypes[d.name] ?? splitCamel(d.name),
    revision: d.revision,
    class: d.classification,
    category: (d as unknown as { category?: string }).category,
    serverClusters: reqs.filter((r) => r.element === "serverCluster").map(requirement),
    clientClusters: reqs.filter((r) => r.element === "clientCluster").map(requirement),
  };
}

/** The generated data, as an object (tests compare it with the committed file). */
export function buildMatterData(): Json {
  usedSemanticTypes.clear();
  const clusters = Matter.clusters
    .filter((c) => c.id !== undefined)
    .sort((a, b) => a.id! - b.id!)
    .map(cluster);
  const deviceTypes = Matter.deviceTypes
    .filter((d) => d.id !== undefined && d.classification !== "base")
    .sort((a, b) => a.id! - b.id!)
    .map(deviceType);
  const semanticTypes = Object.fromEntries([...usedSemanticTypes.entries()].sort(([a], [b]) => a.localeCompare(b)));
  return {
    $comment: `GENERATED by scripts/generate-matter-data.ts (npm run generate) from npm:@matter/model@${MODEL_VERSION} (matter.js data model, Apache-2.0, Matter ${Specification.REVISION}); spec names from scripts/matter/spec-names.json. Do not edit by hand.`,
    specVersion: Specification.REVISION,
    sources: [`npm:@matter/model@${MODEL_VERSION}`, "github:project-chip/connectedhomeip data_model/1.4 (spec names)"],
    legend: {
      access: "R=read, W=write, RW=read/write; privileges V=view O=operate M=manage A=administer; F=fabric-scoped, S=fabric-sensitive, T=timed",
      quality: "X=nullable, N=non-volatile, F=fixed, S=scene, P=reportable, C=changes omitted, Q=quieter reporting",
      conformance: "M=mandatory, O=optional, P=provisional, D=deprecated, X=disallowed; feature codes (e.g. LT) mean mandatory if that feature bit is set, [..] optional if set, a, b = otherwise",
      range: "numeric [min,max] from the spec constraint when it is a literal, else from the semantic or base type (nullable integers lose the top/bottom value, which encodes null; 64-bit types stop at +-2^53-1). Constraints that reference other attributes (e.g. 'minLevel to maxLevel') are kept verbatim in `constraint`",
      writable: "true if the attribute is writable with a Write Interaction (access contains W)",
      ids: "cluster/attribute ids as 0xNNNN, command/event ids as 0xNN, field ids and enum values as plain integers; compare numerically",
      names: "matter.js element names; specName is the human-readable name managed integrations uses as the capability name (e.g. On/Off)",
      awsCapabilityId: `matter.<name>@${Specification.REVISION}`,
      revision: "cluster revision in this Matter release (capability report 'revision')",
    },
    globalAttributes: [
      { id: "0xFFFD", name: "ClusterRevision", type: "uint16" },
      { id: "0xFFFC", name: "FeatureMap", type: "map32" },
      { id: "0xFFFB", name: "AttributeList", type: "list" },
      { id: "0xFFFA", name: "EventList", type: null, deprecated: true },
      { id: "0xFFF9", name: "AcceptedCommandList", type: "list" },
      { id: "0xFFF8", name: "GeneratedCommandList", type: "list" },
    ],
    semanticTypes,
    clusters,
    deviceTypes,
  };
}

/**
 * One element per line: diffs between model releases stay readable, and the file stays far
 * smaller than fully indented JSON.
 */
export function renderMatterData(data: Json = buildMatterData()): string {
  const lines: string[] = ["{"];
  const entries = Object.entries(data);
  entries.forEach(([key, value], i) => {
    const comma = i < entries.length - 1 ? "," : "";
    if (key === "clusters" || key === "deviceTypes") {
      lines.push(`  ${JSON.stringify(key)}: [`);
      const items = value as Json[];
      items.forEach((item, j) => {
        const itemComma = j < items.length - 1 ? "," : "";
        if (key === "deviceTypes") {
          lines.push(`    ${JSON.stringify(item)}${itemComma}`);
          return;
        }
        lines.push("    {");
        const fields = Object.entries(item);
        fields.forEach(([k, v], n) => {
          const fieldComma = n < fields.length - 1 ? "," : "";
          if (Array.isArray(v) && v.length > 0 && typeof v[0] === "object") {
            lines.push(`      ${JSON.stringify(k)}: [`);
            v.forEach((el, m) => lines.push(`        ${JSON.stringify(el)}${m < v.length - 1 ? "," : ""}`));
            lines.push(`      ]${fieldComma}`);
          } else if (k === "datatypes" && v && typeof v === "object" && Object.keys(v).length > 0) {
            lines.push(`      ${JSON.stringify(k)}: {`);
            const dts = Object.entries(v as Json);
            dts.forEach(([dn, dv], m) => lines.push(`        ${JSON.stringify(dn)}: ${JSON.stringify(dv)}${m < dts.length - 1 ? "," : ""}`));
            lines.push(`      }${fieldComma}`);
          } else {
            lines.push(`      ${JSON.stringify(k)}: ${JSON.stringify(v)}${fieldComma}`);
          }
        });
        lines.push(`    }${itemComma}`);
      });
      lines.push(`  ]${comma}`);
    } else {
      lines.push(`  ${JSON.stringify(key)}: ${JSON.stringify(value)}${comma}`);
    }
  });
  lines.push("}");
  return lines.join("\n") + "\n";
}

export function writeMatterData(): void {
  writeFileSync(MATTER_DATA_FILE, renderMatterData());
  console.log(`wrote ${path.relative(ROOT, MATTER_DATA_FILE)}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) writeMatterData();
