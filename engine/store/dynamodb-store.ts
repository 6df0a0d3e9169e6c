import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
  type DynamoDBClientConfig,
} from "@aws-sdk/client-dynamodb";
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { gunzipSync, gzipSync } from "node:zlib";
import type { StateStore } from "./store.ts";
import { checkKey, checkTtl, decodeValue, encodeValue } from "./codec.ts";

/**
 * Values whose JSON is longer than this are stored gzip-compressed (binary attribute `gz`). Most
 * state is small; what is not is deferred work: a discovery event of 100 capability reports, the
 * outbox's events, a hand-off's remaining items, which can pass DynamoDB's 400 KB item limit as
 * JSON but compress about tenfold.
 */
const COMPRESS_ABOVE_CHARS = 64 * 1024;

/** DynamoDB holds 400 KB per item, attribute names and values together: room is left for the rest. */
export const MAX_STORED_VALUE_BYTES = 390 * 1024;

/** Attribute names of the state table; `expiresAt` is the table's TTL attribute. */
export const STATE_TABLE_KEY = "pk";
export const STATE_TABLE_TTL_ATTRIBUTE = "expiresAt";

export interface DynamoDbStateStoreOptions {
  tableName: string;
  /** A ready client; when given, `endpoint`, `region` and `credentials` are ignored. */
  client?: DynamoDBClient;
  endpoint?: string;
  region?: string;
  credentials?: DynamoDBClientConfig["credentials"];
  /** Clock in epoch milliseconds; injectable so tests can move time. */
  now?: () => number;
}

/** A backend call failed for a reason other than "the key already exists". */
export class StateStoreError extends Error {
  constructor(
    readonly operation: string,
    /** The backend's error name, e.g. ProvisionedThroughputExceededException. */
    readonly code: string,
    detail?: string,
  ) {
    super(`state store ${operation} failed: ${code}${detail ? ` (${detail})` : ""}`);
    this.name = "StateStoreError";
  }
}

interface StateItem {
  pk: string;
  /** The JSON text of the value; or, for a large value, `gz`. */
  value?: string;
  /** The JSON text gzip-compressed, for a value longer than COMPRESS_ABOVE_CHARS. */
  gz?: Uint8Array;
  /** Counters (`increment`) instead of `value`. */
  count?: number;
  expiresAt?: number;
}

/**
 * State in one DynamoDB table: `pk` (string partition key), `value` (the JSON text of the value)
 * and `expiresAt` (epoch seconds, the TTL attribute). DynamoDB deletes expired items only
 * eventually (often hours later), so every read and conditional write treats an item whose
 * `expiresAt` has passed as absent.
 */
export class DynamoDbStateStore implements StateStore {
  readonly durable = true;
  readonly tableName: string;
  private readonly client: DynamoDBClient;
  private readonly doc: DynamoDBDocumentClient;
  private readonly ownsClient: boolean;
  private readonly now: () => number;

  constructor(options: DynamoDbStateStoreOptions) {
    if (typeof options?.tableName !== "string" || options.tableName.length === 0) {
      throw new TypeError("DynamoDbStateStore needs a tableName");
    }
    this.tableName = options.tableName;
    this.ownsClient = options.client === undefined;
    this.client =
      options.client ??
      new DynamoDBClient({
        ...(options.endpoint ? { endpoint: options.endpoint } : {}),
        ...(options.region ? { region: options.region } : {}),
        ...(options.credentials ? { credentials: options.credentials } : {}),
      });
    this.doc = DynamoDBDocumentClient.from(this.client);
    this.now = options.now ?? Date.now;
  }

