/**
 * `c2c matter [name]`: the Matter 1.4 data the engine knows, for authors writing a mapping.
 * Without a name, every cluster (id, name, spec name) and every device type; with a cluster name
 * or hex id, its features, attributes (id, type, range, access, nullability, conformance),
 * commands with their fields, and events; with a device type, the clusters and elements it
 * requires. An unknown name is an error with a did-you-mean. Tooling only: the Lambda never
 * loads the table.
 */
import { ClusterTable } from "../../matter/cluster-table.ts";
import type { AttributeDef, ClusterDef, DeviceTypeDef, FieldDef } from "../../matter/types.ts";
import { requiredClusters } from "../../matter/device-types.ts";
import { CliError, type CliConsole } from "../io.ts";

export async function matterCommand(name: string | undefined, opts: { json?: boolean }, con: CliConsole): Promise<number> {
  const table = ClusterTable.default();
  const print = (lines: string[]) => lines.forEach((l) => con.out.line(l));
  if (name === undefined) {
    if (opts.json) return json(con, { clusters: table.clusters().map(clusterSummary), deviceTypes: table.deviceTypes().map((d) => ({ id: d.hexId, name: d.name, specName: d.specName })) });
    print(listing(table));
    return 0;
  }
  const cluster = table.cluster(name);
  if (cluster) {
    if (opts.json) return json(con, cluster);
    print(clusterDetail(cluster));
    return 0;
  }
  const deviceType = table.deviceType(name);
  if (deviceType) {
    if (opts.json) return json(con, deviceType);
    print(deviceTypeDetail(deviceType, table));
    return 0;
  }
  // One candidate per element: the matter.js and spec names of a cluster are the same suggestion.
  const candidates = [
    ...new Set([...table.suggestCluster(name).map((n) => table.cluster(n)!.name), ...table.suggestDeviceType(name).map((n) => table.deviceType(n)!.specName)]),
  ].slice(0, 3);
  const hint = candidates.length ? ` Did you mean ${candidates.map((c) => `"${c}"`).join(", ")}?` : "";
  throw new CliError(`unknown Matter cluster or device type "${name}".${hint} (c2c matter lists them all)`);
}

function json(con: CliConsole, value: unknown): number {
  con.out.line(JSON.stringify(value, null, 2));
  return 0;
}

const clusterSummary = (c: ClusterDef) => ({ id: c.hexId, name: c.name, specName: c.specName, classification: c.classification });

function listing(table: ClusterTable): string[] {
  const lines = [`Matter ${table.specVersion}: ${table.clusters().length} clusters, ${table.deviceTypes().length} device types`, "", "Clusters:"];
  for (const c of [...table.clusters()].sort((a, b) => a.id - b.id)) {
    lines.push(`  ${c.hexId}  ${c.name.padEnd(44)} ${c.specName !== c.name ? c.specName : ""}`.trimEnd());
  }
  lines.push("", "Device types:");
  for (const d of [...table.deviceTypes()].sort((a, b) => a.id - b.id)) lines.push(`  ${d.hexId}  ${d.specName}`);
  lines.push("", "c2c matter <cluster or device type> shows one (name or hex id, e.g. LevelControl, 0x0008, \"Dimmable Light\").");
  return lines;
}

function range(e: Pick<AttributeDef, "range" | "minLength" | "maxLength">): string {
  if (e.range) return `${e.range[0]}..${e.range[1]}`;
  if (e.maxLength !== undefined) return `length ${e.minLength ?? 0}..${e.maxLength}`;
  return "";
}

function fieldLine(f: FieldDef): string {
  return `      ${f.hexId}  ${f.name}: ${f.type}${f.nullable ? " (nullable)" : ""}${range(f) ? ` ${range(f)}` : ""}  conformance ${f.conformance}`;
}

function clusterDetail(c: ClusterDef): string[] {
  const lines = [`${c.name} (${c.hexId})${c.specName !== c.name ? `, spec name "${c.specName}"` : ""}, revision ${c.revision}, ${c.classification}`];
  if (c.features.length) {
    lines.push("", "Features (featureMap bit: code name, conformance):");
    for (const f of c.features) lines.push(`  bit ${f.bit} (${2 ** f.bit}): ${f.code} ${f.name}${f.conformance ? `  ${f.conformance}` : ""}`);
  }
  lines.push("", "Attributes (id  name: type  range  access  quality  conformance):");
  for (const a of c.attributes) {
    lines.push(`  ${a.hexId}  ${a.name}: ${a.type}${a.nullable ? " (nullable)" : ""}  ${range(a) || "-"}  ${a.access}${a.writable ? " (writable)" : ""}  ${a.quality || "-"}  ${a.conformance}`);
    const members = c.datatypes[a.type]?.values;
    if (members?.length) lines.push(`      ${members.map((m) => `${m.value} ${m.name}`).join(", ")}`);
  }
  if (c.commands.length) {
    lines.push("", "Commands (id  name -> response  conformance; fields):");
    for (const cmd of c.commands) {
      lines.push(`  ${cmd.hexId}  ${cmd.name} -> ${cmd.response}  ${cmd.conformance}`);
      for (const f of cmd.fields) lines.push(fieldLine(f));
    }
  }
  if (c.events.length) {
    lines.push("", "Events (id  name  conformance; fields):");
    for (const e of c.events) {
      lines.push(`  ${e.hexId}  ${e.name}  ${e.conformance}`);
      for (const f of e.fields) lines.push(fieldLine(f));
    }
  }
  return lines;
}

function deviceTypeDetail(d: DeviceTypeDef, table: ClusterTable): string[] {
  const required = new Set(requiredClusters(d).map((c) => c.id));
  const lines = [`${d.specName} (${d.hexId}), device type revision ${d.revision}, ${d.class}, ${d.category}`, "", "Server clusters (conformance; element requirements):"];
  for (const c of d.serverClusters) {
    const known = table.cluster(c.id);
    lines.push(`  ${c.hexId}  ${known?.name ?? c.name}  ${c.conformance}${required.has(c.id) ? " (required)" : ""}`);
    for (const e of c.elementRequirements) lines.push(`      ${e.text}`);
  }
  if (d.clientClusters.length) {
    lines.push("", "Client clusters:");
    for (const c of d.clientClusters) lines.push(`  ${c.hexId}  ${c.name}  ${c.conformance}`);
  }
  return lines;
}
