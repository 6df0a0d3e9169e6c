import type { CompiledBundle } from "../../engine/mapping/compiled.ts";

const expr = (src: string) => ({ src, at: "test" });
const call = (name: string, path: string) => ({
  name,
  method: "GET" as const,
  path,
  pathParams: {},
  query: {},
  headers: {},
  auth: "token" as const,
  acceptStatus: [200],
  at: "test",
});

/** A minimal compiled bundle; auth flavour and vendor given by the caller. */
export function compiledBundle(over: Partial<CompiledBundle> = {}): CompiledBundle {
  return {
    formatVersion: 1,
    vendor: { id: "acme", name: "Acme Cloud" },
    source: "mappings/acme",
    settings: {},
    api: {
      baseUrl: "https://api.acme.example",
      auth: { in: "header", name: "Authorization", prefix: "Bearer " },
      headers: {},
      timeoutMs: 1000,
      retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1000, retryOn: [429, 503] },
      statusMap: {},
    },
    operations: {
      activateUser: { requests: [call("me", "/me")], userId: expr("responses.me.id") },
      discoverDevices: {
        requests: [],
        list: call("devices", "/devices"),
        devices: expr("responses.devices"),
        userId: expr("responses.devices.owner"),
        device: { id: expr("id") },
      },
      deactivateUser: { requests: [] },
    },
    profiles: [],
    ...over,
  };
}
