import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import aws4 from "aws4";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCAL_TEST_CREDENTIALS, startMiEmulator, type MiEmulator } from "../../engine/local/mi-emulator.ts";
import { environmentFirstProvider, SendConnectorEventClient } from "../../engine/mi/client.ts";
import { createHash } from "node:crypto";
import { sha256Hex, SigV4Signer } from "../../engine/mi/sigv4.ts";

const REGION = "eu-west-1";
const SERVICE = "iotmanagedintegrations";
const WITH_TOKEN = { ...LOCAL_TEST_CREDENTIALS, sessionToken: "IQoJb3JpZ2luX2VjE//session+token=" };

const cases = [
  { name: "plain path", path: "/connector-event/Conn_01-test", body: '{"Operation":"DEVICE_EVENT"}', credentials: LOCAL_TEST_CREDENTIALS },
  { name: "encoded label and session token", path: `/base/connector-event/${encodeURIComponent("a b/ü")}`, body: '{"x":"ä  b"}', credentials: WITH_TOKEN },
  { name: "empty body", path: "/connector-event/c1", body: "", credentials: WITH_TOKEN },
];

describe("lean SigV4 signer", () => {
  for (const c of cases) {
    it(`produces @smithy/signature-v4's headers byte for byte (${c.name})`, async () => {
      const now = new Date("2026-12-01T19:30:45.123Z");
      const ours = new SigV4Signer(SERVICE, REGION).sign(
        { method: "POST", host: "api.example:8443", path: c.path, headers: { "content-type": "application/json" }, body: c.body },
        c.credentials,
        now,
      );
      const smithy = await new SignatureV4({ service: SERVICE, region: REGION, credentials: c.credentials, sha256: Hash.bind(null, "sha256") }).sign(
        new HttpRequest({ method: "POST", protocol: "https:", hostname: "api.example", port: 8443, path: c.path, headers: { "content-type": "application/json", host: "api.example:8443" }, body: c.body }),
        { signingDate: now },
      );
      expect(ours).toEqual(smithy.headers);
    });
  }

  it("is verified by the independent aws4 package", () => {
    const now = new Date();
    const path = "/connector-event/Conn_01";
    const body = '{"a":1}';
    const ours = new SigV4Signer(SERVICE, REGION).sign({ method: "POST", host: "h.example", path, headers: { "content-type": "application/json" }, body }, WITH_TOKEN, now);
    const { authorization: _a, ...unsigned } = ours;
    const signer = new aws4.RequestSigner(
      { method: "POST", host: "h.example", path, headers: unsigned, body, service: SERVICE, region: REGION, doNotModifyHeaders: true } as aws4.Request,
      WITH_TOKEN,
    );
    signer.datetime = ours["x-amz-date"]!;
    expect(ours.authorization).toBe(signer.authHeader());
  });

  it("derives the signing key once per day and again when the secret rotates", () => {
    const signer = new SigV4Signer(SERVICE, REGION);
    const input = { method: "POST", host: "h", path: "/p", headers: {}, body: "" };
    const key = () => (signer as unknown as { cached: { key: Buffer } }).cached.key;
    signer.sign(input, LOCAL_TEST_CREDENTIALS, new Date("2026-12-01T01:00:00Z"));
    const first = key();
    signer.sign(input, LOCAL_TEST_CREDENTIALS, new Date("2026-12-01T23:00:00Z"));
    expect(key()).toBe(first);
    signer.sign(input, LOCAL_TEST_CREDENTIALS, new Date("2026-12-02T00:00:01Z"));
    expect(key()).not.toBe(first);
    const second = key();
    signer.sign(input, { ...LOCAL_TEST_CREDENTIALS, secretAccessKey: "rotated" }, new Date("2026-12-02T00:00:02Z"));
    expect(key()).not.toBe(second);
  });
});

