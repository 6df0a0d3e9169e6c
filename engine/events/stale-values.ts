/**
 * Webhook events that waited (in the event buffer or the outbox) before reaching MI: attribute
 * values a newer event overtook meanwhile are dropped before sending, and only the values a sent
 * request carried are recorded in the change tracker.
 */
import type { MatterCluster, SendConnectorEventInput } from "../mi/send-connector-event.ts";
import type { AttributeRef, ChangeTracker } from "./change-tracker.ts";

export interface TrackedValue {
  ref: AttributeRef;
  value: unknown;
}

/**
 * `input` without attribute values that became stale while it waited (a newer event of the same
 * attribute reached MI first); undefined when nothing is left to send. Only with `order`: without
 * it the engine cannot tell older from newer.
 */
export async function withoutStaleValues(input: SendConnectorEventInput, commits: TrackedValue[], order: number | undefined, tracker: ChangeTracker): Promise<SendConnectorEventInput | undefined> {
  if (order === undefined || !input.MatterEndpoint) return input;
  const stale = new Set<string>();
  for (const c of commits) {
    if ((await tracker.check(c.ref, c.value, order)) === "stale") stale.add(`${c.ref.clusterId}/${c.ref.attributeId}`);
  }
  if (stale.size === 0) return input;
  const clusters: MatterCluster[] = [];
  for (const cluster of input.MatterEndpoint.clusters ?? []) {
    const attributes = Object.fromEntries(Object.entries((cluster.attributes ?? {}) as Record<string, unknown>).filter(([id]) => !stale.has(`${cluster.id}/${id}`)));
    const kept: MatterCluster = { ...cluster };
    if (Object.keys(attributes).length > 0) kept.attributes = attributes;
    else delete kept.attributes;
    if (kept.attributes || (kept.events && Object.keys(kept.events).length > 0)) clusters.push(kept);
  }
  if (clusters.length === 0) return undefined;
  return { ...input, MatterEndpoint: { ...input.MatterEndpoint, clusters } };
}

/** The values of `commits` that `part` (one request of a split event) carries. */
export function valuesCarriedBy(part: SendConnectorEventInput, commits: TrackedValue[]): TrackedValue[] {
  const carried = new Set<string>();
  for (const cluster of part.MatterEndpoint?.clusters ?? []) {
    for (const id of Object.keys((cluster.attributes ?? {}) as Record<string, unknown>)) carried.add(`${cluster.id}/${id}`);
  }
  return commits.filter((c) => carried.has(`${c.ref.clusterId}/${c.ref.attributeId}`));
}
