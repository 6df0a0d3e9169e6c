/**
 * The one way events leave the engine. Per event:
 *  - the deactivation marker is read just before each request (a split event checks before every
 *    part), so nothing of a deactivated user leaves, whether sent now or from the outbox;
 *  - the event is normalised and checked once (split into parts of at most 5 clusters), so every part
 *    that goes out, now or later, is the identical body;
 *  - with a deadline (the ACK path) each request gets only the time that is left: MI being slow never
 *    delays the ACK. Parts MI does not take now (timeout, throttling, outage) go to the outbox
 *    (`fallback`: a deferred job), parts already accepted are not handed over, so none is sent twice
 *    except the one whose answer was lost, re-sent identically (SendConnectorEvent is @idempotent);
 *  - MI's 4xx (ValidationException, AccessDenied, ResourceNotFound) are final: counted, logged with
 *    the problem MI names, never retried or deferred.
 */
import type { EventSink, SendConnectorEventInput } from "../mi/send-connector-event.ts";
import type { StateStore } from "../store/store.ts";
import type { Logger } from "../log/logger.ts";
import type { Deadline } from "../runtime/deadline.ts";
import { keys } from "./keys.ts";
import { InvalidEventError, SendConnectorEventError } from "../mi/event-errors.ts";
import { normalizeEvent } from "../mi/event-normalize.ts";
import { withLogContext } from "../log/context.ts";
import { countMetric, Metric } from "../metrics/recorder.ts";

/** A request to MI started with less time than this left is not started: its part goes to the outbox. */
export const MIN_SEND_MS = 50;

/** Parts of an event MI did not take now, for the outbox. */
export type EventFallback = (parts: SendConnectorEventInput[], error: unknown) => Promise<void>;

/** Per-container counters (logged with each change). */
export interface PublisherCounts {
  /** Events (parts) not sent because their user was deactivated. */
  suppressed: number;
  /** Parts MI refused with a 4xx: final, never retried. */
  rejectedByMi: number;
  /** Parts handed to the outbox. */
  deferred: number;
}

export class EventPublisher {
  private readonly counts: PublisherCounts;

  constructor(
    private readonly sink: EventSink,
    private readonly store: StateStore,
    private readonly logger: Logger,
    /**
     * Where parts go that MI does not take now (throttling, outage, network, the budget ran out):
     * the outbox. Without one the error propagates. Invalid events and MI's 4xx never go there.
     */
    private readonly fallback?: EventFallback,
    /** Bounds every request of this publisher (the ACK path); without one a send takes as long as the client's retries. */
    private readonly deadline?: Deadline,
    counts?: PublisherCounts,
  ) {
    this.counts = counts ?? { suppressed: 0, rejectedByMi: 0, deferred: 0 };
  }

  /** The same publisher, with each request bounded by `deadline` (counters are shared). */
  within(deadline: Deadline): EventPublisher {
    return new EventPublisher(this.sink, this.store, this.logger, this.fallback, deadline, this.counts);
  }

  /** The same publisher without outbox or deadline: what the outbox itself sends with (counters are shared). */
  direct(): EventPublisher {
    return new EventPublisher(this.sink, this.store, this.logger, undefined, undefined, this.counts);
  }

  get suppressed(): number {
    return this.counts.suppressed;
  }

  get rejectedByMi(): number {
    return this.counts.rejectedByMi;
  }

  get deferred(): number {
    return this.counts.deferred;
  }

  /**
   * Sends `input` (all its parts). True when it was sent or handed to the outbox, false when its
   * user is deactivated. Throws InvalidEventError (nothing sent), or the SendConnectorEventError of a
   * final MI refusal, or, without a fallback, the error of a part MI did not take.
   */
  async publish(input: SendConnectorEventInput): Promise<boolean> {
    const { events: parts, problems } = normalizeEvent(input); // throws InvalidEventError: nothing is sent
    if (problems.length > 0) this.logger.debug("SendConnectorEvent normalized", { eventOperation: input.Operation, problems });
    return this.publishParts(parts);
  }

  /** Sends parts that are already normalised (the outbox's), in order, each after the deactivation check. */
  async publishParts(parts: SendConnectorEventInput[]): Promise<boolean> {
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      // The lines about this part (here and in the MI client) carry the ids MI correlates it by.
      const sent = await withLogContext(
        { traceId: part.TraceId, deviceDiscoveryId: part.DeviceDiscoveryId, connectorDeviceId: part.ConnectorDeviceId },
        () => this.publishPart(parts, i),
      );
      if (sent !== "sent") return sent === "handed-over";
    }
    return true;
  }

  /** Sends part `i`; "handed-over" when it and the rest went to the outbox, "deactivated" when its user is. */
  private async publishPart(parts: SendConnectorEventInput[], i: number): Promise<"sent" | "handed-over" | "deactivated"> {
    const part = parts[i]!;
    if (await this.deactivated(part)) return "deactivated";
    if (this.deadline && this.fallback && this.deadline.remainingMs() < MIN_SEND_MS) {
      await this.defer(parts.slice(i), new Error("the time budget for sending events is used up"));
      return "handed-over";
    }
    try {
      await this.sink.send(part, this.deadline ? { signal: this.deadline.signal() } : {});
    } catch (err) {
      if (err instanceof InvalidEventError) throw err;
      if (err instanceof SendConnectorEventError && !err.retryable) {
        this.counts.rejectedByMi++;
        countMetric(Metric.EventsRefused);
        // MI's message names the problem (never a body value of ours); the status says which kind.
        this.logger.error("managed integrations refused the event: final, not retried", {
          eventOperation: part.Operation,
          errorType: err.name,
          status: err.$metadata.httpStatusCode,
          problem: err.message,
          rejectedTotal: this.counts.rejectedByMi,
        });
        throw err;
      }
      if (!this.fallback) throw err;
      await this.defer(parts.slice(i), err);
      return "handed-over";
    }
    countMetric(Metric.EventsSent);
    this.logger.debug("event sent", { eventOperation: part.Operation, statusCode: part.StatusCode, traceId: part.TraceId });
    return "sent";
  }

  private async defer(parts: SendConnectorEventInput[], error: unknown): Promise<void> {
    this.counts.deferred += parts.length;
    countMetric(Metric.EventsDeferred, parts.length);
    this.logger.warn("event not accepted now: handed to the outbox", { eventOperation: parts[0]?.Operation, parts: parts.length, error });
    await this.fallback!(parts, error);
  }

  private async deactivated(input: SendConnectorEventInput): Promise<boolean> {
    if (!input.UserId || (await this.store.get(keys.deactivated(input.UserId))) === undefined) return false;
    this.counts.suppressed++;
    countMetric(Metric.EventsSuppressed);
    this.logger.warn("event for a deactivated user not sent", { eventOperation: input.Operation, suppressedTotal: this.counts.suppressed });
    return true;
  }
}
