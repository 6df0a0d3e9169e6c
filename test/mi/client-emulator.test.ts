import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Sha256 } from "@aws-crypto/sha256-js";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { LOCAL_TEST_CREDENTIALS, startMiEmulator, type MiEmulator } from "../../engine/local/mi-emulator.ts";
import { SendConnectorEventClient, type SendConnectorEventClientOptions } from "../../engine/mi/client.ts";
import { InvalidEventError, SendConnectorEventError } from "../../engine/mi/event-errors.ts";
import { memorySink, RedactingLogger, type LogRecord } from "../../engine/log/json-logger.ts";
import type { SendConnectorEventInput } from "../../engine/mi/send-connector-event.ts";

const REGION = "eu-west-1";
const USER_ID = "end-user-4711";
const DEVICE_ID = "vendor-device-0815";

function event(extra: Partial<SendConnectorEventInput> = {}): SendConnectorEventInput {
  return {
    ConnectorId: "Conn_01-test",
    Operation: "DEVICE_EVENT",
    OperationVersion: "1.0",
    StatusCode: 200,
    UserId: USER_ID,
    ConnectorDeviceId: DEVICE_ID,
    MatterEndpoint: { id: "1", clusters: [{ id: "0x0006", attributes: { "0x0000": true } }] },
    ...extra,
  };
}

const staticCredentials = (c: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) => async () => ({ ...c });

interface Harness {
  client: SendConnectorEventClient;
  sleeps: number[];
  requests: string[];
}

function clientFor(emulator: { url: string }, options: SendConnectorEventClientOptions = {}): Harness {
  const sleeps: number[] = [];
  const requests: string[] = [];
  const innerFetch = options.fetch ?? fetch;
  const client = new SendConnectorEventClient({
    region: REGION,
    endpoint: emulator.url,
    credentials: staticCredentials(LOCAL_TEST_CREDENTIALS),
    baseDelayMs: 10,
    maxDelayMs: 1000,
    random: () => 0.5,
    sleep: async (ms) => void sleeps.push(ms),
    ...options,
    fetch: (async (url: string | URL | Request, init?: RequestInit) => {
      requests.push(String(url));
      return innerFetch(url, init);
    }) as typeof fetch,
  });
  return { client, sleeps, requests };
}

async function caught(p: Promise<unknown>): Promise<SendConnectorEventError> {
  try {
    await p;
  } catch (err) {
    return err as SendConnectorEventError;
  }
  throw new Error("expected a rejection");
}

