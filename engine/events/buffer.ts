/**
 * The optional event buffer (mapping `webhooks.buffer`), for vendors that do not redeliver: the
 * DEVICE_EVENTs of a delivery that MI did not take after the client's retries are written to an
 * SQS queue, which the same function consumes (engine/events/buffer-consumer.ts); the queue's
 * redrive policy moves what keeps failing to a dead-letter queue.
 *
 * A message carries everything needed to finish the event later: the SendConnectorEvent input and
 * the attribute values to record in the change tracker once MI accepted it. Event-id claims are
 * marked done when the queue accepted the messages (the queue owns the event from then on), so the
 * consumer needs no event id.
 */
// Types only: the SQS client is loaded on the first buffered delivery, not at cold start.
import type { SQSClient, SQSClientConfig } from "@aws-sdk/client-sqs";
import { lazySqsClient } from "../queue/sqs-client.ts";
import type { SendConnectorEventInput } from "../mi/send-connector-event.ts";
import type { AttributeRef } from "./change-tracker.ts";

export const BUFFERED_EVENT_KIND = "c2c.buffered-device-event";
/** Overrides the SQS endpoint (a local emulator); the SDK otherwise uses the queue URL's host. */
export const SQS_ENDPOINT_ENV = "C2C_SQS_ENDPOINT";

export interface BufferedEvent {
  kind: typeof BUFFERED_EVENT_KIND;
  version: 1;
  input: SendConnectorEventInput;
  /** Attribute values to record once MI accepted `input`. */
  commits: Array<{ ref: AttributeRef; value: unknown }>;
  /** The event's order position, when the mapping declares `order`. */
  order?: number;
}

export interface EventBuffer {
  /** Resolves once every event is in the queue; rejects otherwise (the caller then answers 5xx). */
  write(events: BufferedEvent[]): Promise<void>;
}

/** A queue message that is not a buffered event: redelivering it cannot help. */
export class BufferedEventFormatError extends Error {
  override readonly name = "BufferedEventFormatError";
}

export function bufferedEvent(input: SendConnectorEventInput, commits: BufferedEvent["commits"], order?: number): BufferedEvent {
  return { kind: BUFFERED_EVENT_KIND, version: 1, input, commits, ...(order !== undefined ? { order } : {}) };
}

export function parseBufferedEvent(body: string): BufferedEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new BufferedEventFormatError("the message body is not JSON");
  }
  const m = parsed as Partial<BufferedEvent> | null;
  if (!m || typeof m !== "object" || m.kind !== BUFFERED_EVENT_KIND) throw new BufferedEventFormatError("the message is not a buffered device event");
  if (m.version !== 1) throw new BufferedEventFormatError(`unsupported buffered event version ${String(m.version)}`);
  if (!m.input || typeof m.input !== "object" || !Array.isArray(m.commits)) throw new BufferedEventFormatError("the buffered event lacks its input or commits");
  if (m.order !== undefined && typeof m.order !== "number") throw new BufferedEventFormatError("the buffered event's order is not a number");
  return m as BufferedEvent;
}

export interface SqsEventBufferOptions {
  queueUrl: string;
  endpoint?: string;
  region?: string;
  credentials?: SQSClientConfig["credentials"];
}

/** SendMessageBatch limits: 10 entries, and (conservatively, the pre-2025 limit) 256 KiB per request. */
const MAX_BATCH_ENTRIES = 10;
const MAX_BATCH_BYTES = 256 * 1024;

export class SqsEventBuffer implements EventBuffer {
  private client?: Promise<SQSClient>;

  constructor(private readonly options: SqsEventBufferOptions) {}

  async write(events: BufferedEvent[]): Promise<void> {
    const bodies = events.map((e) => JSON.stringify(e));
    for (const chunk of chunks(bodies)) await this.send(chunk);
  }

  private async send(bodies: string[]): Promise<void> {
    const { SendMessageBatchCommand } = await import("@aws-sdk/client-sqs");
    const client = await this.sdk();
    let pending = bodies.map((body, i) => ({ Id: String(i), MessageBody: body }));
    // Entries the queue refused for a transient reason get one more try; the SDK already retried the request itself.
    for (let attempt = 1; pending.length > 0; attempt++) {
      const out = await client.send(new SendMessageBatchCommand({ QueueUrl: this.options.queueUrl, Entries: pending }));
      const failed = out.Failed ?? [];
      if (failed.length === 0) return;
      const permanent = failed.filter((f) => f.SenderFault);
      if (permanent.length > 0 || attempt >= 2) {
        const codes = [...new Set(failed.map((f) => f.Code))].join(", ");
        throw new Error(`the event buffer queue refused ${failed.length} of ${pending.length} messages (${codes})`);
      }
      const ids = new Set(failed.map((f) => f.Id));
      pending = pending.filter((e) => ids.has(e.Id));
    }
  }

  private sdk(): Promise<SQSClient> {
    this.client ??= lazySqsClient(this.options);
    return this.client;
  }
}

/**
 * The buffer a bundle declares, configured from the environment on first use: the queue URL from
 * the variable the mapping names, C2C_SQS_ENDPOINT, AWS_REGION, and the AWS credentials variables
 * when present (else the SDK's default chain). A missing queue URL fails the write, so the
 * delivery is answered 5xx and the error names the variable.
 */
export function sqsEventBufferFromEnv(queueUrlEnv: string, env: () => Record<string, string | undefined>): EventBuffer {
  let buffer: SqsEventBuffer | undefined;
  return {
    async write(events) {
      if (!buffer) {
        const e = env();
        const queueUrl = e[queueUrlEnv]?.trim();
        if (!queueUrl) throw new Error(`${queueUrlEnv} is not set: the event buffer queue is unknown`);
        const accessKeyId = e.AWS_ACCESS_KEY_ID;
        const secretAccessKey = e.AWS_SECRET_ACCESS_KEY;
        buffer = new SqsEventBuffer({
          queueUrl,
          endpoint: e[SQS_ENDPOINT_ENV]?.trim() || undefined,
          region: e.AWS_REGION?.trim() || undefined,
          credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey, ...(e.AWS_SESSION_TOKEN ? { sessionToken: e.AWS_SESSION_TOKEN } : {}) } : undefined,
        });
      }
      await buffer.write(events);
    },
  };
}


function* chunks(bodies: string[]): Generator<string[]> {
  let chunk: string[] = [];
  let bytes = 0;
  for (const body of bodies) {
    const size = Buffer.byteLength(body);
    if (size > MAX_BATCH_BYTES) throw new Error(`a buffered event of ${size} bytes exceeds the queue's message size limit`);
    if (chunk.length === MAX_BATCH_ENTRIES || bytes + size > MAX_BATCH_BYTES) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(body);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}
