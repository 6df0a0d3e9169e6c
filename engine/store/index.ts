import type { StateStore } from "./store.ts";
import { MemoryStateStore } from "./memory-store.ts";
import { DynamoDbStateStore } from "./dynamodb-store.ts";

export type { StateStore } from "./store.ts";
export { MemoryStateStore, type MemoryStateStoreOptions } from "./memory-store.ts";
export {
  DynamoDbStateStore,
  StateStoreError,
  createStateTable,
  type DynamoDbStateStoreOptions,
} from "./dynamodb-store.ts";
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
  return new DynamoDbStateStore({ tableName, ...(endpoint ? { endpoint } : {}) });
}
