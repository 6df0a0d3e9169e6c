/**
 * `c2c invoke <bundle> <request>`: one MI request through the engine, against the vendor
 * simulator replaying the bundle's recorded exchanges or against a given vendor origin; events go
 * to a loopback MI emulator. Prints the ACK and the events; `--trace` prints every step.
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parse } from "yaml";
import { BundleError } from "../../mapping/diagnostics.ts";
import { loadBundleOrThrow } from "../../mapping/bundle.ts";
import type { LogRecord } from "../../log/json-logger.ts";
import { SecretRegistry } from "../../log/redact.ts";
import { startMiEmulator } from "../../local/mi-emulator.ts";
import type { CompiledBundle } from "../../mapping/compiled.ts";
import { FIXTURE_REGION, FIXTURE_TOKEN, FixtureHarness } from "../../testing/fixture-runner.ts";
import { loadFixture, type Fixture } from "../../testing/fixtures.ts";
import { senderKeys } from "../../testing/engine-target.ts";
import { VendorSimulator } from "../../testing/vendor-simulator.ts";
import { resolveBundleDir } from "../bundles.ts";
import { CliError, type CliConsole } from "../io.ts";
import { createLocalEngine, replayExchanges, type LocalEngine } from "../local-engine.ts";
import { expressionTracer, tracingFetch } from "../trace.ts";
import { formatDiagnosticLines } from "./validate.ts";

export interface InvokeOptions {
  vendorUrl?: string;
  trace?: boolean;
  token?: string;
  /** How long to wait for events of handed-off work (ms). */
  waitMs?: number;
}

/** Token placeholders fixtures and scaffolded requests carry: replaced like the fixture runner does. */
const PLACEHOLDER_TOKENS = new Set(["", "replaced-by-the-runner", "<TOKEN>"]);

/** What `c2c invoke` runs: an MI request (JSON or YAML), or a whole fixture. */
export type InvokeInput = { kind: "request"; request: Record<string, any> } | { kind: "fixture"; fixture: Fixture };

