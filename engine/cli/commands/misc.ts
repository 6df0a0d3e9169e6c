/** `c2c docs`, `c2c registration` and `c2c dev`: each a thin layer over a library function. */
import { join } from "node:path";
import { BundleError } from "../../mapping/diagnostics.ts";
import { CONNECTOR_FILE, loadAndValidateBundle, loadBundleOrThrow } from "../../mapping/bundle.ts";
import type { CompiledBundle } from "../../mapping/compiled.ts";
import { isRecord } from "../../mapping/calls.ts";
import { loadYamlFile } from "../../mapping/load.ts";
import { placeholdersIn, registrationDocument, registrationRequests, type RegistrationOptions } from "../../registration/registration.ts";
import { resolveBundleDir, displayPath, relativeToCwd } from "../bundles.ts";
import { interrupted, watchFolders } from "../watch.ts";
import { CONNECTOR_ID_ENV } from "../../webhook/ingress.ts";
import { capabilityMarkdown } from "../capability-docs.ts";
import { startDevStack, type DevStack } from "../dev-stack.ts";
import { CliError, type CliConsole } from "../io.ts";
import { replayExchanges } from "../local-engine.ts";
import { preview } from "../trace.ts";
import { SecretRegistry } from "../../log/redact.ts";
import { formatDiagnosticLines } from "./validate.ts";
import { FIXTURE_TOKEN } from "../../testing/fixture-runner.ts";

/** The compiled bundle, or a CliError after printing why it does not validate. */
export async function loadBundleForCommand(bundleArg: string, con: CliConsole): Promise<{ dir: string; bundle: CompiledBundle }> {
  const dir = await resolveBundleDir(bundleArg, con.cwd);
  try {
    return { dir, bundle: await loadBundleOrThrow(dir) };
  } catch (e) {
    if (!(e instanceof BundleError)) throw e;
    for (const d of e.diagnostics.filter((x) => x.severity === "error")) for (const l of formatDiagnosticLines(d, con.err)) con.err.line(l);
    throw new CliError(`${displayPath(dir, con.cwd)} does not validate; fix the errors above`);
  }
}

export async function docsCommand(bundleArg: string, con: CliConsole): Promise<number> {
  const { dir, bundle } = await loadBundleForCommand(bundleArg, con);
  const doc = (await loadYamlFile(join(dir, CONNECTOR_FILE))).value;
  const descriptions: Record<string, string | undefined> = {};
  if (isRecord(doc) && isRecord(doc.profiles)) {
    for (const [id, p] of Object.entries(doc.profiles)) if (isRecord(p) && typeof p.description === "string") descriptions[id] = p.description;
  }
  con.out.stream.write(capabilityMarkdown(bundle, descriptions));
  return 0;
}

