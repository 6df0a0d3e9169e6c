/**
 * Errors of the outbound SendConnectorEvent path. Messages never carry body values: several members
 * (UserId, ConnectorDeviceId, Message, attributes) are sensitive.
 */

/** One schema violation, located by a JSONPath-like path into the event body (`$.Devices[0].ConnectorDeviceId`). */
export interface EventValidationIssue {
  path: string;
  message: string;
  /** The JSON Schema keyword that failed (pattern, maxLength, required, ...). */
  keyword: string;
}

/** The event cannot be sent: it breaks the SendConnectorEvent model even after normalization. */
export class InvalidEventError extends Error {
  override readonly name = "InvalidEventError";
  constructor(
    readonly issues: EventValidationIssue[],
    /** Fixes that normalization applied before giving up (for context). */
    readonly problems: string[] = [],
  ) {
    super(`invalid SendConnectorEvent: ${issues.map((i) => `${i.path} ${i.message}`).join("; ")}`);
  }
}

export interface SendConnectorEventErrorMetadata {
  httpStatusCode?: number;
  /** Requests made, including the last one. */
  attempts: number;
  requestId?: string;
  totalRetryDelayMs: number;
}

/**
 * A failed SendConnectorEvent call. `name` is the service's error type (ThrottlingException,
 * ValidationException, ...), as the AWS SDK would report it, or "NetworkingError" when no response came.
 */
export class SendConnectorEventError extends Error {
  override readonly name: string;
  readonly $metadata: SendConnectorEventErrorMetadata;
  readonly retryable: boolean;

  constructor(args: { name: string; message: string; metadata: SendConnectorEventErrorMetadata; retryable: boolean; cause?: unknown }) {
    super(args.message, args.cause === undefined ? undefined : { cause: args.cause });
    this.name = args.name;
    this.$metadata = args.metadata;
    this.retryable = args.retryable;
  }
}