/** The MI request in a JSON file, or a fixture file (request or webhook steps, with its exchanges). */
export async function readInvokeInput(path: string): Promise<InvokeInput> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new CliError(`cannot read request file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let value: unknown;
  try {
    value = path.endsWith(".json") ? JSON.parse(text) : parse(text);
  } catch (err) {
    throw new CliError(`request file ${path} is not valid ${path.endsWith(".json") ? "JSON" : "YAML"}: ${(err as Error).message.split("\n")[0]}`);
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) throw new CliError(`request file ${path} must hold an MI request object ({ header, payload })`);
  const obj = value as Record<string, any>;
  if (obj.expect && (obj.request || obj.webhook || obj.deliveries)) {
    try {
      return { kind: "fixture", fixture: await loadFixture(path) };
    } catch (err) {
      throw new CliError(`fixture ${path} cannot be read: ${(err as Error).message.split("\n")[0]} (c2c validate names the line)`);
    }
  }
  return { kind: "request", request: obj };
}

export async function invokeCommand(bundleArg: string, requestArg: string, opts: InvokeOptions, con: CliConsole): Promise<number> {
  const { err } = con;
  const dir = await resolveBundleDir(bundleArg, con.cwd);
  let bundle;
  try {
    bundle = await loadBundleOrThrow(dir);
  } catch (e) {
    if (!(e instanceof BundleError)) throw e;
    for (const d of e.diagnostics) for (const l of formatDiagnosticLines(d, err)) err.line(l);
    throw new CliError(`the bundle does not validate; fix the errors above (c2c validate ${bundleArg})`);
  }
  const input = await readInvokeInput(resolve(con.cwd, requestArg));
  const vendorOrigin = opts.vendorUrl ? checkOrigin(opts.vendorUrl) : undefined;
  // A fixture is replayed exactly as `c2c test` runs it, unless its calls go to a real vendor.
  if (input.kind === "fixture" && !vendorOrigin) return invokeFixture(bundle, input.fixture, opts, con);
  const request = input.kind === "fixture" ? fixtureRequest(input.fixture) : input.request;
  return invokeRequest(bundle, dir, request, vendorOrigin, opts, con);
}

function fixtureRequest(fixture: Fixture): Record<string, any> {
  const request = fixture.request ?? fixture.deliveries?.find((d) => d.request)?.request;
  if (!request) throw new CliError("this fixture is a webhook delivery: its vendor is the simulator, so run it without --vendor-url");
  return structuredClone(request) as Record<string, any>;
}

/** Where events go: C2C_MI_ENDPOINT when set (signed with the default credential chain), else the local emulator. */
function miTarget(con: CliConsole, emulatorUrl: string): { url: string; external: boolean; region: string } {
  const configured = con.env.C2C_MI_ENDPOINT?.trim();
  if (configured) return { url: configured, external: true, region: con.env.AWS_REGION ?? FIXTURE_REGION };
  return { url: emulatorUrl, external: false, region: FIXTURE_REGION };
}

async function invokeRequest(
  bundle: CompiledBundle,
  dir: string,
  request: Record<string, any>,
  vendorOrigin: string | undefined,
  opts: InvokeOptions,
  con: CliConsole,
): Promise<number> {
  const { out, err } = con;
  const auth = request?.header?.auth;
  if (auth?.type === "OAuth2.0") {
    if (opts.token !== undefined) auth.token = opts.token;
    else if (!vendorOrigin && (typeof auth.token !== "string" || PLACEHOLDER_TOKENS.has(auth.token))) auth.token = FIXTURE_TOKEN;
    else if (vendorOrigin && PLACEHOLDER_TOKENS.has(String(auth.token ?? ""))) {
      throw new CliError("the request carries a placeholder token; pass the vendor access token with --token (it is never printed)");
    }
  }
  const secrets = new SecretRegistry();
  if (typeof auth?.token === "string") secrets.add(auth.token);

  const trace = opts.trace ? out : undefined;
  const logs: LogRecord[] = [];
  const mi = await startMiEmulator({ region: FIXTURE_REGION });
  const simulator = vendorOrigin ? undefined : await VendorSimulator.start();
  try {
    if (simulator) {
      const exchanges = await replayExchanges(dir);
      simulator.load(exchanges, "replay");
      err.line(err.c.dim(`vendor: simulator replaying ${exchanges.length} recorded exchange(s) from the bundle's fixtures`));
    } else {
      err.line(err.c.dim(`vendor: ${vendorOrigin}`));
    }
    const target = miTarget(con, mi.url);
    if (target.external) err.line(err.c.dim(`MI: ${target.url} (C2C_MI_ENDPOINT)`));
    const local = createLocalEngine(bundle, {
      vendorOrigin: vendorOrigin ?? simulator!.origin,
      miUrl: target.url,
      region: target.region,
      defaultCredentials: target.external,
      secrets,
      logSink: traceLogSink(logs, trace),
      tracer: trace ? expressionTracer(trace, secrets, con.cwd) : undefined,
      vendorFetch: trace ? tracingFetch(trace, secrets) : undefined,
    });
    const started = Date.now();
    const ackValue = await local.engine.handle(request, { getRemainingTimeInMillis: () => 30_000, awsRequestId: "c2c-invoke" });
    const ackMs = Date.now() - started;
    // Handed-off work (discovery pages, slow commands) sends its events after the ACK.
    await drainWithin(local.drain(), opts.waitMs ?? 15_000);

    if (trace) out.line("");
    out.line(out.c.bold(`ACK`) + out.c.dim(` (${ackMs} ms)`));
    out.line(indentJson(ackValue, secrets));
    printEvents(target.external ? local.sent.map(({ ConnectorId, ...body }) => ({ connectorId: ConnectorId, body })) : mi.events, target, secrets, con);
    for (const r of mi.rejected) err.line(err.c.red(`MI emulator rejected an event: ${r.status} ${r.reason}`));
    for (const p of simulator?.problems ?? []) {
      err.line(err.c.yellow(`vendor simulator: no recorded exchange for ${p.received.method} ${p.received.path}; record one in a fixture (tests/*.yaml)`));
    }
    if (!trace) for (const r of logs.filter((l) => l.level === "warn" || l.level === "error")) err.line(err.c.dim(`log ${r.level}: ${r.message}`));
    return isSuccess(ackValue) && mi.rejected.length === 0 ? 0 : 1;
  } finally {
    await Promise.all([mi.close(), simulator?.close()]);
  }
}

/**
 * A fixture exactly as `c2c test` runs it: only its own exchanges, in order (its failures
 * included), its settings, environment and credentials, every step (MI requests and webhook
 * deliveries). Prints each answer and the events, then whether the fixture's expectation holds.
 */
