/**
 * The one way events leave the engine: suppresses events of deactivated users (counted and
 * logged without the user id) and hands the rest to the EventSink.
 */
import type { EventSink, SendConnectorEventInput } from "../mi/send-connector-event.ts";
import type { StateStore } from "../store/store.ts";
import type { Logger } from "../log/logger.ts";
import { keys } from "./keys.ts";
import { InvalidEventError } from "../mi/event-errors.ts";

export class EventPublisher {
  /** Events not sent because their user was deactivated (per container). */
  suppressed = 0;

  constructor(
    private readonly sink: EventSink,
    private readonly store: StateStore,
    private readonly logger: Logger,
    /**
     * Where an event goes when MI does not take it now (throttling, outage, network) after the
     * sink's own retries: typically a deferred job that delivers it later. Without one the error
     * propagates. Invalid events are never deferred: they would fail again.
     */
    private readonly fallback?: (input: SendConnectorEventInput, error: unknown) => Promise<void>,
  ) {}

  async publish(input: SendConnectorEventInput): Promise<boolean> {
    if (input.UserId && (await this.store.get(keys.deactivated(input.UserId))) !== undefined) {
      this.suppressed++;
      this.logger.warn("event for a deactivated user not sent", { operation: input.Operation, suppressedTotal: this.suppressed });
      return false;
    }
    try {
      await this.sink.send(input);
    } catch (err) {
      if (!this.fallback || err instanceof InvalidEventError) throw err;
      this.logger.warn("event not accepted now, deferred", { operation: input.Operation, error: err });
      await this.fallback(input, err);
      return true;
    }
    this.logger.debug("event sent", { operation: input.Operation, statusCode: input.StatusCode, traceId: input.TraceId });
    return true;
  }
}
