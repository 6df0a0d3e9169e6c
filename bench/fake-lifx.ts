/**
 * A loopback stand-in for the LIFX HTTP API, for the benchmark: it serves generated lights instead
 * of replaying fixtures, so one server answers any number of requests and any account size.
 * The bearer token chooses the account size: token "lights-1000" owns 1,000 lights.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

const PRODUCTS = [
  { name: "Color 1000", identifier: "lifx_color_a19", has_color: true, has_variable_color_temp: true, min_kelvin: 2500, max_kelvin: 9000 },
  { name: "LIFX Mini White to Warm", identifier: "lifx_mini_white_to_warm", has_color: false, has_variable_color_temp: true, min_kelvin: 1500, max_kelvin: 4000 },
  { name: "LIFX Mini White", identifier: "lifx_mini_white", has_color: false, has_variable_color_temp: false, min_kelvin: 2700, max_kelvin: 2700 },
];

export const lightId = (i: number) => `d073d5${i.toString(16).padStart(6, "0")}`;
/** Every generated account lives in this LIFX location, so its user id is known in advance. */
export const LOCATION_ID = "a0c1aa82395411e9a0757200055bf1c9";

/** The same shape as LIFX's List Lights (mappings/lifx/examples/list-lights.response.json). */
export function generateLights(n: number): unknown[] {
  return Array.from({ length: n }, (_, i) => {
    const p = PRODUCTS[i % PRODUCTS.length]!;
    return {
      id: lightId(i),
      uuid: `7c9a1b2e-0000-4000-8000-${i.toString(16).padStart(12, "0")}`,
      label: `Light ${i}`,
      connected: true,
      power: i % 2 ? "on" : "off",
      color: { hue: (i * 37) % 360, saturation: p.has_color ? 1 : 0, kelvin: 2700 + (i % 10) * 100 },
      brightness: ((i % 100) + 1) / 100,
      effect: "OFF",
      group: { id: "06e3ec50395511e9a0757200055bf1c0", name: "Loungeroom" },
      location: { id: LOCATION_ID, name: "Home" },
      product: {
        name: p.name,
        identifier: p.identifier,
        company: "LIFX",
        capabilities: { has_color: p.has_color, has_variable_color_temp: p.has_variable_color_temp, has_ir: false, has_chain: false, has_multizone: false, min_kelvin: p.min_kelvin, max_kelvin: p.max_kelvin },
        product_id: 22,
        vendor_id: 1,
      },
      last_seen: "2019-02-25T23:40:40Z",
      seconds_since_seen: 0,
    };
  });
}

export interface FakeLifx {
  origin: string;
  /** Requests served, by "METHOD /path-pattern". */
  counts: Map<string, number>;
  close(): Promise<void>;
}

export async function startFakeLifx(): Promise<FakeLifx> {
  const accounts = new Map<number, { lights: unknown[]; text: string; byId: Map<string, unknown> }>();
  const account = (n: number) => {
    let a = accounts.get(n);
    if (!a) {
      const lights = generateLights(n);
      a = { lights, text: JSON.stringify(lights), byId: new Map(lights.map((l: any) => [l.id, l])) };
      accounts.set(n, a);
    }
    return a;
  };
  const counts = new Map<string, number>();
  const send = (res: ServerResponse, status: number, body: string) => {
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      // "lights-<n>" or "lights-<n>-<anything>": distinct tokens for the same account size (the soak).
      const token = /^Bearer lights-(\d+)(?:-[A-Za-z0-9._]+)?$/.exec(req.headers.authorization ?? "");
      if (!token) return send(res, 401, JSON.stringify({ error: "Bad access token" }));
      const a = account(Number(token[1]));
      const m = /^\/v1\/lights\/(all|id:([0-9a-f]+))(\/state|\/toggle)?$/.exec(req.url ?? "");
      const key = `${req.method} ${m?.[3] ?? (m?.[2] ? "/lights/id" : "/lights/all")}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      if (!m) return send(res, 404, JSON.stringify({ error: "not found" }));
      const [, selector, id, action] = m;
      if (!action && req.method === "GET") {
        if (selector === "all") return send(res, 200, a.text);
        const light = a.byId.get(id!);
        return light ? send(res, 200, JSON.stringify([light])) : send(res, 404, JSON.stringify({ error: `Could not find id:${id}` }));
      }
      const light = a.byId.get(id ?? "") as { id: string; label: string } | undefined;
      if (!light) return send(res, 404, JSON.stringify({ error: `Could not find ${selector}` }));
      if ((action === "/state" && req.method === "PUT") || (action === "/toggle" && req.method === "POST")) {
        return send(res, 207, JSON.stringify({ results: [{ id: light.id, label: light.label, status: "ok" }] }));
      }
      send(res, 405, JSON.stringify({ error: "method not allowed" }));
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    counts,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
