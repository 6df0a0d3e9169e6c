/**
 * The deferred-work rig the job-queue, outbox, quota and webhook-outbox suites share: DynamoDB
 * through dynalite (one table per store, shared by the "containers" of one test) and the loopback
 * SQS emulator with a clock the test moves, so a 10-minute outage or a quota window takes no wall
 * time. Engines get the job queue through the same environment variables a deployment sets.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Engine, LambdaContextLike } from "../../engine/handler/engine.ts";
import type { BatchResponse } from "../../engine/events/buffer-consumer.ts";
import { DynamoDbStateStore, createStateTable } from "../../engine/store/dynamodb-store.ts";
import { startDynalite, type LocalDynamo } from "../../engine/local/dynalite.ts";
import { startSqsEmulator, type SqsEmulator } from "../../engine/local/sqs-emulator.ts";
import { LOCAL_TEST_CREDENTIALS } from "../../engine/local/mi-emulator.ts";

/** A Lambda context with time to spare: the engine's own budgets (ACK, job) decide. */
export const LONG_CONTEXT: LambdaContextLike = { getRemainingTimeInMillis: () => 30_000 };

/** The job key of a deployment, shared by its containers (jobs that travel inline are signed with it). */
export const TEST_JOB_KEY = "deployment-job-key-for-tests-0123456789";

export interface QueueRigOptions {
  /** The job queue's name. */
  queue: string;
  /** Receives before a message goes to the dead-letter queue. */
  maxReceiveCount: number;
  /** The queue's default visibility timeout (default 180 s). */
  visibilityTimeoutSeconds?: number;
  /** Where the test clock starts (default: now). */
  clockStart?: number;
}

export class QueueRig {
  /** The test's clock, in milliseconds: the SQS emulator's (delays, visibility) and whatever else the test hands `now` to. */
  clock: number;
  private tables = 0;

  private constructor(
    readonly dynamo: LocalDynamo,
    readonly sqs: SqsEmulator,
    readonly queue: string,
    clockStart: number,
  ) {
    this.clock = clockStart;
  }

  static async start(opts: QueueRigOptions): Promise<QueueRig> {
    let rig: QueueRig | undefined;
    const now = () => rig!.clock;
    const [dynamo, sqs] = await Promise.all([startDynalite(), startSqsEmulator({ maxReceiveCount: opts.maxReceiveCount, visibilityTimeoutSeconds: opts.visibilityTimeoutSeconds ?? 180, now })]);
    rig = new QueueRig(dynamo, sqs, opts.queue, opts.clockStart ?? Date.now());
    return rig;
  }

  /** The test clock as a function, for stores, quota gates and engines. */
  readonly now = (): number => this.clock;

  /** Moves the test clock on. */
  advance(ms: number): void {
    this.clock += ms;
  }

  /** A new state table (named `<prefix>-<n>`) and a store on it; `now` is the store's clock (TTLs). */
  async dynamoStore(prefix: string, opts: { now?: () => number } = {}): Promise<DynamoDbStateStore> {
    const name = `${prefix}-${++this.tables}`;
    await createStateTable(this.dynamoClient(), name);
    return new DynamoDbStateStore({ tableName: name, client: this.dynamoClient(), ...(opts.now ? { now: opts.now } : {}) });
  }

  /** A second container's store: its own client on the same table. */
  sameTable(store: DynamoDbStateStore, opts: { now?: () => number } = {}): DynamoDbStateStore {
    return new DynamoDbStateStore({ tableName: store.tableName, client: this.dynamoClient(), ...(opts.now ? { now: opts.now } : {}) });
  }

  /** What a deployment sets for the job queue (and the outbox): URL, endpoint, region, credentials, job key. */
  jobQueueEnv(): Record<string, string> {
    return {
      C2C_JOB_QUEUE_URL: this.sqs.queueUrl(this.queue),
      C2C_SQS_ENDPOINT: this.sqs.endpoint,
      C2C_JOB_KEY: TEST_JOB_KEY,
      AWS_REGION: this.sqs.region,
      AWS_ACCESS_KEY_ID: LOCAL_TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_TEST_CREDENTIALS.secretAccessKey,
    };
  }

  /** One poll of the event source mapping: the batch to the engine, its partial batch response applied. */
  async consume(engine: Engine, context: LambdaContextLike = LONG_CONTEXT): Promise<BatchResponse> {
    const event = this.sqs.poll(this.queue);
    const response = (await engine.handle(event, context)) as BatchResponse;
    this.sqs.complete(this.queue, event, response);
    return response;
  }

  /** Polls until nothing is visible; returns the batch item failures seen. Fails when the queue does not drain. */
  async consumeAll(engine: Engine, context: LambdaContextLike = LONG_CONTEXT): Promise<number> {
    let failures = 0;
    for (let i = 0; i < 50; i++) {
      const event = this.sqs.poll(this.queue);
      if (event.Records.length === 0) return failures;
      const response = (await engine.handle(event, context)) as BatchResponse;
      this.sqs.complete(this.queue, event, response);
      failures += response.batchItemFailures.length;
    }
    throw new Error("the queue did not drain");
  }

  /** The messages on the queue (visible or not). */
  messages(): ReturnType<SqsEmulator["messages"]> {
    return this.sqs.messages(this.queue);
  }

  deadLetters(): ReturnType<SqsEmulator["deadLetters"]> {
    return this.sqs.deadLetters(this.queue);
  }

  reset(): void {
    this.sqs.reset();
  }

  async close(): Promise<void> {
    await Promise.all([this.dynamo.close(), this.sqs.close()]);
  }

  private dynamoClient(): DynamoDBClient {
    return new DynamoDBClient({ endpoint: this.dynamo.endpoint, region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "y" } });
  }
}
