/**
 * Translations as steps (engine/runtime/steps.ts): synchronous while every expression has a fast
 * answer, continued asynchronously from the first that needs JSONata, with the same values, the
 * same order of evaluations, and errors thrown where the expression was asked for. And the
 * capability reports of the LIFX bundle, the discovery's hot loop, come back without a promise.
 */
import { describe, expect, it } from "vitest";
import { loadBundleOrThrow } from "../../engine/mapping/bundle.ts";
import type { Expr } from "../../engine/mapping/compiled.ts";
import { Evaluator } from "../../engine/runtime/expressions.ts";
import { evaluation, runSteps, type Steps } from "../../engine/runtime/steps.ts";
import { capabilityReport, capabilityReportSteps, matchProfileSteps } from "../../engine/runtime/device-model.ts";

const expr = (src: string): Expr => ({ src, at: `test:${src}` });

function* three(log: string[]): Steps<unknown[]> {
  const out: unknown[] = [];
  for (const src of ["a + 1", "$string(a)", "b.c"]) {
    const v = yield evaluation(expr(src), { a: 41, b: { c: "x" } }, {});
    log.push(src);
    out.push(v);
  }
  return out;
}

describe("runSteps", () => {
  it("answers synchronously when every expression has a fast answer", () => {
    const seen: string[] = [];
    function* fast(): Steps<unknown[]> {
      const a = yield evaluation(expr("a + 1"), { a: 1 }, {});
      const b = yield evaluation(expr("$device.power = 'on'"), {}, { device: { power: "on" } });
      seen.push("done");
      return [a, b];
    }
    const out = runSteps(new Evaluator(), fast());
    expect(out).not.toBeInstanceOf(Promise);
    expect(out).toEqual([2, true]);
    expect(seen).toEqual(["done"]);
  });

  it("continues asynchronously from the first expression JSONata must answer, in order, each evaluated once", async () => {
    const traced: string[] = [];
    const log: string[] = [];
    const out = runSteps(new Evaluator(({ src }) => traced.push(src)), three(log));
    expect(out).toBeInstanceOf(Promise);
    // Up to the JSONata expression everything ran at once.
    expect(log).toEqual(["a + 1"]);
    expect(await out).toEqual([42, "41", "x"]);
    expect(log).toEqual(["a + 1", "$string(a)", "b.c"]);
    expect(traced).toEqual(["a + 1", "$string(a)", "b.c"]);
  });

  it("throws an expression's error into the translation where it asked, synchronously or not", async () => {
    function* catching(src: string): Steps<string> {
      try {
        yield evaluation(expr(src), { a: 1 }, {});
        return "no error";
      } catch (err) {
        return `caught ${(err as Error).name}`;
      }
    }
    // $boom() is no function: JSONata throws while evaluating (asynchronously).
    await expect(Promise.resolve(runSteps(new Evaluator(), catching("$boom()")))).resolves.toBe("caught ExpressionError");
    // An error after the translation went asynchronous propagates as the promise's rejection.
    function* failing(): Steps<unknown> {
      yield evaluation(expr("$string(a)"), { a: 1 }, {});
      throw new RangeError("translation failed");
    }
    await expect(runSteps(new Evaluator(), failing())).rejects.toThrow("translation failed");
  });
});

describe("LIFX capability reports as steps", () => {
  const light = (capabilities: Record<string, unknown>, color: Record<string, unknown>) => ({
    id: "d073d5000001",
    label: "Lamp",
    power: "on",
    brightness: 0.5,
    color,
    product: { name: "Bulb", company: "LIFX", capabilities: { min_kelvin: 2500, max_kelvin: 9000, ...capabilities } },
  });

  it("are synchronous for every profile, and equal the awaited report", async () => {
    const bundle = await loadBundleOrThrow("mappings/lifx");
    const evaluator = new Evaluator();
    const devices = [
      light({ has_color: true, has_variable_color_temp: true }, { hue: 120, saturation: 1, kelvin: 3500 }),
      light({ has_color: true, has_variable_color_temp: true }, { hue: 0, saturation: 0, kelvin: 2700 }),
      light({ has_color: false, has_variable_color_temp: true }, { hue: 0, saturation: 0, kelvin: 4000 }),
      light({ has_color: false, has_variable_color_temp: false }, { hue: 0, saturation: 0, kelvin: 2700 }),
    ];
    const profiles = new Set<string>();
    for (const device of devices) {
      const ctx = { settings: bundle.settings, responses: {}, device, deviceId: device.id };
      const profile = runSteps(evaluator, matchProfileSteps(bundle, device, ctx));
      expect(profile).not.toBeInstanceOf(Promise);
      const p = profile as Exclude<typeof profile, Promise<unknown>>;
      profiles.add(p!.id);
      const report = runSteps(evaluator, capabilityReportSteps(p!, device, ctx));
      expect(report).not.toBeInstanceOf(Promise);
      expect(report).toEqual(await capabilityReport(p!, device, evaluator, ctx));
    }
    expect([...profiles].sort()).toEqual(["color", "tunable-white", "white"]);
  });
});
