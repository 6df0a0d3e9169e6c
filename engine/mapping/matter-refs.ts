/**
 * How a mapping names Matter elements, shared by the semantic check and the compiler.
 */

/** MI's custom commands: mapped through attribute `write` and operations.getDevice, not `commands`. */
export const MI_CUSTOM_COMMANDS: Record<string, string> = {
  updatestate: "UpdateState (0xff01) is mapped with `write` on each attribute",
  "0xff01": "UpdateState (0xff01) is mapped with `write` on each attribute",
  "65281": "UpdateState (0xff01) is mapped with `write` on each attribute",
  readstate: "ReadState (0xff02) is answered from operations.getDevice and the read expressions",
  "0xff02": "ReadState (0xff02) is answered from operations.getDevice and the read expressions",
  "65282": "ReadState (0xff02) is answered from operations.getDevice and the read expressions",
};

/**
 * A `confirms` key: `Attr` (same cluster) or `Cluster.Attr` (another cluster of the endpoint).
 * Split at the last dot: attribute names and ids never contain one.
 */
export function parseConfirmKey(key: string): { cluster?: string; attribute: string } {
  const dot = key.lastIndexOf(".");
  if (dot <= 0) return { attribute: key };
  return { cluster: key.slice(0, dot), attribute: key.slice(dot + 1) };
}
