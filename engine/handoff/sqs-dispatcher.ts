/**
 * The deferred-work queue: jobs go to an SQS queue (with a dead-letter queue, in the generated
 * template) that the same function consumes through its SQS event source (engine/handoff/job-consumer.ts).
 * A job is durable once SendMessage returned: SQS keeps it until a consumer finished it or the
 * redrive policy moved it to the dead-letter queue. Delays use DelaySeconds (at most 15 minutes);
 * retries use the visibility timeout of the received message (at most 12 hours).
 */
// Types only: the SQS client is loaded on the first hand-off, not at cold start.
import type { SQSClient, SQSClientConfig } from "@aws-sdk/client-sqs";
import { lazySqsClient } from "../queue/sqs-client.ts";
import { assertDeferredJob, type DeferredJob, type DispatchOptions, type JobDispatcher } from "./job.ts";
import type { JobQueueControl } from "./job-consumer.ts";

export const JOB_QUEUE_URL_ENV = "C2C_JOB_QUEUE_URL";
/** Overrides the SQS endpoint (a local emulator); shared with the webhook event buffer. */
export const SQS_ENDPOINT_ENV = "C2C_SQS_ENDPOINT";

export const MAX_DELAY_SECONDS = 900;
export const MAX_VISIBILITY_SECONDS = 12 * 3600;

/** The job could not be handed over. The message never carries the job's payload. */
export class JobDispatchError extends Error {
  constructor(
    readonly jobId: string,
    /** The service's error name. */
    readonly code: string,
    cause?: unknown,
  ) {
    super(`deferred job ${jobId} could not be dispatched: ${code}`, cause === undefined ? undefined : { cause });
    this.name = "JobDispatchError";
  }
}

export interface SqsJobQueueOptions {
  queueUrl: string;
  endpoint?: string;
  region?: string;
  credentials?: SQSClientConfig["credentials"];
  /** A ready client; when given, endpoint, region and credentials are ignored. */
  client?: SQSClient;
  now?: () => number;
}

export class SqsJobQueue implements JobDispatcher, JobQueueControl {
  private client?: Promise<SQSClient>;
  private readonly now: () => number;
  /** SQS keeps a job until it is done or in the dead-letter queue. */
  readonly durable = true;

  constructor(private readonly options: SqsJobQueueOptions) {
    if (!options.queueUrl) throw new TypeError(`the job queue URL is unknown (${JOB_QUEUE_URL_ENV})`);
    this.now = options.now ?? Date.now;
  }

  get queueUrl(): string {
    return this.options.queueUrl;
  }

  async dispatch(job: DeferredJob, options: DispatchOptions = {}): Promise<void> {
    assertDeferredJob(job);
    const { SendMessageCommand } = await import("@aws-sdk/client-sqs");
    const client = await this.sdk();
    const waitMs = Math.max(options.delayMs ?? 0, (job.notBefore ?? 0) - this.now(), 0);
    try {
      await client.send(
        new SendMessageCommand({
          QueueUrl: this.options.queueUrl,
          MessageBody: JSON.stringify(job),
          DelaySeconds: Math.min(MAX_DELAY_SECONDS, Math.ceil(waitMs / 1000)),
        }),
      );
    } catch (err) {
      const name = (err as { name?: unknown } | null)?.name;
      throw new JobDispatchError(job.jobId, typeof name === "string" ? name : "UnknownError", err);
    }
  }

  prepare(): void {
    // Loading the SQS client costs about 250 ms once per container: overlap it with the operation's own waiting.
    this.sdk().catch(() => undefined);
  }

  /** Hides a received message for `delayMs` (its backoff): SQS hands it out again afterwards. */
  async retryLater(receiptHandle: string, delayMs: number): Promise<void> {
    const { ChangeMessageVisibilityCommand } = await import("@aws-sdk/client-sqs");
    const client = await this.sdk();
    const seconds = Math.min(MAX_VISIBILITY_SECONDS, Math.max(0, Math.ceil(delayMs / 1000)));
    await client.send(new ChangeMessageVisibilityCommand({ QueueUrl: this.options.queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: seconds }));
  }

  private sdk(): Promise<SQSClient> {
    if (this.options.client) return Promise.resolve(this.options.client);
    this.client ??= lazySqsClient(this.options);
    return this.client;
  }
}

/** The job queue configured by the environment (C2C_JOB_QUEUE_URL, C2C_SQS_ENDPOINT, AWS_REGION). */
export function sqsJobQueueFromEnv(env: Record<string, string | undefined>): SqsJobQueue {
  const queueUrl = env[JOB_QUEUE_URL_ENV]?.trim() ?? "";
  const endpoint = env[SQS_ENDPOINT_ENV]?.trim();
  const region = env.AWS_REGION?.trim();
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  // Explicit credentials when the given environment has them (tests, local runs); else the SDK's default chain.
  const credentials = accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) } : undefined;
  return new SqsJobQueue({ queueUrl, ...(endpoint ? { endpoint } : {}), ...(region ? { region } : {}), ...(credentials ? { credentials } : {}) });
}

