/**
 * A small evaluator for Matter conformance expressions, enough to warn that a mapping omits an
 * element the spec requires.
 *
 * Supported: "M", "O", "P" (provisional), "D", "X", "desc", choice markers ("O.a", "O.a+"),
 * boolean expressions over identifiers with "!", "&", "|" and parentheses ("LT", "!OFFONLY",
 * "HS | XY | CT"), "[expr]" (optional when expr holds) and otherwise-lists "A, B" (the first
 * term that applies wins). Identifiers that are not known (attribute names, device-type
 * conditions such as "Active") and anything unparsable ("NumberOfPrimaries > 0") make a term
 * "optional": we never claim something is mandatory unless we can show it.
 */
import type { AttributeDef, ClusterDef, CommandDef, EventDef } from "./types.ts";

export type Conformance = "mandatory" | "optional" | "provisional" | "deprecated" | "disallowed";

/** Truth of an identifier: true/false when known, undefined when it cannot be decided. */
export type ConditionResolver = (identifier: string) => boolean | undefined;

/** Resolver for a cluster's features (by code "LT" or name "Lighting") from a FeatureMap value. */
export function featureResolver(cluster: ClusterDef, featureMap: number): ConditionResolver {
  const byKey = new Map<string, boolean>();
  for (const f of cluster.features) {
    // Feature bits go up to 31; use division, since JS bit operators are signed 32-bit.
    const set = Math.floor(featureMap / 2 ** f.bit) % 2 === 1;
    byKey.set(f.code.toLowerCase(), set);
    byKey.set(f.name.toLowerCase(), set);
  }
  return (identifier) => byKey.get(identifier.toLowerCase());
}

/** Resolver that knows nothing: only unconditional terms ("M", "O", ...) decide. */
export const unknownConditions: ConditionResolver = () => undefined;

/** Evaluates a conformance expression. When no term applies the element is "disallowed". */
export function evaluateConformance(expression: string, resolve: ConditionResolver): Conformance {
  for (const term of splitTopLevel(expression.trim())) {
    const result = evaluateTerm(term.trim(), resolve);
    if (result !== undefined) return result;
  }
  return "disallowed";
}

export function isMandatory(expression: string, resolve: ConditionResolver): boolean {
  return evaluateConformance(expression, resolve) === "mandatory";
}

export interface MandatoryElements {
  attributes: AttributeDef[];
  commands: CommandDef[];
  events: EventDef[];
}

/** Attributes, commands and events a server with this FeatureMap must implement. */
export function mandatoryElements(cluster: ClusterDef, featureMap: number): MandatoryElements {
  const resolve = featureResolver(cluster, featureMap);
  const mandatory = <T extends { conformance: string }>(items: T[]) => items.filter((i) => isMandatory(i.conformance, resolve));
  return {
    attributes: mandatory(cluster.attributes),
    commands: mandatory(cluster.commands),
    events: mandatory(cluster.events),
  };
}

const FIXED_TERMS: Record<string, Conformance> = {
  M: "mandatory",
  O: "optional",
  P: "provisional",
  D: "deprecated",
  X: "disallowed",
  desc: "optional",
};

/** One otherwise-list term; undefined means "does not apply, try the next term". */
function evaluateTerm(term: string, resolve: ConditionResolver): Conformance | undefined {
  if (Object.hasOwn(FIXED_TERMS, term)) return FIXED_TERMS[term];
  // Choice conformance ("O.a", "O.a+", "[LT].b"): at least one of a group, none individually required.
  if (/^(?:O|\[.*\])\.[a-z]\+?$/.test(term)) return "optional";
  let optional = false;
  let condition = term;
  if (term.startsWith("[") && term.endsWith("]")) {
    optional = true;
    condition = term.slice(1, -1);
  }
  const value = parseCondition(condition, resolve);
  if (value === undefined) return "optional";
  if (!value) return undefined;
  return optional ? "optional" : "mandatory";
}

/** Splits on commas outside brackets and parentheses. */
function splitTopLevel(expression: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < expression.length; i++) {
    const ch = expression[i];
    if (ch === "(" || ch === "[") depth++;
    else if (ch === ")" || ch === "]") depth--;
    else if (ch === "," && depth === 0) {
      terms.push(expression.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(expression.slice(start));
  return terms;
}

type Tri = boolean | undefined;

/**
 * Recursive-descent parse and evaluation of `or := and ('|' and)*`, `and := not ('&' not)*`,
 * `not := '!' not | '(' or ')' | identifier` in three-valued (Kleene) logic. Returns undefined
 * when the expression is unparsable or its value depends on unknown identifiers.
 */
function parseCondition(text: string, resolve: ConditionResolver): Tri {
  const tokens = text.match(/[A-Za-z_][A-Za-z0-9_]*|[!&|()]|\S/g) ?? [];
  let pos = 0;
  let failed = false;

  const or = (): Tri => {
    let value = and();
    while (tokens[pos] === "|") {
      pos++;
      const right = and();
      value = value === true || right === true ? true : value === false && right === false ? false : undefined;
    }
    return value;
  };
  const and = (): Tri => {
    let value = not();
    while (tokens[pos] === "&") {
      pos++;
      const right = not();
      value = value === false || right === false ? false : value === true && right === true ? true : undefined;
    }
    return value;
  };
  const not = (): Tri => {
    const token = tokens[pos++];
    if (token === "!") {
      const value = not();
      return value === undefined ? undefined : !value;
    }
    if (token === "(") {
      const value = or();
      if (tokens[pos++] !== ")") failed = true;
      return value;
    }
    if (token !== undefined && /^[A-Za-z_]/.test(token)) return resolve(token);
    failed = true;
    return undefined;
  };

  if (tokens.length === 0) return undefined;
  const value = or();
  if (failed || pos !== tokens.length) return undefined;
  return value;
}
