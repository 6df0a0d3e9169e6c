/**
 * The engine as a fixture target: a fresh engine per fixture (fresh in-memory state), wired by
 * the same factory as production, reading the environment the harness set.
 */
import type { CompiledBundle } from "../mapping/compiled.ts";
import type { EngineDeps } from "../handler/engine.ts";
import { createEngine } from "../handler/create-handler.ts";
import { MemoryStateStore } from "../store/memory-store.ts";
import { RedactingLogger, memorySink, type LogRecord } from "../log/json-logger.ts";
import { FIXTURE_TOKEN, type FixtureRunContext, type InvokeTarget } from "./fixture-runner.ts";
import type { Fixture } from "./fixtures.ts";
import { applyGiven } from "./fixture-given.ts";
import { DeliveryAuthenticator } from "../webhook/authenticate.ts";
import { publicKeySet } from "../webhook/delivery-event.ts";

export function engineTarget(
  bundle: CompiledBundle,
  opts: { logs?: LogRecord[]; overrides?: Partial<EngineDeps> } = {},
): (fixture: Fixture, run?: FixtureRunContext) => Promise<InvokeTarget> {
  return async (fixture, run) => {
    const b = fixture.settings ? { ...bundle, settings: { ...bundle.settings, ...fixture.settings } } : bundle;
    const logger = new RedactingLogger(opts.logs ? memorySink(opts.logs) : () => {});
    // The fixture's clock (the job queue's, which only `wait` steps move) is the engine's too:
    // quota minutes and delays pass with the fixture's waits, never slept. A fixture that starts
    // from a given state and has no queue stops the clock at its start, so the quota minute its
    // counts were written in cannot end under it.
    const startedAt = Date.now();
    const now = run?.now ?? (fixture.given ? () => startedAt : Date.now);
    const store = new MemoryStateStore({ now });
    await applyGiven(b, fixture, store, FIXTURE_TOKEN, now);
    const engine = createEngine(b, { store, logger, now, ...senderKeys(b, fixture), ...opts.overrides });
    return { invoke: (event, context) => engine.handle(event, context) };
  };
}

/**
 * A fixture that signs its deliveries with a JWT (`sign: { scheme: jwt }`) plays the sender: the
 * public set of its test key stands in for the bundle's `jwksUrl`, which is not fetched.
 */
export function senderKeys(bundle: CompiledBundle, fixture: Fixture): Pick<EngineDeps, "webhookOptions"> {
  const jwksUrl = bundle.webhooks?.verify.jwksUrl;
  const steps = [fixture.webhook, ...(fixture.deliveries ?? []).map((s) => s.webhook)];
  const keys = steps.flatMap((w) => (w?.sign?.scheme === "jwt" ? publicKeySet(w.sign.privateJwk).keys : []));
  if (!jwksUrl || keys.length === 0) return {};
  return { webhookOptions: { authenticator: new DeliveryAuthenticator({ jwks: { localKeySets: { [jwksUrl]: { keys } } } }) } };
}
