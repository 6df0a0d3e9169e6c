/**
 * The fast path gives JSONata's answer or steps aside: differential checks on every expression
 * of every bundle against the bundles' recorded vendor data, and on hand-picked corner cases.
 */
import jsonata from "jsonata";
import { describe, expect, it } from "vitest";
import { listBundles, loadBundleOrThrow } from "../../engine/mapping/bundle.ts";
import { loadFixtures } from "../../engine/testing/fixtures.ts";
import { Bail, compileFast } from "../../engine/runtime/fast-path.ts";
import { registerConversionFunctions } from "../../engine/runtime/functions.ts";
import { registerNativeBuiltins } from "../../engine/runtime/builtins.ts";

async function viaJsonata(src: string, input: unknown, bindings: Record<string, unknown>): Promise<{ value?: unknown; error?: boolean }> {
  // As the engine evaluates: JSONata with the native built-ins (themselves checked against
  // JSONata's own in builtins.test.ts).
  const e = registerNativeBuiltins(registerConversionFunctions(jsonata(src)));
  try {
    const v = await e.evaluate(input, bindings);
    return { value: Array.isArray(v) ? Array.from(v) : v };
  } catch {
    return { error: true };
  }
}

function viaFast(src: string, input: unknown, bindings: Record<string, unknown>): { value?: unknown; error?: boolean; bail?: boolean; none?: boolean } {
  const f = compileFast(jsonata(src).ast() as Record<string, any>);
  if (!f) return { none: true };
  try {
    return { value: f(input, bindings) };
  } catch (err) {
    return err instanceof Bail ? { bail: true } : { error: true };
  }
}

function expressions(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => expressions(v, out));
  else if (value && typeof value === "object") {
    const o = value as Record<string, unknown>;
    if (typeof o.src === "string" && typeof o.at === "string") out.push(o.src);
    else Object.values(o).forEach((v) => expressions(v, out));
  }
  return out;
}

function samples(value: unknown, out: unknown[] = []): unknown[] {
  if (Array.isArray(value)) {
    out.push(value);
    value.forEach((v) => samples(v, out));
  } else if (value && typeof value === "object") {
    out.push(value);
    Object.values(value).forEach((v) => samples(v, out));
  }
  return out;
}

describe("fast path against JSONata on the bundles", async () => {
  for (const dir of await listBundles("mappings")) {
    it(`agrees on every expression of ${dir}`, async () => {
      const bundle = await loadBundleOrThrow(dir);
      const srcs = [...new Set(expressions(bundle))];
      const fixtures = await loadFixtures(dir);
      const inputs = fixtures.flatMap((f) => f.vendor.flatMap((x) => samples(x.response.body))).slice(0, 60);
      const bindingsList = [
        { settings: bundle.settings, fields: { Level: 127, TransitionTime: 20, Hue: 0, Saturation: 254, ColorTemperatureMireds: 370 }, value: true, deviceId: "abc", device: inputs[0] },
        { settings: bundle.settings, fields: { Level: 0, TransitionTime: null }, value: false, deviceId: "x:y" },
      ];
      let fastUsed = 0;
      for (const src of srcs) {
        for (const input of [undefined, ...inputs]) {
          for (const b of bindingsList) {
            const bindings = { ...b, response: input };
            const f = viaFast(src, input, bindings);
            if (f.none || f.bail) continue;
            fastUsed++;
            const j = await viaJsonata(src, input, bindings);
            expect({ src, ...f }).toEqual({ src, ...j });
          }
        }
      }
      expect(fastUsed).toBeGreaterThan(0);
    });
  }
});

