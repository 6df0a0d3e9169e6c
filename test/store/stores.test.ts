import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { MemoryStateStore } from "../../engine/store/memory-store.ts";
import { DynamoDbStateStore, StateStoreError, createStateTable } from "../../engine/store/dynamodb-store.ts";
import { createStateStore } from "../../engine/store/index.ts";
import { startDynalite, type LocalDynamo } from "../../engine/local/dynalite.ts";
import { ManualClock, describeStateStoreContract } from "./contract.ts";

const TABLE = "c2c-state-test";
let dynamo: LocalDynamo;
let client: DynamoDBClient;

beforeAll(async () => {
  dynamo = await startDynalite();
  client = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  await createStateTable(client, TABLE);
});

afterAll(async () => {
  client?.destroy();
  await dynamo?.close();
});

describeStateStoreContract("memory", (clock) => new MemoryStateStore({ now: clock.now }));
describeStateStoreContract(
  "DynamoDB (dynalite)",
  (clock) => new DynamoDbStateStore({ tableName: TABLE, client, now: clock.now }),
);

describe("MemoryStateStore bounds", () => {
  it("evicts the least recently used entry above maxEntries", async () => {
    const store = new MemoryStateStore({ maxEntries: 3 });
    await store.put("a", 1);
    await store.put("b", 2);
    await store.put("c", 3);
    expect(await store.get("a")).toBe(1); // a is now the most recently used
    await store.put("d", 4);
    expect(store.size).toBe(3);
    expect(await store.get("b")).toBeUndefined();
    expect(await store.get("a")).toBe(1);
    expect(await store.get("c")).toBe(3);
    expect(await store.get("d")).toBe(4);
  });

  it("never holds more than maxEntries however many keys arrive", async () => {
    const store = new MemoryStateStore({ maxEntries: 50 });
    for (let i = 0; i < 500; i++) await store.putIfAbsent(`k${i}`, i, 60);
    expect(store.size).toBe(50);
    expect(await store.get("k499")).toBe(499);
    expect(await store.get("k0")).toBeUndefined();
  });

  it("drops an expired entry when it is touched", async () => {
    const clock = new ManualClock();
    const store = new MemoryStateStore({ now: clock.now });
    await store.put("e", 1, 1);
    clock.advanceSeconds(2);
    expect(store.size).toBe(1);
    expect(await store.get("e")).toBeUndefined();
    expect(store.size).toBe(0);
  });

  it("rejects a maxEntries that is not a positive integer", () => {
    expect(() => new MemoryStateStore({ maxEntries: 0 })).toThrow(RangeError);
  });
});

describe("DynamoDbStateStore specifics", () => {
  it("treats an expired item that the table still holds as absent", async () => {
    const clock = new ManualClock();
    const store = new DynamoDbStateStore({ tableName: TABLE, client, now: clock.now });
    await store.putIfAbsent("expired-but-stored", { a: 1 }, 30);
    clock.advanceSeconds(31);
    // TTL deletion is lazy: the item is still there, with its TTL attribute in epoch seconds.
    const raw = await client.send(
      new GetItemCommand({ TableName: TABLE, Key: { pk: { S: "expired-but-stored" } } }),
    );
    expect(raw.Item?.expiresAt?.N).toBe(String(Math.floor(clock.ms / 1000) - 1));
    expect(raw.Item?.value?.S).toBe('{"a":1}');
    expect(await store.get("expired-but-stored")).toBeUndefined();
    expect(await store.putIfAbsent("expired-but-stored", { a: 2 }, 30)).toBe(true);
    expect(await store.get("expired-but-stored")).toEqual({ a: 2 });
  });

  it("keeps a large value gzip-compressed in one item, and refuses one that cannot fit with its size", async () => {
    const store = new DynamoDbStateStore({ tableName: TABLE, client });
    const big = { items: Array.from({ length: 8000 }, (_, i) => ({ id: `light-${i}`, power: i % 3 ? "on" : "off" })) };
    await store.put("big-value", big, 60);
    const raw = await client.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: "big-value" } } }));
    expect(raw.Item?.value).toBeUndefined();
    expect(raw.Item?.gz?.B?.byteLength).toBeLessThan(JSON.stringify(big).length / 5);
    expect(await store.get("big-value")).toEqual(big);
    // A small value written over it replaces the whole item.
    await store.put("big-value", { small: true }, 60);
    expect(await store.get("big-value")).toEqual({ small: true });
    // Random text does not compress: over DynamoDB's item limit it is refused, naming the size.
    const noise = randomBytes(600 * 1024).toString("base64");
    const err = await store.put("noise", { noise }, 60).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateStoreError);
    expect((err as StateStoreError).code).toBe("ValueTooLarge");
    expect((err as Error).message).toMatch(/put failed: ValueTooLarge \(\d+ KB compressed, the table holds 390 KB per item\)/);
    await expect(store.putIfAbsent("noise", { noise }, 60)).rejects.toMatchObject({ code: "ValueTooLarge", operation: "putIfAbsent" });
  });

  it("createStateTable is idempotent", async () => {
    await expect(createStateTable(client, TABLE)).resolves.toBeUndefined();
  });

  it("reports a backend failure as StateStoreError with the backend's error name", async () => {
    const store = new DynamoDbStateStore({ tableName: "no-such-table", client });
    const err = await store.get("x").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateStoreError);
    expect((err as StateStoreError).code).toBe("ResourceNotFoundException");
    await expect(store.putIfAbsent("x", 1, 10)).rejects.toBeInstanceOf(StateStoreError);
  });

  it("needs a table name", () => {
    expect(() => new DynamoDbStateStore({ tableName: "" })).toThrow(/tableName/);
  });
});

describe("createStateStore", () => {
  it("is memory without C2C_STATE_TABLE", () => {
    expect(createStateStore({})).toBeInstanceOf(MemoryStateStore);
    expect(createStateStore({ C2C_STATE_TABLE: "  " })).toBeInstanceOf(MemoryStateStore);
  });

  it("is DynamoDB at C2C_DYNAMODB_ENDPOINT when C2C_STATE_TABLE is set", async () => {
    // Region and credentials come from the SDK's usual environment.
    vi.stubEnv("AWS_REGION", "us-east-1");
    vi.stubEnv("AWS_ACCESS_KEY_ID", "x");
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "y");
    const store = createStateStore({ C2C_STATE_TABLE: TABLE, C2C_DYNAMODB_ENDPOINT: dynamo.endpoint });
    // Loaded lazily (no DynamoDB client at cold start): what it writes must land in the table.
    expect(store).not.toBeInstanceOf(MemoryStateStore);
    const key = `env-check-${Math.random()}`;
    expect(await store.putIfAbsent(key, { a: 1 }, 60)).toBe(true);
    const direct = new DynamoDbStateStore({ tableName: TABLE, endpoint: dynamo.endpoint, region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "y" } });
    expect(await direct.get(key)).toEqual({ a: 1 });
    vi.unstubAllEnvs();
  });
});
