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
import { capabilityReport, translateCommand, userIdOf, type Json } from "./lifx-translate.ts";

const LIFX_API = process.env.LIFX_API ?? "https://api.lifx.com/v1";
const REGION = process.env.AWS_REGION ?? "us-east-1";
const MI_ENDPOINT = new URL(process.env.C2C_MI_ENDPOINT ?? `https://api.iotmanagedintegrations.${REGION}.amazonaws.com`);

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

async function userIdFor(token: string): Promise<string> {
  let id = userIdByToken.get(token);
  if (!id) {
    id = userIdOf(await lifx(token, "GET", "/lights/all"));
    userIdByToken.set(token, id);
  }
  return id;
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
