/**
 * Code run in fresh Node processes (`node --input-type=module -e`), so that cold start and memory are
 * measured without the benchmark's own modules loaded. Plain JavaScript strings: no tsx in the child.
 */

/** Imports the artifact and runs one ActivateUser; prints the in-process timings. */
export const COLD_START_CHILD = `
const t0 = performance.now();
const { handler } = await import(process.env.BENCH_ARTIFACT_URL);
const t1 = performance.now();
const ack = await handler(JSON.parse(process.env.BENCH_EVENT), { getRemainingTimeInMillis: () => 30000, awsRequestId: "cold" });
const t2 = performance.now();
process.stdout.write(JSON.stringify({ importMs: t1 - t0, firstInvokeMs: t2 - t1, code: ack?.header?.responseCode }));
process.exit(0);
`;

/**
 * Imports the artifact, warms it with a one-device discovery, then discovers BENCH_DEVICES devices.
 * The parent owns the MI emulator: it tells the child (IPC) when every device has been reported.
 */
export const DISCOVERY_CHILD = `
const ctx = { getRemainingTimeInMillis: () => 900000, awsRequestId: "bench" };
const request = (token, id) => ({
  header: { auth: { type: "OAuth2.0", token } },
  payload: { operationName: "AWS.DiscoverDevices", operationVersion: "1.0", connectorId: "bench-connector", deviceDiscoveryId: id, connectorDeviceIdList: [] },
});
const reported = (id) => new Promise((resolve) => {
  const onMessage = (m) => { if (m.done === id) { process.off("message", onMessage); resolve(); } };
  process.on("message", onMessage);
  process.send({ waitFor: id });
});
const { handler } = await import(process.env.BENCH_ARTIFACT_URL);
const n = Number(process.env.BENCH_DEVICES);
await handler(request("lights-1", "warmup"), ctx);
await reported("warmup");
globalThis.gc?.();
const rss0 = process.resourceUsage().maxRSS;
const heap0 = process.memoryUsage().heapUsed;
let heapPeak = heap0;
const sampler = setInterval(() => { heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed); }, 1);
const t0 = performance.now();
const ack = await handler(request("lights-" + n, "measured"), ctx);
const tAck = performance.now();
await reported("measured");
const t1 = performance.now();
clearInterval(sampler);
heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
const rss1 = process.resourceUsage().maxRSS;
// The vendor's share: the same GET and JSON.parse alone, without the engine.
const f0 = performance.now();
const res = await fetch(process.env.C2C_VENDOR_ORIGIN + "/v1/lights/all", { headers: { authorization: "Bearer lights-" + n } });
const lights = await res.json();
const f1 = performance.now();
process.send({ result: { devices: n, code: ack?.header?.responseCode, ackMs: tAck - t0, totalMs: t1 - t0, vendorFetchParseMs: f1 - f0, fetched: lights.length,
  maxRssDeltaMB: (rss1 - rss0) / 1024, peakRssMB: rss1 / 1024, heapPeakDeltaMB: (heapPeak - heap0) / 1048576 } });
process.exit(0);
`;
