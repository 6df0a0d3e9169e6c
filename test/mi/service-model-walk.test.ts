/**
 * The engine's SendConnectorEvent body check against the service model itself: this test walks the
 * Smithy shapes reachable from SendConnectorEventRequest in ../shared/spec/iot-managed-integrations.smithy.json
 * (independently of scripts/generate-sce-schema.ts) and, for every member, generates valid values at
 * the constraint boundaries and invalid ones for each constraint the model declares (required,
 * length, pattern, range, enum, list and map sizes, map keys, JSON types). Whatever the model
 * rejects, our validator must reject, naming the member; what it accepts (at the boundaries too),
 * the validator must accept.
 *
 * The oracle for patterns is the model's own regex read as ECMAScript (Smithy's pattern dialect),
 * plus Java's narrower `\s` (the service's regex engine), so a Unicode space the model's `\s` would
 * let through is expected to be refused.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { validateConnectorId, validateEventBody } from "../../engine/mi/event-validation.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const MODEL_FILE = path.resolve(ROOT, "../shared/spec/iot-managed-integrations.smithy.json");
const NS = "com.amazonaws.iotmanagedintegrations#";

type Traits = Record<string, any>;
interface Ref {
  target: string;
  traits?: Traits;
}
interface Shape {
  type: string;
  traits?: Traits;
  members?: Record<string, Ref>;
  member?: Ref;
  key?: Ref;
  value?: Ref;
}
const model = JSON.parse(readFileSync(MODEL_FILE, "utf8")) as { shapes: Record<string, Shape> };

const PRELUDE: Record<string, Shape> = {
  "smithy.api#String": { type: "string" },
  "smithy.api#Integer": { type: "integer" },
  "smithy.api#Long": { type: "long" },
  "smithy.api#Boolean": { type: "boolean" },
  "smithy.api#Document": { type: "document" },
};
function shape(id: string): Shape {
  const s = model.shapes[id] ?? PRELUDE[id];
  if (!s) throw new Error(`shape ${id} is not in the model`);
  return s;
}
const lengthOf = (s: Shape): { min?: number; max?: number } => s.traits?.["smithy.api#length"] ?? {};
const rangeOf = (s: Shape): { min?: number; max?: number } => s.traits?.["smithy.api#range"] ?? {};
const patternOf = (s: Shape): string | undefined => s.traits?.["smithy.api#pattern"];
const codePoints = (v: string) => [...v].length;

/** Does the model accept `value` for this string shape? (length in code points, pattern as Smithy reads it, Java's \s) */
function modelAccepts(s: Shape, value: string): boolean {
  const { min, max } = lengthOf(s);
  if (min !== undefined && codePoints(value) < min) return false;
  if (max !== undefined && codePoints(value) > max) return false;
  const pattern = patternOf(s);
  if (pattern === undefined) return true;
  if (!new RegExp(pattern, "u").test(value)) return false;
  // Java's \s is ASCII whitespace only: a Unicode space allowed by the ECMAScript \s is refused there.
  if (pattern.includes("\\s") && /[^\S \t\n\x0B\f\r]/u.test(value)) return false;
  return true;
}

const SAMPLES = ["a", "A1", "1", "0x0006", "1.0.0", "1.4", "matter.OnOff@1.4", "abc_1", "Kitchen light"];
/** A short valid value of a string shape. */
function sampleString(s: Shape, id: string): string {
  const found = SAMPLES.find((v) => modelAccepts(s, v));
  if (found === undefined) throw new Error(`no sample value satisfies ${id}: add one to SAMPLES`);
  return found;
}
/** `sample` grown to `n` code points by repeating its last character, when the model still accepts it. */
function grown(s: Shape, sample: string, n: number, ch = [...sample].at(-1)!): string | undefined {
  let v = sample;
  while (codePoints(v) < n) v += ch;
  if (codePoints(v) > n) return undefined;
  return v;
}

interface Case {
  path: string;
  /** Replaces the value at `path` (undefined: deletes it). */
  value: unknown;
  valid: boolean;
  why: string;
}

/** A full valid value of `id`: every member present, one item per list, one entry per map. */
function sample(id: string, depth = 0): unknown {
  const s = shape(id);
  if (depth > 12) throw new Error(`shape nesting too deep at ${id}`);
  switch (s.type) {
    case "string":
      return sampleString(s, id);
    case "enum":
      return enumValues(s)[0];
    case "integer":
    case "long":
    case "short":
    case "byte":
      return rangeOf(s).min ?? 1;
    case "boolean":
      return true;
    case "document":
      return { any: ["json", 1, true, null] };
    case "list":
    case "set":
      return [sample(s.member!.target, depth + 1)];
    case "map":
      return { [sample(s.key!.target, depth + 1) as string]: sample(s.value!.target, depth + 1) };
    case "structure":
      return Object.fromEntries(Object.entries(s.members ?? {}).filter(([, m]) => !m.traits?.["smithy.api#httpLabel"]).map(([name, m]) => [name, sample(m.target, depth + 1)]));
    default:
      throw new Error(`shape type ${s.type} (${id}) is not handled by this walk: extend it`);
  }
}