describe("fast path corner cases", () => {
  const cases: Array<[string, unknown, Record<string, unknown>?]> = [
    ["a.b", { a: [{ b: 1 }, { b: 2 }] }],
    ["a = 1", { a: "1" }],
    ["a = b", { a: { x: 1 }, b: { x: 1 } }],
    ["a > b", { a: 1, b: "2" }],
    ["a > 1", {}],
    ["a ? 'y' : 'n'", { a: [] }],
    ["a ? 'y' : 'n'", { a: {} }],
    ["a ? 'y' : 'n'", { a: 0 }],
    ["a ? 'y' : 'n'", { a: "" }],
    ["a and b", { a: 1, b: "x" }],
    ["a or b", { a: null, b: 0 }],
    ["'k:' & a", { a: 0.1 + 0.2 }],
    ["'k:' & a", { a: 2703 }],
    ["'k:' & a", { a: true }],
    ["'k:' & a", {}],
    ["a + b", { a: 1 }],
    ["a / b", { a: 1, b: 0 }],
    ["-a", { a: 3 }],
    ["$levelFromFraction(a)", { a: "0.5" }],
    ["$levelFromFraction(a)", { a: 0.5 }],
    ["$levelFromFraction(a)", {}],
    ["{ 'x': a, 'y': b }", { a: 1 }],
    ["$device.power = 'on'", {}, { device: { power: "on" } }],
    ["$", { a: 1 }],
    ["undefined", { a: 1 }],
    ["a in ['x', 'y']", { a: "x" }],
    ["a in ['x', 'y']", { a: "z" }],
    ["a in ['x', 'y']", {}],
    ["a in [1, 'x', true, null]", { a: 1 }],
    ["a in [1, 'x', true, null]", { a: null }],
    ["a in [1, 'x', true, null]", { a: "1" }],
    ["a in ['x']", { a: ["x"] }],
    ["a in ['x']", { a: { x: 1 } }],
    ["a in b", { a: "x", b: "x" }],
    ["a in b", { a: "x", b: ["y", "x"] }],
    ["a in b", { a: "x" }],
    ["$not(a in ['x', 'y'])", { a: "y" }],
    ["$not(a)", {}],
    ["$not(a)", { a: 0 }],
    ["$not(a)", { a: "" }],
    ["$not(a)", { a: "no" }],
    ["$not(a)", { a: null }],
    ["$not(a)", { a: {} }],
    ["$not(a)", { a: [] }],
    ["$exists(a)", {}],
    ["$exists(a)", { a: null }],
    ["$exists(a)", { a: false }],
    ["$exists(a.b)", { a: [{ b: 1 }] }],
    ["$enumMap(a, { 'x': 1, 'y': 2 })", { a: "x" }],
    ["$enumMap(a, { 'x': 1, 'y': 2 })", { a: "z" }],
    ["$enumMap(a, { 'x': 1, 'y': 2 }, 9)", { a: "z" }],
    ["$enumMap(a, { 'x': 1, 'y': 2 })", {}],
    ["$enumMap(a, { 'x': 1, 'y': 2 })", { a: null }],
    ["$enumMap(a, { '1': 'one' })", { a: 1 }],
    ["$enumMap(a, { 'true': 'yes' })", { a: true }],
    ["$enumMap(a, b)", { a: "x", b: "notamap" }],
    ["$enumMap(a, { 'x': 1 })", { a: { x: 1 } }],
    ["$enumReverse(a, { 'heat': 4, 'off': 0 })", { a: 4 }],
    ["$enumReverse(a, { 'heat': 4, 'off': 0 })", { a: "4" }],
    // A step into what a function gives (issue #15: LIFX's CurrentX/CurrentY).
    ["$xyFromHueSaturation(h, s).x", { h: 120, s: 200 }],
    ["$xyFromHueSaturation(h, s).y", { h: 0, s: 254 }],
    ["$xyFromHueSaturation(h, s).x", {}],
    ["$xyFromHueSaturation(h, s).z", { h: 10, s: 10 }],
    ["$xyFromHueSaturation(h, s).x.y", { h: 10, s: 10 }],
    ["$xyFromHueSaturation(h, s).x", [{ h: 10, s: 10 }, { h: 20, s: 20 }]],
    ["$xyFromHueSaturation(h, s).x", { h: "10", s: 10 }],
    ["c > 0 ? $xyFromHueSaturation($hueFromDegrees(d), $saturationFromFraction(c)).x : undefined", { c: 0.5, d: 200 }],
    ["c > 0 ? $xyFromHueSaturation($hueFromDegrees(d), $saturationFromFraction(c)).y : undefined", { c: 0, d: 200 }],
  ];
  it.each(cases)("%s over %j", async (src, input, bindings = {}) => {
    const f = viaFast(src, input, bindings);
    if (f.none || f.bail) return; // stepping aside is always allowed
    expect(f).toEqual(await viaJsonata(src, input, bindings));
  });

  it("steps aside where JSONata's semantics differ from plain JS", () => {
    expect(viaFast("a.b", { a: [{ b: 1 }] }, {}).bail).toBe(true);
    expect(viaFast("a > b", { a: 1, b: "2" }, {}).bail).toBe(true);
    expect(viaFast("'k:' & a", { a: 0.30000000000000004 }, {}).bail).toBe(true);
    expect(viaFast("items[0]", {}, {}).none).toBe(true);
    expect(viaFast("$string(a)", {}, {}).none).toBe(true);
    expect(viaFast("$sort(a, function($x, $y) { $x > $y })", {}, {}).none).toBe(true);
    expect(viaFast("$sort(a.b)[0]", { a: [{ b: [[1]] }, { b: 2 }] }, {}).bail).toBe(true);
    expect(viaFast("a in ['x']", { a: ["x"] }, {}).bail).toBe(true);
    expect(viaFast("a in b", { a: "x", b: ["x"] }, {}).bail).toBe(true);
    expect(viaFast("$not(a)", { a: {} }, {}).bail).toBe(true);
    expect(viaFast("a in [b]", {}, {}).none).toBe(true);
    expect(viaFast("$not()", {}, {}).none).toBe(true);
  });

  it("answers the shapes webhooks and reads are made of without JSONata", () => {
    // What a webhook's ignore rule and a mode read look like (the Netatmo bundle's); each of
    // these went through JSONata's asynchronous evaluator on every event before.
    expect(viaFast("$not(event_type in ['set_point', 'therm_mode'])", { event_type: "set_point" }, {})).toEqual({ value: false });
    expect(viaFast("body.push_type in ['webhook_activation']", undefined, { body: {} }).bail).toBeUndefined();
    expect(viaFast("$enumMap(mode, { 'manual': 1, 'schedule': 0 }, 0)", { mode: "manual" }, {})).toEqual({ value: 1 });
    expect(viaFast("$exists(name) ? name : 'unnamed'", {}, {})).toEqual({ value: "unnamed" });
  });

  it("answers a step into a function's result (a colour light's CurrentX) without JSONata", () => {
    const x = viaFast("color.saturation > 0 ? $xyFromHueSaturation($hueFromDegrees(color.hue), $saturationFromFraction(color.saturation)).x : undefined", { color: { hue: 120, saturation: 1 } }, {});
    expect(typeof x.value).toBe("number");
    // Over an array input JSONata calls the function per item: its business.
    expect(viaFast("$xyFromHueSaturation(h, s).x", [{ h: 1, s: 1 }], {}).bail).toBe(true);
  });
});

