/**
 * Code run in fresh Node processes (`node --input-type=module -e`), so that cold start and memory are
 * measured without the benchmark's own modules loaded. Plain JavaScript strings: no tsx in the child.
 * BENCH_MODULE_URL names the connector under test (the engine artifact, or the bundled reference or
 * floor connector): each exports `handler`.
 */

/** The process start-up alone: where an empty ES module answers (the zero of every cold figure). */
export const EMPTY_CHILD = `process.stdout.write(JSON.stringify({ ackAtMs: performance.now() }));`;

/**
 * Imports the connector and runs one ActivateUser. ackAtMs is performance.now() at the ACK: time
 * since the process started, which is what a Lambda cold start makes MI wait for.
 */
export const COLD_START_CHILD = `
const t0 = performance.now();
const { handler } = await import(process.env.BENCH_MODULE_URL);
const t1 = performance.now();
const ack = await handler(JSON.parse(process.env.BENCH_EVENT), { getRemainingTimeInMillis: () => 30000, awsRequestId: "cold" });
const t2 = performance.now();
process.stdout.write(JSON.stringify({ importMs: t1 - t0, firstInvokeMs: t2 - t1, ackAtMs: t2, code: ack?.header?.responseCode }));
process.exit(0);
`;

/**
 * Imports the connector, warms it with a one-device discovery, then discovers BENCH_DEVICES devices.
 * The parent owns the MI emulator: it tells the child (IPC) when every device has been reported.
 * CPU is this process's user+system time over the measured discovery; peak RSS is the process's.
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
const { handler } = await import(process.env.BENCH_MODULE_URL);
const n = Number(process.env.BENCH_DEVICES);
await handler(request("lights-1", "warmup"), ctx);
await reported("warmup");
const rss0 = process.memoryUsage().rss;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const ack = await handler(request("lights-" + n, "measured"), ctx);
const cpuAck = process.cpuUsage(cpu0);
await reported("measured");
const t1 = performance.now();
const cpu = process.cpuUsage(cpu0);
process.send({ result: { devices: n, code: ack?.header?.responseCode, wallMs: t1 - t0, cpuMs: (cpu.user + cpu.system) / 1000,
  cpuToAckMs: (cpuAck.user + cpuAck.system) / 1000, rssBeforeMB: rss0 / 1048576, peakRssMB: process.resourceUsage().maxRSS / 1024 } });
process.exit(0);
`;
