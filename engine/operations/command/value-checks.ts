/**
 * What MI asks for must be a Matter value before anything reaches the vendor: every command
 * field and every UpdateState value is checked against its Matter type (range, enum member,
 * bool, null only where nullable). A value that does not fit refuses the command with Matter's
 * CONSTRAINT_ERROR; nothing is sent for it. So does a value outside the limits the device reports
 * (ColorTempPhysicalMin/MaxMireds, Min/MaxLevel, the setpoint limits, ...).
 */
import type { CompiledAttribute, CompiledCluster, CompiledCommand, CompiledLimits } from "../../mapping/compiled.ts";
import { UPDATE_STATE } from "../../matter/ids.ts";
import type { EvalContext } from "../../runtime/context.ts";
import { readCluster } from "../../runtime/device-model.ts";
import type { Evaluator } from "../../runtime/expressions.ts";
import type { ValueLog } from "../../runtime/matter-values.ts";
import { CONSTRAINT_ERROR } from "../../matter/status.ts";
import { checkValue } from "../../matter/value-type.ts";
import { coerce, safeId } from "./request.ts";

/** A refusal with a Matter status: `code` goes to the command response's `errors.code`. */
export interface MatterRefusal {
  status: number;
  code: string;
  message: string;
}

export function constraintError(message: string): MatterRefusal {
  return { status: CONSTRAINT_ERROR.httpStatus, code: CONSTRAINT_ERROR.name, message: `${CONSTRAINT_ERROR.name} (0x${CONSTRAINT_ERROR.code.toString(16)}): ${message}` };
}

/** The first command field whose value does not fit its Matter type. */
export function checkCommandFields(cluster: CompiledCluster, command: CompiledCommand, fields: Record<string, unknown>): MatterRefusal | undefined {
  for (const [key, raw] of Object.entries(fields)) {
    const def = command.fields.find((f) => f.id === safeId(key) || f.name.toLowerCase() === key.toLowerCase());
    if (!def?.valueType) continue;
    const problem = checkValue(def.valueType, coerce(raw, def.type));
    if (problem) return constraintError(`${cluster.name}.${command.name} field ${def.name}: ${problem}`);
  }
  return undefined;
}

/** An UpdateState value that does not fit the attribute's Matter type. */
export function checkWrittenValue(cluster: CompiledCluster, attribute: CompiledAttribute, raw: unknown): MatterRefusal | undefined {
  if (!attribute.valueType) return undefined;
  const problem = checkValue(attribute.valueType, coerce(raw, attribute.type));
  return problem ? constraintError(`${cluster.name}.${attribute.name}: ${problem}`) : undefined;
}

/** A value MI asked for, with the device limits that bound it. */
export interface LimitedValue {
  what: string;
  value: unknown;
  limits?: CompiledLimits;
}

/**
 * Checks values against the limits the device reports (its read expressions over `device`, or
 * the mapping's constants): e.g. a colour temperature outside ColorTempPhysicalMin/MaxMireds.
 * A bound the device does not report is not enforced (the type's range still is).
 */
export async function checkDeviceLimits(
  cluster: CompiledCluster,
  values: LimitedValue[],
  device: unknown,
  evaluator: Evaluator,
  ctx: EvalContext,
  log: ValueLog,
): Promise<MatterRefusal | undefined> {
  const limited = values.filter((v) => typeof v.value === "number" && (v.limits?.min || v.limits?.max));
  if (!limited.length) return undefined;
  const ids = new Set(limited.flatMap((v) => [...(v.limits!.min ?? []), ...(v.limits!.max ?? [])]));
  const reported = await readCluster(cluster, device, evaluator, ctx, ids, log);
  const bound = (list: number[] | undefined): { value: number; name: string } | undefined => {
    for (const id of list ?? []) {
      const a = cluster.attributes.find((x) => x.id === id);
      const v = a && reported.get(a.hexId);
      if (a && typeof v === "number") return { value: v, name: a.name };
    }
    return undefined;
  };
  for (const v of limited) {
    const n = v.value as number;
    const min = bound(v.limits!.min);
    const max = bound(v.limits!.max);
    if (min && n < min.value) return constraintError(`${v.what}: ${n} is below the device's ${min.name} (${min.value})`);
    if (max && n > max.value) return constraintError(`${v.what}: ${n} is above the device's ${max.name} (${max.value})`);
  }
  return undefined;
}

/** Whether checking these values' limits needs the device's vendor state (a limit is read, not constant). */
export function limitsNeedDevice(cluster: CompiledCluster, limits: Array<CompiledLimits | undefined>): boolean {
  const ids = limits.flatMap((l) => [...(l?.min ?? []), ...(l?.max ?? [])]);
  return ids.some((id) => cluster.attributes.find((a) => a.id === id)?.read !== undefined);
}

/** The limited values of one MI command: its fields, or the attributes an UpdateState writes. */
export function limitedValues(cluster: CompiledCluster, commandId: number, fields: Record<string, unknown>): LimitedValue[] {
  if (commandId === UPDATE_STATE) {
    return Object.entries(fields).flatMap(([k, raw]) => {
      const a = cluster.attributes.find((x) => x.id === safeId(k));
      return a ? [{ what: `${cluster.name}.${a.name}`, value: coerce(raw, a.type), limits: a.limits }] : [];
    });
  }
  const cmd = cluster.commands.find((c) => c.id === commandId);
  if (!cmd) return [];
  return Object.entries(fields).flatMap(([k, raw]) => {
    const f = cmd.fields.find((x) => x.id === safeId(k) || x.name.toLowerCase() === k.toLowerCase());
    return f ? [{ what: `${cluster.name}.${cmd.name} field ${f.name}`, value: coerce(raw, f.type), limits: f.limits }] : [];
  });
}