describe("SendConnectorEventClient against the MI emulator", () => {
  let emulator: MiEmulator;
  beforeAll(async () => {
    emulator = await startMiEmulator({ region: REGION });
  });
  afterAll(() => emulator.close());
  afterEach(() => emulator.reset());

  it("sends a signed event that the emulator verifies and records", async () => {
    const { client, requests } = clientFor(emulator);
    await expect(client.send(event())).resolves.toEqual({ ConnectorId: "Conn_01-test" });
    const [received] = await emulator.waitForEvents(1);
    expect(received.connectorId).toBe("Conn_01-test");
    const { ConnectorId: _label, ...expectedBody } = event();
    expect(received.body).toEqual(expectedBody);
    expect(requests).toEqual([`${emulator.url}/connector-event/Conn_01-test`]);
    expect(emulator.rejected).toEqual([]);
  });

  it("sends every part of a split event, in order, and returns the first output", async () => {
    const clusters = Array.from({ length: 7 }, (_, i) => ({ id: `0xFC0${i}`, attributes: { "0x0000": i } }));
    const { client } = clientFor(emulator);
    await expect(client.send(event({ MatterEndpoint: { id: "1", clusters } }))).resolves.toEqual({ ConnectorId: "Conn_01-test" });
    const received = await emulator.waitForEvents(2);
    expect(received.map((e) => e.body.MatterEndpoint.clusters.length)).toEqual([5, 2]);
    expect(received.flatMap((e) => e.body.MatterEndpoint.clusters)).toEqual(clusters);
  });

  it("never sends an invalid event", async () => {
    const { client, requests } = clientFor(emulator);
    await expect(client.send(event({ StatusCode: 99 }))).rejects.toBeInstanceOf(InvalidEventError);
    expect(requests).toEqual([]);
  });

  it("accepts temporary credentials with a session token, and rejects a request without it", async () => {
    const creds = { ...LOCAL_TEST_CREDENTIALS, sessionToken: "local-session-token-xyz" };
    const withToken = await startMiEmulator({ region: REGION, credentials: creds });
    try {
      await clientFor(withToken, { credentials: staticCredentials(creds) }).client.send(event());
      expect(withToken.events).toHaveLength(1);
      const err = await caught(clientFor(withToken).client.send(event()));
      expect(err).toBeInstanceOf(SendConnectorEventError);
      expect(err.name).toBe("UnrecognizedClientException");
      expect(err.$metadata).toMatchObject({ httpStatusCode: 403, attempts: 1 });
      const wrongToken = await caught(clientFor(withToken, { credentials: staticCredentials({ ...creds, sessionToken: "other" }) }).client.send(event()));
      expect(wrongToken.name).toBe("UnrecognizedClientException");
      expect(withToken.events).toHaveLength(1);
    } finally {
      await withToken.close();
    }
  });

  it("rejects a body altered after signing with 403 InvalidSignatureException, without retrying", async () => {
    const tamperingFetch = (async (url: string | URL | Request, init?: RequestInit) =>
      fetch(url, { ...init, body: String(init!.body).replace('"StatusCode":200', '"StatusCode":201') })) as typeof fetch;
    const { client, requests } = clientFor(emulator, { fetch: tamperingFetch });
    const err = await caught(client.send(event()));
    expect(err).toBeInstanceOf(SendConnectorEventError);
    expect(err.name).toBe("InvalidSignatureException");
    expect(err.retryable).toBe(false);
    expect(err.$metadata).toMatchObject({ httpStatusCode: 403, attempts: 1 });
    expect(requests).toHaveLength(1);
    expect(emulator.events).toEqual([]);
    expect(emulator.rejected).toEqual([{ status: 403, reason: expect.stringMatching(/^InvalidSignatureException: .*payload hash/) }]);
  });

  it("rejects a tampered body even when the payload hash header is recomputed", async () => {
    const { createHash } = await import("node:crypto");
    const tamperingFetch = (async (url: string | URL | Request, init?: RequestInit) => {
      const body = String(init!.body).replace('"StatusCode":200', '"StatusCode":201');
      const headers = { ...(init!.headers as Record<string, string>), "x-amz-content-sha256": createHash("sha256").update(body).digest("hex") };
      return fetch(url, { ...init, headers, body });
    }) as typeof fetch;
    const err = await caught(clientFor(emulator, { fetch: tamperingFetch }).client.send(event()));
    expect(err.name).toBe("InvalidSignatureException");
    expect(emulator.rejected[0].reason).toMatch(/does not match the signature you provided\.$/);
  });

  it("rejects a wrong secret key and an unknown access key", async () => {
    const wrongSecret = await caught(
      clientFor(emulator, { credentials: staticCredentials({ ...LOCAL_TEST_CREDENTIALS, secretAccessKey: "not-the-secret" }) }).client.send(event()),
    );
    expect(wrongSecret.name).toBe("InvalidSignatureException");
    expect(wrongSecret.$metadata.httpStatusCode).toBe(403);
    const unknownKey = await caught(
      clientFor(emulator, { credentials: staticCredentials({ ...LOCAL_TEST_CREDENTIALS, accessKeyId: "AKIAUNKNOWNKEY000000" }) }).client.send(event()),
    );
    expect(unknownKey.name).toBe("UnrecognizedClientException");
    expect(emulator.events).toEqual([]);
  });

  it("rejects a signature scoped to another region", async () => {
    const err = await caught(clientFor(emulator, { region: "us-west-2" }).client.send(event()));
    expect(err.name).toBe("InvalidSignatureException");
    expect(err.message).toMatch(/valid region/);
  });

  for (const [status, name] of [[429, "ThrottlingException"], [500, "InternalServerException"], [503, "ServiceUnavailableException"]] as const) {
    it(`retries an injected ${status} (${name}) with full-jitter backoff, then succeeds`, async () => {
      emulator.inject({ status, times: 2 });
      const { client, sleeps, requests } = clientFor(emulator);
      await expect(client.send(event())).resolves.toEqual({ ConnectorId: "Conn_01-test" });
      expect(requests).toHaveLength(3);
      // random() = 0.5, base 10 ms: half of 10, then half of 20.
      expect(sleeps).toEqual([5, 10]);
      expect(emulator.rejected.map((r) => r.status)).toEqual([status, status]);
      expect(emulator.rejected[0].reason).toMatch(new RegExp(`^${name}`));
      expect(emulator.events).toHaveLength(1);
    });
  }

  it("surfaces a persistent 503 as ServiceUnavailableException after maxAttempts", async () => {
    emulator.inject({ status: 503, times: 10 });
    const { client, sleeps } = clientFor(emulator, { maxAttempts: 3 });
    const err = await caught(client.send(event()));
    expect(err).toBeInstanceOf(SendConnectorEventError);
    expect(err.name).toBe("ServiceUnavailableException");
    expect(err.retryable).toBe(true);
    expect(err.$metadata).toMatchObject({ httpStatusCode: 503, attempts: 3, totalRetryDelayMs: 15 });
    expect(sleeps).toEqual([5, 10]);
    expect(emulator.rejected).toHaveLength(3);
    expect(emulator.events).toEqual([]);
  });

  it("caps backoff at maxDelayMs", async () => {
    emulator.inject({ status: 429, times: 3 });
    const { client, sleeps } = clientFor(emulator, { random: () => 0.999, baseDelayMs: 100, maxDelayMs: 250 });
    await client.send(event());
    expect(sleeps.map(Math.round)).toEqual([100, 200, 250]);
  });

  it("tolerates injected latency", async () => {
    emulator.inject({ latencyMs: 30, times: 1 });
    await clientFor(emulator).client.send(event());
    expect(emulator.events).toHaveLength(1);
  });

  it("retries network errors", async () => {
    let calls = 0;
    const flakyFetch = (async (url: string | URL | Request, init?: RequestInit) => {
      if (++calls === 1) throw new TypeError("fetch failed");
      return fetch(url, init);
    }) as typeof fetch;
    await clientFor(emulator, { fetch: flakyFetch }).client.send(event());
    expect(calls).toBe(2);
    expect(emulator.events).toHaveLength(1);

    const closed = await startMiEmulator({ region: REGION });
    await closed.close();
    const err = await caught(clientFor(closed, { maxAttempts: 2 }).client.send(event()));
    expect(err.name).toBe("NetworkingError");
    expect(err.$metadata.attempts).toBe(2);
  });

  it("logs status, attempts and trace id, never the user id, device id, message or credentials", async () => {
    emulator.inject({ status: 429, times: 1 });
    const records: LogRecord[] = [];
    const logger = new RedactingLogger(memorySink(records));
    await clientFor(emulator, { logger }).client.send(event({ TraceId: "trace-123", Message: "private: note" }));
    expect(records.map((r) => r.message)).toEqual(["SendConnectorEvent normalized", "SendConnectorEvent retrying", "SendConnectorEvent accepted"]);
    expect(records[1]).toMatchObject({ status: 429, attempts: 1, traceId: "trace-123", errorType: "ThrottlingException" });
    expect(records[2]).toMatchObject({ status: 202, attempts: 2 });
    const text = JSON.stringify(records);
    for (const secret of [USER_ID, DEVICE_ID, "private", LOCAL_TEST_CREDENTIALS.secretAccessKey, LOCAL_TEST_CREDENTIALS.accessKeyId]) expect(text).not.toContain(secret);
  });

  it("builds no debug line when the logger's level leaves debug out, and writes it when debug is on", async () => {
    const built: string[] = [];
    const records: LogRecord[] = [];
    // A logger that says debug is off and fails the test if a debug line reaches it anyway.
    const infoLogger = new RedactingLogger(memorySink(records), undefined, {}, "info");
    const strict = Object.assign(Object.create(infoLogger), { debug: (m: string) => built.push(m) });
    await clientFor(emulator, { logger: strict }).client.send(event());
    expect(built).toEqual([]);
    await clientFor(emulator, { logger: new RedactingLogger(memorySink(records), undefined, {}, "debug") }).client.send(event());
    expect(records.map((r) => r.message)).toEqual(["SendConnectorEvent accepted"]);
    // Warnings and errors are not gated: a retry is logged at info level too.
    emulator.inject({ status: 503, times: 1 });
    await clientFor(emulator, { logger: infoLogger }).client.send(event());
    expect(records.map((r) => r.message)).toEqual(["SendConnectorEvent accepted", "SendConnectorEvent retrying"]);
  });

  it("uses credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY through the default provider chain", async () => {
    const keys = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION", "C2C_MI_ENDPOINT"] as const;
    const saved = Object.fromEntries(keys.map((k) => [k, process.env[k]]));
    try {
      delete process.env.AWS_SESSION_TOKEN;
      delete process.env.AWS_PROFILE;
      process.env.AWS_ACCESS_KEY_ID = LOCAL_TEST_CREDENTIALS.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = LOCAL_TEST_CREDENTIALS.secretAccessKey;
      process.env.AWS_REGION = REGION;
      process.env.C2C_MI_ENDPOINT = emulator.url;
      const client = new SendConnectorEventClient({ maxAttempts: 1 });
      await expect(client.send(event())).resolves.toEqual({ ConnectorId: "Conn_01-test" });
      expect(emulator.events).toHaveLength(1);
    } finally {
      for (const k of keys) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });
});

describe("MI emulator checks, with requests signed by hand", () => {
  let emulator: MiEmulator;
  beforeAll(async () => {
    emulator = await startMiEmulator({ region: REGION });
  });
  afterAll(() => emulator.close());
  afterEach(() => emulator.reset());

  async function signedPost(path: string, body: string, opts: { signingDate?: Date; service?: string } = {}) {
    const url = new URL(emulator.url);
    const signer = new SignatureV4({ service: opts.service ?? "iotmanagedintegrations", region: REGION, credentials: LOCAL_TEST_CREDENTIALS, sha256: Sha256 });
    const signed = await signer.sign(
      new HttpRequest({ method: "POST", protocol: "http:", hostname: url.hostname, port: Number(url.port), path, headers: { "content-type": "application/json", host: url.host }, body }),
      { signingDate: opts.signingDate },
    );
    const { host: _h, ...headers } = signed.headers;
    const res = await fetch(`${emulator.url}${path}`, { method: "POST", headers, body });
    return { status: res.status, errorType: res.headers.get("x-amzn-errortype"), body: (await res.json()) as { message?: string; ConnectorId?: string } };
  }
  const validBody = JSON.stringify({ Operation: "DEVICE_EVENT", StatusCode: 200 });

  it("decodes the URL-encoded label after verifying the signature over the encoded path", async () => {
    const res = await signedPost(`/connector-event/${encodeURIComponent("a b")}`, validBody);
    expect(res).toMatchObject({ status: 400, errorType: "ValidationException" });
    expect(res.body.message).toMatch(/^ConnectorId must match pattern/);
  });

  it("refuses a signature older than 5 minutes and one for another service", async () => {
    const old = await signedPost("/connector-event/c1", validBody, { signingDate: new Date(Date.now() - 6 * 60_000) });
    expect(old).toMatchObject({ status: 403, errorType: "InvalidSignatureException" });
    expect(old.body.message).toMatch(/expired/);
    const other = await signedPost("/connector-event/c1", validBody, { service: "iot" });
    expect(other).toMatchObject({ status: 403, errorType: "InvalidSignatureException" });
    expect(emulator.events).toEqual([]);
  });

  it("answers 400 ValidationException listing the schema errors of a signed but invalid body", async () => {
    const res = await signedPost("/connector-event/c1", JSON.stringify({ Operation: "NOPE", StatusCode: 99 }));
    expect(res).toMatchObject({ status: 400, errorType: "ValidationException" });
    expect(res.body.message).toContain("$.Operation");
    expect(res.body.message).toContain("$.StatusCode");
    const notJson = await signedPost("/connector-event/c1", "{");
    expect(notJson).toMatchObject({ status: 400, errorType: "ValidationException" });
  });

  it("accepts a correctly signed request and answers 202 with the ConnectorId", async () => {
    expect(await signedPost("/connector-event/c1", validBody)).toEqual({ status: 202, errorType: null, body: { ConnectorId: "c1" } });
    expect(emulator.events).toEqual([{ connectorId: "c1", body: JSON.parse(validBody), receivedAt: expect.any(Number) }]);
  });

  it("refuses unsigned requests and unknown routes", async () => {
    const unsigned = await fetch(`${emulator.url}/connector-event/c1`, { method: "POST", body: validBody });
    expect(unsigned.status).toBe(403);
    const wrongRoute = await fetch(`${emulator.url}/other`, { method: "GET" });
    expect(wrongRoute.status).toBe(404);
    await expect(emulator.waitForEvents(1, 50)).rejects.toThrow(/expected 1 events within 50 ms/);
  });
});

describe("client error parsing against a plain HTTP server", () => {
  let server: Server;
  let url: string;
  let reply: { status: number; headers?: Record<string, string>; body: string } = { status: 400, body: "{}" };
  let hits = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      hits++;
      req.resume();
      req.on("end", () => res.writeHead(reply.status, reply.headers ?? {}).end(reply.body));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const cases = [
    { status: 400, body: JSON.stringify({ __type: "com.amazonaws.iotmanagedintegrations#ValidationException", message: "bad field" }), name: "ValidationException", message: "bad field" },
    { status: 404, headers: { "x-amzn-errortype": "ResourceNotFoundException:http://internal.amazon.com/coral/" }, body: JSON.stringify({ Message: "no connector" }), name: "ResourceNotFoundException", message: "no connector" },
    { status: 403, body: "", name: "AccessDeniedException", message: "SendConnectorEvent failed with HTTP 403" },
    { status: 400, body: JSON.stringify({ code: "SerializationException" }), name: "SerializationException", message: "SendConnectorEvent failed with HTTP 400" },
  ];
  for (const c of cases) {
    it(`maps HTTP ${c.status} to ${c.name} and does not retry it`, async () => {
      reply = c;
      hits = 0;
      const client = new SendConnectorEventClient({ region: REGION, endpoint: url, credentials: staticCredentials(LOCAL_TEST_CREDENTIALS), sleep: async () => {} });
      const err = await caught(client.send(event()));
      expect(err).toBeInstanceOf(SendConnectorEventError);
      expect({ name: err.name, message: err.message, retryable: err.retryable }).toEqual({ name: c.name, message: c.message, retryable: false });
      expect(err.$metadata).toMatchObject({ httpStatusCode: c.status, attempts: 1 });
      expect(hits).toBe(1);
    });
  }

  it("retries a 502 and accepts any 2xx", async () => {
    let n = 0;
    reply = { status: 502, body: "" };
    const client = new SendConnectorEventClient({
      region: REGION,
      endpoint: url,
      credentials: staticCredentials(LOCAL_TEST_CREDENTIALS),
      sleep: async () => {
        if (++n === 1) reply = { status: 200, body: "" };
      },
    });
    hits = 0;
    await expect(client.send(event())).resolves.toEqual({ ConnectorId: "Conn_01-test" });
    expect(hits).toBe(2);
  });
});