describe("lean SigV4 signer, cached parts", () => {
  it("formats x-amz-date once per second and anew in the next second (equal to smithy at both)", async () => {
    const signer = new SigV4Signer(SERVICE, REGION);
    const input = { method: "POST", host: "h.example", path: "/connector-event/c", headers: { "content-type": "application/json" }, body: "{}" };
    const at = (iso: string) => signer.sign(input, LOCAL_TEST_CREDENTIALS, new Date(iso));
    expect(at("2026-12-01T23:59:59.001Z")["x-amz-date"]).toBe("20261201T235959Z");
    expect(at("2026-12-01T23:59:59.999Z")["x-amz-date"]).toBe("20261201T235959Z");
    const next = at("2026-12-02T00:00:00.000Z");
    expect(next["x-amz-date"]).toBe("20261202T000000Z");
    const smithy = await new SignatureV4({ service: SERVICE, region: REGION, credentials: LOCAL_TEST_CREDENTIALS, sha256: Hash.bind(null, "sha256") }).sign(
      new HttpRequest({ method: "POST", protocol: "https:", hostname: "h.example", path: input.path, headers: { "content-type": "application/json", host: "h.example" }, body: "{}" }),
      { signingDate: new Date("2026-12-02T00:00:00.000Z") },
    );
    expect(next).toEqual(smithy.headers);
    expect(() => at("not a date")).toThrow(RangeError);
  });

  it("folds whitespace in header values as smithy does, and signs a repeated path as the first time", async () => {
    const signer = new SigV4Signer(SERVICE, REGION);
    const now = new Date("2026-12-01T19:30:45.123Z");
    const values = ["plain", "  lead", "trail  ", "in  side", "tab\there", "new\nline", " a \t b  c ", "x"];
    for (const value of values) {
      for (let round = 0; round < 2; round++) {
        const path = "/base/connector-event/a%20b";
        const headers = { "content-type": "application/json", "x-extra": value };
        const ours = signer.sign({ method: "POST", host: "h.example", path, headers, body: "{}" }, LOCAL_TEST_CREDENTIALS, now);
        const smithy = await new SignatureV4({ service: SERVICE, region: REGION, credentials: LOCAL_TEST_CREDENTIALS, sha256: Hash.bind(null, "sha256") }).sign(
          new HttpRequest({ method: "POST", protocol: "https:", hostname: "h.example", path, headers: { ...headers, host: "h.example" }, body: "{}" }),
          { signingDate: now },
        );
        expect(ours.authorization).toBe(smithy.headers.authorization);
      }
    }
  });

  it("hashes as createHash does, for ASCII, non-ASCII and empty text", () => {
    for (const text of ["", '{"a":1}', "ä  b ü € 😀", "x".repeat(100_000)]) {
      expect(sha256Hex(text)).toBe(createHash("sha256").update(text, "utf8").digest("hex"));
    }
  });
});

describe("credentials from the environment first", () => {
  it("reads the Lambda variables on every call, without loading the chain", async () => {
    const env: NodeJS.ProcessEnv = { AWS_ACCESS_KEY_ID: "AKIDENV", AWS_SECRET_ACCESS_KEY: "s1", AWS_SESSION_TOKEN: "t1" };
    const provider = environmentFirstProvider(env);
    await expect(provider()).resolves.toEqual({ accessKeyId: "AKIDENV", secretAccessKey: "s1", sessionToken: "t1" });
    env.AWS_SECRET_ACCESS_KEY = "s2";
    env.AWS_SESSION_TOKEN = "";
    await expect(provider()).resolves.toEqual({ accessKeyId: "AKIDENV", secretAccessKey: "s2", sessionToken: undefined });
  });

  it("answers at once from the environment (now), and says nothing when the keys are absent", () => {
    const env: NodeJS.ProcessEnv = { AWS_ACCESS_KEY_ID: "AKIDENV", AWS_SECRET_ACCESS_KEY: "s1" };
    const provider = environmentFirstProvider(env);
    expect(provider.now()).toEqual({ accessKeyId: "AKIDENV", secretAccessKey: "s1", sessionToken: undefined });
    env.AWS_SECRET_ACCESS_KEY = "rotated";
    expect(provider.now()?.secretAccessKey).toBe("rotated");
    delete env.AWS_ACCESS_KEY_ID;
    expect(provider.now()).toBeUndefined();
  });
});

describe("SendConnectorEventClient on the default transport", () => {
  let emulator: MiEmulator;
  beforeAll(async () => {
    emulator = await startMiEmulator({ region: REGION, credentials: WITH_TOKEN });
  });
  afterAll(() => emulator.close());

  it("sends events the emulator verifies (aws4)", async () => {
    const client = new SendConnectorEventClient({
      region: REGION,
      endpoint: emulator.url,
      credentials: environmentFirstProvider({ AWS_ACCESS_KEY_ID: WITH_TOKEN.accessKeyId, AWS_SECRET_ACCESS_KEY: WITH_TOKEN.secretAccessKey, AWS_SESSION_TOKEN: WITH_TOKEN.sessionToken }),
      maxAttempts: 1,
    });
    for (let i = 0; i < 5; i++) {
      await client.send({
        ConnectorId: "Conn_01",
        Operation: "DEVICE_EVENT",
        OperationVersion: "1.0",
        StatusCode: 200,
        UserId: "u1",
        ConnectorDeviceId: `d${i}`,
        MatterEndpoint: { id: "1", clusters: [{ id: "0x0006", attributes: { "0x0000": i % 2 === 0 } }] },
      });
    }
    expect(emulator.rejected).toEqual([]);
    expect(emulator.events).toHaveLength(5);
  });
});
