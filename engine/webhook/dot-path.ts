/**
 * Reads `a.b.0.c` style paths from parsed JSON. Mapping files name body fields this way
 * (handshake conditions, push-envelope payloads); a missing segment yields undefined, never a throw.
 */
export function getAtPath(value: unknown, path: string): unknown {
  if (path === "") return value;
  let current: unknown = value;
  for (const segment of path.split(".")) {
    if (current === null || typeof current !== "object") return undefined;
    if (!Object.prototype.hasOwnProperty.call(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}
