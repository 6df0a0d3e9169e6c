/**
 * A hand-written LIFX connector, as an integrator would write one without the engine: fetch calls to
 * the LIFX HTTP API, Matter JSON built by hand, SendConnectorEvent signed with @smithy/signature-v4.
 * It exists only as the benchmark's baseline: same vendor calls where the behaviour needs them, same
 * events, none of the engine's generality (no expression evaluation, no profiles, no hand-off, no state
 * store, no schema validation, no retries).
 *
 * Environment: AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, C2C_MI_ENDPOINT (MI base URL),
 * LIFX_API (LIFX base URL, default https://api.lifx.com/v1).
 */
import { SignatureV4 } from "@smithy/signature-v4";
import { HttpRequest } from "@smithy/protocol-http";
import { Hash } from "@smithy/hash-node";

type Json = any;

const LIFX_API = process.env.LIFX_API ?? "https://api.lifx.com/v1";
const REGION = process.env.AWS_REGION ?? "us-east-1";
const MI_ENDPOINT = new URL(process.env.C2C_MI_ENDPOINT ?? `https://api.iotmanagedintegrations.${REGION}.amazonaws.com`);
const TRANSITION_SECONDS = 0.5;

const signer = new SignatureV4({
  service: "iotmanagedintegrations",
  region: REGION,
  sha256: Hash.bind(null, "sha256"),
  credentials: async () => ({
    accessKeyId: process.env.AWS_ACCESS_KEY_ID!,
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY!,
    sessionToken: process.env.AWS_SESSION_TOKEN,
  }),
});

// Per container: user id of each token, so commands do not list every light each time.
const userIdByToken = new Map<string, string>();
const deactivatedUsers = new Set<string>();

class LifxError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

async function lifx(token: string, method: string, path: string, body?: unknown): Promise<Json> {
  const res = await fetch(`${LIFX_API}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, accept: "application/json", ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (res.status >= 400) throw new LifxError(res.status, `LIFX ${method} ${path}: ${res.status}`);
  return text ? JSON.parse(text) : undefined;
}

async function sendConnectorEvent(connectorId: string, body: Json): Promise<void> {
  const payload = JSON.stringify(body);
  const request = new HttpRequest({
    method: "POST",
    protocol: MI_ENDPOINT.protocol,
    hostname: MI_ENDPOINT.hostname,
    port: MI_ENDPOINT.port ? Number(MI_ENDPOINT.port) : undefined,
    path: `/connector-event/${encodeURIComponent(connectorId)}`,
    headers: { "content-type": "application/json", host: MI_ENDPOINT.host },
    body: payload,
  });
  const signed = await signer.sign(request);
  const res = await fetch(`${MI_ENDPOINT.origin}${signed.path}`, { method: "POST", headers: signed.headers, body: payload });
  await res.text();
  if (!res.ok) throw new Error(`SendConnectorEvent: ${res.status}`);
}

const ack = (responseCode: number, payload?: Json) => (payload ? { header: { responseCode }, payload } : { header: { responseCode } });

function userIdOf(lights: Json[]): string {
  return lights.map((l) => l.location.id).sort()[0];
}

async function userIdFor(token: string): Promise<string> {
  let id = userIdByToken.get(token);
  if (!id) {
    id = userIdOf(await lifx(token, "GET", "/lights/all"));
    userIdByToken.set(token, id);
  }
  return id;
}

const level = (fraction: number) => Math.max(1, Math.min(254, Math.round(fraction * 254)));
const mireds = (kelvin: number) => Math.round(1_000_000 / kelvin);

function capabilityReport(light: Json): Json {
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
function translateCommand(clusterId: string, commandId: string, fields: Json): { body: Json; attributes: Record<string, Json> } | undefined {
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

async function activateUser(token: string): Promise<Json> {
  const userId = userIdOf(await lifx(token, "GET", "/lights/all"));
  userIdByToken.set(token, userId);
  deactivatedUsers.delete(userId);
  return ack(200, { userId });
}

async function discoverDevices(token: string, p: Json): Promise<Json> {
  const lights: Json[] = await lifx(token, "GET", "/lights/all");
  const wanted = p.connectorDeviceIdList?.length ? new Set<string>(p.connectorDeviceIdList) : undefined;
  const devices = lights
    .filter((l) => !wanted || wanted.has(l.id))
    .map((l) => ({
      ConnectorDeviceId: l.id,
      ConnectorDeviceName: l.label,
      DeviceMetadata: { Brand: l.product.company, Model: l.product.name },
      CapabilityReport: capabilityReport(l),
    }));
  await sendConnectorEvent(p.connectorId, {
    Operation: "DEVICE_DISCOVERY",
    OperationVersion: "1.0",
    StatusCode: 200,
    DeviceDiscoveryId: p.deviceDiscoveryId,
    UserId: userIdOf(lights),
    Devices: devices,
  });
  return ack(200);
}

async function sendCommand(token: string, p: Json): Promise<Json> {
  const endpoint = p.endpoints[0];
  const cluster = endpoint.clusters[0];
  const command = Array.isArray(cluster.commands) ? cluster.commands[0] : cluster.commands;
  const [commandId, fields] = Object.entries(command ?? {})[0] ?? [];
  const translated = commandId ? translateCommand(cluster.id, commandId, fields ?? {}) : undefined;
  if (!translated) return ack(400, { responseMessage: "unsupported command" });
  const result = await lifx(token, "PUT", `/lights/id:${p.connectorDeviceId}/state`, translated.body);
  const ok = result?.results?.[0]?.status === "ok";
  const status = ok ? 200 : 504;
  const clusters = Object.entries(translated.attributes).map(([id, attributes]) => ({
    id,
    ...(ok ? { attributes } : {}),
    ...(id === cluster.id ? { commands: { [commandId!]: { responseCode: status } } } : {}),
  }));
  await sendConnectorEvent(p.connectorId, {
    Operation: "DEVICE_COMMAND_RESPONSE",
    OperationVersion: "1.0",
    StatusCode: status,
    TraceId: p.traceId,
    ConnectorDeviceId: p.connectorDeviceId,
    UserId: await userIdFor(token),
    MatterEndpoint: { id: endpoint.id, clusters },
  });
  return ack(200);
}

async function deactivateUser(token: string): Promise<Json> {
  deactivatedUsers.add(await userIdFor(token));
  return ack(200);
}

export async function handler(event: Json): Promise<Json> {
  const token = event?.header?.auth?.token;
  const p = event?.payload;
  if (typeof token !== "string" || !p) return ack(400, { responseMessage: "bad request" });
  try {
    switch (p.operationName) {
      case "AWS.ActivateUser":
        return await activateUser(token);
      case "AWS.DiscoverDevices":
        return await discoverDevices(token, p);
      case "AWS.SendCommand":
        return await sendCommand(token, p);
      case "AWS.DeactivateUser":
        return await deactivateUser(token);
      default:
        return ack(400, { responseMessage: "unknown operation" });
    }
  } catch (err) {
    return ack(err instanceof LifxError ? err.status : 500, { responseMessage: "LIFX request failed" });
  }
}
