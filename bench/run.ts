/**
 * `npm run bench` (after `node build.mjs`): measures the built LIFX artifact side by side with a
 * hand-written connector, on loopback, and writes bench/results.json.
 *
 *  (a) cold start: fresh `node` importing the artifact + first ActivateUser, minus a bare `node -e ""`
 *  (b) engine vs hand-written time per operation (invoke -> ACK and every expected event received)
 *  (c) AWS.DiscoverDevices with 1 / 100 / 1,000 / 10,000 devices, each size in a fresh process
 *  (d) signed SendConnectorEvent calls per second to the MI emulator (in its own process)
 *
 * Environment: BENCH_QUICK=1 for fewer iterations (smoke run).
 */
import { spawn } from "node:child_process";
import { readFile, stat, writeFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { startMiEmulator, LOCAL_TEST_CREDENTIALS, type MiEmulator } from "../engine/local/mi-emulator.ts";
import { SendConnectorEventClient } from "../engine/mi/client.ts";
import { silentLogger } from "../engine/log/json-logger.ts";
import type { SendConnectorEventInput } from "../engine/mi/send-connector-event.ts";
import { startFakeLifx, lightId, type FakeLifx } from "./fake-lifx.ts";
import { COLD_START_CHILD, DISCOVERY_CHILD } from "./children.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BUNDLE = "lifx";
const DIST = path.join(ROOT, "dist", BUNDLE);
const ARTIFACT = path.join(DIST, "index.mjs");
const REGION = "us-east-1";
const QUICK = process.env.BENCH_QUICK === "1";
const COLD_RUNS = QUICK ? 3 : 15;
const OP_WARMUP = QUICK ? 5 : 50;
const OP_RUNS = QUICK ? 20 : 300;
const DISCOVERY_SIZES = [1, 100, 1_000, 10_000];
const DISCOVERY_DEVICES_PER_OP = 10;
const EVENTS_SECONDS = QUICK ? 1 : 3;
const EVENTS_CONCURRENCY = 32;

export const TARGETS = {
  artifactZipBytes: 1024 * 1024,
  coldStartAboveBareNodeMs: 50,
  engineOverHandWritten: 1.5,
  discover1000Ms: 50,
  eventsPerSecond: 2000,
};

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

type Handler = (event: unknown, context?: unknown) => Promise<any>;
const context = { getRemainingTimeInMillis: () => 30_000, awsRequestId: "bench" };

function baseEnv(fake: FakeLifx, mi: { url: string }): Record<string, string> {
  return {
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: LOCAL_TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_TEST_CREDENTIALS.secretAccessKey,
    C2C_MI_ENDPOINT: mi.url,
    C2C_VENDOR_ORIGIN: fake.origin,
    LIFX_API: `${fake.origin}/v1`,
    C2C_LOG_LEVEL: "error",
    // The AWS SDK warns once per process about Node 20; keep stderr quiet.
    AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: "1",
  };
}

function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...extra };
  return env;
}

const request = (operationName: string, token: string, payload: Record<string, unknown> = {}) => ({
  header: { auth: { type: "OAuth2.0", token } },
  payload: { operationName, operationVersion: "1.0", connectorId: "bench-connector", ...payload },
});

/** Runs a child Node process; resolves with its stdout and wall time (spawn to exit). */
function runNode(args: string[], env: NodeJS.ProcessEnv): Promise<{ stdout: string; wallMs: number; code: number | null }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("exit", (code) => {
      const wallMs = performance.now() - t0;
      if (code !== 0) reject(new Error(`child exited ${code}: ${stderr.slice(0, 2000)}`));
      else resolve({ stdout, wallMs, code });
    });
  });
}

