/**
 * The SQS client both queues of the engine use (the job queue and the webhook event buffer),
 * loaded on first use so that invocations that never touch a queue do not pay for the SDK.
 */
import type { SQSClient, SQSClientConfig } from "@aws-sdk/client-sqs";

export interface SqsClientOptions {
  queueUrl: string;
  endpoint?: string;
  region?: string;
  credentials?: SQSClientConfig["credentials"];
}

/** A client for `queueUrl`; the region comes from the queue URL when not given. */
export function lazySqsClient(options: SqsClientOptions): Promise<SQSClient> {
  const { endpoint, region, credentials, queueUrl } = options;
  return import("@aws-sdk/client-sqs").then(
    (m) =>
      new m.SQSClient({
        ...(endpoint ? { endpoint } : {}),
        region: region ?? regionOfQueueUrl(queueUrl),
        ...(credentials ? { credentials } : {}),
      }),
  );
}

/** https://sqs.<region>.amazonaws.com/<account>/<name> -> region; undefined for other hosts. */
export function regionOfQueueUrl(queueUrl: string): string | undefined {
  try {
    return /^sqs\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(new URL(queueUrl).hostname)?.[1];
  } catch {
    return undefined;
  }
}
