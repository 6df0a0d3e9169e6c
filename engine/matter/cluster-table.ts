/**
 * Indexed lookups over the bundled Matter cluster and device-type definitions.
 *
 * The JSON is imported (not read from disk) so esbuild bundles it into the Lambda artefact.
 * References may be ids in any accepted form (see ids.ts) or names, matter.js ("OnOff") or spec
 * ("On/Off"), compared case-insensitively ignoring spaces, slashes, hyphens and underscores.
 */
import data from "./data/matter-clusters.json" with { type: "json" };
import { formatAttributeId, formatFieldId, looksLikeMatterId, parseMatterId } from "./ids.ts";
import { normalizeName, suggest } from "./suggest.ts";
import type {
  AttributeDef,
  ClusterDef,
  CommandDef,
  DatatypeDef,
  DeviceTypeClusterDef,
  DeviceTypeDef,
  ElementRequirement,
  EventDef,
  FeatureDef,
  FieldDef,
  ResponseCommandDef,
  SemanticTypeDef,
} from "./types.ts";

export type { AttributeDef, ClusterDef, CommandDef, DeviceTypeDef, EventDef, FieldDef } from "./types.ts";

/** Reference to an element: numeric id, id string ("0x0006", "6") or name. */
export type MatterRef = string | number;

/** Shape of the JSON file as far as this module relies on it. */
interface RawData {
  specVersion: string;
  globalAttributes: { id: string; name: string; type: string | null; deprecated?: boolean }[];
  semanticTypes: Record<string, SemanticTypeDef>;
  clusters: RawCluster[];
  deviceTypes: RawDeviceType[];
}
type RawField = Omit<FieldDef, "hexId">;
interface RawCluster extends Omit<ClusterDef, "id" | "hexId" | "attributes" | "commands" | "responseCommands" | "events"> {
  id: string;
  attributes: (Omit<AttributeDef, "id" | "hexId"> & { id: string })[];
  commands: (Omit<CommandDef, "id" | "hexId" | "fields"> & { id: string; fields: RawField[] })[];
  responseCommands?: { id: string; name: string; fields: RawField[] }[];
  events: (Omit<EventDef, "id" | "hexId" | "fields"> & { id: string; fields: RawField[] })[];
}
interface RawDeviceTypeCluster {
  id: string;
  name: string;
  conformance: string;
  elementRequirements?: string[];
}
interface RawDeviceType extends Omit<DeviceTypeDef, "id" | "hexId" | "serverClusters" | "clientClusters"> {
  id: string;
  serverClusters: RawDeviceTypeCluster[];
  clientClusters: RawDeviceTypeCluster[];
}

/** Id and name index over one list of elements. */
class ElementIndex<T extends { id: number; name: string; specName?: string }> {
  private readonly byId = new Map<number, T>();
  private readonly byName = new Map<string, T>();

  constructor(readonly items: readonly T[]) {
    for (const item of items) {
      if (!this.byId.has(item.id)) this.byId.set(item.id, item);
      for (const name of [item.name, item.specName]) {
        if (name !== undefined && !this.byName.has(normalizeName(name))) this.byName.set(normalizeName(name), item);
      }
    }
  }

  find(ref: MatterRef): T | undefined {
    if (typeof ref === "number") return Number.isInteger(ref) ? this.byId.get(ref) : undefined;
    if (typeof ref !== "string") return undefined;
    if (looksLikeMatterId(ref)) {
      let id: number;
      try {
        id = parseMatterId(ref);
      } catch {
        return undefined;
      }
      return this.byId.get(id);
    }
    return this.byName.get(normalizeName(ref));
  }

  names(): string[] {
    return this.items.map((i) => i.name);
  }
}

interface ClusterIndexes {
  attributes: ElementIndex<AttributeDef>;
  commands: ElementIndex<CommandDef>;
  responseCommands: ElementIndex<ResponseCommandDef>;
  events: ElementIndex<EventDef>;
}

let defaultTable: ClusterTable | undefined;

export class ClusterTable {
  readonly specVersion: string;
  readonly globalAttributes: readonly AttributeDef[];
  readonly semanticTypes: Readonly<Record<string, SemanticTypeDef>>;
  private readonly clusterIndex: ElementIndex<ClusterDef>;
  private readonly deviceTypeIndex: ElementIndex<DeviceTypeDef>;
  private readonly globalIndex: ElementIndex<AttributeDef>;
  private readonly memberIndexes = new WeakMap<ClusterDef, ClusterIndexes>();
  private readonly fieldIndexes = new WeakMap<object, ElementIndex<FieldDef>>();

