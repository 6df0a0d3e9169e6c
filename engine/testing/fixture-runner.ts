/**
 * Runs fixture tests: the same runner for `npm test`, `c2c test` and the built-artifact check.
 * A harness starts the loopback vendor simulator and MI emulator once; each fixture loads its
 * exchanges, invokes a target (the engine in-process, or the built Lambda artifact) with its MI
 * request, waits for the events (hand-off work included) and compares ACK, vendor requests and
 * SendConnectorEvent bodies with the expectation.
 */
import type { MiEmulator } from "../local/mi-emulator.ts";
import { LOCAL_TEST_CREDENTIALS, startMiEmulator } from "../local/mi-emulator.ts";
import { startSecretsManagerEmulator, type SecretsManagerEmulator } from "../local/secrets-manager-emulator.ts";
import { VendorSimulator } from "./vendor-simulator.ts";
import type { Fixture } from "./fixtures.ts";
import { jsonDiff, subsetMismatches } from "./compare.ts";

/** Something that takes a Lambda event: an Engine, or the handler exported by a built artifact. */
export interface InvokeTarget {
  invoke(event: unknown, context?: { getRemainingTimeInMillis(): number; awsRequestId?: string }): Promise<unknown>;
}

export interface FixtureResult {
  fixture: Fixture;
  passed: boolean;
  failures: string[];
  ack: unknown;
  events: unknown[];
  durationMs: number;
}

export const FIXTURE_TOKEN = "fixture-access-token-0000";
export const FIXTURE_REGION = "us-east-1";
export const FIXTURE_CLIENT = { id: "fixture-client-id", secret: "fixture-client-secret" };

/** Loopback servers shared by the fixtures of a run, and the environment that points a target at them. */
export class FixtureHarness {
  private secretsEmulator?: SecretsManagerEmulator;

  private constructor(
    readonly vendor: VendorSimulator,
    readonly mi: MiEmulator,
  ) {}

  static async start(): Promise<FixtureHarness> {
    const [vendor, mi] = await Promise.all([VendorSimulator.start(), startMiEmulator({ region: FIXTURE_REGION })]);
    return new FixtureHarness(vendor, mi);
  }

  /** Environment a target reads at creation (the built artifact reads nothing else). */
  env(): Record<string, string> {
    const env: Record<string, string> = {
      AWS_REGION: FIXTURE_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_TEST_CREDENTIALS.secretAccessKey,
      C2C_MI_ENDPOINT: this.mi.url,
      C2C_VENDOR_ORIGIN: this.vendor.origin,
      C2C_OAUTH_CLIENT_ID: FIXTURE_CLIENT.id,
      C2C_OAUTH_CLIENT_SECRET: FIXTURE_CLIENT.secret,
      C2C_LOG_LEVEL: "error",
    };
    if (this.secretsEmulator) env.C2C_SECRETS_MANAGER_ENDPOINT = this.secretsEmulator.endpoint;
    return env;
  }

  /** Sets the harness environment on process.env (targets read it when they are created). */
  applyEnv(): void {
    Object.assign(process.env, this.env());
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
  }

  /** Prepares the servers for one fixture and returns the request to send. */
  async prepare(fixture: Fixture): Promise<Record<string, unknown>> {
    this.vendor.load(fixture.vendor, "strict");
    this.mi.reset();
    const request = structuredClone(fixture.request) as any;
    const auth = request?.header?.auth;
    if (auth?.type === "OAuth2.0") auth.token = fixture.auth?.token ?? FIXTURE_TOKEN;
    if (auth?.type === "GeneralAuthorization") {
      await this.secretsEmulator?.close();
      this.secretsEmulator = await startSecretsManagerEmulator({
        secrets: [{ arn: auth.secretsManager.arn, versionId: auth.secretsManager.versionId, value: fixture.auth?.secret ?? {} }],
      });
    }
    this.applyEnv();
    return request;
  }

  /**
   * Runs one fixture. `target` may be a factory, called after the environment is set up, so a
   * fresh engine (fresh state) serves each fixture.
   */
  async run(
    target: InvokeTarget | ((fixture: Fixture) => InvokeTarget | Promise<InvokeTarget>),
    fixture: Fixture,
    opts: { settleMs?: number; timeoutMs?: number } = {},
  ): Promise<FixtureResult> {
    const started = Date.now();
    const failures: string[] = [];
    const request = await this.prepare(fixture);
    let ack: unknown;
    try {
      const t = typeof target === "function" ? await target(fixture) : target;
      ack = await t.invoke(request, { getRemainingTimeInMillis: () => 30_000, awsRequestId: "fixture" });
    } catch (err) {
      failures.push(`the target threw instead of answering: ${err instanceof Error ? err.message : String(err)}`);
    }
    const expectedEvents = fixture.expect.events ?? [];
    // Events may arrive after the ACK (handed-off work): wait for the expected count, then a little
    // longer to catch unexpected extra events.
    if (expectedEvents.length) {
      await this.mi.waitForEvents(expectedEvents.length, opts.timeoutMs ?? 5000).catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, opts.settleMs ?? 30));
    const events = this.mi.events.map((e) => ({ ConnectorId: e.connectorId, ...(e.body as object) }));

    const ackMismatch = subsetMismatches(fixture.expect.ack, ack);
    if (ackMismatch.length) failures.push(`ACK differs (- expected, + actual):\n${jsonDiff(fixture.expect.ack, pick(ack, fixture.expect.ack))}`);
    for (const p of this.vendor.problems) {
      failures.push(`vendor request ${p.received.method} ${p.received.path} did not match: ${p.reason}`);
    }
    if ((fixture.expect.vendorRequests ?? "exact") === "exact") {
      for (const u of this.vendor.unused()) failures.push(`expected vendor request ${u.request.method} ${u.request.path} was not made`);
    }
    if (events.length !== expectedEvents.length) {
      failures.push(`expected ${expectedEvents.length} event(s), MI received ${events.length}`);
    }
    expectedEvents.forEach((exp, i) => {
      const act = events[i];
      if (act === undefined) return;
      if (subsetMismatches(exp, act).length) failures.push(`event ${i + 1} differs (- expected, + actual):\n${jsonDiff(exp, pick(act, exp))}`);
    });
    for (const r of this.mi.rejected) failures.push(`MI emulator rejected an event: ${r.status} ${r.reason}`);
    return { fixture, passed: failures.length === 0, failures, ack, events, durationMs: Date.now() - started };
  }

  async close(): Promise<void> {
    await Promise.all([this.vendor.close(), this.mi.close(), this.secretsEmulator?.close()]);
  }
}

/** The actual value restricted to the keys the expectation names, so diffs show only what matters. */
function pick(actual: unknown, expected: unknown): unknown {
  if (expected && typeof expected === "object" && !Array.isArray(expected) && actual && typeof actual === "object" && !Array.isArray(actual)) {
    return Object.fromEntries(Object.keys(expected).map((k) => [k, pick((actual as any)[k], (expected as any)[k])]));
  }
  if (Array.isArray(expected) && Array.isArray(actual)) return actual.map((a, i) => pick(a, expected[i]));
  return actual;
}
