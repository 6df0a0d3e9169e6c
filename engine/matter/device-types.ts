/**
 * What a Matter device type demands of the endpoint that claims it, read from the device-type
 * table, for warnings like "device type Extended Color Light requires cluster Level Control".
 */
import { evaluateConformance, unknownConditions } from "./conformance.ts";
import type { DeviceTypeClusterDef, DeviceTypeDef, ElementRequirement } from "./types.ts";

/**
 * Server clusters whose device-type conformance is unconditionally mandatory ("M", "M, D").
 * Provisional ("P, M"), optional and condition-dependent clusters ("Active", "[Ethernet]") are
 * left out. The list includes clusters outside the bundled cluster table (e.g. Descriptor,
 * Groups); callers checking a connector's capabilities decide which of those matter to them.
 */
export function requiredClusters(deviceType: DeviceTypeDef): DeviceTypeClusterDef[] {
  return deviceType.serverClusters.filter((c) => evaluateConformance(c.conformance, unknownConditions) === "mandatory");
}

/**
 * Element requirements of one cluster on a device type that are unconditionally mandatory,
 * e.g. features XY and COLORTEMPERATURE of Color Control on an Extended Color Light.
 */
export function requiredElements(requirement: DeviceTypeClusterDef, kind?: ElementRequirement["kind"]): ElementRequirement[] {
  return requirement.elementRequirements.filter(
    (e) =>
      (kind === undefined || e.kind === kind) &&
      e.conformance !== undefined &&
      evaluateConformance(e.conformance, unknownConditions) === "mandatory",
  );
}