function enumValues(s: Shape): string[] {
  return Object.entries(s.members ?? {}).map(([name, m]) => m.traits?.["smithy.api#enumValue"] ?? name);
}

const BAD_CHARACTERS = ["!", "#", "/", ":", " ", "\n", "é", "\u00a0", "😀", "$", "x", "0", "."];

/** Valid and invalid values of one member of shape `id` found at `at`. */
function casesFor(id: string, at: string, required: boolean, out: Case[]): void {
  const s = shape(id);
  if (required) out.push({ path: at, value: undefined, valid: false, why: "required member missing" });
  const wrongType = (value: unknown, why: string) => out.push({ path: at, value, valid: false, why });
  switch (s.type) {
    case "string": {
      const base = sampleString(s, id);
      const { min, max } = lengthOf(s);
      wrongType(7, "a number for a string");
      if (min !== undefined && min > 0) {
        const short = min > 1 ? [...base].slice(0, min - 1).join("") : "";
        out.push({ path: at, value: short, valid: modelAccepts(s, short), why: `shorter than ${min}` });
      }
      if (max !== undefined) {
        const atMax = grown(s, base, max);
        if (atMax !== undefined && modelAccepts(s, atMax)) out.push({ path: at, value: atMax, valid: true, why: `exactly ${max} code points` });
        const over = grown(s, base, max + 1);
        if (over !== undefined) out.push({ path: at, value: over, valid: modelAccepts(s, over), why: `longer than ${max}` });
        // Length counts code points: astral letters count once each where the pattern allows them.
        const astral = grown(s, "𝒜", max, "𝒜");
        if (astral !== undefined && modelAccepts(s, astral)) out.push({ path: at, value: astral, valid: true, why: `${max} astral code points` });
      }
      if (patternOf(s) !== undefined) {
        for (const ch of BAD_CHARACTERS) {
          for (const v of [ch + base.slice(1), base + ch, base.slice(0, 1) + ch + base.slice(1)]) {
            if (codePoints(v) > (max ?? Infinity) || codePoints(v) < (min ?? 0)) continue;
            out.push({ path: at, value: v, valid: modelAccepts(s, v), why: `pattern with ${JSON.stringify(ch)}` });
          }
        }
      }
      return;
    }
    case "enum": {
      for (const v of enumValues(s)) out.push({ path: at, value: v, valid: true, why: `enum value ${v}` });
      out.push({ path: at, value: enumValues(s)[0]!.toLowerCase(), valid: false, why: "enum value in another case" });
      out.push({ path: at, value: "NOT_A_MEMBER", valid: false, why: "not an enum value" });
      wrongType(1, "a number for an enum");
      return;
    }
    case "integer":
    case "long":
    case "short":
    case "byte": {
      const { min, max } = rangeOf(s);
      if (min !== undefined) {
        out.push({ path: at, value: min, valid: true, why: `range min ${min}` });
        out.push({ path: at, value: min - 1, valid: false, why: `below ${min}` });
      }
      if (max !== undefined) {
        out.push({ path: at, value: max, valid: true, why: `range max ${max}` });
        out.push({ path: at, value: max + 1, valid: false, why: `above ${max}` });
      }
      wrongType((min ?? 0) + 0.5, "a fraction for an integer");
      wrongType(String(min ?? 1), "a string for an integer");
      return;
    }
    case "boolean":
      wrongType("true", "a string for a boolean");
      return;
    case "document":
      for (const v of [null, 1, "text", [1, { a: null }], { nested: { deep: [true] } }]) out.push({ path: at, value: v, valid: true, why: `document ${JSON.stringify(v)}` });
      return;
    case "list":
    case "set": {
      const item = sample(s.member!.target);
      const { min, max } = lengthOf(s);
      wrongType({}, "an object for a list");
      out.push({ path: at, value: [null], valid: false, why: "a null item in a non-sparse list" });
      if (min !== undefined) {
        out.push({ path: at, value: Array(min).fill(item), valid: true, why: `${min} items` });
        if (min > 0) out.push({ path: at, value: Array(min - 1).fill(item), valid: false, why: `fewer than ${min} items` });
      }
      if (max !== undefined) {
        out.push({ path: at, value: Array(max).fill(item), valid: true, why: `${max} items` });
        out.push({ path: at, value: Array(max + 1).fill(item), valid: false, why: `more than ${max} items` });
      }
      casesFor(s.member!.target, `${at}[0]`, false, out);
      return;
    }
    case "map": {
      const keyShape = shape(s.key!.target);
      const keyBase = sample(s.key!.target) as string;
      const value = sample(s.value!.target);
      const { min, max } = lengthOf(s);
      const keys = (n: number) => Array.from({ length: n }, (_, i) => (/^0[xX]/.test(keyBase) ? `0x${i.toString(16).padStart(2, "0")}` : `${keyBase}${i}`));
      const mapOf = (n: number) => Object.fromEntries(keys(n).map((k) => [k, value]));
      wrongType([], "a list for a map");
      if (min !== undefined) {
        out.push({ path: at, value: mapOf(min), valid: true, why: `${min} entries` });
        if (min > 0) out.push({ path: at, value: {}, valid: false, why: `fewer than ${min} entries` });
      }
      if (max !== undefined) {
        out.push({ path: at, value: mapOf(max), valid: keys(max).every((k) => modelAccepts(keyShape, k)), why: `${max} entries` });
        out.push({ path: at, value: mapOf(max + 1), valid: false, why: `more than ${max} entries` });
      }
      for (const bad of ["on", "0xZZ", "", "1 2"]) {
        if (modelAccepts(keyShape, bad)) continue;
        out.push({ path: at, value: { [bad]: value }, valid: false, why: `map key ${JSON.stringify(bad)}` });
      }
      casesFor(s.value!.target, `${at}.${keyBase}`, false, out);
      return;
    }
    case "structure": {
      wrongType("text", "a string for a structure");
      for (const [name, m] of Object.entries(s.members ?? {})) {
        if (m.traits?.["smithy.api#httpLabel"]) continue;
        casesFor(m.target, `${at}.${name}`, m.traits?.["smithy.api#required"] !== undefined, out);
      }
      return;
    }
    default:
      throw new Error(`shape type ${s.type} (${id}) is not handled by this walk: extend it`);
  }
}

