/**
 * The outbox: events MI does not take now become one deferred job that delivers them later, in
 * order, each once. It serves the MI request path (the publisher defers what MI refused for now)
 * and webhook deliveries (as their event buffer, with the values to record once MI has them).
 */
import type { EventPublisher } from "../operations/publisher.ts";
import type { SendConnectorEventInput } from "../mi/send-connector-event.ts";
import { InvalidEventError } from "../mi/event-errors.ts";
import { normalizeEvent } from "../mi/event-normalize.ts";
import type { BufferedEvent, EventBuffer } from "../events/buffer.ts";
import { ChangeTracker } from "../events/change-tracker.ts";
import { valuesCarriedBy, withoutStaleValues } from "../events/stale-values.ts";
import { keys, TTL } from "../operations/keys.ts";
import type { DeferredJob } from "../handoff/job.ts";
import type { StateStore } from "../store/store.ts";
import type { Logger } from "../log/logger.ts";
import { EVENT_JOB, type DeferredWork, type EventJobWork, type EventTracking } from "./job-work.ts";

/**
 * Attempts of an event MI did not take: with backoff capped at 15 minutes, 200 attempts keep
 * trying for about two days, within the job queue's retention (engine/deploy/template.ts).
 */
export const EVENT_JOB_MAX_ATTEMPTS = 200;
export const EVENT_JOB_MAX_BACKOFF_MS = 15 * 60_000;

export class Outbox {
  constructor(
    private readonly work: DeferredWork,
    private readonly store: StateStore,
    private readonly logger: Logger,
  ) {}

  /** Parts of an event MI did not take now: a deferred job that delivers them later. */
  async defer(parts: SendConnectorEventInput[]): Promise<void> {
    await this.work.enqueue(EVENT_JOB, { events: parts } satisfies EventJobWork, { maxAttempts: EVENT_JOB_MAX_ATTEMPTS });
  }

  /**
   * The outbox as a webhook delivery's event buffer: DEVICE_EVENTs MI did not take now (and the rest
   * of their delivery) become ONE outbox job, each request carrying the attribute values to record
   * once MI accepted it and its order position, so a value a newer event overtook is not sent.
   */
  asEventBuffer(): EventBuffer {
    return { write: (events) => this.deferWebhookEvents(events) };
  }

  private async deferWebhookEvents(buffered: BufferedEvent[]): Promise<void> {
    const events: SendConnectorEventInput[] = [];
    const tracking: EventTracking[] = [];
    for (const b of buffered) {
      let parts: SendConnectorEventInput[];
      try {
        parts = normalizeEvent(b.input).events;
      } catch (err) {
        if (!(err instanceof InvalidEventError)) throw err;
        // A retry cannot fix it: logged as lost, with the problems, never the values.
        this.logger.error("webhook event breaks the SendConnectorEvent model: it is lost", { error: err });
        continue;
      }
      for (const part of parts) {
        events.push(part);
        tracking.push({ commits: valuesCarriedBy(part, b.commits), ...(b.order !== undefined ? { order: b.order } : {}) });
      }
    }
    if (events.length === 0) return;
    const job = await this.work.enqueue(EVENT_JOB, { events, tracking } satisfies EventJobWork, { maxAttempts: EVENT_JOB_MAX_ATTEMPTS });
    this.logger.info("webhook events handed to the outbox", { jobId: job.jobId, events: events.length });
  }

  /**
   * Sends the job's events in order, each through the deactivation check (`publisher` sends without
   * deferral). Events MI accepted are recorded (by index, under the job id), so a retry sends only
   * the rest: a part of a split event is never sent twice, except the very request whose answer was
   * lost, re-sent identically (SendConnectorEvent is @idempotent).
   */
  async deliver(job: DeferredJob, publisher: EventPublisher, logger: Logger): Promise<void> {
    const { events, tracking } = await this.work.workOf<EventJobWork>(job);
    const progressKey = keys.jobProgress(job.jobId);
    const tracker = new ChangeTracker(this.store);
    let done = (await this.store.get<number>(progressKey)) ?? 0;
    for (; done < events.length; done++) {
      const tracked = tracking?.[done];
      const part = tracked ? await withoutStaleValues(events[done]!, tracked.commits, tracked.order, tracker) : events[done]!;
      if (part === undefined) {
        logger.info("deferred webhook event dropped: newer values reached managed integrations meanwhile");
      } else if (!(await publisher.publishParts([part]))) {
        logger.warn("the user was deactivated: the rest of the deferred events is not sent", { notSent: events.length - done });
        return;
      }
      await this.store.put(progressKey, done + 1, TTL.job);
      if (part && tracked) {
        try {
          for (const c of tracked.commits) await tracker.commit(c.ref, c.value, tracked.order);
        } catch (err) {
          // MI has it; the tracker only decides what later events repeat.
          logger.warn("deferred webhook event sent, but its values were not recorded", { error: err });
        }
      }
    }
    logger.info("deferred events delivered", { events: events.length });
  }
}