// ---------------------------------------------------------------- (a) cold start
async function coldStart(env: Record<string, string>) {
  const event = JSON.stringify(request("AWS.ActivateUser", "lights-3"));
  const artifactEnv = childEnv({ ...env, BENCH_ARTIFACT_URL: pathToFileURL(ARTIFACT).href, BENCH_EVENT: event });
  const bare: number[] = [];
  const bareEsm: number[] = [];
  const withArtifact: number[] = [];
  const inside: Array<{ importMs: number; firstInvokeMs: number }> = [];
  // Interleaved, so machine noise hits both series alike.
  for (let i = 0; i < COLD_RUNS; i++) {
    bare.push((await runNode(["-e", ""], childEnv({}))).wallMs);
    // The artifact is an ES module: this separates Node's ESM loader start-up from the artifact's own cost.
    bareEsm.push((await runNode(["--input-type=module", "-e", ""], childEnv({}))).wallMs);
    const r = await runNode(["--input-type=module", "-e", COLD_START_CHILD], artifactEnv);
    const parsed = JSON.parse(r.stdout);
    if (parsed.code !== 200) throw new Error(`cold start: ActivateUser answered ${parsed.code}`);
    withArtifact.push(r.wallMs);
    inside.push(parsed);
  }
  return {
    runs: COLD_RUNS,
    bareNodeMs: round(median(bare)),
    bareNodeEsmMs: round(median(bareEsm)),
    aboveBareEsmNodeMs: round(median(withArtifact) - median(bareEsm)),
    artifactProcessMs: round(median(withArtifact)),
    aboveBareNodeMs: round(median(withArtifact) - median(bare)),
    importMs: round(median(inside.map((x) => x.importMs))),
    firstInvocationMs: round(median(inside.map((x) => x.firstInvokeMs))),
  };
}

// ---------------------------------------------------------------- (b) engine vs hand-written
interface OpCase {
  name: string;
  event: () => unknown;
  events: number;
}

async function timeOnce(handler: Handler, mi: MiEmulator, op: OpCase): Promise<number> {
  mi.reset();
  const t0 = performance.now();
  const ack = await handler(op.event(), context);
  if (op.events > 0) await mi.waitForEvents(op.events, 10_000);
  const ms = performance.now() - t0;
  if (ack?.header?.responseCode !== 200) throw new Error(`${op.name}: ACK ${JSON.stringify(ack)}`);
  if (mi.rejected.length) throw new Error(`${op.name}: MI emulator rejected an event: ${JSON.stringify(mi.rejected[0])}`);
  return ms;
}

async function operations(engine: Handler, reference: Handler, mi: MiEmulator) {
  const token = `lights-${DISCOVERY_DEVICES_PER_OP}`;
  let n = 0;
  const ops: OpCase[] = [
    { name: "AWS.ActivateUser", event: () => request("AWS.ActivateUser", token), events: 0 },
    {
      name: `AWS.DiscoverDevices (${DISCOVERY_DEVICES_PER_OP} devices)`,
      event: () => request("AWS.DiscoverDevices", token, { deviceDiscoveryId: `d${++n}`, connectorDeviceIdList: [] }),
      events: 1,
    },
    {
      name: "AWS.SendCommand (On)",
      event: () =>
        request("AWS.SendCommand", token, {
          connectorDeviceId: lightId(0),
          traceId: `trace-${++n}`,
          endpoints: [{ id: "1", clusters: [{ id: "0x0006", commands: [{ "0x01": {} }] }] }],
        }),
      events: 1,
    },
    { name: "AWS.DeactivateUser", event: () => request("AWS.DeactivateUser", token), events: 0 },
  ];
  const rows = [];
  for (const op of ops) {
    // The user is active again before each block (DeactivateUser runs last, but blocks repeat it).
    await engine(request("AWS.ActivateUser", token), context);
    await reference(request("AWS.ActivateUser", token), context);
    const e: number[] = [];
    const r: number[] = [];
    for (let i = 0; i < OP_WARMUP; i++) {
      await timeOnce(engine, mi, op);
      await timeOnce(reference, mi, op);
    }
    for (let i = 0; i < OP_RUNS; i++) {
      // Alternate which goes first so neither always runs on a just-warmed socket.
      if (i % 2) {
        e.push(await timeOnce(engine, mi, op));
        r.push(await timeOnce(reference, mi, op));
      } else {
        r.push(await timeOnce(reference, mi, op));
        e.push(await timeOnce(engine, mi, op));
      }
    }
    rows.push({
      operation: op.name,
      runs: OP_RUNS,
      engineMedianMs: round(median(e), 3),
      engineP95Ms: round(percentile(e, 95), 3),
      handWrittenMedianMs: round(median(r), 3),
      handWrittenP95Ms: round(percentile(r, 95), 3),
      ratio: round(median(e) / median(r)),
    });
  }
  return rows;
}

