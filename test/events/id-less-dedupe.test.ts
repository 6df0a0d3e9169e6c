/**
 * Webhooks whose events carry no id: replays and concurrent copies of a delivery are recognised by
 * the digest of the event's content within `webhooks.duplicateWindowSeconds`, so they produce one
 * DEVICE_EVENT each and never move MI back to a stale value.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startMiEmulator, type MiEmulator } from "../../engine/local/mi-emulator.ts";
import type { CompiledBundle } from "../../engine/mapping/compiled.ts";
import { acmeBundle, contactEvent, rig } from "./helpers.ts";

let mi: MiEmulator;
let idLess: CompiledBundle;

/** The acme bundle as a vendor without event ids or ordering field would be declared. */
function withoutIds(bundle: CompiledBundle, window?: number): CompiledBundle {
  const copy = structuredClone(bundle);
  delete copy.webhooks!.eventId;
  delete copy.webhooks!.order;
  if (window !== undefined) copy.webhooks!.duplicateWindowSeconds = window;
  return copy;
}

beforeAll(async () => {
  mi = await startMiEmulator();
  idLess = withoutIds(await acmeBundle());
});
afterAll(async () => {
  await mi.close();
});
beforeEach(() => mi.reset());

const contactValues = () =>
  mi.events.map((e) => (e.body.MatterEndpoint as { clusters: Array<{ attributes: Record<string, unknown> }> }).clusters[0].attributes["0x0000"]);

describe("webhook events without an event id", () => {
  it("replayed in the order A B A A B A give two events, and MI ends on B's value", async () => {
    const r = rig(idLess, mi);
    const a = { events: [contactEvent("x", true)] };
    const b = { events: [contactEvent("x", false)] };
    for (const delivery of [a, b, a, a, b, a]) expect((await r.deliver(delivery)).statusCode).toBe(200);
    expect(mi.events).toHaveLength(2);
    // BooleanState.StateValue is true for a closed contact: A (open) then B (closed), nothing after.
    expect(contactValues()).toEqual([false, true]);
  });

  it("five concurrent copies of one delivery give one event; the copies turned away are redelivered as duplicates", async () => {
    const r = rig(idLess, mi);
    const delivery = { events: [contactEvent("y", true)] };
    const first = await Promise.all(Array.from({ length: 5 }, () => r.deliver(delivery)));
    const turnedAway = first.filter((res) => res.statusCode !== 200);
    for (const res of turnedAway) expect(res.statusCode).toBeGreaterThanOrEqual(500);
    for (let i = 0; i < turnedAway.length; i++) expect((await r.deliver(delivery)).statusCode).toBe(200);
    expect(mi.events).toHaveLength(1);
  });

  it("with duplicateWindowSeconds: 0 every delivery is processed again (the opt-out)", async () => {
    const r = rig(withoutIds(idLess, 0), mi);
    const a = { events: [contactEvent("z", true)] };
    const b = { events: [contactEvent("z", false)] };
    for (const delivery of [a, b, a]) expect((await r.deliver(delivery)).statusCode).toBe(200);
    expect(mi.events).toHaveLength(3);
  });
});
