/**
 * Hard limits of one invocation (mapping `api.limits`, defaults in API_DEFAULTS.limits): how many
 * commands one SendCommand may carry, how many vendor requests one invocation may make
 * (engine/vendor/request-limit.ts). Past them the answer is 400 with a message, never a flood.
 */
import { API_DEFAULTS, type CompiledBundle } from "../mapping/compiled.ts";
import type { SendCommandPayload } from "../mi/protocol.ts";

export type Limits = NonNullable<CompiledBundle["api"]["limits"]>;

export function limitsOf(bundle: CompiledBundle): Limits {
  return { ...API_DEFAULTS.limits, ...(bundle.api.limits ?? {}) };
}

/** Matter commands in a SendCommand, over every endpoint and cluster (each map entry is one command). */
export function commandCount(p: SendCommandPayload): number {
  let n = 0;
  for (const ep of p.endpoints ?? []) {
    for (const cluster of ep.clusters ?? []) {
      // `commands` is a list of maps or (as some MI examples have it) one map.
      for (const entry of [cluster.commands ?? []].flat()) n += entry && typeof entry === "object" ? Object.keys(entry).length : 1;
    }
  }
  return n;
}
