/**
 * EventSink that keeps events in memory instead of sending them, after the same normalization and
 * validation as the signed client: a module tested against it cannot produce an event MI would reject.
 */
import { normalizeEvent } from "./event-normalize.ts";
import { eventBody, type EventSink, type SendConnectorEventInput, type SendConnectorEventOutput } from "./send-connector-event.ts";

export interface RecordedEvent {
  connectorId: string;
  /** The HTTP body as it would be sent (JSON round-tripped, so `undefined` members are gone). */
  body: Omit<SendConnectorEventInput, "ConnectorId">;
  /** Normalization notes for the input this event came from. */
  problems: string[];
}

export class RecordingEventSink implements EventSink {
  readonly events: RecordedEvent[] = [];

  async send(input: SendConnectorEventInput, options: { signal?: AbortSignal } = {}): Promise<SendConnectorEventOutput> {
    options.signal?.throwIfAborted();
    const { events, problems } = normalizeEvent(input); // throws InvalidEventError, as the client does
    for (const event of events) {
      this.events.push({ connectorId: event.ConnectorId, body: JSON.parse(JSON.stringify(eventBody(event))), problems });
    }
    return { ConnectorId: input.ConnectorId };
  }

  /** Bodies recorded so far, optionally only those of one operation. */
  bodies(operation?: SendConnectorEventInput["Operation"]): RecordedEvent["body"][] {
    return this.events.map((e) => e.body).filter((b) => operation === undefined || b.Operation === operation);
  }

  clear(): void {
    this.events.length = 0;
  }
}