async function invokeFixture(bundle: CompiledBundle, fixture: Fixture, opts: InvokeOptions, con: CliConsole): Promise<number> {
  const { out, err } = con;
  const secrets = new SecretRegistry();
  secrets.add(fixture.auth?.token ?? FIXTURE_TOKEN);
  const trace = opts.trace ? out : undefined;
  const logs: LogRecord[] = [];
  const savedEnv = { ...process.env };
  const harness = await FixtureHarness.start();
  let local: LocalEngine | undefined;
  const stepMs: number[] = [];
  try {
    const target = miTarget(con, harness.mi.url);
    err.line(err.c.dim(`vendor: simulator playing the ${fixture.vendor.length} exchange(s) of this fixture, in order`));
    if (target.external) err.line(err.c.dim(`MI: ${target.url} (C2C_MI_ENDPOINT)`));
    const result = await harness.run(
      (f) => {
        const b = f.settings ? { ...bundle, settings: { ...bundle.settings, ...f.settings } } : bundle;
        local = createLocalEngine(b, {
          vendorOrigin: harness.vendor.origin,
          miUrl: target.url,
          region: target.region,
          defaultCredentials: target.external,
          secrets,
          logSink: traceLogSink(logs, trace),
          tracer: trace ? expressionTracer(trace, secrets, con.cwd) : undefined,
          vendorFetch: trace ? tracingFetch(trace, secrets) : undefined,
          ...senderKeys(b, f),
        });
        const engine = local.engine;
        return {
          invoke: async (event, context) => {
            const started = Date.now();
            try {
              return await engine.handle(event, context);
            } finally {
              stepMs.push(Date.now() - started);
            }
          },
        };
      },
      fixture,
      // Events sent elsewhere never reach the harness emulator: do not wait for them there.
      target.external ? { timeoutMs: 0 } : {},
    );
    if (local) await drainWithin(local.drain(), opts.waitMs ?? 15_000);

    if (trace) out.line("");
    const steps = fixture.deliveries ?? [fixture.webhook !== undefined ? { webhook: fixture.webhook } : { request: fixture.request }];
    result.answers.forEach((answer, i) => {
      const kind = steps[i]?.webhook !== undefined ? "HTTP answer" : "ACK";
      out.line(out.c.bold(steps.length > 1 ? `Step ${i + 1}: ${kind}` : kind) + out.c.dim(` (${stepMs[i] ?? 0} ms)`));
      out.line(indentJson(answer, secrets));
    });
    const events = target.external
      ? (local?.sent ?? []).map(({ ConnectorId, ...body }) => ({ connectorId: ConnectorId, body }))
      : harness.mi.events;
    printEvents(events, target, secrets, con);
    if (!trace) for (const r of logs.filter((l) => l.level === "warn" || l.level === "error")) err.line(err.c.dim(`log ${r.level}: ${r.message}`));
    if (result.passed) err.line(err.c.green(`fixture expectation holds: ${fixture.name}`));
    else if (!target.external) {
      err.line(err.c.yellow(`fixture expectation does not hold (c2c test --filter ${JSON.stringify(fixture.name)} shows the diff):`));
      for (const f of result.failures) err.line(err.c.dim(`  ${f.split("\n")[0]}`));
    }
    return result.answers.every(isSuccess) ? 0 : 1;
  } finally {
    await harness.close();
    for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
    Object.assign(process.env, savedEnv);
  }
}

function traceLogSink(logs: LogRecord[], trace: CliConsole["out"] | undefined): (r: LogRecord) => void {
  return (r) => {
    logs.push(r);
    if (trace && !String(r.message).startsWith("vendor ")) trace.line(trace.c.dim(`  log ${r.level}: ${r.message}`));
  };
}

function printEvents(events: Array<{ connectorId: string; body: unknown }>, target: { external: boolean; url: string }, secrets: SecretRegistry, con: CliConsole): void {
  const { out } = con;
  out.line(out.c.bold(`Events (${events.length})`) + (target.external ? out.c.dim(` sent to ${target.url}`) : ""));
  for (const e of events) out.line(indentJson({ ConnectorId: e.connectorId, ...(e.body as object) }, secrets));
}

/** A 2xx ACK, or a 2xx HTTP answer to a webhook delivery. */
function isSuccess(answer: unknown): boolean {
  const a = answer as { header?: { responseCode?: unknown }; statusCode?: unknown } | undefined;
  const code = typeof a?.header?.responseCode === "number" ? a.header.responseCode : typeof a?.statusCode === "number" ? a.statusCode : undefined;
  return code !== undefined && code >= 200 && code < 300;
}

function checkOrigin(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new CliError(`--vendor-url ${JSON.stringify(url)} is not a URL (e.g. http://127.0.0.1:8080)`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new CliError("--vendor-url must be an http(s) origin");
  // Like C2C_VENDOR_ORIGIN: scheme, host and port replace the bundle's; its paths stay.
  return u.origin;
}

function indentJson(value: unknown, secrets: SecretRegistry): string {
  return secrets.scrub(JSON.stringify(value, null, 2))
    .split("\n")
    .map((l) => `  ${l}`)
    .join("\n");
}

/**
 * Waits for handed-off work, at most `ms`. The timer is cleared when the work ends first: a live
 * timer would keep the process running long after the output is complete.
 */
export async function drainWithin(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([work, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
