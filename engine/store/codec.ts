/**
 * Argument checks and value encoding shared by every StateStore backend, so that both backends
 * accept and reject exactly the same inputs and hand back the same shapes.
 */

/** DynamoDB's limit for a partition key value; the memory store applies it too so both agree. */
export const MAX_KEY_BYTES = 2048;

export class StateStoreInputError extends TypeError {
  constructor(message: string) {
    super(message);
    this.name = "StateStoreInputError";
  }
}

export function checkKey(key: unknown): string {
  if (typeof key !== "string" || key.length === 0) {
    throw new StateStoreInputError("state key must be a non-empty string");
  }
  if (Buffer.byteLength(key, "utf8") > MAX_KEY_BYTES) {
    throw new StateStoreInputError(`state key is longer than ${MAX_KEY_BYTES} bytes`);
  }
  return key;
}

export function checkTtl(ttlSeconds: unknown, required: boolean): number | undefined {
  if (ttlSeconds === undefined && !required) return undefined;
  if (typeof ttlSeconds !== "number" || !Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
    throw new StateStoreInputError("ttlSeconds must be a positive, finite number of seconds");
  }
  return ttlSeconds;
}

/**
 * Values are stored as JSON text: it is what both backends can hold without loss, and it makes
 * the memory store hand out copies (a caller mutating a returned object never changes the store).
 * `undefined` is stored as null because JSON has no undefined.
 */
export function encodeValue(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value === undefined ? null : value);
  } catch (err) {
    // The original message may quote part of the value; keep only the kind of failure.
    throw new StateStoreInputError(`state value is not JSON-serialisable (${(err as Error).name})`);
  }
  if (text === undefined) {
    throw new StateStoreInputError("state value is not JSON-serialisable");
  }
  return text;
}

export function decodeValue<T>(text: string): T {
  return JSON.parse(text) as T;
}
