/**
 * Connector state behind one small interface (design.md "State lives behind one small interface").
 * Backends: memory (default, per container) and DynamoDB (production). Every key is namespaced
 * by the caller; values are small JSON documents. TTLs are in seconds.
 */
export interface StateStore {
  /**
   * True when the state outlives the container and is shared by every container of the function
   * (DynamoDB); false or absent for per-container memory.
   */
  readonly durable?: boolean;
  /**
   * Atomically records `key` if it is absent (or expired). Returns true when this call created it,
   * false when it already existed: the building block of idempotency (traceId, deviceDiscoveryId,
   * webhook event ids).
   */
  putIfAbsent(key: string, value: unknown, ttlSeconds: number): Promise<boolean>;
  get<T = unknown>(key: string): Promise<T | undefined>;
  /**
   * Atomically adds `delta` to the number stored at `key` (absent or expired: 0) and returns the
   * new value; the TTL is set when the counter is created. The counters of vendor quotas.
   * `get` reads the counter as a number.
   */
  increment(key: string, delta: number, ttlSeconds: number): Promise<number>;
  put(key: string, value: unknown, ttlSeconds?: number): Promise<void>;
  delete(key: string): Promise<void>;
}