/** `body` with the value at `$.a.b[0].c` replaced (or deleted). */
function withValue(body: unknown, at: string, value: unknown): unknown {
  if (at === "$") return value;
  const copy = structuredClone(body);
  const steps = at.slice(2).match(/[^.[\]]+/g)!.map((p) => (/^\d+$/.test(p) && at.includes(`[${p}]`) ? Number(p) : p));
  let node: any = copy;
  for (const step of steps.slice(0, -1)) node = node[step];
  const last = steps.at(-1)!;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return copy;
}

const INPUT = `${NS}SendConnectorEventRequest`;
const validBody = sample(INPUT);
const cases: Case[] = [];
casesFor(INPUT, "$", false, cases);

describe("SendConnectorEvent body check = the service model (walked from the Smithy model)", () => {
  it("the walk reaches every constrained shape of the request", () => {
    const reached = new Set<string>();
    const visit = (id: string) => {
      if (reached.has(id) || id.startsWith("smithy.api#")) return;
      reached.add(id);
      const s = shape(id);
      for (const r of [...Object.values(s.members ?? {}), s.member, s.key, s.value]) if (r && s.type !== "enum") visit(r.target);
    };
    visit(INPUT);
    const constrained = [...reached].filter((id) => {
      const t = shape(id).traits ?? {};
      return t["smithy.api#length"] || t["smithy.api#pattern"] || t["smithy.api#range"] || shape(id).type === "enum";
    });
    expect(constrained.length).toBeGreaterThanOrEqual(40);
    expect(cases.length).toBeGreaterThan(1000);
  });

  it("accepts a body with every member of every shape present", () => {
    expect(validateEventBody(validBody)).toEqual([]);
  });

  it("rejects every value the model rejects, naming the member; accepts every boundary value it accepts", () => {
    const wrong: string[] = [];
    for (const c of cases) {
      const issues = validateEventBody(withValue(validBody, c.path, c.value));
      if (c.valid && issues.length > 0) wrong.push(`accepted by the model, refused by us: ${c.path} (${c.why}): ${issues.map((i) => `${i.path} ${i.keyword}`).join(", ")}`);
      if (!c.valid && issues.length === 0) wrong.push(`refused by the model, accepted by us: ${c.path} (${c.why})`);
      if (!c.valid && issues.length > 0 && !issues.some((i) => i.path === c.path || i.path.startsWith(`${c.path}.`) || i.path.startsWith(`${c.path}[`))) {
        wrong.push(`refused, but not at ${c.path} (${c.why}): ${issues.map((i) => i.path).join(", ")}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("checks the ConnectorId path label by the same rules", () => {
    const label = shape(`${NS}ConnectorId`);
    const accepted = ["a", "A-b_9", "x".repeat(64)];
    const refused = ["", "x".repeat(65), "a b", "a/b", "a.b", "é", "a\n"];
    for (const v of accepted) expect(modelAccepts(label, v), v).toBe(true);
    for (const v of refused) expect(modelAccepts(label, v), v).toBe(false);
    for (const v of accepted) expect(validateConnectorId(v), v).toEqual([]);
    for (const v of refused) expect(validateConnectorId(v).length, JSON.stringify(v)).toBeGreaterThan(0);
  });
});