export async function registrationCommand(bundleArg: string, opts: RegistrationOptions, con: CliConsole): Promise<number> {
  const { bundle } = await loadBundleForCommand(bundleArg, con);
  let requests;
  try {
    requests = registrationRequests(bundle, opts);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  // The same document the build writes to dist/<bundle>/registration.json.
  con.out.line(JSON.stringify(registrationDocument(requests), null, 2));
  const left = placeholdersIn({ CreateCloudConnector: requests.createCloudConnector, CreateConnectorDestination: requests.createConnectorDestination });
  if (left.length) {
    con.err.line(con.err.c.yellow(`${left.length} placeholder(s) to fill before sending (see --help for the options that fill them):`));
    for (const l of left) con.err.line(con.err.c.dim(`  ${l}`));
  }
  for (const l of requests.limitations) con.err.line(con.err.c.yellow(`MI cannot express: ${l}`));
  return 0;
}

export interface DevOptions {
  port?: number;
  /** Resolves when the stack should stop (tests); default: Ctrl-C. */
  until?: Promise<unknown>;
  /** Rebuild and serve the bundle again after an edit under its folder (default true). */
  watch?: boolean;
}

/**
 * Environment variables a bundle's webhooks need at delivery time and that are not set: named at
 * start, so the first delivery's refusal is no surprise.
 */
export function missingWebhookVariables(bundle: CompiledBundle, env: NodeJS.ProcessEnv): string[] {
  const w = bundle.webhooks;
  if (!w) return [];
  const names = [w.verify.secret?.env, w.verify.publicKey?.env, CONNECTOR_ID_ENV, w.buffer?.queueUrlEnv].filter((n): n is string => !!n);
  return [...new Set(names)].filter((n) => !env[n]?.trim());
}

export async function devCommand(bundleArg: string, opts: DevOptions, con: CliConsole): Promise<number> {
  const { dir, bundle } = await loadBundleForCommand(bundleArg, con);
  const { out, err } = con;
  const secrets = new SecretRegistry();
  const exchanges = await replayExchanges(dir);
  let stack: DevStack;
  try {
    stack = await startDevStack({
      bundle,
      exchanges,
      port: opts.port,
      onEvent: (e) => {
        out.line(`${out.c.green("event")} ${out.c.bold(String(e.body?.Operation ?? "?"))} ${preview({ ConnectorId: e.connectorId, ...e.body }, secrets, 600)}`);
      },
      onRejected: (reason) => out.line(`${out.c.red("event rejected")} ${reason}`),
      onInvoke: (kind, _event, result, ms) => out.line(`${out.c.cyan(kind)} ${out.c.dim(`${ms} ms`)} ${preview(result, secrets, 400)}`),
      logSink: (r) => {
        if (r.level !== "warn" && r.level !== "error") return;
        // The reason (an error's message) is what an author needs: "environment variable X is not set".
        const reason = (r.error as { message?: unknown } | undefined)?.message ?? r.reason;
        err.line(err.c.dim(`log ${r.level}: ${r.message}${typeof reason === "string" ? `: ${reason}` : ""}`));
      },
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EADDRINUSE") throw new CliError(`port ${opts.port} is in use; choose another with --port`);
    throw e;
  }
  out.line(out.c.bold(`c2c dev: ${bundle.vendor.name} (${displayPath(dir, con.cwd)})`));
  out.line(`  invoke   POST ${stack.invokeUrl}`);
  out.line(`  webhook  ${stack.webhookUrl}`);
  out.line(`  vendor   ${stack.vendor.origin} (replaying ${exchanges.length} recorded exchange(s))`);
  out.line(`  MI       ${stack.mi.url}`);
  const missing = missingWebhookVariables(bundle, process.env);
  if (missing.length) {
    err.line(err.c.yellow(`webhook deliveries will be refused until ${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} set, e.g.`));
    err.line(err.c.yellow(`  ${missing.map((n) => `${n}=${n === CONNECTOR_ID_ENV ? `${bundle.vendor.id}-connector` : "dev-value"}`).join(" ")} c2c dev ${bundleArg}`));
  }
  const sample = JSON.stringify({
    header: { auth: { type: "OAuth2.0", token: FIXTURE_TOKEN } },
    payload: { operationName: "AWS.ActivateUser", operationVersion: "1.0.0", connectorId: `${bundle.vendor.id}-connector` },
  });
  out.line(out.c.dim(`  try: curl -s ${stack.invokeUrl} -d '${sample}'`));
  out.line(out.c.dim(`  Ctrl-C stops.${opts.watch === false ? "" : " Edits under the bundle are reloaded."}`));
  const until = opts.until ?? interrupted();
  if (opts.watch === false) await until;
  else {
    await watchFolders([dir], until, async () => {
      const result = await loadAndValidateBundle(dir);
      if (!result.bundle) {
        // Keep serving the last good build; say why the new one is not served.
        err.line(err.c.red("the edited bundle does not validate; still serving the previous build:"));
        for (const d of result.diagnostics.filter((x) => x.severity === "error").map((x) => relativeToCwd(x, con.cwd))) {
          for (const l of formatDiagnosticLines(d, err)) err.line(`  ${l}`);
        }
        return;
      }
      await stack.reload(result.bundle, await replayExchanges(dir));
      out.line(out.c.green(`reloaded ${displayPath(dir, con.cwd)}`));
    });
  }
  out.line(out.c.dim("stopping..."));
  await stack.close();
  return 0;
}
