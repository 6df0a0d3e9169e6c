/**
 * Redaction applied to every log field. Two nets:
 *  1. keys that name a secret (token, secret, password, authorization, user id, ...) lose their value;
 *  2. string values registered as secrets at run time (the access token of this invocation, the
 *     webhook secret, the user id) are masked wherever they appear, e.g. inside an error message or URL.
 */
const SENSITIVE_KEY = /token|secret|password|passwd|authorization|api[-_]?key|cookie|signature|credential|^userid$|^user_id$|^user$|private[-_]?key|client[-_]?secret|x-amz-security/i;

export const REDACTED = "[redacted]";

/**
 * Secrets the registry keeps: those of the invocations in flight and recently finished. A warm
 * container sees a new token per user; without a bound the set (and the cost of scrubbing every log
 * line against it) would grow with every user the container ever served.
 */
export const DEFAULT_MAX_SECRETS = 256;

export class SecretRegistry {
  /** Insertion order is recency order: adding again moves a value to the end; the first is evicted. */
  private readonly values = new Set<string>();

  constructor(private readonly maxValues: number = DEFAULT_MAX_SECRETS) {
    if (!Number.isInteger(maxValues) || maxValues < 1) throw new RangeError("maxValues must be a positive integer");
  }

  add(value: unknown): void {
    // Very short values would mask unrelated text; real tokens and ids are longer.
    if (typeof value !== "string" || value.length < 4) return;
    this.values.delete(value);
    this.values.add(value);
    while (this.values.size > this.maxValues) this.values.delete(this.values.values().next().value as string);
  }

  scrub(text: string): string {
    let out = text;
    for (const v of this.values) if (out.includes(v)) out = out.split(v).join(REDACTED);
    return out;
  }

  get size(): number {
    return this.values.size;
  }
}

export function redact(value: unknown, secrets?: SecretRegistry, depth = 0): unknown {
  if (depth > 8) return "[depth]";
  if (typeof value === "string") return secrets ? secrets.scrub(value) : value;
  if (value instanceof Error) {
    return { name: value.name, message: redact(value.message, secrets, depth + 1) };
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, secrets, depth + 1));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = SENSITIVE_KEY.test(k) && v !== undefined && v !== null && v !== "" ? REDACTED : redact(v, secrets, depth + 1);
    }
    return out;
  }
  return value;
}
