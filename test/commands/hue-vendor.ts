/**
 * A stateful Hue CLIP v2 vendor on loopback for the exactly-once tests: it keeps the lights and
 * the room's grouped_light from the bundle's recorded data, applies a PUT the moment it arrives
 * (as a bridge does) and answers after a per-request delay, so answers can be made to arrive
 * after the ACK deadline or after the call's timeout. Every request is logged.
 */
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { listenOnLoopback, readTextBody } from "../../engine/local/loopback.ts";

type Json = Record<string, any>;
const data = (f: string) => JSON.parse(readFileSync(`mappings/hue/tests/data/${f}`, "utf8")).data as Json[];

export interface Received {
  method: string;
  path: string;
  body?: Json;
  at: number;
}

export interface HueVendor {
  origin: string;
  received: Received[];
  lights: Map<string, Json>;
  groups: Map<string, Json>;
  /** Delay of the answer to a request, in ms (default 0). */
  delay: (r: Received) => number;
  /** Status to answer instead of applying (default: apply and answer 200). */
  fail: (r: Received) => { status: number; body: unknown } | undefined;
  reset(): void;
  puts(path?: string): Received[];
  close(): Promise<void>;
}

export async function startHueVendor(): Promise<HueVendor> {
  const rooms = data("rooms.json");
  const bridge = data("bridge.json");
  const vendor = {
    received: [] as Received[],
    lights: new Map<string, Json>(),
    groups: new Map<string, Json>(),
    delay: (() => 0) as (r: Received) => number,
    fail: (() => undefined) as HueVendor["fail"],
    reset() {
      this.received.length = 0;
      this.lights = new Map(data("lights.json").map((l) => [l.id, l]));
      this.groups = new Map(data("grouped-lights.json").map((g) => [g.id, g]));
      this.delay = () => 0;
      this.fail = () => undefined;
    },
    puts(path?: string) {
      return this.received.filter((r) => r.method === "PUT" && (!path || r.path.endsWith(path)));
    },
  };
  vendor.reset();
  const roomOf = (light: Json) => rooms.find((r) => r.children.some((c: Json) => c.rid === light.owner.rid))?.id;
  const groupState = (g: Json) => {
    const members = [...vendor.lights.values()].filter((l) => roomOf(l) === g.owner.rid);
    return { ...g, on: { on: members.some((l) => l.on.on) } };
  };

  const server = createServer(async (req, res) => {
    const text = await readTextBody(req);
    const path = (req.url ?? "").split("?")[0].replace(/^\/route\/clip\/v2/, "");
    const r: Received = { method: req.method ?? "GET", path, at: Date.now(), ...(text ? { body: JSON.parse(text) } : {}) };
    vendor.received.push(r);
    const failure = vendor.fail(r);
    let status = 200;
    let body: unknown;
    const [, , type, id] = path.split("/");
    if (failure) ({ status, body } = failure);
    else if (r.method === "GET") {
      const list =
        type === "light" ? [...vendor.lights.values()] : type === "grouped_light" ? [...vendor.groups.values()].map(groupState) : type === "room" ? rooms : type === "bridge" ? bridge : [];
      const items = id ? list.filter((x) => x.id === id) : list;
      status = id && !items.length ? 404 : 200;
      body = { errors: [], data: structuredClone(items) };
    } else if (r.method === "PUT" && type === "light" && vendor.lights.has(id)) {
      vendor.lights.set(id, merge(vendor.lights.get(id)!, r.body ?? {}));
      body = { errors: [], data: [{ rid: id, rtype: "light" }] };
    } else if (r.method === "PUT" && type === "grouped_light" && vendor.groups.has(id)) {
      const g = vendor.groups.get(id)!;
      for (const [lid, l] of vendor.lights) if (roomOf(l) === g.owner.rid) vendor.lights.set(lid, merge(l, r.body ?? {}));
      body = { errors: [], data: [{ rid: id, rtype: "grouped_light" }] };
    } else {
      status = 404;
      body = { errors: [{ description: "not found" }], data: [] };
    }
    const wait = vendor.delay(r);
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    if (res.destroyed) return;
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  });
  const listening = await listenOnLoopback(server);
  return Object.assign(vendor, { origin: listening.endpoint, close: () => listening.close() }) as HueVendor;
}

function merge(a: Json, b: Json): Json {
  const out: Json = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = v && typeof v === "object" && !Array.isArray(v) && a[k] && typeof a[k] === "object" ? merge(a[k], v) : v;
  return out;
}
