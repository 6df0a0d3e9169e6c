/**
 * The gate every Matter value passes before it leaves: attribute values and event fields going
 * to MI, command fields going to a vendor. A value that does not fit its Matter type is left
 * out (never sent wrong) and logged with the YAML position of the expression that produced it.
 */
import type { Logger } from "../log/logger.ts";
import { checkValue, type ValueType } from "../matter/value-type.ts";

export type ValueLog = Pick<Logger, "warn">;

/**
 * Whether `value` may be sent as a value of `type`. `undefined` (unknown) is never sent and
 * never logged; anything else that does not fit is logged once here.
 */
export function admitValue(type: ValueType | undefined, value: unknown, at: string, element: string, log: ValueLog | undefined): boolean {
  if (value === undefined) return false;
  if (!type) return true;
  const problem = checkValue(type, value);
  if (problem === undefined) return true;
  log?.warn("Matter value left out: it does not fit its type", { at, element, problem });
  return false;
}
