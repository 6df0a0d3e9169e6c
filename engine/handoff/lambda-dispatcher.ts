import { InvokeCommand, LambdaClient, type LambdaClientConfig } from "@aws-sdk/client-lambda";
import { assertDeferredJob, type DeferredJob, type JobDispatcher } from "./job.ts";

export interface LambdaSelfInvokeDispatcherOptions {
  /** A ready client; when given, `endpoint`, `region` and `credentials` are ignored. */
  client?: LambdaClient;
  /** Defaults to AWS_LAMBDA_FUNCTION_NAME: the function hands work to itself. */
  functionName?: string;
  /**
   * Version or alias to invoke. Defaults to AWS_LAMBDA_FUNCTION_VERSION unless that is $LATEST,
   * so a job is run by the same code that wrote it.
   */
  qualifier?: string;
  endpoint?: string;
  region?: string;
  credentials?: LambdaClientConfig["credentials"];
  env?: Record<string, string | undefined>;
}

/** The job could not be handed over. The message never carries the job's payload. */
export class JobDispatchError extends Error {
  constructor(
    readonly jobId: string,
    /** The service's error name, or "UnexpectedStatus". */
    readonly code: string,
  ) {
    super(`deferred job ${jobId} could not be dispatched: ${code}`);
    this.name = "JobDispatchError";
  }
}

/**
 * Hands a job to a new asynchronous ("Event") invocation of this function: the current
 * invocation can ACK at once while the work runs elsewhere. The platform queues the event and
 * answers 202 before running it.
 */
export class LambdaSelfInvokeDispatcher implements JobDispatcher {
  readonly functionName: string;
  readonly qualifier?: string;
  private readonly client: LambdaClient;
  private readonly ownsClient: boolean;

  constructor(options: LambdaSelfInvokeDispatcherOptions = {}) {
    const env = options.env ?? process.env;
    const functionName = options.functionName ?? env.AWS_LAMBDA_FUNCTION_NAME;
    if (!functionName) {
      throw new TypeError("LambdaSelfInvokeDispatcher needs functionName (or AWS_LAMBDA_FUNCTION_NAME)");
    }
    this.functionName = functionName;
    const envVersion = env.AWS_LAMBDA_FUNCTION_VERSION;
    const qualifier = options.qualifier ?? (envVersion && envVersion !== "$LATEST" ? envVersion : undefined);
    if (qualifier) this.qualifier = qualifier;
    this.ownsClient = options.client === undefined;
    this.client =
      options.client ??
      new LambdaClient({
        ...(options.endpoint ? { endpoint: options.endpoint } : {}),
        ...(options.region ? { region: options.region } : {}),
        ...(options.credentials ? { credentials: options.credentials } : {}),
      });
  }

  async dispatch(job: DeferredJob): Promise<void> {
    assertDeferredJob(job);
    const payload = new TextEncoder().encode(JSON.stringify(job));
    let status: number | undefined;
    try {
      const out = await this.client.send(
        new InvokeCommand({
          FunctionName: this.functionName,
          InvocationType: "Event",
          Payload: payload,
          ...(this.qualifier ? { Qualifier: this.qualifier } : {}),
        }),
      );
      status = out.StatusCode;
    } catch (err) {
      const name = (err as { name?: unknown } | null)?.name;
      throw new JobDispatchError(job.jobId, typeof name === "string" ? name : "UnknownError");
    }
    if (status !== 202) throw new JobDispatchError(job.jobId, "UnexpectedStatus");
  }

  /** Releases the HTTP connections of a client this dispatcher created itself. */
  close(): void {
    if (this.ownsClient) this.client.destroy();
  }
}
