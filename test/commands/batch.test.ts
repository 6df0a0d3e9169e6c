/** Batched writes: how member requests of one call combine (engine/operations/command/batch.ts). */
import { describe, expect, it } from "vitest";
import { batchKey, combine, deepMerge } from "../../engine/operations/command/batch.ts";
import type { StoredRequest } from "../../engine/operations/command/plan.ts";

const req = (json: unknown, path = "/devices/{id}/commands"): StoredRequest => ({
  method: "POST",
  baseUrl: "https://api.example.test",
  path,
  pathParams: { id: "d1" },
  query: {},
  headers: {},
  json,
  timeoutMs: 1000,
});

describe("batched writes", () => {
  it("merge: deep merges bodies in request order; later leaves win, arrays are replaced", () => {
    expect(deepMerge({ on: { on: true }, list: [1] }, { on: { on: false }, dimming: { brightness: 5 }, list: [2] })).toEqual({
      on: { on: false },
      dimming: { brightness: 5 },
      list: [2],
    });
    const out = combine({ merge: "deep" }, [
      { id: 0, request: req({ on: { on: true } }) },
      { id: 1, request: req({ dimming: { brightness: 50 } }) },
      { id: 2, request: req({ color: { xy: { x: 0.4, y: 0.3 } } }) },
    ]);
    expect(out).toEqual([{ request: req({ on: { on: true }, dimming: { brightness: 50 }, color: { xy: { x: 0.4, y: 0.3 } } }), members: [0, 1, 2] }]);
  });

  it("items: arrays concatenated in order, at most `max` per request, other fields merged", () => {
    const cmd = (n: number) => ({ component: "main", command: `c${n}` });
    const out = combine({ items: "commands", max: 2 }, [
      { id: 0, request: req({ commands: [cmd(1), cmd(2)], meta: { a: 1 } }) },
      { id: 1, request: req({ commands: [cmd(3)], meta: { b: 2 } }) },
      { id: 2, request: req({ commands: cmd(4) }) },
    ]);
    expect(out.map((o) => o.request.json)).toEqual([
      { meta: { a: 1, b: 2 }, commands: [cmd(1), cmd(2)] },
      { meta: { a: 1, b: 2 }, commands: [cmd(3), cmd(4)] },
    ]);
    expect(out.map((o) => o.members)).toEqual([[0], [1, 2]]);
  });

  it("requests to another URL, query or header never share a batch", () => {
    const a = req({});
    expect(batchKey("set", a)).toBe(batchKey("set", req({ other: true })));
    expect(batchKey("set", a)).not.toBe(batchKey("set", req({}, "/other/{id}")));
    expect(batchKey("set", a)).not.toBe(batchKey("set", { ...a, pathParams: { id: "d2" } }));
    expect(batchKey("set", a)).not.toBe(batchKey("set", { ...a, headers: { "X-Mode": "1" } }));
  });
});
