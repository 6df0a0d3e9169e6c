/**
 * Matter lighting semantics, applied at compile time to endpoints whose Level Control has the
 * Lighting feature (declared in its featureMap or required by a device type such as Dimmable
 * Light). With Lighting, CurrentLevel is MinLevel..MaxLevel (at least 1): a light is never at
 * level 0, it is off. So a vendor brightness of 0 reads as OnOff false, and CurrentLevel is left
 * out (MI keeps the level the light had, which is what the light comes back to when switched on).
 * Vendors model "dimmed to 0" in their own way; the rule belongs to Matter, not to a bundle.
 */
import { findFeature, featureBitSet, featuresRequiredBy } from "../matter/features.ts";
import type { ClusterDef, DeviceTypeDef } from "../matter/types.ts";
import type { CompiledCluster } from "./compiled.ts";

const ON_OFF = 0x0006;
const LEVEL_CONTROL = 0x0008;
const ON_OFF_ATTRIBUTE = 0x0000;
const CURRENT_LEVEL = 0x0000;

/** Whether this Level Control on an endpoint with these device types has the Lighting feature. */
export function hasLightingFeature(def: ClusterDef, featureMap: number | undefined, deviceTypes: readonly DeviceTypeDef[]): boolean {
  const lighting = findFeature(def, "LT");
  if (!lighting) return false;
  if (featureMap !== undefined && featureBitSet(featureMap, lighting.bit)) return true;
  return featuresRequiredBy(def, deviceTypes).some((f) => f.bit === lighting.bit);
}

/** Marks CurrentLevel and OnOff.OnOff of a lighting endpoint (see CompiledAttribute). */
export function applyLightingSemantics(clusters: { compiled: CompiledCluster; def: ClusterDef }[], deviceTypes: readonly DeviceTypeDef[]): void {
  const level = clusters.find((c) => c.def.id === LEVEL_CONTROL);
  if (!level || !hasLightingFeature(level.def, level.compiled.featureMap, deviceTypes)) return;
  const current = level.compiled.attributes.find((a) => a.id === CURRENT_LEVEL);
  if (!current) return;
  current.lightLevel = true;
  const onOff = clusters.find((c) => c.def.id === ON_OFF)?.compiled.attributes.find((a) => a.id === ON_OFF_ATTRIBUTE);
  if (onOff && current.read) onOff.offAtLevelZero = current.read;
}
