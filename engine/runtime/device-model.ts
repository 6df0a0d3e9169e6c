/**
 * Vendor device JSON -> Matter, shared by discovery (capability reports), ReadState (command
 * responses) and webhooks (DEVICE_EVENT): one set of read expressions, several uses.
 */
import type { CompiledBundle, CompiledCluster, CompiledEndpoint, CompiledProfile } from "../mapping/compiled.ts";
import type { MatterCapabilityReport, MatterCapabilityReportCluster } from "../mi/send-connector-event.ts";
import { bindings, type EvalContext } from "./context.ts";
import type { Evaluator } from "./expressions.ts";
import { admitValue, type ValueLog } from "./matter-values.ts";

/** Attribute values of one endpoint: clusterHexId -> attributeHexId -> value. */
export type EndpointState = Map<string, Map<string, unknown>>;


export async function matchProfile(
  bundle: CompiledBundle,
  device: unknown,
  evaluator: Evaluator,
  ctx: EvalContext,
): Promise<CompiledProfile | undefined> {
  const b = bindings({ ...ctx, device });
  for (const p of bundle.profiles) {
    let m = evaluator.evaluateNow(p.match, device, b);
    if (m instanceof Promise) m = await m;
    if (m === true) return p;
  }
  return undefined;
}

export async function endpointsOf(profile: CompiledProfile, device: unknown, evaluator: Evaluator, ctx: EvalContext): Promise<CompiledEndpoint[]> {
  const out: CompiledEndpoint[] = [];
  for (const ep of profile.endpoints) {
    if (!ep.when || (await evaluator.evaluate(ep.when, device, bindings({ ...ctx, device, endpointId: ep.id }))) === true) out.push(ep);
  }
  return out;
}

/**
 * Reads attribute values of a cluster from vendor state. Undefined results (the vendor did not
 * say) are left out, so partial state (a webhook carrying one field) yields only what it knows;
 * so are values that do not fit the attribute's Matter type (null included, unless the attribute
 * is nullable), which are logged with their expression's position. `only` restricts to a set of
 * attribute ids.
 */
export async function readCluster(
  cluster: CompiledCluster,
  device: unknown,
  evaluator: Evaluator,
  ctx: EvalContext,
  only?: Set<number>,
  log?: ValueLog,
): Promise<Map<string, unknown>> {
  const values = new Map<string, unknown>();
  const b = bindings({ ...ctx, device });
  for (const a of cluster.attributes) {
    if (only && !only.has(a.id)) continue;
    let v: unknown;
    if (a.read) {
      // Awaits only real promises: a synchronous fast-path answer costs no microtask.
      v = evaluator.evaluateNow(a.read, device, b);
      if (v instanceof Promise) v = await v;
    }
    else if (a.hasConstant) v = a.constant;
    if (admitValue(a.valueType, v, a.read?.at ?? `constant of ${cluster.name}.${a.name}`, `${cluster.name}.${a.name}`, log)) values.set(a.hexId, v);
  }
  return values;
}

export async function capabilityReport(
  profile: CompiledProfile,
  device: unknown,
  evaluator: Evaluator,
  ctx: EvalContext,
  nodeId?: string,
  log?: ValueLog,
): Promise<MatterCapabilityReport> {
  const endpoints = [];
  for (const ep of await endpointsOf(profile, device, evaluator, ctx)) {
    const clusters: MatterCapabilityReportCluster[] = [];
    for (const c of ep.clusters) {
      const values = await readCluster(c, device, evaluator, { ...ctx, endpointId: ep.id }, undefined, log);
      const cluster: MatterCapabilityReportCluster = { id: c.hexId, revision: c.revision };
      if (c.featureMap !== undefined) cluster.featureMap = c.featureMap;
      // An attribute without a known value is still declared (`{ id }`, the documented form).
      cluster.attributes = c.attributes.map((a) => (values.has(a.hexId) ? { id: a.hexId, value: values.get(a.hexId) } : { id: a.hexId }));
      if (c.commands.length) cluster.commands = c.commands.map((cmd) => cmd.hexId);
      if (c.events.length) cluster.events = c.events.map((e) => e.hexId);
      clusters.push(cluster);
    }
    endpoints.push({ id: ep.id, deviceTypes: ep.deviceTypes, clusters });
  }
  const report: MatterCapabilityReport = { version: "1.0.0", endpoints };
  if (nodeId) report.nodeId = nodeId;
  return report;
}
