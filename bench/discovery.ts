/**
 * (e) AWS.DiscoverDevices of n devices in a fresh process of a connector (the engine artifact or the
 * floor connector): CPU, wall and peak RSS. Used by bench/run.ts, and runnable alone to profile the
 * discovery path without the rest of the bench (after `node build.mjs lifx`):
 *
 *   tsx bench/discovery.ts [--devices 1000,10000,50000] [--runs 3] [--floor] [--cpu-prof]
 *
 * Prints each run, then min / median / max per size and connector and the CPU growth 10k -> 50k
 * (the bench's discovery rows, without the rest of the bench). `--cpu-prof` writes the engine
 * child's profile to bench/profiles/ and prints where the CPU went, source-mapped to engine/.
 */
import { spawn } from "node:child_process";
import { mkdir, readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { bundleLikeTheArtifact, lifxBenchEnv } from "./bundle.ts";
import { startMiEmulator, type MiEmulator } from "../engine/local/mi-emulator.ts";
import { startFakeLifx } from "./fake-lifx.ts";
import { DISCOVERY_CHILD } from "./children.ts";
import { summarizeProfile, type ProfileSummary } from "./profile.ts";
import { sourceMapped } from "./source-mapped-profile.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export interface DiscoveryRun {
  cpuMs: number;
  cpuToAckMs: number;
  wallMs: number;
  peakRssMB: number;
  rssBeforeMB: number;
}

const childEnv = (extra: Record<string, string>): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, HOME: process.env.HOME, ...extra });

/** One discovery of `n` devices in a fresh process; the parent's MI emulator counts every device reported. */
export async function discoveryOnce(env: Record<string, string>, mi: MiEmulator, moduleFile: string, n: number, nodeArgs: string[] = []): Promise<DiscoveryRun> {
  mi.reset();
  const child = spawn(process.execPath, [...nodeArgs, "--input-type=module", "-e", DISCOVERY_CHILD], {
    env: childEnv({ ...env, BENCH_MODULE_URL: pathToFileURL(moduleFile).href, BENCH_DEVICES: String(n) }),
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
            // Distinct ids: a part re-sent after a slow MI answer (the outbox re-sends identical bodies)
            // counts once, and a part the outbox delivers later may arrive after the final (200) event.
            const ids = new Set(events.filter((ev) => (ev.body as any).DeviceDiscoveryId === m.waitFor).flatMap((ev) => ((ev.body as any).Devices ?? []).map((d: any) => d.ConnectorDeviceId)));
            if (ids.size >= expected) break;
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
  // --cpu-prof writes its file at exit.
  if (child.exitCode === null) await new Promise((r) => child.once("exit", r));
  if (result.code !== 200) throw new Error(`discovery of ${n}: ACK ${result.code}`);
  if (mi.rejected.length) throw new Error(`discovery of ${n}: MI rejected ${JSON.stringify(mi.rejected[0])}`);
  return result as DiscoveryRun;
}

// ---------------------------------------------------------------- alone
async function alone() {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i < 0 ? undefined : process.argv[i + 1];
  };
  const sizes = (arg("devices") ?? "50000").split(",").map(Number);
  const runs = Number(arg("runs") ?? 1);
  const prof = process.argv.includes("--cpu-prof");
  const withFloor = process.argv.includes("--floor");
  const artifact = path.join(ROOT, "dist", "lifx", "index.mjs");
  const floorOut = path.join(ROOT, "dist", "bench");
  if (withFloor) {
    await bundleLikeTheArtifact({ floor: path.join(ROOT, "bench/floor/lifx-floor.ts") }, floorOut);
  }
  const [fake, mi] = await Promise.all([startFakeLifx(), startMiEmulator({ region: "us-east-1" })]);
  const env = lifxBenchEnv(fake.origin, mi.url);
  const all: Array<{ connector: string; devices: number } & DiscoveryRun> = [];
  try {
    const profDir = path.join(ROOT, "bench", "profiles");
    if (prof) await mkdir(profDir, { recursive: true });
    for (const n of sizes) {
      // The fake vendor builds an account on first use; that must not count against the connector.
      await (await fetch(`${fake.origin}/v1/lights/all`, { headers: { authorization: `Bearer lights-${n}` } })).arrayBuffer();
      for (let i = 0; i < runs; i++) {
        const before = prof ? new Set(await readdir(profDir)) : new Set<string>();
        const r = { connector: "engine", devices: n, ...(await discoveryOnce(env, mi, artifact, n, prof ? ["--cpu-prof", "--cpu-prof-dir", profDir, "--cpu-prof-interval", "200"] : [])) };
        all.push(r);
        console.log(JSON.stringify(r));
        if (prof) {
          const file = (await readdir(profDir)).find((f) => f.endsWith(".cpuprofile") && !before.has(f))!;
          const summary: ProfileSummary = summarizeProfile(sourceMapped(JSON.parse(await readFile(path.join(profDir, file), "utf8")), ROOT), ROOT, 30);
          console.log(`profile: bench/profiles/${file} (${summary.totalMs} ms sampled)`);
          for (const m of summary.modules) console.log(`  ${m.selfMs.toFixed(1).padStart(8)} ms  ${m.module}`);
          for (const f of summary.functions) console.log(`  ${f.selfMs.toFixed(1).padStart(8)} ms  ${f.name}  ${f.where}`);
        }
        if (withFloor) {
          const f = { connector: "floor", devices: n, ...(await discoveryOnce(env, mi, path.join(floorOut, "floor.mjs"), n)) };
          all.push(f);
          console.log(JSON.stringify(f));
        }
      }
    }
    const mmm = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      const median = s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
      return `${Math.round(median)} (${Math.round(s[0]!)}-${Math.round(s.at(-1)!)})`;
    };
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
    console.log(`\nmedian (min-max) of ${runs}; load average ${(await import("node:os")).loadavg().map((x) => x.toFixed(1)).join(" ")}`);
    for (const connector of withFloor ? ["engine", "floor"] : ["engine"]) {
      for (const n of sizes) {
        const rs = all.filter((r) => r.connector === connector && r.devices === n);
        console.log(`${connector} ${n}: CPU ${mmm(rs.map((r) => r.cpuMs))} ms, to ACK ${mmm(rs.map((r) => r.cpuToAckMs))} ms, wall ${mmm(rs.map((r) => r.wallMs))} ms, peak RSS ${mmm(rs.map((r) => r.peakRssMB))} MB`);
      }
      const at = (n: number) => median(all.filter((r) => r.connector === connector && r.devices === n).map((r) => r.cpuMs));
      if (sizes.includes(10_000) && sizes.includes(50_000)) console.log(`${connector} CPU growth 10k -> 50k: ${(at(50_000) / at(10_000)).toFixed(2)}x`);
    }
  } finally {
    await Promise.all([fake.close(), mi.close()]);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await alone();
  process.exit(0);
}
