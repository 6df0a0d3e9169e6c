/**
 * Device-type and cluster conformance of each endpoint (issue #9 item 5), for `c2c validate`
 * and `c2c docs`. The features an endpoint implements are its declared `featureMap`, or, when
 * none is declared, the ones its device types require plus the ones its mapped elements need.
 *
 * Validate reports what a bundle can fix in YAML and MI would see as inconsistent:
 *  - `matter/missing-required-feature`: a declared featureMap lacks a feature a device type
 *    requires (Extended Color Light without XY);
 *  - `matter/feature-not-declared`: a mapped attribute or command that the declared featureMap
 *    rules out (CurrentX with a featureMap that has no XY).
 * Mandatory elements a vendor cloud cannot provide (OnWithTimedOff, Step, ...) are listed by
 * `conformanceOf` for the capability docs, not reported as problems: a C2C connector is not a
 * Matter node, and MI sends only what the capability report declares.
 */
import { evaluateConformance, featureResolver, mandatoryElements } from "../matter/conformance.ts";
import { featureMapOf, featuresIn, featuresRequiredBy } from "../matter/features.ts";
import type { ClusterTable } from "../matter/cluster-table.ts";
import type { ClusterDef, DeviceTypeDef, FeatureDef } from "../matter/types.ts";

export interface ClusterConformance {
  /** The featureMap the endpoint implements (declared, else derived). */
  featureMap: number;
  declared: boolean;
  features: FeatureDef[];
  /** Device-type-required features the declared featureMap lacks. */
  missingFeatures: FeatureDef[];
  /** Mapped elements the featureMap rules out, by the name the bundle used. */
  ruledOut: { kind: "attribute" | "command"; key: string; name: string; conformance: string }[];
  /** Mandatory attributes and commands (under featureMap) the bundle does not map. */
  unmapped: { attributes: string[]; commands: string[] };
}

/**
 * Conformance of one mapped cluster. `attributes`/`commands` are the keys the bundle wrote
 * (names or ids); unknown keys are skipped (the reference check reports them).
 */
export function conformanceOf(
  table: ClusterTable,
  def: ClusterDef,
  deviceTypes: readonly DeviceTypeDef[],
  declaredFeatureMap: number | undefined,
  attributes: string[],
  commands: string[],
): ClusterConformance {
  const mappedAttributes = attributes.map((key) => ({ key, def: table.attribute(def, key) })).filter((a) => a.def && def.attributes.includes(a.def));
  const mappedCommands = commands.map((key) => ({ key, def: table.command(def, key) })).filter((c) => c.def);
  const required = featuresRequiredBy(def, deviceTypes);
  let featureMap: number;
  if (declaredFeatureMap !== undefined) featureMap = declaredFeatureMap;
  else {
    // Derived: what the device types require, plus each feature a mapped element is conditional on.
    // A feature counts as used when a mapped element is ruled out without it and allowed with it
    // ("CT" for ColorTemperatureMireds; never "!OFFONLY" for Toggle).
    const used = new Map(required.map((f) => [f.bit, f]));
    const base = featureMapOf(used.values());
    for (const e of [...mappedAttributes, ...mappedCommands]) {
      if (evaluateConformance(e.def!.conformance, featureResolver(def, base)) !== "disallowed") continue;
      for (const f of def.features) {
        if (evaluateConformance(e.def!.conformance, featureResolver(def, featureMapOf([...required, f]))) !== "disallowed") used.set(f.bit, f);
      }
    }
    featureMap = featureMapOf(used.values());
  }
  const resolve = featureResolver(def, featureMap);
  const ruledOut: ClusterConformance["ruledOut"] = [];
  for (const a of mappedAttributes) if (evaluateConformance(a.def!.conformance, resolve) === "disallowed") ruledOut.push({ kind: "attribute", key: a.key, name: a.def!.name, conformance: a.def!.conformance });
  for (const c of mappedCommands) if (evaluateConformance(c.def!.conformance, resolve) === "disallowed") ruledOut.push({ kind: "command", key: c.key, name: c.def!.name, conformance: c.def!.conformance });
  const have = new Set(featuresIn(def, featureMap).map((f) => f.bit));
  const mandatory = mandatoryElements(def, featureMap);
  const mappedAttributeIds = new Set(mappedAttributes.map((a) => a.def!.id));
  const mappedCommandIds = new Set(mappedCommands.map((c) => c.def!.id));
  return {
    featureMap,
    declared: declaredFeatureMap !== undefined,
    features: featuresIn(def, featureMap),
    missingFeatures: required.filter((f) => !have.has(f.bit)),
    ruledOut,
    unmapped: {
      attributes: mandatory.attributes.filter((a) => !mappedAttributeIds.has(a.id)).map((a) => a.name),
      commands: mandatory.commands.filter((c) => !mappedCommandIds.has(c.id)).map((c) => c.name),
    },
  };
}

/** "HS (Hue And Saturation), CT (Color Temperature)". */
export function describeFeatures(features: readonly FeatureDef[]): string {
  return features.map((f) => `${f.code} (${f.name})`).join(", ");
}