describe("fast path aggregates over path sequences", () => {
  const exprs = [
    "$sort(a.b)[0]",
    "$sort(a.b)[-1]",
    "$sort(a.b)[3]",
    "$sort(a.b)",
    "$min(a.b)",
    "$max(a.b.c)",
    "$count(a.b)",
    "$count($distinct(a.b))",
    "$distinct(a.b)[0]",
    "$distinct(a.b)",
    "$sort(a.b.c)[0]",
    "$not(a.b)",
    "$exists(a.b)",
    "a.b in ['x', 2, true, null, '10']",
    "a.b.c in 'x'",
    "$enumMap(a.b, { 'x': 1, '2': 'two', 'true': 't', 'null': 'n' }, 0)",
    "$enumReverse(a.b, { 'x': 'x', 'two': 2 })",
  ];
  // Deterministic pseudo-random shapes: arrays and single objects along the path, missing
  // fields, nulls, mixed types, nested arrays.
  let seed = 42;
  const r = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const leaf = (): unknown => {
    const k = Math.floor(r() * 10);
    if (k < 4) return ["x", "a", "B", "", "é", "10"][Math.floor(r() * 6)];
    if (k < 7) return Math.floor(r() * 9) - 2;
    if (k === 7) return null;
    if (k === 8) return r() < 0.5;
    return [Math.floor(r() * 3)];
  };
  const inner = (): unknown => (r() < 0.2 ? undefined : r() < 0.3 ? Array.from({ length: Math.floor(r() * 3) }, () => ({ c: leaf() })) : r() < 0.5 ? { c: leaf() } : leaf());
  const input = () => {
    const n = Math.floor(r() * 6);
    const items = Array.from({ length: n }, () => (r() < 0.1 ? "notanobject" : { b: inner() }));
    return r() < 0.15 ? { a: items[0] } : { a: items };
  };
  it("agree with JSONata (and the native built-ins) on random shapes", async () => {
    let fastUsed = 0;
    for (let i = 0; i < 250; i++) {
      const data = input();
      for (const src of exprs) {
        const f = viaFast(src, data, {});
        if (f.none || f.bail) continue;
        fastUsed++;
        expect({ src, data, ...f }).toEqual({ src, data, ...(await viaJsonata(src, data, {})) });
      }
    }
    expect(fastUsed).toBeGreaterThan(40);
  });
});