  /** Builds a table from data shaped like matter-clusters.json (tests may pass a subset). */
  constructor(raw: unknown) {
    const json = raw as RawData;
    if (!json || !Array.isArray(json.clusters) || !Array.isArray(json.deviceTypes)) {
      throw new Error("Matter cluster data must have 'clusters' and 'deviceTypes' arrays");
    }
    this.specVersion = json.specVersion;
    this.semanticTypes = json.semanticTypes ?? {};
    this.globalAttributes = (json.globalAttributes ?? []).map(toGlobalAttribute);
    this.globalIndex = new ElementIndex(this.globalAttributes);
    const rawByName = new Map(json.clusters.map((c) => [c.name, c]));
    this.clusterIndex = new ElementIndex(json.clusters.map((c) => toCluster(c, rawByName)));
    this.deviceTypeIndex = new ElementIndex(json.deviceTypes.map(toDeviceType));
  }

  /** The table over the bundled Matter 1.4 data, built once per process. */
  static default(): ClusterTable {
    defaultTable ??= new ClusterTable(data);
    return defaultTable;
  }

  clusters(): readonly ClusterDef[] {
    return this.clusterIndex.items;
  }

  deviceTypes(): readonly DeviceTypeDef[] {
    return this.deviceTypeIndex.items;
  }

  cluster(ref: MatterRef): ClusterDef | undefined {
    return this.clusterIndex.find(ref);
  }

  deviceType(ref: MatterRef): DeviceTypeDef | undefined {
    return this.deviceTypeIndex.find(ref);
  }

  /** Cluster attribute or, failing that, global attribute (ClusterRevision, FeatureMap, ...). */
  attribute(cluster: ClusterDef, ref: MatterRef): AttributeDef | undefined {
    return this.indexes(cluster).attributes.find(ref) ?? this.globalIndex.find(ref);
  }

  /** Request (client-to-server) command. */
  command(cluster: ClusterDef, ref: MatterRef): CommandDef | undefined {
    return this.indexes(cluster).commands.find(ref);
  }

  /** Response (server-to-client) command, e.g. DoorLock GetUserResponse. */
  responseCommand(cluster: ClusterDef, ref: MatterRef): ResponseCommandDef | undefined {
    return this.indexes(cluster).responseCommands.find(ref);
  }

  event(cluster: ClusterDef, ref: MatterRef): EventDef | undefined {
    return this.indexes(cluster).events.find(ref);
  }

  /** Field of a command, response command or event, by id or name. */
  commandField(command: { fields: FieldDef[] }, ref: MatterRef): FieldDef | undefined {
    let index = this.fieldIndexes.get(command);
    if (!index) {
      index = new ElementIndex(command.fields);
      this.fieldIndexes.set(command, index);
    }
    return index.find(ref);
  }

  /** Feature by code ("LT") or name ("Lighting", "LIGHTING"). */
  feature(cluster: ClusterDef, ref: string): FeatureDef | undefined {
    const wanted = normalizeName(ref);
    return (
      cluster.features.find((f) => f.code.toLowerCase() === ref.toLowerCase()) ??
      cluster.features.find((f) => normalizeName(f.name) === wanted)
    );
  }

  /** "Did you mean" candidates for an unknown cluster name (matter.js and spec names). */
  suggestCluster(name: string): string[] {
    return suggest(name, this.clusters().flatMap((c) => [c.name, c.specName]));
  }

  suggestDeviceType(name: string): string[] {
    return suggest(name, this.deviceTypes().flatMap((d) => [d.name, d.specName]));
  }

  suggestAttribute(cluster: ClusterDef, name: string): string[] {
    return suggest(name, [...this.indexes(cluster).attributes.names(), ...this.globalIndex.names()]);
  }

  suggestCommand(cluster: ClusterDef, name: string): string[] {
    return suggest(name, this.indexes(cluster).commands.names());
  }

  suggestEvent(cluster: ClusterDef, name: string): string[] {
    return suggest(name, this.indexes(cluster).events.names());
  }

