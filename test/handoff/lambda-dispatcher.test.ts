import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LambdaClient } from "@aws-sdk/client-lambda";
import {
  InvalidDeferredJobError,
  JobDispatchError,
  LambdaSelfInvokeDispatcher,
  createDeferredJob,
  isDeferredJob,
  type DeferredJob,
} from "../../engine/handoff/index.ts";
import { startLambdaEmulator, type LambdaEmulator } from "../../engine/local/lambda-emulator.ts";

const FUNCTION = "c2c-connector";
let emulator: LambdaEmulator;
let client: LambdaClient;

beforeAll(async () => {
  emulator = await startLambdaEmulator({ functions: [FUNCTION] });
  client = new LambdaClient({
    endpoint: emulator.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  client?.destroy();
  await emulator?.close();
});

describe("LambdaSelfInvokeDispatcher", () => {
  it("hands the job to an asynchronous invocation of the function named by the environment", async () => {
    const dispatcher = new LambdaSelfInvokeDispatcher({ client, env: { AWS_LAMBDA_FUNCTION_NAME: FUNCTION } });
    const job = createDeferredJob({ operation: "AWS.DiscoverDevices", payload: { cursor: "abc", nested: [1, { b: true }] } });
    const before = emulator.invocations.length;
    await dispatcher.dispatch(job);
    const recorded = emulator.invocations.slice(before);
    expect(recorded).toHaveLength(1);
    expect(recorded[0].functionName).toBe(FUNCTION);
    expect(recorded[0].invocationType).toBe("Event");
    expect(recorded[0].qualifier).toBeUndefined();
    expect(recorded[0].payload).toEqual(job);
    // What the later invocation receives is recognisable as a job.
    expect(isDeferredJob(recorded[0].payload)).toBe(true);
  });

  it("invokes the running version so the job is read by the code that wrote it", async () => {
    const dispatcher = new LambdaSelfInvokeDispatcher({
      client,
      env: { AWS_LAMBDA_FUNCTION_NAME: FUNCTION, AWS_LAMBDA_FUNCTION_VERSION: "7" },
    });
    await dispatcher.dispatch(createDeferredJob({ operation: "op", payload: null }));
    expect(emulator.invocations.at(-1)).toMatchObject({ functionName: FUNCTION, qualifier: "7" });

    const latest = new LambdaSelfInvokeDispatcher({
      client,
      env: { AWS_LAMBDA_FUNCTION_NAME: FUNCTION, AWS_LAMBDA_FUNCTION_VERSION: "$LATEST" },
    });
    expect(latest.qualifier).toBeUndefined();
  });

  it("works with its own client built from endpoint and region options", async () => {
    const dispatcher = new LambdaSelfInvokeDispatcher({
      functionName: FUNCTION,
      endpoint: emulator.endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
      env: {},
    });
    try {
      const job = createDeferredJob({ operation: "op", payload: { n: 2 } });
      await dispatcher.dispatch(job);
      expect((emulator.invocations.at(-1)?.payload as DeferredJob).jobId).toBe(job.jobId);
    } finally {
      dispatcher.close();
    }
  });

  it("reports a service error by name, never with the payload", async () => {
    const secret = "refresh-token-31f7";
    const dispatcher = new LambdaSelfInvokeDispatcher({ client, functionName: "missing-function", env: {} });
    const job = createDeferredJob({ operation: "op", payload: { refreshToken: secret } });
    const err = await dispatcher.dispatch(job).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(JobDispatchError);
    expect((err as JobDispatchError).code).toBe("ResourceNotFoundException");
    expect((err as JobDispatchError).jobId).toBe(job.jobId);
    expect(`${(err as Error).message} ${(err as Error).stack} ${JSON.stringify(err)}`).not.toContain(secret);
  });

  it("refuses a malformed job without calling the service", async () => {
    const dispatcher = new LambdaSelfInvokeDispatcher({ client, functionName: FUNCTION, env: {} });
    const before = emulator.invocations.length;
    await expect(
      dispatcher.dispatch({ kind: "deferred-job", version: 1 } as unknown as DeferredJob),
    ).rejects.toBeInstanceOf(InvalidDeferredJobError);
    expect(emulator.invocations.length).toBe(before);
  });

  it("needs a function name", () => {
    expect(() => new LambdaSelfInvokeDispatcher({ client, env: {} })).toThrow(/AWS_LAMBDA_FUNCTION_NAME/);
  });
});