// ---------------------------------------------------------------- (c) discovery scaling
async function discoveryScaling(env: Record<string, string>, mi: MiEmulator) {
  const rows = [];
  for (const n of DISCOVERY_SIZES) {
    mi.reset();
    const child = spawn(process.execPath, ["--expose-gc", "--input-type=module", "-e", DISCOVERY_CHILD], {
      env: childEnv({ ...env, BENCH_ARTIFACT_URL: pathToFileURL(ARTIFACT).href, BENCH_DEVICES: String(n) }),
      stdio: ["ignore", "inherit", "pipe", "ipc"],
    });
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    const result = await new Promise<any>((resolve, reject) => {
      child.on("message", async (m: any) => {
        if (m.result) return resolve(m.result);
        if (m.waitFor) {
          const expected = m.waitFor === "warmup" ? 1 : n;
          try {
            for (let count = 1; ; count++) {
              const events = await mi.waitForEvents(count, 120_000);
              const reported = events
                .filter((ev) => (ev.body as any).DeviceDiscoveryId === m.waitFor)
                .reduce((sum, ev) => sum + ((ev.body as any).Devices?.length ?? 0), 0);
              if (reported >= expected) break;
            }
            mi.reset();
            child.send({ done: m.waitFor });
          } catch (err) {
            reject(err);
          }
        }
      });
      child.on("exit", (code) => (code === 0 ? undefined : reject(new Error(`discovery child (${n}) exited ${code}: ${stderr.slice(0, 2000)}`))));
    });
    if (result.code !== 200) throw new Error(`discovery of ${n}: ACK ${result.code}`);
    if (mi.rejected.length) throw new Error(`discovery of ${n}: MI rejected ${JSON.stringify(mi.rejected[0])}`);
    rows.push({
      devices: n,
      totalMs: round(result.totalMs),
      ackMs: round(result.ackMs),
      vendorFetchParseMs: round(result.vendorFetchParseMs),
      engineShareMs: round(result.totalMs - result.vendorFetchParseMs),
      maxRssDeltaMB: round(result.maxRssDeltaMB, 1),
      peakRssMB: round(result.peakRssMB, 1),
      heapPeakDeltaMB: round(result.heapPeakDeltaMB, 1),
    });
  }
  return rows;
}

// ---------------------------------------------------------------- (c2) translation only
/**
 * The engine's own work for one discovery page of N devices: vendor JSON to DEVICE_DISCOVERY
 * bodies (profile matching, capability reports, body checks), warm, with the vendor fetch measured
 * apart and the events handed to a counting sink instead of the network. This is the "translated"
 * figure of the target; the end-to-end table above adds signing and the MI emulator's round trips.
 */
async function translation(fake: FakeLifx, n: number) {
  const { createEngine } = await import("../engine/handler/create-handler.ts");
  const { MemoryStateStore } = await import("../engine/store/memory-store.ts");
  const { normalizeEvent } = await import("../engine/mi/event-normalize.ts");
  const compiled = JSON.parse(await readFile(path.join(DIST, "bundle.json"), "utf8"));
  let reported = 0;
  const sink = {
    // What the real client does before the network: normalise and validate the body.
    send: async (input: SendConnectorEventInput) => {
      for (const e of normalizeEvent(input).events) reported += e.Devices?.length ?? 0;
      return { ConnectorId: input.ConnectorId };
    },
  };
  const samples: number[] = [];
  const vendorSamples: number[] = [];
  for (let i = 0; i < (QUICK ? 4 : 12); i++) {
    const engine = createEngine(compiled, { sink, store: new MemoryStateStore(), logger: silentLogger as never, dispatcher: undefined });
    reported = 0;
    const t0 = performance.now();
    const ack = (await engine.handle(request("AWS.DiscoverDevices", `lights-${n}`, { deviceDiscoveryId: `t${i}` }), { getRemainingTimeInMillis: () => 60_000 })) as any;
    const t1 = performance.now();
    if (ack.header.responseCode !== 200 || reported !== n) throw new Error(`translation of ${n}: ACK ${ack.header.responseCode}, ${reported} devices`);
    const f0 = performance.now();
    await (await fetch(`${fake.origin}/v1/lights/all`, { headers: { authorization: `Bearer lights-${n}` } })).json();
    vendorSamples.push(performance.now() - f0);
    samples.push(t1 - t0);
  }
  // The first runs compile expressions and warm the JIT, as the first discovery of a container does.
  const warm = samples.slice(2);
  return { devices: n, firstRunMs: round(samples[0]), warmMedianMs: round(median(warm)), vendorFetchParseMs: round(median(vendorSamples.slice(2))), translatedMs: round(median(warm) - median(vendorSamples.slice(2))) };
}

