import { randomUUID } from "node:crypto";
import { beforeEach, describe, expect, it } from "vitest";
import type { StateStore } from "../../engine/store/store.ts";
import { StateStoreInputError } from "../../engine/store/codec.ts";

/** A clock tests move by hand; starts on a whole second so second- and ms-based stores agree. */
export class ManualClock {
  ms = Date.UTC(2025, 0, 1, 12, 0, 0);
  now = (): number => this.ms;
  advanceSeconds(s: number): void {
    this.ms += s * 1000;
  }
}

export type StoreFactory = (clock: ManualClock) => StateStore | Promise<StateStore>;

/**
 * The behaviour every StateStore backend must share. Each test uses its own key prefix so
 * backends with a shared table need no cleanup between tests.
 */
export function describeStateStoreContract(name: string, factory: StoreFactory): void {
  describe(`StateStore contract: ${name}`, () => {
    let clock: ManualClock;
    let store: StateStore;
    let prefix: string;
    const k = (suffix: string) => `${prefix}:${suffix}`;

    beforeEach(async () => {
      clock = new ManualClock();
      store = await factory(clock);
      prefix = `t-${randomUUID()}`;
    });

    it("get of a missing key is undefined", async () => {
      expect(await store.get(k("missing"))).toBeUndefined();
    });

    it("holds a large value (deferred work: a discovery event of 100 capability reports is ~300 KB of JSON)", async () => {
      const devices = Array.from({ length: 3000 }, (_, i) => ({ ConnectorDeviceId: `d073d5${String(i).padStart(6, "0")}`, CapabilityReport: { endpoints: [{ id: "1", clusters: [{ id: "0x0006", attributes: [{ id: "0x0000", value: i % 2 === 0 }] }] }] } }));
      expect(JSON.stringify(devices).length).toBeGreaterThan(400 * 1024);
      await store.put(k("big"), { devices }, 60);
      expect(await store.get(k("big"))).toEqual({ devices });
      expect(await store.putIfAbsent(k("big2"), { devices }, 60)).toBe(true);
      expect(await store.get(k("big2"))).toEqual({ devices });
    });

    it("putIfAbsent creates once, then reports the key exists and keeps the first value", async () => {
      expect(await store.putIfAbsent(k("a"), { n: 1 }, 60)).toBe(true);
      expect(await store.putIfAbsent(k("a"), { n: 2 }, 60)).toBe(false);
      expect(await store.get(k("a"))).toEqual({ n: 1 });
    });

    it("10 concurrent putIfAbsent on one key: exactly one wins, and its value is stored", async () => {
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => store.putIfAbsent(k("race"), { winner: i }, 60)),
      );
      const winners = results.flatMap((won, i) => (won ? [i] : []));
      expect(winners).toHaveLength(1);
      expect(await store.get(k("race"))).toEqual({ winner: winners[0] });
    });

    it("concurrent putIfAbsent on different keys all win", async () => {
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => store.putIfAbsent(k(`distinct-${i}`), i, 60)),
      );
      expect(results.every(Boolean)).toBe(true);
    });

    it("an entry from putIfAbsent lives for its TTL, then counts as absent", async () => {
      expect(await store.putIfAbsent(k("ttl"), "first", 10)).toBe(true);
      clock.advanceSeconds(9);
      expect(await store.get(k("ttl"))).toBe("first");
      expect(await store.putIfAbsent(k("ttl"), "second", 10)).toBe(false);
      clock.advanceSeconds(1);
      expect(await store.get(k("ttl"))).toBeUndefined();
      expect(await store.putIfAbsent(k("ttl"), "third", 10)).toBe(true);
      expect(await store.get(k("ttl"))).toBe("third");
    });

    it("put with a TTL expires; put without one does not", async () => {
      await store.put(k("short"), 1, 5);
      await store.put(k("forever"), 2);
      clock.advanceSeconds(5);
      expect(await store.get(k("short"))).toBeUndefined();
      clock.advanceSeconds(10 * 365 * 24 * 3600);
      expect(await store.get(k("forever"))).toBe(2);
      expect(await store.putIfAbsent(k("forever"), 3, 5)).toBe(false);
    });

    it("put overwrites, and a later put clears a previous TTL", async () => {
      await store.put(k("p"), { v: 1 }, 5);
      await store.put(k("p"), { v: 2 });
      clock.advanceSeconds(60);
      expect(await store.get(k("p"))).toEqual({ v: 2 });
    });

    it("delete removes a key so putIfAbsent can create it again; deleting a missing key is fine", async () => {
      await store.put(k("d"), "x");
      await store.delete(k("d"));
      expect(await store.get(k("d"))).toBeUndefined();
      await expect(store.delete(k("never-there"))).resolves.toBeUndefined();
      expect(await store.putIfAbsent(k("d"), "y", 30)).toBe(true);
    });

    it("round-trips nested JSON and top-level scalars", async () => {
      const nested = {
        user: { id: "u-1", tags: ["a", "b"], prefs: { level: 3.5, on: true, none: null } },
        list: [1, [2, [3, { deep: "ü ✓ 日本" }]]],
        empty: { obj: {}, arr: [], str: "" },
        big: 2 ** 52,
        negative: -0.25,
      };
      await store.put(k("nested"), nested);
      expect(await store.get(k("nested"))).toEqual(nested);
      for (const [i, scalar] of (["text", 42, false, null] as const).entries()) {
        await store.put(k(`scalar-${i}`), scalar);
        expect(await store.get(k(`scalar-${i}`))).toBe(scalar);
      }
    });

    it("a value handed back is a copy: mutating it does not change the store", async () => {
      await store.put(k("copy"), { list: [1] });
      const got = await store.get<{ list: number[] }>(k("copy"));
      got!.list.push(2);
      expect(await store.get(k("copy"))).toEqual({ list: [1] });
    });

    it("rejects bad keys, TTLs and values with a clear error", async () => {
      await expect(store.get("")).rejects.toBeInstanceOf(StateStoreInputError);
      await expect(store.put("x".repeat(2049), 1)).rejects.toBeInstanceOf(StateStoreInputError);
      await expect(store.putIfAbsent(k("bad"), 1, 0)).rejects.toThrow(/ttlSeconds/);
      await expect(store.putIfAbsent(k("bad"), 1, Number.NaN)).rejects.toThrow(/ttlSeconds/);
      await expect(store.put(k("bad"), 1, -5)).rejects.toThrow(/ttlSeconds/);
      await expect(store.put(k("bad"), { n: 10n })).rejects.toThrow(/JSON-serialisable/);
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      await expect(store.put(k("bad"), circular)).rejects.toThrow(/JSON-serialisable/);
      expect(await store.get(k("bad"))).toBeUndefined();
    });
  });
}
