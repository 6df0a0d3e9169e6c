/**
 * What MI was last told about each attribute, so a webhook reports only what changed, and (when
 * the mapping declares an ordering field) which event position that value came from, so an event
 * delivered late cannot overwrite a newer value. Records are written only after MI accepted the
 * event carrying them: a failed send leaves them as they were, and the redelivery sends again.
 */
import { keys, TTL } from "../operations/keys.ts";
import type { StateStore } from "../store/store.ts";

export interface AttributeRef {
  deviceId: string;
  endpointId: string;
  clusterId: string;
  attributeId: string;
}

export type Verdict = "changed" | "unchanged" | "stale";

export class ChangeTracker {
  constructor(private readonly store: StateStore) {}

  /**
   * "stale": an event with a later order position already set this attribute;
   * "unchanged": MI already holds this value; otherwise "changed".
   */
  async check(ref: AttributeRef, value: unknown, order?: number): Promise<Verdict> {
    if (order !== undefined) {
      const seen = await this.store.get<{ order: number }>(keys.attributeOrder(ref.deviceId, ref.endpointId, ref.clusterId, ref.attributeId));
      if (seen && typeof seen.order === "number" && seen.order > order) return "stale";
    }
    const last = await this.store.get<{ value: unknown }>(keys.lastValue(ref.deviceId, ref.endpointId, ref.clusterId, ref.attributeId));
    if (last && stableJson(last.value) === stableJson(value)) return "unchanged";
    return "changed";
  }

  /** Records values MI has accepted. */
  async commit(ref: AttributeRef, value: unknown, order?: number): Promise<void> {
    await this.store.put(keys.lastValue(ref.deviceId, ref.endpointId, ref.clusterId, ref.attributeId), { value }, TTL.lastValue);
    if (order !== undefined) {
      await this.store.put(keys.attributeOrder(ref.deviceId, ref.endpointId, ref.clusterId, ref.attributeId), { order }, TTL.lastValue);
    }
  }
}

/**
 * Turns the mapping's `order` value into a comparable number: numbers as they are, numeric strings,
 * and ISO dates (as epoch ms). Anything else is an error, since a silently ignored order would let
 * stale values through.
 */
export function orderPosition(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && value.trim() !== "") {
    if (/^-?\d+(\.\d+)?$/.test(value.trim())) return Number(value);
    const ms = Date.parse(value);
    if (!Number.isNaN(ms)) return ms;
  }
  throw new Error("the webhook order expression gave neither a number nor an ISO date");
}

/** JSON with sorted object keys, so {a,b} and {b,a} compare equal. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}
