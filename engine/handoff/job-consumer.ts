/**
 * The consuming side of the job queue (engine/handoff/sqs-dispatcher.ts): the SQS event source
 * invokes the function with a batch of jobs; each is run once, and the answer is a partial batch
 * response. A job that failed for now is listed in `batchItemFailures` after its message was hidden
 * for the job's backoff (ChangeMessageVisibility), so SQS hands it out again then, and after the
 * queue's maxReceiveCount moves it to the dead-letter queue (whose alarm tells an operator). The
 * attempt number is the queue's receive count: a job that crashed its invocation counts too.
 * A message that is not a job, or a job this deployment did not write, is logged and deleted.
 */
import type { Engine, LambdaContextLike } from "../handler/engine.ts";
import type { BatchResponse, SqsRecord } from "../events/buffer-consumer.ts";
import { deferredJobProblem, type DeferredJob } from "./job.ts";

/** Retries of received messages: SqsJobQueue implements it against SQS. */
export interface JobQueueControl {
  retryLater(receiptHandle: string, delayMs: number): Promise<void>;
}

export interface JobRecord extends SqsRecord {
  receiptHandle?: string;
}

/** Time kept back per job: a job started with less than this left is handed back untried. */
export const JOB_START_MARGIN_MS = 5_000;

const parsedJobs = new WeakMap<object, DeferredJob | undefined>();

/** The job a queue record carries, or undefined (parsed once per record). */
export function jobOfRecord(record: SqsRecord): DeferredJob | undefined {
  if (parsedJobs.has(record)) return parsedJobs.get(record);
  let job: DeferredJob | undefined;
  try {
    const parsed = JSON.parse(record.body) as unknown;
    job = deferredJobProblem(parsed) === undefined ? (parsed as DeferredJob) : undefined;
  } catch {
    job = undefined;
  }
  parsedJobs.set(record, job);
  return job;
}

export function isJobRecord(record: SqsRecord): boolean {
  return jobOfRecord(record) !== undefined;
}

export async function consumeJobRecords(engine: Engine, records: JobRecord[], context?: LambdaContextLike): Promise<BatchResponse["batchItemFailures"]> {
  const logger = engine.deps.logger.child({ source: "job-queue" });
  const queue = engine.deps.jobQueue;
  const failures: BatchResponse["batchItemFailures"] = [];
  for (const record of records) {
    const job = jobOfRecord(record)!;
    if (context && context.getRemainingTimeInMillis() < JOB_START_MARGIN_MS) {
      // Not enough time left to run it: back to the queue untried, visible again at once.
      await hide(record, 0);
      failures.push({ itemIdentifier: record.messageId });
      continue;
    }
    const received = Number(record.attributes?.ApproximateReceiveCount ?? "1");
    const attempt = Math.max(job.attempt, Number.isInteger(received) && received > 0 ? received : 1);
    try {
      const result = await engine.runJob(job, context, attempt);
      if (result.status === "retry") {
        await hide(record, result.delayMs);
        failures.push({ itemIdentifier: record.messageId });
      }
    } catch (err) {
      // The run itself broke (state store down): the queue redelivers after its visibility timeout.
      logger.error("deferred job could not be run; the queue redelivers it", { jobId: job.jobId, error: err });
      failures.push({ itemIdentifier: record.messageId });
    }
  }
  return failures;

  async function hide(record: JobRecord, delayMs: number): Promise<void> {
    if (!queue || !record.receiptHandle) return;
    try {
      await queue.retryLater(record.receiptHandle, delayMs);
    } catch (err) {
      // The queue's own visibility timeout then decides when it comes back.
      logger.warn("job backoff not applied; the queue's visibility timeout applies", { error: err });
    }
  }
}