// ---------------------------------------------------------------- (d) events per second
async function eventsPerSecond() {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "bench/mi-emulator-process.ts")], {
    env: { ...process.env, AWS_REGION: REGION },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async () => JSON.parse(((await lines.next()).value as string) ?? "{}");
  const { url } = await next();
  const client = new SendConnectorEventClient({
    endpoint: url,
    region: REGION,
    credentials: async () => ({ ...LOCAL_TEST_CREDENTIALS }),
    logger: silentLogger,
    maxAttempts: 1,
  });
  let seq = 0;
  const event = (): SendConnectorEventInput =>
    ({
      ConnectorId: "bench-connector",
      UserId: "a0c1aa82395411e9a0757200055bf1c9",
      Operation: "DEVICE_EVENT",
      OperationVersion: "1.0",
      StatusCode: 200,
      ConnectorDeviceId: lightId(seq++ % 1000),
      MatterEndpoint: { id: "1", clusters: [{ id: "0x0006", attributes: { "0x0000": seq % 2 === 0 } }] },
    }) as SendConnectorEventInput;
  const run = async (seconds: number) => {
    let sent = 0;
    let failed = 0;
    const deadline = performance.now() + seconds * 1000;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: EVENTS_CONCURRENCY }, async () => {
        while (performance.now() < deadline) {
          try {
            await client.send(event());
            sent++;
          } catch {
            failed++;
          }
        }
      }),
    );
    const cpu = process.cpuUsage(cpu0);
    return { sent, failed, seconds: (performance.now() - t0) / 1000, cpuMs: (cpu.user + cpu.system) / 1000 };
  };
  await run(0.5); // warm-up: sockets, JIT
  child.stdin!.write("count\n");
  await next();
  const measured = await run(EVENTS_SECONDS);
  child.stdin!.write("count\n");
  const received = await next();
  child.stdin!.end();
  await new Promise((r) => child.on("exit", r));
  return {
    concurrency: EVENTS_CONCURRENCY,
    seconds: round(measured.seconds),
    sent: measured.sent,
    failed: measured.failed,
    receivedByEmulator: received.events,
    rejectedByEmulator: received.rejected,
    perSecond: Math.round(measured.sent / measured.seconds),
    // What one fully busy sender process could do if the receiver were not the limit.
    senderCpuMsPerEvent: round(measured.cpuMs / Math.max(1, measured.sent), 3),
    perSenderCpuSecond: Math.round((measured.sent / Math.max(1, measured.cpuMs)) * 1000),
  };
}

// ---------------------------------------------------------------- main
function table(headers: string[], rows: Array<Array<string | number>>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells: Array<string | number>) => cells.map((c, i) => String(c).padEnd(widths[i]!)).join("  ");
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}
const verdict = (ok: boolean) => (ok ? "met" : "MISSED");

