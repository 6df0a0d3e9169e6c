/**
 * A template's `Rules`, evaluated the way CloudFormation does before it creates or updates a stack:
 * each rule's assertions over the parameter values. Deploy runs them first so a missing "this or
 * that" value (a webhook secret by ARN or, opted in, in plaintext) is named before anything is
 * written; the local CloudFormation emulator runs them to refuse what the service would refuse.
 *
 * Only the rule functions the generated template uses are understood (Ref, Fn::Equals, Fn::Not,
 * Fn::And, Fn::Or, strings); a rule using any other, or a parameter whose value is not known here
 * (UsePreviousValue), is not judged.
 */
import type { CloudFormationTemplate } from "./template.ts";

export interface FailedRule {
  rule: string;
  description: string;
  /** The parameters the rule's assertions refer to, in order of appearance. */
  parameters: string[];
}

class NotJudged extends Error {}

/** Rules whose assertions fail for these values (undefined: value unknown). */
export function failedRules(template: Pick<CloudFormationTemplate, "Rules">, values: Record<string, string | undefined>): FailedRule[] {
  const failed: FailedRule[] = [];
  for (const [name, rule] of Object.entries(template.Rules ?? {})) {
    const r = rule as { RuleCondition?: unknown; Assertions?: { Assert: unknown; AssertDescription?: string }[] };
    try {
      if (r.RuleCondition !== undefined && evaluate(r.RuleCondition, values) !== true) continue;
      for (const a of r.Assertions ?? []) {
        if (evaluate(a.Assert, values) !== true) {
          failed.push({ rule: name, description: a.AssertDescription ?? `rule ${name} failed`, parameters: refsOf(a.Assert) });
        }
      }
    } catch (err) {
      if (!(err instanceof NotJudged)) throw err;
    }
  }
  return failed;
}

function evaluate(expr: unknown, values: Record<string, string | undefined>): unknown {
  if (typeof expr === "string" || typeof expr === "boolean") return expr;
  if (expr === null || typeof expr !== "object" || Array.isArray(expr)) throw new NotJudged();
  const [fn, arg] = Object.entries(expr)[0] ?? [];
  const args = Array.isArray(arg) ? arg : [];
  switch (fn) {
    case "Ref": {
      const value = values[arg as string];
      if (value === undefined) throw new NotJudged();
      return value;
    }
    case "Fn::Equals":
      return evaluate(args[0], values) === evaluate(args[1], values);
    case "Fn::Not":
      return evaluate(args[0], values) !== true;
    case "Fn::And":
      return args.every((a) => evaluate(a, values) === true);
    case "Fn::Or":
      return args.some((a) => evaluate(a, values) === true);
    default:
      throw new NotJudged();
  }
}

function refsOf(expr: unknown, out: string[] = []): string[] {
  if (Array.isArray(expr)) for (const e of expr) refsOf(e, out);
  else if (expr !== null && typeof expr === "object") {
    for (const [k, v] of Object.entries(expr)) {
      if (k === "Ref" && typeof v === "string") {
        if (!out.includes(v)) out.push(v);
      } else refsOf(v, out);
    }
  }
  return out;
}
