/**
 * Webhook deliveries end to end, one process: a signed vendor delivery (the Netatmo bundle's
 * HMAC-signed set_point webhook, as its Lambda function URL hands it over) -> verify, translate,
 * known-device diff, SigV4, SendConnectorEvent to the MI emulator (in its own process, verifying
 * every signature). The connector is the built artifact (dist/netatmo) in a fresh child process,
 * so its CPU is the connector's alone. `tsx bench/webhook-events.ts [--cpu-prof]` runs it alone.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { createInterface } from "node:readline";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { LOCAL_TEST_CREDENTIALS } from "../engine/local/mi-emulator.ts";
import { summarizeProfile, type ProfileSummary } from "./profile.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const WEBHOOK_BUNDLE = "netatmo";
const ARTIFACT = path.join(ROOT, "dist", WEBHOOK_BUNDLE, "index.mjs");
const SECRET = "bench-webhook-secret";

/**
 * The child: imports the artifact, then keeps CONCURRENCY deliveries in flight for SECONDS. Every
 * delivery is a new set_point (temperature and room change), so nothing is deduplicated or
 * unchanged; signing it (the vendor's work, one HMAC) is inside the measured CPU, a few µs.
 */
export const WEBHOOK_CHILD = `
import { createHmac } from "node:crypto";
const { handler } = await import(process.env.BENCH_MODULE_URL);
const seconds = Number(process.env.BENCH_SECONDS), concurrency = Number(process.env.BENCH_CONCURRENCY);
const rooms = 200;
let seq = 0;
const delivery = () => {
  const n = seq++;
  const body = JSON.stringify({
    user_id: "5c810xxxxxxxxxxxxxxx45f4", home_id: "5e1d7a9b8c7d6e5f4a3b2c1d", room_id: String(2746182631 + (n % rooms)),
    mode: "manual", event_type: "set_point", temperature: 15 + (Math.floor(n / rooms) % 100) / 10, push_type: "display_change",
  });
  return {
    version: "2.0", rawPath: "/webhook", rawQueryString: "",
    headers: { "content-type": "application/json", "x-netatmo-secret": createHmac("sha256", process.env.NETATMO_WEBHOOK_SECRET).update(body).digest("hex") },
    requestContext: { http: { method: "POST", path: "/webhook", sourceIp: "127.0.0.1" } },
    body, isBase64Encoded: false,
  };
};
const ctx = { getRemainingTimeInMillis: () => 30000, awsRequestId: "bench" };
const run = async (s) => {
  let ok = 0, failed = 0, lastError;
  const deadline = performance.now() + s * 1000;
  const cpu0 = process.cpuUsage(), t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < deadline) {
      const res = await handler(delivery(), ctx);
      if (res?.statusCode === 200 && JSON.parse(res.body).sent === 1) ok++; else { failed++; lastError = res; }
    }
  }));
  const cpu = process.cpuUsage(cpu0);
  return { ok, failed, lastError, perSecond: ok / ((performance.now() - t0) / 1000), cpuMicrosPerEvent: (cpu.user + cpu.system) / Math.max(1, ok) };
};
await run(0.5); // warm-up: every room seen once, sockets, JIT
const runs = [];
for (let i = 0; i < Number(process.env.BENCH_RUNS); i++) runs.push(await run(seconds));
process.stdout.write(JSON.stringify({ runs, rssMB: process.memoryUsage().rss / 1048576 }));
process.exit(0);
`;

export interface WebhookRun {
  ok: number;
  failed: number;
  perSecond: number;
  cpuMicrosPerEvent: number;
  lastError?: unknown;
}

function runChild(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...args, "--input-type=module", "-e", WEBHOOK_CHILD], { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`webhook child exited ${code}: ${err.slice(0, 2000)}`))));
  });
}

/** Deliveries per second and CPU per delivery; with `profile`, one more run under --cpu-prof. */
export async function webhookEvents(opts: { runs: number; seconds: number; concurrency: number; region: string; profile?: boolean }) {
  const emulator = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "bench/mi-emulator-process.ts")], {
    env: { ...process.env, AWS_REGION: opts.region },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: emulator.stdout! })[Symbol.asyncIterator]();
  const next = async () => JSON.parse(((await lines.next()).value as string) ?? "{}");
  try {
    const { url } = await next();
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      AWS_REGION: opts.region,
      AWS_ACCESS_KEY_ID: LOCAL_TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_TEST_CREDENTIALS.secretAccessKey,
      AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: "1",
      C2C_MI_ENDPOINT: url,
      C2C_CONNECTOR_ID: "bench-connector",
      C2C_LOG_LEVEL: "error",
      NETATMO_WEBHOOK_SECRET: SECRET,
      BENCH_MODULE_URL: pathToFileURL(ARTIFACT).href,
      BENCH_SECONDS: String(opts.seconds),
      BENCH_CONCURRENCY: String(opts.concurrency),
      BENCH_RUNS: String(opts.runs),
    };
    const result = JSON.parse(await runChild([], env)) as { runs: WebhookRun[]; rssMB: number };
    let profile: ProfileSummary | undefined;
    if (opts.profile) {
      const dir = await mkdtemp(path.join(tmpdir(), "c2c-webhook-prof-"));
      try {
        await runChild(["--cpu-prof", "--cpu-prof-dir", dir], { ...env, BENCH_RUNS: "1" });
        const file = (await readdir(dir)).find((f) => f.endsWith(".cpuprofile"));
        if (file) {
          const raw = await readFile(path.join(dir, file), "utf8");
          // The whole profile, for DevTools or a closer look: BENCH_WEBHOOK_PROFILE_FILE=/tmp/webhooks.cpuprofile.
          if (process.env.BENCH_WEBHOOK_PROFILE_FILE) await writeFile(process.env.BENCH_WEBHOOK_PROFILE_FILE, raw);
          profile = summarizeProfile(JSON.parse(raw), ROOT);
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    emulator.stdin!.write("count\n");
    const received = await next();
    return { bundle: WEBHOOK_BUNDLE, concurrency: opts.concurrency, seconds: opts.seconds, runs: result.runs, emulator: received, profile };
  } finally {
    emulator.stdin!.end();
    await new Promise((r) => emulator.on("exit", r));
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const r = await webhookEvents({ runs: 2, seconds: 2, concurrency: 32, region: "us-east-1", profile: process.argv.includes("--cpu-prof") });
  console.log(JSON.stringify({ ...r, runs: r.runs.map(({ lastError, ...x }) => ({ ...x, lastError: lastError ? JSON.stringify(lastError).slice(0, 300) : undefined })) }, null, 2));
  process.exit(0);
}
