/**
 * The consuming side of the event buffer (engine/events/buffer.ts): the SQS event source mapping
 * invokes the function with a batch of buffered DEVICE_EVENTs, and each goes to MI through a
 * publisher without a deferral fallback (events of deactivated users are still not sent). The
 * answer is a partial batch response: records MI did not take are listed in `batchItemFailures`,
 * so SQS redelivers them and, after the queue's maxReceiveCount, moves them to the dead-letter
 * queue. A record that can never succeed (not a buffered event, or refused by MI as invalid) is
 * logged as lost and not listed: redelivering it would only delay its way to nowhere.
 */
import type { Engine, LambdaContextLike } from "../handler/engine.ts";
import { InvalidEventError } from "../mi/event-errors.ts";
import { EventPublisher } from "../operations/publisher.ts";
import { parseBufferedEvent, type BufferedEvent } from "./buffer.ts";
import { ChangeTracker } from "./change-tracker.ts";
import { withoutStaleValues } from "./stale-values.ts";

export interface SqsRecord {
  messageId: string;
  body: string;
  eventSource: "aws:sqs";
  attributes?: { ApproximateReceiveCount?: string };
}

export interface SqsEvent {
  Records: SqsRecord[];
}

export interface BatchResponse {
  batchItemFailures: Array<{ itemIdentifier: string }>;
}

export type QueueHandler = (event: unknown, context?: LambdaContextLike) => Promise<BatchResponse>;

export function isSqsEvent(event: unknown): event is SqsEvent {
  const records = (event as { Records?: unknown } | null)?.Records;
  return Array.isArray(records) && records.length > 0 && records.every((r) => (r as { eventSource?: unknown })?.eventSource === "aws:sqs");
}

export function createBufferConsumer(engine: Engine): QueueHandler {
  const deps = engine.deps;
  const logger = deps.logger.child({ source: "event-buffer" });
  // No deferral fallback: a failed send must go back to the queue, whose DLQ ends the retries.
  const publisher = new EventPublisher(deps.sink, deps.store, logger);
  const tracker = new ChangeTracker(deps.store);

  return async (event) => {
    if (!isSqsEvent(event)) return { batchItemFailures: [] };
    const failures: BatchResponse["batchItemFailures"] = [];
    const counts = { sent: 0, suppressed: 0, stale: 0, lost: 0, failed: 0 };
    let miDown = false;
    for (const record of event.Records) {
      const log = logger.child({ messageId: record.messageId, receiveCount: record.attributes?.ApproximateReceiveCount });
      if (miDown) {
        // A send just failed after the client's retries (MI down, throttling): hand the rest back untried.
        failures.push({ itemIdentifier: record.messageId });
        counts.failed++;
        continue;
      }
      let buffered: BufferedEvent;
      try {
        buffered = parseBufferedEvent(record.body);
      } catch (err) {
        counts.lost++;
        log.error("queue message is not a buffered device event: it is lost", { error: err });
        continue;
      }
      let sent = false;
      try {
        const input = await withoutStaleValues(buffered.input, buffered.commits, buffered.order, tracker);
        if (!input) {
          counts.stale++;
          log.info("buffered event dropped: newer values reached managed integrations meanwhile");
          continue;
        }
        if (!(await publisher.publish(input))) {
          counts.suppressed++;
          continue;
        }
        sent = true;
        counts.sent++;
        for (const c of buffered.commits) await tracker.commit(c.ref, c.value, buffered.order);
      } catch (err) {
        if (err instanceof InvalidEventError) {
          counts.lost++;
          log.error("MI refused the buffered device event as invalid: it is lost", { error: err });
        } else if (sent) {
          // MI has it; a redelivery would send it twice. The tracker only decides what later events repeat.
          log.warn("buffered event sent, but its values were not recorded", { error: err });
        } else {
          log.warn("buffered device event not accepted by MI: SQS redelivers it", { error: err });
          failures.push({ itemIdentifier: record.messageId });
          counts.failed++;
          miDown = true;
        }
      }
    }
    logger.info("event buffer batch processed", { records: event.Records.length, ...counts });
    return { batchItemFailures: failures };
  };
}
