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
import { FIXTURE_REGION, FIXTURE_TOKEN } from "../../testing/fixture-runner.ts";
import { loadFixture } from "../../testing/fixtures.ts";
import { VendorSimulator } from "../../testing/vendor-simulator.ts";
import { resolveBundleDir } from "../bundles.ts";
import { CliError, type CliConsole } from "../io.ts";
import { createLocalEngine, replayExchanges } from "../local-engine.ts";
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

/** The MI request in a JSON file, or the `request` of a fixture file. */
export async function readInvokeRequest(path: string): Promise<Record<string, any>> {
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
  // A fixture: its request (with `file:` references resolved by the fixture loader).
  if (obj.request && (obj.expect || obj.vendor)) return (await loadFixture(path)).request as Record<string, any>;
  return obj;
}

export async function invokeCommand(bundleArg: string, requestArg: string, opts: InvokeOptions, con: CliConsole): Promise<number> {
  const { out, err } = con;
  const dir = await resolveBundleDir(bundleArg, con.cwd);
  let bundle;
  try {
    bundle = await loadBundleOrThrow(dir);
  } catch (e) {
    if (!(e instanceof BundleError)) throw e;
    for (const d of e.diagnostics) for (const l of formatDiagnosticLines(d, err)) err.line(l);
    throw new CliError(`the bundle does not validate; fix the errors above (c2c validate ${bundleArg})`);
  }
  const request = await readInvokeRequest(resolve(con.cwd, requestArg));
  const vendorOrigin = opts.vendorUrl ? checkOrigin(opts.vendorUrl) : undefined;

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
    const local = createLocalEngine(bundle, {
      vendorOrigin: vendorOrigin ?? simulator!.origin,
      miUrl: mi.url,
      region: FIXTURE_REGION,
      secrets,
      logSink: (r) => {
        logs.push(r);
        if (trace && !String(r.message).startsWith("vendor ")) trace.line(trace.c.dim(`  log ${r.level}: ${r.message}`));
      },
      tracer: trace ? expressionTracer(trace, secrets, con.cwd) : undefined,
      vendorFetch: trace ? tracingFetch(trace, secrets) : undefined,
    });
    const started = Date.now();
    const ackValue = await local.engine.handle(request, { getRemainingTimeInMillis: () => 30_000, awsRequestId: "c2c-invoke" });
    const ackMs = Date.now() - started;
    // Handed-off work (discovery pages, slow commands) sends its events after the ACK.
    await Promise.race([local.drain(), new Promise((r) => setTimeout(r, opts.waitMs ?? 15_000))]);
    await new Promise((r) => setTimeout(r, 20));

    if (trace) out.line("");
    out.line(out.c.bold(`ACK`) + out.c.dim(` (${ackMs} ms)`));
    out.line(indentJson(ackValue, secrets));
    out.line(out.c.bold(`Events (${mi.events.length})`));
    for (const e of mi.events) out.line(indentJson({ ConnectorId: e.connectorId, ...e.body }, secrets));
    for (const r of mi.rejected) err.line(err.c.red(`MI emulator rejected an event: ${r.status} ${r.reason}`));
    for (const p of simulator?.problems ?? []) {
      err.line(err.c.yellow(`vendor simulator: no recorded exchange for ${p.received.method} ${p.received.path}; record one in a fixture (tests/*.yaml)`));
    }
    if (!trace) for (const r of logs.filter((l) => l.level === "warn" || l.level === "error")) err.line(err.c.dim(`log ${r.level}: ${r.message}`));
    const status = responseCode(ackValue);
    return status !== undefined && status >= 200 && status < 300 && mi.rejected.length === 0 ? 0 : 1;
  } finally {
    await Promise.all([mi.close(), simulator?.close()]);
  }
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

function responseCode(ackValue: unknown): number | undefined {
  const code = (ackValue as { header?: { responseCode?: unknown } } | undefined)?.header?.responseCode;
  return typeof code === "number" ? code : undefined;
}

function indentJson(value: unknown, secrets: SecretRegistry): string {
  return secrets.scrub(JSON.stringify(value, null, 2))
    .split("\n")
    .map((l) => `  ${l}`)
    .join("\n");
}
