/**
 * (f) Signed SendConnectorEvent calls per second and CPU per event, one process: the engine's
 * client (engine/mi/client.ts, with normalisation, schema check, retries and logging as shipped)
 * and the floor's sender (bench/floor: the lean signer on a bare keep-alive agent), side by side,
 * against the MI emulator in its own process (it verifies every signature with `aws4` and every
 * body against the Smithy model, on the same cores).
 *
 * `tsx bench/events.ts [--cpu-prof]` runs this case alone (it bundles the floor itself); with
 * --cpu-prof one more engine run is profiled (node:inspector, in this process) and summarised.
 */
import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";
import { createInterface } from "node:readline";
import path from "node:path";
import { PerformanceObserver } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import { LOCAL_TEST_CREDENTIALS } from "../engine/local/mi-emulator.ts";
import type { SendConnectorEventInput } from "../engine/mi/send-connector-event.ts";
import { bundleLikeTheArtifact } from "./bundle.ts";
import { lightId } from "./fake-lifx.ts";
import { summarizeProfile, type ProfileSummary } from "./profile.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export interface EventsRun {
  sent: number;
  failed: number;
  perSecond: number;
  cpuMicrosPerEvent: number;
  /** Garbage collection in this process during the run: pauses per 1,000 events and µs per event. */
  gcPer1000Events: number;
  gcMicrosPerEvent: number;
}

export interface EventsOptions {
  /** The bundled floor module (bench/floor/lifx-floor.ts built as run.ts builds it). */
  floorModule: string;
  /** The bundled engine sender (bench/events-engine.ts, see buildEventSenders). */
  engineModule: string;
  runs: number;
  seconds: number;
  concurrency: number;
  region: string;
  /** One more engine run under the V8 profiler, summarised. */
  profile?: boolean;
  /** More senders measured side by side: "name=module.mjs,..." (see eventsPerSecond). */
  compare?: string;
}

/** A DEVICE_EVENT as the engine's publishers hand it to the client: one OnOff change. */
function eventMaker(): () => SendConnectorEventInput {
  let seq = 0;
  return () =>
    ({
      ConnectorId: "bench-connector",
      UserId: "a0c1aa82395411e9a0757200055bf1c9",
      Operation: "DEVICE_EVENT",
      OperationVersion: "1.0",
      StatusCode: 200,
      ConnectorDeviceId: lightId(seq++ % 1000),
      MatterEndpoint: { id: "1", clusters: [{ id: "0x0006", attributes: { "0x0000": seq % 2 === 0 } }] },
    }) as SendConnectorEventInput;
}

async function timed(send: (e: SendConnectorEventInput) => Promise<unknown>, seconds: number, concurrency: number): Promise<EventsRun> {
  const event = eventMaker();
  let sent = 0;
  let failed = 0;
  const deadline = performance.now() + seconds * 1000;
  let gcCount = 0;
  let gcMs = 0;
  const gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcCount++;
      gcMs += entry.duration;
    }
  });
  gc.observe({ entryTypes: ["gc"] });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        try {
          await send(event());
          sent++;
        } catch {
          failed++;
        }
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - t0;
  await new Promise((r) => setImmediate(r)); // the observer hears of the last pauses asynchronously
  gc.disconnect();
  const per = Math.max(1, sent);
  return { sent, failed, perSecond: sent / (wallMs / 1000), cpuMicrosPerEvent: (cpu.user + cpu.system) / per, gcPer1000Events: (gcCount * 1000) / per, gcMicrosPerEvent: (gcMs * 1000) / per };
}

async function profiled(run: () => Promise<EventsRun>, file?: string): Promise<ProfileSummary & { events: number }> {
  const session = new Session();
  session.connect();
  try {
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: 100 });
    await session.post("Profiler.start");
    const { sent } = await run();
    const { profile } = await session.post("Profiler.stop");
    if (file) await writeFile(file, JSON.stringify(profile));
    return { events: sent, ...summarizeProfile(profile as any, ROOT, 20) };
  } finally {
    session.disconnect();
  }
}

