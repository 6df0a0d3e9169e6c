/**
 * What a fixture starts from (engine target): `given.quotaUsed`, requests of the bundle's quotas
 * already counted in the current minute for the fixture's user (or the connector), written to
 * the fresh state store before the first step, so a fixture shows a documented limit of 100
 * requests per minute without making 100. And how a step's queued jobs are compared with the
 * ones it expects (a quota's delay depends on the clock: bounds instead of one value).
 */
import type { CompiledBundle, CompiledCall } from "../mapping/compiled.ts";
import { bundleQuotas } from "../quota/bundle-quotas.ts";
import { QuotaGate } from "../quota/quota-gate.ts";
import { vendorAuth, type AuthMaterial } from "../runtime/credentials.ts";
import type { StateStore } from "../store/store.ts";
import type { ExpectedJob, Fixture } from "./fixtures.ts";
import type { QueuedJob } from "./fixture-job-queue.ts";

/**
 * Counts the fixture's `given.quotaUsed` into `store`, in the minute of `now`: the fixture's
 * clock, which does not move under it (the engine target stops it, or only `wait` steps move it),
 * so the fixture sees exactly the count it names.
 */
export async function applyGiven(bundle: CompiledBundle, fixture: Fixture, store: StateStore, token: string, now: () => number = Date.now): Promise<void> {
  const used = fixture.given?.quotaUsed;
  if (!used || Object.keys(used).length === 0) return;
  const quotas = bundleQuotas(bundle);
  const gate = new QuotaGate(store, bundle.vendor.id, now);
  const credentials = JSON.stringify(vendorAuth(bundle, { auth: "token" } as CompiledCall, material(fixture, token)));
  for (const [name, count] of Object.entries(used)) {
    const quota = quotas.get(name);
    // Validation names the line of an unknown quota; a fixture run without it still says why.
    if (!quota) throw new Error(`given.quotaUsed names ${JSON.stringify(name)}, which is not a quota of this bundle (${[...quotas.keys()].join(", ") || "none declared"})`);
    await gate.presetUse(quota, credentials, count);
  }
}

/** The credentials the fixture's calls carry: the OAuth token the runner puts in, or the General Authorization secret. */
function material(fixture: Fixture, token: string): AuthMaterial {
  const requests = [fixture.request, ...(fixture.deliveries ?? []).map((d) => d.request)];
  const general = requests.some((r) => (r as any)?.header?.auth?.type === "GeneralAuthorization");
  if (general) return { kind: "general", secret: fixture.auth?.secret ?? {} };
  return { kind: "oauth", token: fixture.auth?.token ?? token };
}

/** Whether the jobs a step queued are the ones it expects: same operations in order, each delay exact or within its bounds. */
export function jobsMatch(expected: ExpectedJob[], actual: QueuedJob[]): boolean {
  if (expected.length !== actual.length) return false;
  return expected.every((exp, i) => {
    const act = actual[i]!;
    if (exp.operation !== act.operation) return false;
    const d = exp.delaySeconds;
    if (typeof d === "number") return d === act.delaySeconds;
    return (d.min === undefined || act.delaySeconds >= d.min) && (d.max === undefined || act.delaySeconds <= d.max);
  });
}
