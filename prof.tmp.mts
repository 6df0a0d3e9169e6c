import { loadBundleOrThrow } from "./engine/mapping/bundle.ts";
import { createEngine } from "./engine/handler/create-handler.ts";
import { RecordingEventSink } from "./engine/mi/recording-sink.ts";
import { MemoryStateStore } from "./engine/store/memory-store.ts";
import { RedactingLogger } from "./engine/log/json-logger.ts";
import { VendorSimulator } from "./engine/testing/vendor-simulator.ts";
import { VendorClient } from "./engine/vendor/client.ts";
import { readFileSync } from "node:fs";
const b = await loadBundleOrThrow("mappings/lifx");
const base = JSON.parse(readFileSync("mappings/lifx/tests/data/lights.json","utf8"));
const lights = Array.from({length: 1000}, (_, i) => ({ ...base[i % 3], id: "d073d5" + i.toString(16).padStart(6, "0") }));
const sim = await VendorSimulator.start();
sim.load([{ request: { method: "GET", path: "/v1/lights/all" }, response: { status: 200, body: lights } }], "replay");
for (let round = 0; round < 5; round++) {
  const sink = new RecordingEventSink();
  const engine = createEngine(b, { sink, store: new MemoryStateStore(), logger: new RedactingLogger(() => {}), dispatcher: undefined, vendor: new VendorClient({ retry: b.api.retry, originOverride: sim.origin }) });
  const t = performance.now();
  const ack: any = await engine.handle({ header: { auth: { type: "OAuth2.0", token: "t" } }, payload: { operationName: "AWS.DiscoverDevices", operationVersion: "1.0", connectorId: "c", deviceDiscoveryId: "d" + round } }, { getRemainingTimeInMillis: () => 60000 });
  console.log(ack.header.responseCode, (performance.now() - t).toFixed(1), "ms", sink.events.length, "events");
}
await sim.close();