export async function eventsPerSecond(opts: EventsOptions) {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "bench/mi-emulator-process.ts")], {
    env: { ...process.env, AWS_REGION: opts.region },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async () => JSON.parse(((await lines.next()).value as string) ?? "{}");
  try {
    const { url } = await next();
    process.env.C2C_MI_ENDPOINT = url;
    process.env.AWS_ACCESS_KEY_ID ??= LOCAL_TEST_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY ??= LOCAL_TEST_CREDENTIALS.secretAccessKey;
    const floor = (await import(pathToFileURL(opts.floorModule).href + "?events")) as { sendConnectorEvent: (id: string, e: unknown) => Promise<void> };
    const engine = (await import(pathToFileURL(opts.engineModule).href)) as typeof import("./events-engine.ts");
    const senders: Record<string, (e: SendConnectorEventInput) => Promise<unknown>> = {
      engine: engine.eventSender(url, opts.region),
      floor: (e: SendConnectorEventInput) => floor.sendConnectorEvent(e.ConnectorId, { ...e, ConnectorId: undefined }),
    };
    // More senders side by side, e.g. a build of an earlier commit: name=module.mjs,... (a module
    // exporting eventSender as bench/events-engine.ts does, or sendConnectorEvent as the floor does).
    for (const entry of (opts.compare ?? "").split(",").filter(Boolean)) {
      const [name, file] = entry.split("=") as [string, string];
      const m = await import(pathToFileURL(path.resolve(file)).href);
      senders[name] = m.eventSender ? m.eventSender(url, opts.region) : (e: SendConnectorEventInput) => m.sendConnectorEvent(e.ConnectorId, { ...e, ConnectorId: undefined });
    }
    const results: Record<string, EventsRun[]> = Object.fromEntries(Object.keys(senders).map((n) => [n, []]));
    // Warm-up: sockets, and the JIT of both processes (the emulator compiles its checks on first use).
    for (let i = 0; i < 3; i++) for (const send of Object.values(senders)) await timed(send, 0.5, opts.concurrency);
    // Interleaved, and who goes first rotates: machine noise, and the garbage one sender leaves for
    // the next one's collections, hit every sender alike.
    const names = Object.keys(senders);
    for (let i = 0; i < opts.runs; i++) {
      for (let k = 0; k < names.length; k++) {
        const name = names[(i + k) % names.length]!;
        results[name]!.push(await timed(senders[name]!, opts.seconds, opts.concurrency));
      }
    }
    // The whole profiles, for DevTools or a closer look: BENCH_PROFILE_FILE=/tmp/events.cpuprofile
    // (the floor's beside it, with .floor before the extension).
    const file = process.env.BENCH_PROFILE_FILE;
    const profile = opts.profile ? await profiled(() => timed(senders.engine, opts.seconds, opts.concurrency), file) : undefined;
    const floorProfile = opts.profile && file ? await profiled(() => timed(senders.floor, opts.seconds, opts.concurrency), file.replace(/(\.cpuprofile)?$/, ".floor.cpuprofile")) : undefined;
    child.stdin!.write("count\n");
    const received = await next();
    return { concurrency: opts.concurrency, seconds: opts.seconds, runs: results, rejectedByEmulator: received.rejected as number, profile, floorProfile };
  } finally {
    child.stdin!.end();
    await new Promise((r) => child.on("exit", r));
  }
}

/**
 * The engine's sender (bench/events-engine.ts) bundled with the artifact's esbuild options
 * (build.mjs: minified ESM for node20, no keepNames), so the client runs as it ships.
 */
export async function buildEventSender(outdir: string): Promise<string> {
  return (await bundleLikeTheArtifact({ "events-engine": path.join(ROOT, "bench/events-engine.ts") }, outdir))["events-engine"];
}

/** The floor bundled as run.ts bundles the baselines (esbuild, minified ESM). */
async function buildFloor(outdir: string): Promise<string> {
  return (await bundleLikeTheArtifact({ floor: path.join(ROOT, "bench/floor/lifx-floor.ts") }, outdir)).floor;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const out = path.join(ROOT, "dist", "bench");
  const [floorModule, engineModule] = await Promise.all([buildFloor(out), buildEventSender(out)]);
    // BENCH_EVENTS_RUNS / BENCH_EVENTS_SECONDS: many short interleaved runs read better on a busy machine.
  const r = await eventsPerSecond({ floorModule, engineModule, runs: Number(process.env.BENCH_EVENTS_RUNS ?? 3), seconds: Number(process.env.BENCH_EVENTS_SECONDS ?? 2), concurrency: 32, region: "us-east-1", profile: process.argv.includes("--cpu-prof"), compare: process.env.BENCH_EVENTS_COMPARE });
  const line = (name: string) => {
    const xs = r.runs[name]!;
    const med = (k: keyof EventsRun) => [...xs.map((x) => x[k] as number)].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!.toFixed(0);
    return `${name.padEnd(7)} events/s ${xs.map((x) => x.perSecond.toFixed(0)).join(" / ")} (median ${med("perSecond")}); CPU µs/event ${xs.map((x) => x.cpuMicrosPerEvent.toFixed(0)).join(" / ")} (median ${med("cpuMicrosPerEvent")}); GC per 1000 events ${xs.map((x) => x.gcPer1000Events.toFixed(2)).join(" / ")}, GC µs/event ${xs.map((x) => x.gcMicrosPerEvent.toFixed(1)).join(" / ")}; failed ${xs.reduce((s, x) => s + x.failed, 0)}`;
  };
  const ratios = r.runs.engine!.map((e, i) => e.cpuMicrosPerEvent / r.runs.floor![i]!.cpuMicrosPerEvent).sort((a, b) => a - b);
  console.log(`${Object.keys(r.runs).map(line).join("\n")}\nengine/floor CPU per event, run by run: median ${ratios[Math.floor(ratios.length / 2)]!.toFixed(2)} (${ratios[0]!.toFixed(2)}-${ratios[ratios.length - 1]!.toFixed(2)})\nrejected by the emulator: ${r.rejectedByEmulator}`);
  if (r.profile) console.log(JSON.stringify(r.profile, null, 1));
  if (r.floorProfile) console.log(`profiled events: engine ${r.profile?.events}, floor ${r.floorProfile.events}`);
  process.exit(0);
}
