/**
 * Which features of a cluster an endpoint implements: the ones its FeatureMap sets and the ones
 * its device types make mandatory (a Dimmable Light's Level Control has Lighting and OnOff).
 */
import { evaluateConformance, unknownConditions } from "./conformance.ts";
import { normalizeName } from "./suggest.ts";
import type { ClusterDef, DeviceTypeDef, FeatureDef } from "./types.ts";

/** Whether bit `bit` is set in a FeatureMap (bits up to 31: division, not signed bit operators). */
export function featureBitSet(featureMap: number, bit: number): boolean {
  return Math.floor(featureMap / 2 ** bit) % 2 === 1;
}

/** The FeatureMap with the given features' bits set. */
export function featureMapOf(features: Iterable<FeatureDef>): number {
  let map = 0;
  for (const f of features) if (!featureBitSet(map, f.bit)) map += 2 ** f.bit;
  return map;
}

/** Features of `cluster` set in `featureMap`. */
export function featuresIn(cluster: ClusterDef, featureMap: number): FeatureDef[] {
  return cluster.features.filter((f) => featureBitSet(featureMap, f.bit));
}

/** A feature named as device types write it ("LIGHTING", "COLORTEMPERATURE", "XY") or by code ("LT"). */
export function findFeature(cluster: ClusterDef, ref: string): FeatureDef | undefined {
  const wanted = normalizeName(ref);
  return cluster.features.find((f) => f.code.toLowerCase() === ref.toLowerCase()) ?? cluster.features.find((f) => normalizeName(f.name) === wanted);
}

/** Features of `cluster` that one of `deviceTypes` makes unconditionally mandatory. */
export function featuresRequiredBy(cluster: ClusterDef, deviceTypes: readonly DeviceTypeDef[]): FeatureDef[] {
  const out = new Map<number, FeatureDef>();
  for (const dt of deviceTypes) {
    for (const requirement of dt.serverClusters) {
      if (requirement.id !== cluster.id) continue;
      for (const e of requirement.elementRequirements) {
        if (e.kind !== "feature" || e.conformance === undefined) continue;
        if (evaluateConformance(e.conformance, unknownConditions) !== "mandatory") continue;
        const f = findFeature(cluster, e.name);
        if (f) out.set(f.bit, f);
      }
    }
  }
  return [...out.values()];
}
