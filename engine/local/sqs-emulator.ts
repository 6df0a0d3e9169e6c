/**
 * A loopback stand-in for the SQS queues of the event buffer, so the real SDK client can be
 * exercised in tests and local runs. It speaks what @aws-sdk/client-sqs 3.x sends: the AWS JSON 1.0
 * protocol (POST, `X-Amz-Target: AmazonSQS.<Operation>`, application/x-amz-json-1.0), for
 * SendMessage (with DelaySeconds), SendMessageBatch and ChangeMessageVisibility, and answers with the
 * MD5 digests the client verifies.
 *
 * The consuming side (what a Lambda event source mapping does) is emulated with `poll` and
 * `complete`: a batch as the Lambda SQS event, then the partial batch response applied with the
 * queue's redrive policy (records listed as failures stay, and move to the dead-letter list after
 * maxReceiveCount receives). Faults can be injected to exercise the caller's error path.
 */
import { createHash, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { listenOnLoopback, readTextBody } from "./loopback.ts";

const TARGET_PREFIX = "AmazonSQS.";
const JSON_10 = "application/x-amz-json-1.0";
const ACCOUNT_ID = "000000000000";

export interface EmulatedMessage {
  messageId: string;
  body: string;
  receiveCount: number;
  /** Emulator-clock ms before which the message is not received (DelaySeconds, visibility timeout). */
  visibleAt: number;
  /** The receipt handle of the latest receive (ChangeMessageVisibility names it). */
  receiptHandle?: string;
}

/** An SQS event as Lambda's event source mapping delivers it. */
export interface SqsLambdaEvent {
  Records: Array<{
    messageId: string;
    receiptHandle: string;
    body: string;
    attributes: { ApproximateReceiveCount: string; SentTimestamp: string };
    messageAttributes: Record<string, never>;
    md5OfBody: string;
    eventSource: "aws:sqs";
    eventSourceARN: string;
    awsRegion: string;
  }>;
}

export interface SqsEmulator {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  region: string;
  /** The URL of a queue (created on first use): http://127.0.0.1:<port>/<account>/<name>. */
  queueUrl(name: string): string;
  /** Messages in the queue, in arrival order. */
  messages(name: string): EmulatedMessage[];
  /** Messages moved to the queue's dead-letter list by the redrive policy. */
  deadLetters(name: string): EmulatedMessage[];
  /** Send requests received (SendMessage and SendMessageBatch), faults included. */
  readonly requests: number;
  /** Answers the next `times` requests with this status (500: InternalError, 503: ServiceUnavailable). */
  inject(fault: { status: 500 | 503; times: number }): void;
  /**
   * Up to `max` visible messages as a Lambda SQS event; each receive counts toward maxReceiveCount
   * and hides the message for the visibility timeout (default 0: visible again at once).
   */
  poll(name: string, max?: number): SqsLambdaEvent;
  /** ChangeMessageVisibility requests received. */
  readonly visibilityChanges: number;
  /** Applies a partial batch response: deletes what succeeded, moves exhausted failures to the DLQ. */
  complete(name: string, event: SqsLambdaEvent, response: { batchItemFailures: Array<{ itemIdentifier: string }> }): void;
  reset(): void;
  close(): Promise<void>;
}

export interface SqsEmulatorOptions {
  region?: string;
  maxReceiveCount?: number;
  /** Seconds a received message stays hidden unless its visibility is changed. Default 0. */
  visibilityTimeoutSeconds?: number;
  /** The emulator's clock (epoch ms), for DelaySeconds and visibility; injectable to compress time. */
  now?: () => number;
}

export async function startSqsEmulator(options: SqsEmulatorOptions = {}): Promise<SqsEmulator> {
  const region = options.region ?? "us-east-1";
  const maxReceiveCount = options.maxReceiveCount ?? 5;
  const visibilityMs = (options.visibilityTimeoutSeconds ?? 0) * 1000;
  const now = options.now ?? Date.now;
  let visibilityChanges = 0;
  const queues = new Map<string, { messages: EmulatedMessage[]; dead: EmulatedMessage[] }>();
  const faults: Array<{ status: 500 | 503; remaining: number }> = [];
  let requests = 0;
  let base = "";

  const queue = (name: string) => {
    let q = queues.get(name);
    if (!q) queues.set(name, (q = { messages: [], dead: [] }));
    return q;
  };
  const queueOf = (url: unknown) => {
    if (typeof url !== "string" || !url.startsWith(`${base}/${ACCOUNT_ID}/`)) return undefined;
    return queues.get(url.slice(`${base}/${ACCOUNT_ID}/`.length));
  };
  const enqueue = (name: ReturnType<typeof queue>, body: string, delaySeconds = 0) => {
    const m: EmulatedMessage = { messageId: randomUUID(), body, receiveCount: 0, visibleAt: now() + delaySeconds * 1000 };
    name.messages.push(m);
    return { MessageId: m.messageId, MD5OfMessageBody: md5(body) };
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = await readTextBody(req);
    const target = String(req.headers["x-amz-target"] ?? "");
    if (req.method !== "POST" || !target.startsWith(TARGET_PREFIX)) return sendError(res, 400, "UnknownOperationException", "not an AWS JSON 1.0 SQS request");
    if (!/^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/[a-z0-9-]+\/sqs\/aws4_request/.test(String(req.headers.authorization ?? ""))) {
      return sendError(res, 403, "InvalidClientTokenId", "the request is not signed for sqs");
    }
    if (target !== `${TARGET_PREFIX}ChangeMessageVisibility`) requests++;
    const fault = faults.find((f) => f.remaining > 0);
    if (fault) {
      fault.remaining--;
      return sendError(res, fault.status, fault.status === 503 ? "ServiceUnavailable" : "InternalError", "injected fault");
    }
    let input: { QueueUrl?: unknown; MessageBody?: unknown; Entries?: unknown; DelaySeconds?: unknown; ReceiptHandle?: unknown; VisibilityTimeout?: unknown };
    try {
      input = JSON.parse(text || "{}");
    } catch {
      return sendError(res, 400, "InvalidParameterValue", "request body is not JSON");
    }
    const q = queueOf(input.QueueUrl);
    if (!q) return sendError(res, 400, "QueueDoesNotExist", "The specified queue does not exist.");
    const operation = target.slice(TARGET_PREFIX.length);
    if (operation === "SendMessage") {
      if (typeof input.MessageBody !== "string" || input.MessageBody === "") return sendError(res, 400, "InvalidParameterValue", "MessageBody is required");
      const delay = input.DelaySeconds ?? 0;
      if (!Number.isInteger(delay) || (delay as number) < 0 || (delay as number) > 900) return sendError(res, 400, "InvalidParameterValue", "DelaySeconds must be 0 to 900");
      return sendJson(res, 200, enqueue(q, input.MessageBody, delay as number));
    }
    if (operation === "ChangeMessageVisibility") {
      const timeout = input.VisibilityTimeout;
      if (!Number.isInteger(timeout) || (timeout as number) < 0 || (timeout as number) > 43_200) return sendError(res, 400, "InvalidParameterValue", "VisibilityTimeout must be 0 to 43200");
      const m = q.messages.find((x) => x.receiptHandle !== undefined && x.receiptHandle === input.ReceiptHandle);
      if (!m) return sendError(res, 400, "ReceiptHandleIsInvalid", "The receipt handle is not valid.");
      visibilityChanges++;
      m.visibleAt = now() + (timeout as number) * 1000;
      return sendJson(res, 200, {});
    }
    if (operation === "SendMessageBatch") {
      const entries = input.Entries;
      if (!Array.isArray(entries) || entries.length < 1 || entries.length > 10) return sendError(res, 400, "InvalidParameterValue", "1 to 10 entries");
      const Successful = [];
      const Failed = [];
      for (const e of entries as Array<{ Id?: unknown; MessageBody?: unknown }>) {
        if (typeof e.MessageBody !== "string" || e.MessageBody === "") Failed.push({ Id: e.Id, Code: "InvalidParameterValue", SenderFault: true, Message: "MessageBody is required" });
        else Successful.push({ Id: e.Id, ...enqueue(q, e.MessageBody) });
      }
      return sendJson(res, 200, { Successful, Failed });
    }
    return sendError(res, 400, "UnsupportedOperation", `${operation} is not emulated`);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => sendError(res, 500, "InternalError", "emulator failure"));
  });
  const listening = await listenOnLoopback(server);
  base = listening.endpoint;

  return {
    endpoint: base,
    region,
    queueUrl(name) {
      queue(name);
      return `${base}/${ACCOUNT_ID}/${name}`;
    },
    messages: (name) => queue(name).messages,
    deadLetters: (name) => queue(name).dead,
    get requests() {
      return requests;
    },
    inject(f) {
      if (!Number.isInteger(f.times) || f.times < 1) throw new Error("inject: times must be a positive integer");
      faults.push({ status: f.status, remaining: f.times });
    },
    get visibilityChanges() {
      return visibilityChanges;
    },
    poll(name, max = 10) {
      const t = now();
      const batch = queue(name).messages.filter((m) => m.visibleAt <= t).slice(0, max);
      return {
        Records: batch.map((m) => {
          m.receiveCount++;
          m.receiptHandle = randomUUID();
          m.visibleAt = t + visibilityMs;
          return {
            messageId: m.messageId,
            receiptHandle: m.receiptHandle,
            body: m.body,
            attributes: { ApproximateReceiveCount: String(m.receiveCount), SentTimestamp: String(Date.now()) },
            messageAttributes: {},
            md5OfBody: md5(m.body),
            eventSource: "aws:sqs" as const,
            eventSourceARN: `arn:aws:sqs:${region}:${ACCOUNT_ID}:${name}`,
            awsRegion: region,
          };
        }),
      };
    },
    complete(name, event, response) {
      const q = queue(name);
      const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
      const polled = new Set(event.Records.map((r) => r.messageId));
      q.messages = q.messages.filter((m) => {
        if (!polled.has(m.messageId)) return true;
        if (!failed.has(m.messageId)) return false;
        if (m.receiveCount < maxReceiveCount) return true;
        q.dead.push(m);
        return false;
      });
    },
    reset() {
      queues.clear();
      faults.length = 0;
      requests = 0;
      visibilityChanges = 0;
    },
    close: listening.close,
  };
}

function md5(text: string): string {
  return createHash("md5").update(text, "utf8").digest("hex");
}


function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": JSON_10, "content-length": Buffer.byteLength(text), "x-amzn-requestid": randomUUID() });
  res.end(text);
}

/** Errors as SQS's JSON protocol sends them; the query-error header is what query-compatible clients read. */
function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  res.setHeader("x-amzn-query-error", `AWS.SimpleQueueService.${code};${status >= 500 ? "Receiver" : "Sender"}`);
  sendJson(res, status, { __type: `com.amazonaws.sqs#${code}`, message });
}
