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
import { VendorSimulator, type SimulatorProblem } from "./vendor-simulator.ts";
import { usesJobQueue, type ExpectedHttp, type Fixture, type FixtureStep } from "./fixtures.ts";
import { FixtureJobQueue, type QueuedJob } from "./fixture-job-queue.ts";
import { POLL_TICK_SOURCE } from "../polling/schedule.ts";
import { deliveryEvent, withEnv } from "../webhook/delivery-event.ts";
import { subsetDiff, subsetMismatches } from "./compare.ts";
import { jobsMatch } from "./fixture-given.ts";

/** Something that takes a Lambda event: an Engine, or the handler exported by a built artifact. */
export interface InvokeTarget {
  invoke(event: unknown, context?: { getRemainingTimeInMillis(): number; awsRequestId?: string }): Promise<unknown>;
}

/** What a target factory learns about the run: the fixture's clock, when it has one (its job queue's). */
export interface FixtureRunContext {
  now?: () => number;
}

export interface FixtureResult {
  fixture: Fixture;
  passed: boolean;
  failures: string[];
  /** The answer of the last step. */
  ack: unknown;
  /** The answer of every step, in order (one for a plain fixture). */
  answers: unknown[];
  events: unknown[];
  /** Requests the vendor simulator could not match (what the engine actually sent). */
  vendorProblems: SimulatorProblem[];
  /** Every vendor request the engine made, without headers (they carry credentials). */
  vendorRequests: Array<{ method: string; path: string; query: Record<string, string | string[]>; body: unknown }>;
  durationMs: number;
}

export const FIXTURE_TOKEN = "fixture-access-token-0000";
export const FIXTURE_REGION = "us-east-1";
export const FIXTURE_CLIENT = { id: "fixture-client-id", secret: "fixture-client-secret" };

/** Loopback servers shared by the fixtures of a run, and the environment that points a target at them. */
export class FixtureHarness {
  private secretsEmulator?: SecretsManagerEmulator;
  /** Started for the first fixture with poll ticks, waits or expected jobs. */
  private jobQueue?: FixtureJobQueue;

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

  /** Prepares the servers for one fixture and returns the (first) MI request to send, if any. */
  async prepare(fixture: Fixture): Promise<Record<string, unknown> | undefined> {
    this.vendor.load(fixture.vendor, "strict");
    this.mi.reset();
    const requests = [fixture.request, ...(fixture.deliveries ?? []).map((d) => d.request)].filter((r) => r !== undefined);
    const general = requests.map((r) => (r as any)?.header?.auth).find((a) => a?.type === "GeneralAuthorization");
    if (general) {
      await this.secretsEmulator?.close();
      this.secretsEmulator = await startSecretsManagerEmulator({
        secrets: [{ arn: general.secretsManager.arn, versionId: general.secretsManager.versionId, value: fixture.auth?.secret ?? {} }],
      });
    }
    this.applyEnv();
    return fixture.request === undefined ? undefined : this.miRequest(fixture, fixture.request);
  }

  /** The request with the fixture's credentials in place. */
  private miRequest(fixture: Fixture, raw: Record<string, unknown>): Record<string, unknown> {
    const request = structuredClone(raw) as any;
    const auth = request?.header?.auth;
    if (auth?.type === "OAuth2.0") auth.token = fixture.auth?.token ?? FIXTURE_TOKEN;
    return request;
  }

