/**
 * `npm start`: runs a bundle (package.json names the default; `npm start -- <bundle>` another) end to end
 * on this machine: a loopback vendor simulator replaying the bundle's recorded exchanges, the MI
 * emulator verifying signatures, and the four operations, printed as a readable transcript.
 */
import pc from "picocolors";
import { loadBundleOrThrow } from "../mapping/bundle.ts";
import { BundleError, formatDiagnostic } from "../mapping/diagnostics.ts";
import { loadFixtures, type Fixture } from "../testing/fixtures.ts";
import { FixtureHarness } from "../testing/fixture-runner.ts";
import { createEngine } from "../handler/create-handler.ts";
import { RedactingLogger } from "../log/json-logger.ts";
import type { ConnectorRequest } from "../mi/protocol.ts";

// The last argument wins: package.json passes the default, `npm start -- <bundle>` appends another.
const name = process.argv.slice(2).at(-1) ?? process.env.C2C_BUNDLE;
if (!name) {
  console.error("usage: start.ts <bundle>   (a folder under mappings/, or a path)");
  process.exit(2);
}
const dir = name.includes("/") ? name : `mappings/${name}`;

async function main(): Promise<number> {
  let bundle;
  try {
    bundle = await loadBundleOrThrow(dir);
  } catch (err) {
    if (err instanceof BundleError) {
      for (const d of err.diagnostics) console.error(formatDiagnostic(d));
      return 1;
    }
    throw err;
  }
  const fixtures = await loadFixtures(dir);
  const harness = await FixtureHarness.start();
  harness.vendor.load(fixtures.flatMap((f) => f.vendor), "replay");
  harness.applyEnv();
  const engine = createEngine(bundle, { logger: new RedactingLogger(() => {}) });

  console.log(pc.bold(`${bundle.vendor.name} connector, end to end on loopback`));
  console.log(pc.dim(`vendor simulator ${harness.vendor.origin} (replaying ${fixtures.length} recorded fixtures), MI emulator ${harness.mi.url}\n`));

  const requests = scenario(fixtures);
  let failures = 0;
  for (const request of requests) {
    const vendorBefore = harness.vendor.received.length;
    const eventsBefore = harness.mi.events.length;
    console.log(pc.cyan(`▶ ${request.payload.operationName}`) + pc.dim(` ${summary(request)}`));
    const ack = (await engine.handle(request, { getRemainingTimeInMillis: () => 30_000 })) as { header: { responseCode: number } };
    await new Promise((r) => setTimeout(r, 50));
    for (const r of harness.vendor.received.slice(vendorBefore)) console.log(pc.dim(`  vendor  ${r.method} ${r.path}`));
    const code = ack.header.responseCode;
    if (code !== 200) failures++;
    console.log(`  ACK     ${code === 200 ? pc.green(String(code)) : pc.red(String(code))} ${JSON.stringify((ack as any).payload ?? {})}`);
    for (const e of harness.mi.events.slice(eventsBefore)) {
      const b = e.body as Record<string, any>;
      console.log(`  event   ${pc.magenta(b.Operation)} StatusCode ${b.StatusCode} (signature verified by the MI emulator)`);
      console.log(indent(JSON.stringify(b, null, 2), 10));
    }
    console.log();
  }
  for (const p of harness.vendor.problems) console.log(pc.yellow(`vendor simulator: ${p.received.method} ${p.received.path}: ${p.reason}`));
  await harness.close();
  console.log(failures ? pc.red(`${failures} operation(s) did not answer 200`) : pc.green(`all ${requests.length} operations answered 200`));
  return failures ? 1 : 0;
}

/** One request per operation from the bundle's fixtures: the plainest one expected to succeed. */
function scenario(fixtures: Fixture[]): ConnectorRequest[] {
  const order = ["AWS.ActivateUser", "AWS.DiscoverDevices", "AWS.SendCommand", "AWS.DeactivateUser"];
  const ok = fixtures
    .filter((f) => f.request && (f.expect.ack as { header?: { responseCode?: number } } | undefined)?.header?.responseCode === 200)
    .sort((a, b) => a.file.length - b.file.length);
  const out: ConnectorRequest[] = [];
  for (const op of order) {
    const f = ok.find((x) => (x.request as unknown as ConnectorRequest)?.payload?.operationName === op);
    if (f) out.push(structuredClone(f.request) as unknown as ConnectorRequest);
  }
  for (const r of out) if (r.header.auth.type === "OAuth2.0") r.header.auth.token = "demo-access-token";
  return out;
}

function summary(r: ConnectorRequest): string {
  const p = r.payload as unknown as Record<string, unknown>;
  return ["deviceDiscoveryId", "connectorDeviceId", "traceId"].filter((k) => p[k]).map((k) => `${k}=${p[k]}`).join(" ");
}

function indent(s: string, n: number): string {
  return s.split("\n").map((l) => " ".repeat(n) + l).join("\n");
}

process.exitCode = await main();
