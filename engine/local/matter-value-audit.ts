/**
 * The emulator's check of Matter values in a SendConnectorEvent body: every attribute value,
 * event field and command response field of a cluster the Matter table knows must fit its
 * Matter type, with null only where the element is nullable. The Smithy model leaves these
 * values untyped (documents), so this is the stricter half of "the service model check": it
 * makes every fixture run of every bundle prove that nothing wrong reaches MI.
 *
 * Tooling only (engine/local): it reads the whole Matter table, which the Lambda never ships.
 */
import { ClusterTable } from "../matter/cluster-table.ts";
import { parseMatterId } from "../matter/ids.ts";
import type { ClusterDef, FieldDef } from "../matter/types.ts";
import { checkValue, valueTypeOf } from "../matter/value-type.ts";

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => v !== null && typeof v === "object" && !Array.isArray(v);

/** Problems as "<path>: <why>", empty when every known value fits. */
export function auditMatterValues(body: unknown, table: ClusterTable = ClusterTable.default()): string[] {
  const problems: string[] = [];
  if (!isRecord(body)) return problems;
  if (Array.isArray(body.Devices)) {
    body.Devices.forEach((device, d) => {
      const report = isRecord(device) && isRecord(device.CapabilityReport) ? device.CapabilityReport : undefined;
      if (!report || !Array.isArray(report.endpoints)) return;
      report.endpoints.forEach((ep, e) => {
        if (!isRecord(ep) || !Array.isArray(ep.clusters)) return;
        ep.clusters.forEach((c, i) => {
          const def = isRecord(c) ? lookup(table, c.id) : undefined;
          if (!def || !Array.isArray(c.attributes)) return;
          (c.attributes as unknown[]).forEach((a, j) => {
            if (!isRecord(a) || !("value" in a)) return;
            checkAttribute(table, def, a.id, a.value, `Devices[${d}].CapabilityReport.endpoints[${e}].clusters[${i}].attributes[${j}]`, problems);
          });
        });
      });
    });
  }
  const endpoint = isRecord(body.MatterEndpoint) ? body.MatterEndpoint : undefined;
  if (endpoint && Array.isArray(endpoint.clusters)) {
    endpoint.clusters.forEach((c, i) => {
      const def = isRecord(c) ? lookup(table, c.id) : undefined;
      if (!def) return;
      const at = `MatterEndpoint.clusters[${i}]`;
      // Attributes: a map, or a list of single-entry maps (both appear in MI's documentation).
      for (const map of Array.isArray(c.attributes) ? c.attributes : [c.attributes]) {
        if (!isRecord(map)) continue;
        for (const [id, value] of Object.entries(map)) checkAttribute(table, def, id, value, `${at}.attributes.${id}`, problems);
      }
      if (isRecord(c.events)) {
        for (const [id, fields] of Object.entries(c.events)) {
          const event = safe(() => table.event(def, id));
          if (event && isRecord(fields)) checkFields(table, def, event.fields, fields, `${at}.events.${id}`, problems);
        }
      }
      for (const map of Array.isArray(c.commands) ? c.commands : [c.commands]) {
        if (!isRecord(map)) continue;
        for (const [id, fields] of Object.entries(map)) {
          const command = safe(() => table.command(def, id));
          const response = command && command.response !== "status" ? table.responseCommand(def, command.response) : undefined;
          if (response && isRecord(fields)) checkFields(table, def, response.fields, fields, `${at}.commands.${id}`, problems);
        }
      }
    });
  }
  return problems;
}

function lookup(table: ClusterTable, id: unknown): ClusterDef | undefined {
  return typeof id === "string" || typeof id === "number" ? safe(() => table.cluster(id)) : undefined;
}

function checkAttribute(table: ClusterTable, cluster: ClusterDef, id: unknown, value: unknown, at: string, problems: string[]): void {
  if (typeof id !== "string" && typeof id !== "number") return;
  const attr = safe(() => table.attribute(cluster, id));
  if (!attr) return;
  const problem = checkValue(valueTypeOf(attr, cluster), value);
  if (problem) problems.push(`${at} (${cluster.name}.${attr.name}): ${problem}`);
}

function checkFields(table: ClusterTable, cluster: ClusterDef, defs: FieldDef[], fields: Json, at: string, problems: string[]): void {
  for (const [id, value] of Object.entries(fields)) {
    if (!/^(0x[0-9a-f]+|\d+)$/i.test(id)) continue; // responseCode, errors
    const field = defs.find((f) => f.id === safe(() => parseMatterId(id)));
    if (!field) continue;
    const problem = checkValue(valueTypeOf(field, cluster), value);
    if (problem) problems.push(`${at}.${id} (${field.name}): ${problem}`);
  }
}

function safe<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}
