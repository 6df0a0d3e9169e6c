/**
 * The LIFX translation both baselines share (bench/reference, bench/floor): Matter JSON built by
 * hand from a LIFX light, a Matter command turned into a LIFX state body. Pure functions.
 */
export type Json = any;

export const TRANSITION_SECONDS = 0.5;

export function userIdOf(lights: Json[]): string {
  let min: string | undefined;
  for (const l of lights) if (min === undefined || l.location.id < min) min = l.location.id;
  return min!;
}

const level = (fraction: number) => Math.max(1, Math.min(254, Math.round(fraction * 254)));
const mireds = (kelvin: number) => Math.round(1_000_000 / kelvin);

export function capabilityReport(light: Json): Json {
  const caps = light.product.capabilities;
  const onOff = { id: "0x0006", revision: 6, attributes: [{ id: "0x0000", value: light.power === "on" }], commands: ["0x00", "0x01", "0x02"] };
  const levelControl = {
    id: "0x0008",
    revision: 6,
    attributes: [{ id: "0x0000", value: level(light.brightness) }, { id: "0x0002", value: 1 }, { id: "0x0003", value: 254 }],
    commands: ["0x00", "0x04"],
  };
  const ctRange = [{ id: "0x400B", value: mireds(caps.max_kelvin) }, { id: "0x400C", value: mireds(caps.min_kelvin) }];
  let deviceType = "Dimmable Light";
  const clusters: Json[] = [onOff, levelControl];
  if (caps.has_color) {
    deviceType = "Extended Color Light";
    clusters.push({
      id: "0x0300",
      revision: 7,
      featureMap: 17,
      attributes: [
        { id: "0x0000", value: Math.round((light.color.hue * 254) / 360) },
        { id: "0x0001", value: Math.round(light.color.saturation * 254) },
        { id: "0x0007", value: mireds(light.color.kelvin) },
        { id: "0x0008", value: light.color.saturation > 0 ? 0 : 2 },
        { id: "0x400A", value: 17 },
        ...ctRange,
      ],
      commands: ["0x00", "0x03", "0x06", "0x0A"],
    });
  } else if (caps.has_variable_color_temp) {
    deviceType = "Color Temperature Light";
    clusters.push({
      id: "0x0300",
      revision: 7,
      featureMap: 16,
      attributes: [{ id: "0x0007", value: mireds(light.color.kelvin) }, { id: "0x0008", value: 2 }, { id: "0x400A", value: 16 }, ...ctRange],
      commands: ["0x0A"],
    });
  }
  return { version: "1.0.0", endpoints: [{ id: "1", deviceTypes: [deviceType], clusters }] };
}

const num = (v: unknown) => (typeof v === "string" ? Number(v) : (v as number));

/** One Matter command -> the LIFX state body and the attributes it confirms. */
export function translateCommand(clusterId: string, commandId: string, fields: Json): { body: Json; attributes: Record<string, Json> } | undefined {
  const duration = fields["0x0001"] !== undefined && num(fields["0x0001"]) > 0 ? num(fields["0x0001"]) / 10 : TRANSITION_SECONDS;
  switch (`${clusterId}/${commandId}`) {
    case "0x0006/0x00":
      return { body: { power: "off", duration: TRANSITION_SECONDS }, attributes: { "0x0006": { "0x0000": false } } };
    case "0x0006/0x01":
      return { body: { power: "on", duration: TRANSITION_SECONDS }, attributes: { "0x0006": { "0x0000": true } } };
    case "0x0008/0x00":
    case "0x0008/0x04": {
      const lvl = num(fields["0x0000"]);
      const withOnOff = commandId === "0x04";
      if (withOnOff && lvl === 0) return { body: { power: "off", duration: TRANSITION_SECONDS }, attributes: { "0x0006": { "0x0000": false } } };
      const body: Json = { brightness: lvl / 254, duration };
      if (withOnOff) body.power = "on";
      body.brightness = Math.round(body.brightness * 100) / 100;
      const attributes: Record<string, Json> = { "0x0008": { "0x0000": lvl } };
      if (withOnOff) attributes["0x0006"] = { "0x0000": true };
      return { body, attributes };
    }
    case "0x0300/0x06": {
      const hue = num(fields["0x0000"]);
      const sat = num(fields["0x0001"]);
      const color = `hue:${Math.round((hue * 360) / 254)} saturation:${Math.round((sat / 254) * 100) / 100}`;
      return { body: { color, duration: TRANSITION_SECONDS }, attributes: { "0x0300": { "0x0000": hue, "0x0001": sat, "0x0008": 0 } } };
    }
    case "0x0300/0x0A": {
      const m = num(fields["0x0000"]);
      return { body: { color: `kelvin:${Math.round(1_000_000 / m)}`, duration: TRANSITION_SECONDS }, attributes: { "0x0300": { "0x0007": m, "0x0008": 2 } } };
    }
    default:
      return undefined;
  }
}