  /**
   * Runs one fixture. `target` may be a factory, called after the environment is set up, so a
   * fresh engine (fresh state) serves each fixture. The steps of a fixture (one MI request, one
   * webhook delivery, or `deliveries`) all go to the same target, in order.
   */
  async run(
    target: InvokeTarget | ((fixture: Fixture, run: FixtureRunContext) => InvokeTarget | Promise<InvokeTarget>),
    fixture: Fixture,
    opts: { settleMs?: number; timeoutMs?: number } = {},
  ): Promise<FixtureResult> {
    const started = Date.now();
    const failures: string[] = [];
    await this.prepare(fixture);
    const queue = usesJobQueue(fixture) ? await this.startJobQueue() : undefined;
    const restoreEnv = withEnv({ ...queue?.env(), ...fixture.env });
    const steps: FixtureStep[] = fixture.deliveries ?? [
      fixture.webhook !== undefined
        ? { webhook: fixture.webhook, expect: { http: fixture.expect.http } }
        : { request: fixture.request, expect: { ack: fixture.expect.ack } },
    ];
    let ack: unknown;
    const answers: unknown[] = [];
    /** The event each step sent, for `replay`. */
    const built: unknown[] = [];
    let injected = 0;
    let t: InvokeTarget | undefined;
    try {
      try {
        t = typeof target === "function" ? await target(fixture, queue ? { now: () => queue.now() } : {}) : target;
      } catch (err) {
        // A fixture whose `given` cannot be set up (an unknown quota) fails with the reason.
        failures.push(`the fixture could not be set up: ${err instanceof Error ? err.message : String(err)}`);
      }
      for (const [i, step] of (t ? steps : []).entries()) {
        const label = steps.length > 1 ? `step ${i + 1}: ` : "";
        if (step.miFault) {
          this.mi.inject(step.miFault);
          injected += step.miFault.times;
        }
        let answer: unknown;
        const expected = step.expect ?? {};
        if (step.wait !== undefined) {
          queue?.advance(step.wait.seconds);
          answers.push(undefined);
        } else {
          try {
            const event =
              step.replay !== undefined
                ? replayed(built, step.replay)
                : step.poll !== undefined
                  ? { source: POLL_TICK_SOURCE }
                  : step.webhook !== undefined
                    ? deliveryEvent(step.webhook, { ...process.env })
                    : this.miRequest(fixture, step.request ?? {});
            built[i] = event;
            answer = await t!.invoke(event, { getRemainingTimeInMillis: () => 30_000, awsRequestId: `fixture-${i + 1}` });
          } catch (err) {
            failures.push(`${label}the target threw instead of answering: ${err instanceof Error ? err.message : String(err)}`);
            answers.push(undefined);
            continue;
          }
          ack = answer;
          answers.push(answer);
        }
        if (queue) {
          // The jobs this step queued, and the ones due now run, as Lambda's SQS event source would.
          const jobs: QueuedJob[] = [];
          failures.push(...(await queue.runDue(t!, (j) => jobs.push(...j))).map((m) => label + m));
          if (expected.jobs !== undefined && !jobsMatch(expected.jobs, jobs)) {
            failures.push(`${label}jobs queued: ${JSON.stringify(jobs)}, expected ${JSON.stringify(expected.jobs)}`);
          }
        }
        if (expected.round !== undefined && subsetMismatches(expected.round, answer).length) {
          failures.push(`${label}poll round answer differs (- expected, + actual):\n${subsetDiff(expected.round, answer)}`);
        }
        if (expected.ack !== undefined && subsetMismatches(expected.ack, answer).length) {
          failures.push(`${label}ACK differs (- expected, + actual):\n${subsetDiff(expected.ack, answer)}`);
        }
        if (expected.http !== undefined) failures.push(...httpMismatches(expected.http, answer).map((m) => label + m));
      }
    } finally {
      restoreEnv();
    }
    const expectedEvents = fixture.expect.events ?? [];
    // Events may arrive after the ACK (handed-off work): wait for the expected count, then a little
    // longer to catch unexpected extra events.
    if (expectedEvents.length) {
      await this.mi.waitForEvents(expectedEvents.length, opts.timeoutMs ?? 5000).catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, opts.settleMs ?? 30));
    const events = this.mi.events.map((e) => ({ ConnectorId: e.connectorId, ...(e.body as object) }));
    // Nothing accepted is lost: a job nobody ran is a finding (a read-back never waited for).
    if (queue) failures.push(...queue.leftovers());

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
      if (subsetMismatches(exp, act).length) failures.push(`event ${i + 1} differs (- expected, + actual):\n${subsetDiff(exp, act)}`);
    });
    // Faults the fixture injected are expected rejections; anything else is a finding.
    const rejected = this.mi.rejected.filter((r) => {
      if (injected > 0 && r.reason.endsWith(": injected fault")) {
        injected--;
        return false;
      }
      return true;
    });
    for (const r of rejected) failures.push(`MI emulator rejected an event: ${r.status} ${r.reason}`);
    const vendorProblems = [...this.vendor.problems];
    const vendorRequests = this.vendor.received.map(({ method, path, query, body }) => ({ method, path, query, body }));
    return { fixture, passed: failures.length === 0, failures, ack, answers, events, vendorProblems, vendorRequests, durationMs: Date.now() - started };
  }

  private async startJobQueue(): Promise<FixtureJobQueue> {
    this.jobQueue ??= await FixtureJobQueue.start(FIXTURE_REGION);
    this.jobQueue.reset();
    return this.jobQueue;
  }

  async close(): Promise<void> {
    await Promise.all([this.vendor.close(), this.mi.close(), this.secretsEmulator?.close(), this.jobQueue?.close()]);
  }
}

function replayed(built: unknown[], step: number): unknown {
  const event = built[step - 1];
  if (event === undefined) throw new Error(`replay: ${step} names no earlier step that sent something`);
  return structuredClone(event);
}

/** Status, and body (exact text, or a subset of the JSON answer), of an HTTP answer. */
function httpMismatches(expected: ExpectedHttp, answer: unknown): string[] {
  const a = answer as { statusCode?: unknown; body?: unknown } | undefined;
  if (!a || typeof a.statusCode !== "number") return [`expected an HTTP answer, got ${JSON.stringify(answer)}`];
  const out: string[] = [];
  if (a.statusCode !== expected.status) out.push(`HTTP status ${a.statusCode}, expected ${expected.status} (body: ${String(a.body)})`);
  if (expected.body !== undefined) {
    if (typeof expected.body === "string") {
      if (a.body !== expected.body) out.push(`HTTP body ${JSON.stringify(a.body)}, expected ${JSON.stringify(expected.body)}`);
    } else {
      let parsed: unknown;
      try {
        parsed = JSON.parse(String(a.body));
      } catch {
        parsed = a.body;
      }
      if (subsetMismatches(expected.body, parsed).length) out.push(`HTTP body differs (- expected, + actual):\n${subsetDiff(expected.body, parsed)}`);
    }
  }
  return out;
}