  suggestField(command: { fields: FieldDef[] }, name: string): string[] {
    return suggest(name, command.fields.map((f) => f.name));
  }

  private indexes(cluster: ClusterDef): ClusterIndexes {
    let indexes = this.memberIndexes.get(cluster);
    if (!indexes) {
      indexes = {
        attributes: new ElementIndex(cluster.attributes),
        commands: new ElementIndex(cluster.commands),
        responseCommands: new ElementIndex(cluster.responseCommands),
        events: new ElementIndex(cluster.events),
      };
      this.memberIndexes.set(cluster, indexes);
    }
    return indexes;
  }
}

function toGlobalAttribute(raw: RawData["globalAttributes"][number]): AttributeDef {
  const id = parseMatterId(raw.id);
  return {
    id,
    hexId: formatAttributeId(id),
    name: raw.name,
    type: raw.type ?? "list",
    access: "R V",
    writable: false,
    conformance: raw.deprecated ? "D" : "M",
    ...(raw.deprecated ? { deprecated: true } : {}),
    global: true,
  };
}

function toFields(fields: RawField[] | undefined): FieldDef[] {
  return (fields ?? []).map((f) => ({ ...f, hexId: formatFieldId(f.id) }));
}

function toCluster(raw: RawCluster, rawByName: Map<string, RawCluster>): ClusterDef {
  const requestFields = new Map(raw.commands.map((c) => [c.name, c.fields]));
  // datatypesFrom reads like "BasicInformation (derived cluster; ...)": the cluster name comes first.
  const parentName = raw.datatypesFrom?.split(/\s/)[0];
  const inherited: Record<string, DatatypeDef> = parentName ? { ...(rawByName.get(parentName)?.datatypes ?? {}) } : {};
  return {
    ...raw,
    id: parseMatterId(raw.id),
    hexId: raw.id,
    attributes: raw.attributes.map((a) => ({ ...a, id: parseMatterId(a.id), hexId: a.id })),
    commands: raw.commands.map((c) => ({
      ...c,
      id: parseMatterId(c.id),
      hexId: c.id,
      // "...WithOnOff" commands share their base command's fields; the JSON stores them once.
      fields: toFields(c.fields.length === 0 && c.fieldsFrom ? requestFields.get(c.fieldsFrom) : c.fields),
    })),
    responseCommands: (raw.responseCommands ?? []).map((c) => ({ ...c, id: parseMatterId(c.id), hexId: c.id, fields: toFields(c.fields) })),
    events: raw.events.map((e) => ({ ...e, id: parseMatterId(e.id), hexId: e.id, fields: toFields(e.fields) })),
    datatypes: { ...inherited, ...raw.datatypes },
  };
}

function toDeviceType(raw: RawDeviceType): DeviceTypeDef {
  const toClusterRequirement = (c: RawDeviceTypeCluster): DeviceTypeClusterDef => ({
    id: parseMatterId(c.id),
    hexId: c.id,
    name: c.name,
    conformance: c.conformance,
    elementRequirements: (c.elementRequirements ?? []).map(parseElementRequirement),
  });
  return {
    ...raw,
    id: parseMatterId(raw.id),
    hexId: raw.id,
    serverClusters: raw.serverClusters.map(toClusterRequirement),
    clientClusters: raw.clientClusters.map(toClusterRequirement),
  };
}

const ELEMENT_KINDS = new Set(["feature", "attribute", "command", "event"]);

/** Parses "feature LIGHTING conformance=M" / "attribute CurrentLevel constraint=1 to 254". */
export function parseElementRequirement(text: string): ElementRequirement {
  const match = /^(\w+)\s+(\S+)\s*(.*)$/.exec(text.trim());
  if (!match || !ELEMENT_KINDS.has(match[1])) {
    throw new Error(`Unrecognised device type element requirement ${JSON.stringify(text)}`);
  }
  const requirement: ElementRequirement = { kind: match[1] as ElementRequirement["kind"], name: match[2], text };
  // Values may contain spaces ("Matter & (PIN | RID)"), so split on the key markers only.
  for (const part of match[3].split(/\s+(?=(?:conformance|constraint)=)/)) {
    const kv = /^(conformance|constraint)=(.*)$/.exec(part.trim());
    if (kv) requirement[kv[1] as "conformance" | "constraint"] = kv[2].trim();
  }
  return requirement;
}
