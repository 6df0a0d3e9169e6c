/**
 * What MI asks for must be a Matter value before anything reaches the vendor: every command
 * field and every UpdateState value is checked against its Matter type (range, enum member,
 * bool, null only where nullable). A value that does not fit refuses the command with Matter's
 * CONSTRAINT_ERROR; nothing is sent for it.
 */
import type { CompiledAttribute, CompiledCluster, CompiledCommand } from "../../mapping/compiled.ts";
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
