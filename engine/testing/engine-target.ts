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
import { publicKeySet, publishedKey } from "../webhook/delivery-event.ts";
import { allowedKeyUrl } from "../webhook/key-fetch.ts";

/**
 * The sender's key server for HTTP-signed fixtures: each allowed keyId URL answered with the key
 * the fixture's sender publishes there, anything else 404; nothing leaves the process.
 */
/** Sends a request to `origin` instead of the URL's own (after the engine's host checks on the original). */
function toOrigin(origin: string): typeof fetch {
  return (input, init) => {
    const url = new URL(input instanceof URL ? input.href : typeof input === "string" ? input : input.url);
    const target = new URL(origin);
    url.protocol = target.protocol;
    url.host = target.host;
    return fetch(url, init);
  };
}

function keyServer(published: Map<string, string>): typeof fetch {
  return async (input) => {
    const href = input instanceof URL ? input.href : typeof input === "string" ? input : input.url;
    const doc = published.get(href);
    return doc !== undefined ? new Response(doc, { status: 200, headers: { "content-type": "application/x-pem-file" } }) : new Response("no such key", { status: 404 });
  };
}

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
  const keyUrl = bundle.webhooks?.verify.keyUrl;
  const published = new Map<string, string>();
  for (const w of steps) {
    if (w?.sign?.scheme !== "httpSignature" || !keyUrl) continue;
    try {
      published.set(allowedKeyUrl(w.sign.keyId, keyUrl).href, publishedKey(w.sign));
    } catch {
      // A keyId off the allow-list: the engine refuses it without fetching, so there is nothing to answer.
    }
  }
  const confirms = bundle.webhooks?.handshakes.some((h) => h.confirm !== undefined) ?? false;
  // Confirmation calls go where vendor calls go (C2C_VENDOR_ORIGIN: the simulator), so a fixture lists them as exchanges.
  const fetchOption = confirms && process.env.C2C_VENDOR_ORIGIN ? { fetch: toOrigin(process.env.C2C_VENDOR_ORIGIN) } : {};
  if (published.size > 0) return { webhookOptions: { authenticator: new DeliveryAuthenticator({ fetch: keyServer(published) }), ...fetchOption } };
  if (confirms && "fetch" in fetchOption) return { webhookOptions: fetchOption };
  const keys = steps.flatMap((w) => (w?.sign?.scheme === "jwt" ? publicKeySet(w.sign.publishedJwk ?? w.sign.privateJwk).keys : []));
  if (!jwksUrl || keys.length === 0) return {};
  return { webhookOptions: { authenticator: new DeliveryAuthenticator({ jwks: { localKeySets: { [jwksUrl]: { keys } } } }) } };
}
