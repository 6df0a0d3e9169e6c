import type { StateStore } from "./store.ts";
import { MemoryStateStore } from "./memory-store.ts";

export type { StateStore } from "./store.ts";
export { MemoryStateStore, type MemoryStateStoreOptions } from "./memory-store.ts";
// The DynamoDB backend is imported from ./dynamodb-store.ts directly (or loaded lazily below):
// re-exporting it here would load the DynamoDB client at every cold start.
export type { DynamoDbStateStoreOptions } from "./dynamodb-store.ts";
export { StateStoreInputError } from "./codec.ts";

/**
 * The store for this container: DynamoDB when C2C_STATE_TABLE names a table (optionally at
 * C2C_DYNAMODB_ENDPOINT, for a local server), otherwise memory. Region and credentials come from
 * the AWS SDK's usual environment.
 */
export function createStateStore(env: Record<string, string | undefined> = process.env): StateStore {
  const tableName = env.C2C_STATE_TABLE?.trim();
  if (!tableName) return new MemoryStateStore();
  const endpoint = env.C2C_DYNAMODB_ENDPOINT?.trim();
  return lazyStore(() => import("./dynamodb-store.ts").then((m) => new m.DynamoDbStateStore({ tableName, ...(endpoint ? { endpoint } : {}) })));
}

/** A store created on first use: the DynamoDB client loads when state is first touched, not at import. */
function lazyStore(create: () => Promise<StateStore>): StateStore {
  let store: Promise<StateStore> | undefined;
  const get = () => (store ??= create());
  return {
    durable: true,
    putIfAbsent: async (key, value, ttl) => (await get()).putIfAbsent(key, value, ttl),
    get: async <T>(key: string) => (await get()).get<T>(key),
    increment: async (key, delta, ttl) => (await get()).increment(key, delta, ttl),
    put: async (key, value, ttl) => (await get()).put(key, value, ttl),
    delete: async (key) => (await get()).delete(key),
  };
}
