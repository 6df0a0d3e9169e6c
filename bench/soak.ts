/**
 * Soak: many invocations of one warm engine, each with a token never seen before (as a container
 * serving many users sees them), to show that per-request latency and heap stay flat: the log
 * redactor's secret set and every per-container cache are bounded.
 *
 *   npm run bench:soak            200,000 invocations (about two minutes here)
 *   npm run bench:soak -- 50000   another count
 *
 * Real parts: the LIFX bundle, the engine as built for a container, a loopback LIFX stand-in
 * (bench/fake-lifx.ts) over HTTP; events go to a recording sink (the MI round trip is measured
 * elsewhere in the bench). State is the in-memory store, bounded at SOAK_STORE_ENTRIES.
 */
import v8 from "node:v8";
import { loadBundleOrThrow } from "../engine/mapping/bundle.ts";
import { createEngine } from "../engine/handler/create-handler.ts";
import { MemoryStateStore } from "../engine/store/memory-store.ts";
import { RecordingEventSink } from "../engine/mi/recording-sink.ts";
import { RedactingLogger } from "../engine/log/json-logger.ts";
import { SecretRegistry } from "../engine/log/redact.ts";
import { VendorClient } from "../engine/vendor/client.ts";
import { lightId, startFakeLifx } from "./fake-lifx.ts";

export const SOAK_STORE_ENTRIES = 20_000;

export interface SoakWindow {
  /** Invocations done at the end of the window. */
  at: number;
  p50Ms: number;
  p99Ms: number;
  /** Heap used after a full GC (when --expose-gc), MB. */
  heapMb: number;
}

export interface SoakResult {
  invocations: number;
  windows: SoakWindow[];
  secretsHeld: number;
  storeEntries: number;
  /** Every ACK was 200. */
  allOk: boolean;
}

export async function runSoak(invocations: number, windowSize = Math.max(1, Math.floor(invocations / 10))): Promise<SoakResult> {
  const fake = await startFakeLifx();
  const bundle = await loadBundleOrThrow("mappings/lifx");
  const secrets = new SecretRegistry();
  // Log lines are built and redacted as in production, then dropped (the soak measures the engine, not stdout).
  const logger = new RedactingLogger(() => {}, secrets, {}, "info");
  const store = new MemoryStateStore({ maxEntries: SOAK_STORE_ENTRIES });
  const sink = new RecordingEventSink();
  const engine = createEngine(
    bundle,
    { logger, store, sink, dispatcher: undefined, vendor: new VendorClient({ retry: bundle.api.retry, logger, originOverride: fake.origin }) },
    { AWS_REGION: "us-east-1" },
  );
  const ctx = { getRemainingTimeInMillis: () => 30_000 };
  const windows: SoakWindow[] = [];
  let samples: number[] = [];
  let allOk = true;
  try {
    for (let i = 1; i <= invocations; i++) {
      const token = `lights-3-soak${i}`;
      const header = { auth: { type: "OAuth2.0", token } };
      const request =
        i % 2
          ? { header, payload: { operationName: "AWS.ActivateUser", operationVersion: "1.0", connectorId: "lifx-connector" } }
          : {
              header,
              payload: {
                operationName: "AWS.SendCommand",
                operationVersion: "1.0",
                connectorId: "lifx-connector",
                connectorDeviceId: lightId(i % 3),
                traceId: `soak${i}`,
                endpoints: [{ id: "1", clusters: [{ id: "0x0006", commands: [{ "0x01": {} }] }] }],
              },
            };
      const t0 = performance.now();
      const ack = (await engine.handle(request, ctx)) as { header: { responseCode: number } };
      samples.push(performance.now() - t0);
      if (ack.header.responseCode !== 200) allOk = false;
      if (sink.events.length > 1000) sink.clear();
      if (i % windowSize === 0) {
        (globalThis as { gc?: () => void }).gc?.();
        samples.sort((a, b) => a - b);
        windows.push({
          at: i,
          p50Ms: round(samples[Math.floor(samples.length / 2)]!),
          p99Ms: round(samples[Math.floor(samples.length * 0.99)]!),
          heapMb: round(v8.getHeapStatistics().used_heap_size / 2 ** 20),
        });
        samples = [];
      }
    }
  } finally {
    await fake.close();
  }
  return { invocations, windows, secretsHeld: secrets.size, storeEntries: store.size, allOk };
}

const round = (x: number) => Math.round(x * 100) / 100;

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = Number(process.argv[2] ?? 200_000);
  const result = await runSoak(n);
  console.table(result.windows);
  console.log(JSON.stringify({ invocations: result.invocations, secretsHeld: result.secretsHeld, storeEntries: result.storeEntries, allOk: result.allOk }));
}
