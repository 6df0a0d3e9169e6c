/**
 * The floor: the same LIFX work as the engine with nothing in between. node:http on a keep-alive
 * agent for LIFX and MI, the lean SigV4 signer (cached signing key), Matter JSON built by hand,
 * discovery sent 100 devices per event as the engine sends it. No validation, no state store, no
 * retries, no logging. What no connector doing this work can beat by much on this machine.
 *
 * Environment as for bench/reference: AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * C2C_MI_ENDPOINT, LIFX_API.
 */
import http from "node:http";
import https from "node:https";
import { SigV4Signer } from "../../engine/mi/sigv4.ts";
import { capabilityReport, translateCommand, userIdOf, type Json } from "../reference/lifx-translate.ts";

const LIFX_API = new URL(process.env.LIFX_API ?? "https://api.lifx.com/v1");
const REGION = process.env.AWS_REGION ?? "us-east-1";
const MI = new URL(process.env.C2C_MI_ENDPOINT ?? `https://api.iotmanagedintegrations.${REGION}.api.aws`);
const signer = new SigV4Signer("iotmanagedintegrations", REGION);
const agents = { "http:": new http.Agent({ keepAlive: true, maxSockets: 64 }), "https:": new https.Agent({ keepAlive: true, maxSockets: 64 }) };
const userIdByToken = new Map<string, string>();
const deactivated = new Set<string>();

function request(url: URL, path: string, method: string, headers: Record<string, string>, body?: string): Promise<{ status: number; text: string }> {
  const lib = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(
      { method, hostname: url.hostname, port: url.port, path, headers: body === undefined ? headers : { ...headers, "content-length": String(Buffer.byteLength(body)) }, agent: agents[url.protocol as "http:"] },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

async function lifx(token: string, method: string, path: string, body?: Json): Promise<Json> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: "application/json" };
  if (payload !== undefined) headers["content-type"] = "application/json";
  const res = await request(LIFX_API, `${LIFX_API.pathname.replace(/\/$/, "")}${path}`, method, headers, payload);
  if (res.status >= 400) throw Object.assign(new Error(`LIFX ${res.status}`), { status: res.status });
  return res.text ? JSON.parse(res.text) : undefined;
}

export async function sendConnectorEvent(connectorId: string, event: Json): Promise<void> {
  const body = JSON.stringify(event);
  const path = `/connector-event/${encodeURIComponent(connectorId)}`;
  const headers = signer.sign(
    { method: "POST", host: MI.host, path, headers: { "content-type": "application/json" }, body },
    { accessKeyId: process.env.AWS_ACCESS_KEY_ID!, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY!, sessionToken: process.env.AWS_SESSION_TOKEN },
  );
  const res = await request(MI, path, "POST", headers, body);
  if (res.status >= 300) throw new Error(`SendConnectorEvent ${res.status}`);
}

const ack = (responseCode: number, payload?: Json) => (payload ? { header: { responseCode }, payload } : { header: { responseCode } });

async function userIdFor(token: string): Promise<string> {
  let id = userIdByToken.get(token);
  if (!id) userIdByToken.set(token, (id = userIdOf(await lifx(token, "GET", "/lights/all"))));
  return id;
}

export async function handler(event: Json): Promise<Json> {
  const token = event?.header?.auth?.token;
  const p = event?.payload;
  try {
    switch (p?.operationName) {
      case "AWS.ActivateUser": {
        const userId = userIdOf(await lifx(token, "GET", "/lights/all"));
        userIdByToken.set(token, userId);
        deactivated.delete(userId);
        return ack(200, { userId });
      }
      case "AWS.DiscoverDevices": {
        const lights: Json[] = await lifx(token, "GET", "/lights/all");
        const userId = userIdOf(lights);
        for (let i = 0; i < lights.length || i === 0; i += 100) {
          const devices = lights.slice(i, i + 100).map((l) => ({
            ConnectorDeviceId: l.id,
            ConnectorDeviceName: l.label,
            DeviceMetadata: { Brand: l.product.company, Model: l.product.name },
            CapabilityReport: capabilityReport(l),
          }));
          const last = i + 100 >= lights.length;
          await sendConnectorEvent(p.connectorId, {
            Operation: "DEVICE_DISCOVERY",
            OperationVersion: "1.0",
            StatusCode: last ? 200 : 300,
            DeviceDiscoveryId: p.deviceDiscoveryId,
            UserId: userId,
            Devices: devices,
          });
          if (last) break;
        }
        return ack(200);
      }
      case "AWS.SendCommand": {
        const endpoint = p.endpoints[0];
        const cluster = endpoint.clusters[0];
        const command = Array.isArray(cluster.commands) ? cluster.commands[0] : cluster.commands;
        const [commandId, fields] = Object.entries(command ?? {})[0] ?? [];
        const t = commandId ? translateCommand(cluster.id, commandId, fields ?? {}) : undefined;
        if (!t) return ack(400, { responseMessage: "unsupported command" });
        const result = await lifx(token, "PUT", `/lights/id:${p.connectorDeviceId}/state`, t.body);
        const ok = result?.results?.[0]?.status === "ok";
        const status = ok ? 200 : 504;
        const clusters = Object.entries(t.attributes).map(([id, attributes]) => ({
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
      case "AWS.DeactivateUser":
        deactivated.add(await userIdFor(token));
        return ack(200);
      default:
        return ack(400, { responseMessage: "unknown operation" });
    }
  } catch (err) {
    return ack((err as { status?: number }).status ?? 500, { responseMessage: "LIFX request failed" });
  }
}
