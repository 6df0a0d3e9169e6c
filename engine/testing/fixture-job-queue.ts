/**
 * The job queue of fixtures that show deferred work (poll rounds, read-backs after a delay): the
 * loopback SQS emulator, as the production engine's queue (C2C_JOB_QUEUE_URL), with a clock only
 * the fixture moves. A step's jobs are listed with their delays; the jobs due run as Lambda's SQS
 * event source would run them (a batch event to the same target, its partial batch response
 * applied); a `wait` step moves the clock, so a delay is shown and never slept. The same path
 * serves the in-process engine and the built artifact: both read the queue from the environment.
 */
import { JOB_QUEUE_URL_ENV, SQS_ENDPOINT_ENV } from "../handoff/sqs-dispatcher.ts";
import { startSqsEmulator, type SqsEmulator } from "../local/sqs-emulator.ts";
import type { InvokeTarget } from "./fixture-runner.ts";

export const FIXTURE_JOB_QUEUE = "c2c-fixture-jobs";

/** A job the step put on the queue: the engine's job operation and when it is due. */
export interface QueuedJob {
  operation: string;
  delaySeconds: number;
}

/** Batches run after one step at most: a job that re-queues itself at once would loop forever. */
const MAX_BATCHES_PER_STEP = 50;

export class FixtureJobQueue {
  private clock = Date.now();
  private seen = new Set<string>();

  private constructor(private readonly sqs: SqsEmulator) {}

  static async start(region: string): Promise<FixtureJobQueue> {
    let queue: FixtureJobQueue | undefined;
    const sqs = await startSqsEmulator({ region, maxReceiveCount: 5, now: () => queue?.clock ?? Date.now() });
    queue = new FixtureJobQueue(sqs);
    return queue;
  }

  /** An empty queue and a clock at the present, for the next fixture. */
  reset(): void {
    this.sqs.reset();
    this.sqs.queueUrl(FIXTURE_JOB_QUEUE);
    this.seen.clear();
    this.clock = Date.now();
  }

  /** What points a target at this queue (the production variables, nothing test-only). */
  env(): Record<string, string> {
    return { [JOB_QUEUE_URL_ENV]: this.sqs.queueUrl(FIXTURE_JOB_QUEUE), [SQS_ENDPOINT_ENV]: this.sqs.endpoint };
  }

  /** Jobs that arrived since the last call, with their delay from the fixture's clock. */
  newJobs(): QueuedJob[] {
    const out: QueuedJob[] = [];
    for (const m of this.sqs.messages(FIXTURE_JOB_QUEUE)) {
      if (this.seen.has(m.messageId)) continue;
      this.seen.add(m.messageId);
      out.push({ operation: operationOf(m.body), delaySeconds: Math.max(0, Math.round((m.visibleAt - this.clock) / 1000)) });
    }
    return out;
  }

  /** The fixture's clock: the present at the fixture's start, moved only by `wait` steps. */
  now(): number {
    return this.clock;
  }

  /** Moves the queue's clock: jobs due by then become visible. */
  advance(seconds: number): void {
    this.clock += seconds * 1000;
  }

  /**
   * Runs every job due now through the target, batch after batch (jobs they queue at once included),
   * and returns what went wrong: a target that does not answer with a partial batch response.
   */
  async runDue(target: InvokeTarget, onJobs: (jobs: QueuedJob[]) => void): Promise<string[]> {
    const problems: string[] = [];
    for (let i = 0; i < MAX_BATCHES_PER_STEP; i++) {
      onJobs(this.newJobs());
      const event = this.sqs.poll(FIXTURE_JOB_QUEUE);
      if (event.Records.length === 0) return problems;
      let answer: unknown;
      try {
        answer = await target.invoke(event, { getRemainingTimeInMillis: () => 30_000, awsRequestId: `fixture-jobs-${i + 1}` });
      } catch (err) {
        problems.push(`the target threw on a job batch: ${err instanceof Error ? err.message : String(err)}`);
        answer = { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) };
      }
      const failures = (answer as { batchItemFailures?: unknown } | undefined)?.batchItemFailures;
      if (!Array.isArray(failures)) {
        problems.push(`a job batch was not answered with a partial batch response: ${JSON.stringify(answer)}`);
        return problems;
      }
      this.sqs.complete(FIXTURE_JOB_QUEUE, event, { batchItemFailures: failures as Array<{ itemIdentifier: string }> });
    }
    problems.push(`jobs were still due after ${MAX_BATCHES_PER_STEP} batches`);
    return problems;
  }

  /** Jobs left on the queue (not yet due, or failed and waiting for their retry), and dead letters. */
  leftovers(): string[] {
    const left = this.sqs.messages(FIXTURE_JOB_QUEUE).map((m) => {
      const seconds = Math.max(0, Math.round((m.visibleAt - this.clock) / 1000));
      return `job ${operationOf(m.body)} is still on the queue, due in ${seconds} s (add a \`wait\` step)`;
    });
    const dead = this.sqs.deadLetters(FIXTURE_JOB_QUEUE).map((m) => `job ${operationOf(m.body)} ended in the dead-letter queue`);
    return [...left, ...dead];
  }

  close(): Promise<void> {
    return this.sqs.close();
  }
}

function operationOf(body: string): string {
  try {
    const op = (JSON.parse(body) as { operation?: unknown }).operation;
    return typeof op === "string" ? op : "(no operation)";
  } catch {
    return "(not a job)";
  }
}