async function main() {
  const started = performance.now();
  try {
    await stat(ARTIFACT);
  } catch {
    throw new Error(`${path.relative(ROOT, ARTIFACT)} is missing: run \`node build.mjs ${BUNDLE}\` first (npm run bench does)`);
  }
  const zipBytes = (await stat(path.join(DIST, "function.zip"))).size;
  const indexBytes = (await stat(ARTIFACT)).size;

  const [fake, mi] = await Promise.all([startFakeLifx(), startMiEmulator({ region: REGION })]);
  const env = baseEnv(fake, mi);
  Object.assign(process.env, env);
  delete process.env.AWS_LAMBDA_FUNCTION_NAME;
  delete process.env.C2C_STATE_TABLE;

  try {
    console.log("cold start ...");
    const cold = await coldStart(env);
    console.log("operations: engine vs hand-written ...");
    const engine = ((await import(pathToFileURL(ARTIFACT).href)) as { handler: Handler }).handler;
    const reference = (await import("./reference/lifx-connector.ts")).handler as Handler;
    const ops = await operations(engine, reference, mi);
    console.log("discovery scaling ...");
    const discovery = await discoveryScaling(env, mi);
    console.log("translation ...");
    const translated = await translation(fake, 1000);
    console.log("events per second ...");
    const events = await eventsPerSecond();

    const d1000 = discovery.find((d) => d.devices === 1000)!;
    const worstRatio = Math.max(...ops.map((o) => o.ratio));
    const results = {
      date: new Date().toISOString(),
      node: process.version,
      platform: `${process.platform}/${process.arch}`,
      bundle: BUNDLE,
      quick: QUICK,
      targets: TARGETS,
      artifact: { zipBytes, indexBytes, met: zipBytes <= TARGETS.artifactZipBytes },
      coldStart: { ...cold, met: cold.aboveBareNodeMs <= TARGETS.coldStartAboveBareNodeMs },
      operations: { rows: ops, worstRatio, met: worstRatio <= TARGETS.engineOverHandWritten },
      discovery: { rows: discovery },
      translation: { ...translated, met: translated.translatedMs <= TARGETS.discover1000Ms },
      events: { ...events, met: events.perSecond >= TARGETS.eventsPerSecond },
      durationSeconds: 0,
    };
    results.durationSeconds = round((performance.now() - started) / 1000, 1);
    await writeFile(path.join(ROOT, "bench/results.json"), JSON.stringify(results, null, 2) + "\n");

    console.log(`\nBenchmark of the built ${BUNDLE} artifact (${process.version}, ${results.platform})\n`);
    console.log(
      table(
        ["figure", "measured", "target", ""],
        [
          ["artifact function.zip", `${(zipBytes / 1024).toFixed(0)} KB`, "<= 1024 KB", verdict(results.artifact.met)],
          ["cold start above bare Node", `${cold.aboveBareNodeMs} ms`, "<= 50 ms", verdict(results.coldStart.met)],
          ["  (import / first ActivateUser)", `${cold.importMs} / ${cold.firstInvocationMs} ms`, "", ""],
          ["  (above bare Node ESM start-up)", `${cold.aboveBareEsmNodeMs} ms`, "", ""],
          ["engine / hand-written, worst op", `${worstRatio}x`, "<= 1.5x", verdict(results.operations.met)],
          ["1,000 devices translated (warm)", `${translated.translatedMs} ms`, "<= 50 ms", verdict(results.translation.met)],
          ["  (first run in a container)", `${translated.firstRunMs} ms`, "", ""],
          ["  (end to end, signed to MI, fresh process)", `${d1000.totalMs} ms`, "", ""],
          ["signed events per second", `${events.perSecond}/s`, ">= 2000/s", verdict(results.events.met)],
        ],
      ),
    );
    console.log("\nPer operation (median of " + OP_RUNS + "; invoke -> ACK and every event received):\n");
    console.log(
      table(
        ["operation", "engine ms", "hand-written ms", "ratio", "engine p95", "hand p95"],
        ops.map((o) => [o.operation, o.engineMedianMs, o.handWrittenMedianMs, `${o.ratio}x`, o.engineP95Ms, o.handWrittenP95Ms]),
      ),
    );
    console.log("\nAWS.DiscoverDevices by account size (fresh process each; vendor = the same GET + JSON.parse alone):\n");
    console.log(
      table(
        ["devices", "total ms", "ACK ms", "vendor ms", "engine share ms", "maxRSS delta MB", "heap peak delta MB"],
        discovery.map((d) => [d.devices, d.totalMs, d.ackMs, d.vendorFetchParseMs, d.engineShareMs, d.maxRssDeltaMB, d.heapPeakDeltaMB]),
      ),
    );
    console.log(
      `\nEvents: ${events.sent} sent in ${events.seconds} s at concurrency ${events.concurrency}, ${events.failed} failed, emulator received ${events.receivedByEmulator};` +
        ` sender CPU ${events.senderCpuMsPerEvent} ms/event = ${events.perSenderCpuSecond} events per CPU-second`,
    );
    console.log(`\nwrote bench/results.json (${results.durationSeconds} s)`);
  } finally {
    await Promise.all([fake.close(), mi.close()]);
  }
}

await main();
// Keep-alive sockets of the SDK clients must not hold the process open.
process.exit(0);