  async putIfAbsent(key: string, value: unknown, ttlSeconds: number): Promise<boolean> {
    checkKey(key);
    const ttl = checkTtl(ttlSeconds, true) as number;
    const nowSeconds = this.nowSeconds();
    const item = this.item("putIfAbsent", key, encodeValue(value), ttl, nowSeconds);
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: "attribute_not_exists(#pk) OR #exp <= :now",
          ExpressionAttributeNames: { "#pk": STATE_TABLE_KEY, "#exp": STATE_TABLE_TTL_ATTRIBUTE },
          ExpressionAttributeValues: { ":now": nowSeconds },
        }),
      );
      return true;
    } catch (err) {
      if (errorName(err) === "ConditionalCheckFailedException") return false;
      throw new StateStoreError("putIfAbsent", errorName(err));
    }
  }

  async get<T = unknown>(key: string): Promise<T | undefined> {
    checkKey(key);
    let item: StateItem | undefined;
    try {
      const out = await this.doc.send(
        // Strongly consistent: a dedupe check right after a write must see that write.
        new GetCommand({ TableName: this.tableName, Key: { [STATE_TABLE_KEY]: key }, ConsistentRead: true }),
      );
      item = out.Item as StateItem | undefined;
    } catch (err) {
      throw new StateStoreError("get", errorName(err));
    }
    if (!item || (typeof item.value !== "string" && !(item.gz instanceof Uint8Array) && typeof item.count !== "number")) return undefined;
    if (typeof item.expiresAt === "number" && item.expiresAt <= this.nowSeconds()) return undefined;
    if (typeof item.value === "string") return decodeValue<T>(item.value);
    if (item.gz instanceof Uint8Array) return decodeValue<T>(gunzipSync(item.gz).toString("utf8"));
    // A counter (`increment`) keeps its number in `count`.
    return item.count as T;
  }

  /**
   * One UpdateItem: ADD on the number attribute `count` is atomic across containers (`get` reads
   * it). An item whose TTL passed but that DynamoDB has not deleted yet starts over from `delta`.
   */
  async increment(key: string, delta: number, ttlSeconds: number): Promise<number> {
    checkKey(key);
    const ttl = checkTtl(ttlSeconds, true) as number;
    if (!Number.isFinite(delta)) throw new RangeError("increment: delta must be a finite number");
    const nowSeconds = this.nowSeconds();
    const add = async (): Promise<number> => {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [STATE_TABLE_KEY]: key },
          UpdateExpression: "ADD #count :d SET #exp = if_not_exists(#exp, :exp)",
          ConditionExpression: "attribute_not_exists(#exp) OR #exp > :now",
          ExpressionAttributeNames: { "#count": "count", "#exp": STATE_TABLE_TTL_ATTRIBUTE },
          ExpressionAttributeValues: { ":d": delta, ":exp": nowSeconds + Math.ceil(ttl), ":now": nowSeconds },
          ReturnValues: "UPDATED_NEW",
        }),
      );
      return Number(out.Attributes?.count ?? 0);
    };
    let count: number;
    try {
      try {
        count = await add();
      } catch (err) {
        if (errorName(err) !== "ConditionalCheckFailedException") throw err;
        // Expired but not yet deleted: start the counter again (the condition keeps racers apart).
        await this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { [STATE_TABLE_KEY]: key, count: 0, [STATE_TABLE_TTL_ATTRIBUTE]: nowSeconds + Math.ceil(ttl) },
            ConditionExpression: "#exp <= :now",
            ExpressionAttributeNames: { "#exp": STATE_TABLE_TTL_ATTRIBUTE },
            ExpressionAttributeValues: { ":now": nowSeconds },
          }),
        ).catch((e: unknown) => {
          if (errorName(e) !== "ConditionalCheckFailedException") throw e;
        });
        count = await add();
      }
    } catch (err) {
      if (err instanceof StateStoreError) throw err;
      throw new StateStoreError("increment", errorName(err));
    }
    return count;
  }

  async put(key: string, value: unknown, ttlSeconds?: number): Promise<void> {
    checkKey(key);
    const ttl = checkTtl(ttlSeconds, false);
    const item = this.item("put", key, encodeValue(value), ttl, this.nowSeconds());
    try {
      await this.doc.send(new PutCommand({ TableName: this.tableName, Item: item }));
    } catch (err) {
      throw new StateStoreError("put", errorName(err));
    }
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    try {
      await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: { [STATE_TABLE_KEY]: key } }));
    } catch (err) {
      throw new StateStoreError("delete", errorName(err));
    }
  }

  /** Releases the HTTP connections of a client this store created itself. */
  close(): void {
    if (this.ownsClient) this.client.destroy();
  }

  private nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  private item(operation: string, key: string, text: string, ttlSeconds: number | undefined, nowSeconds: number): StateItem {
    const item: StateItem = { pk: key };
    if (text.length <= COMPRESS_ABOVE_CHARS) {
      item.value = text;
    } else {
      const gz = gzipSync(text);
      // Refused here with its size rather than by DynamoDB's ValidationException, which names neither.
      if (gz.byteLength > MAX_STORED_VALUE_BYTES) {
        throw new StateStoreError(operation, "ValueTooLarge", `${Math.ceil(gz.byteLength / 1024)} KB compressed, the table holds ${MAX_STORED_VALUE_BYTES / 1024} KB per item`);
      }
      item.gz = gz;
    }
    // Rounded up so an item never expires before its TTL has fully elapsed.
    if (ttlSeconds !== undefined) item.expiresAt = nowSeconds + Math.ceil(ttlSeconds);
    return item;
  }
}

function errorName(err: unknown): string {
  const name = (err as { name?: unknown } | null)?.name;
  return typeof name === "string" && name.length > 0 ? name : "UnknownError";
}

/**
 * Creates the state table (for local and development use; production tables come from
 * infrastructure code). Idempotent. Enables TTL on `expiresAt` where the server supports it:
 * local DynamoDB-compatible servers may not implement UpdateTimeToLive, which is tolerated because
 * the store never relies on TTL deletion for correctness.
 */
export async function createStateTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [{ AttributeName: STATE_TABLE_KEY, AttributeType: "S" }],
        KeySchema: [{ AttributeName: STATE_TABLE_KEY, KeyType: "HASH" }],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
  } catch (err) {
    if (errorName(err) !== "ResourceInUseException") throw err;
  }
  await waitForActive(client, tableName);
  await enableTtl(client, tableName);
}

async function waitForActive(client: DynamoDBClient, tableName: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const out = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (out.Table?.TableStatus === "ACTIVE") return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`table ${tableName} did not become ACTIVE`);
}

async function enableTtl(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    const described = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
    const status = described.TimeToLiveDescription?.TimeToLiveStatus;
    if (status === "ENABLED" || status === "ENABLING") return;
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { Enabled: true, AttributeName: STATE_TABLE_TTL_ATTRIBUTE },
      }),
    );
  } catch (err) {
    const name = errorName(err);
    if (name === "UnknownOperationException" || name.endsWith("#UnknownOperationException")) return;
    throw err;
  }
}
