import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SecretReader, SecretReadError, parseSecretText } from "../../engine/auth/secrets.ts";
import {
  startSecretsManagerEmulator,
  type EmulatedSecret,
  type SecretsManagerEmulator,
} from "../../engine/local/secrets-manager-emulator.ts";

const ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:c2c/general-auth-AbCdEf";
const CLIENT_SECRET = "cs-very-secret-4f9a";
const PLAIN_SECRET = "plain-text-api-key-77e1";
const BINARY_SECRET = "binary-held-token-93c2";
const FORBIDDEN_SECRET = "forbidden-value-5d0b";

const SECRETS: EmulatedSecret[] = [
  { arn: ARN, versionId: "v1", value: { clientId: "cid-1", clientSecret: CLIENT_SECRET, nested: { scopes: ["a"] } } },
  { arn: ARN, versionId: "v2", value: { clientId: "cid-2", clientSecret: "cs-rotated-value-x1" } },
  { arn: ARN, versionId: "plain", value: PLAIN_SECRET },
  { arn: ARN, versionId: "bin", value: { token: BINARY_SECRET }, binary: true },
  { arn: ARN, versionId: "bin-plain", value: BINARY_SECRET, binary: true },
  { arn: ARN, versionId: "denied", value: FORBIDDEN_SECRET, error: { type: "AccessDeniedException" } },
  { arn: ARN, versionId: "kms", value: FORBIDDEN_SECRET, error: { type: "DecryptionFailure" } },
  { arn: ARN, versionId: "bad-request", value: FORBIDDEN_SECRET, error: { type: "InvalidRequestException" } },
  { arn: ARN, versionId: "internal", value: FORBIDDEN_SECRET, error: { type: "InternalServiceError", status: 500 } },
];
const ALL_SECRET_STRINGS = [CLIENT_SECRET, PLAIN_SECRET, BINARY_SECRET, FORBIDDEN_SECRET, "cs-rotated-value-x1"];

let emulator: SecretsManagerEmulator;
const clients: SecretsManagerClient[] = [];

function newReader(maxEntries?: number): SecretReader {
  const client = new SecretsManagerClient({
    endpoint: emulator.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    // The reader maps errors itself; SDK retries would only slow the error tests down.
    maxAttempts: 1,
  });
  clients.push(client);
  return new SecretReader({ client, ...(maxEntries ? { maxEntries } : {}) });
}

async function readError(reader: SecretReader, versionId: string): Promise<SecretReadError> {
  const err = await reader.read(ARN, versionId).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SecretReadError);
  return err as SecretReadError;
}

function expectNoSecretIn(err: Error): void {
  const text = `${err.message}\n${err.stack}\n${JSON.stringify(err)}\n${String(err)}`;
  for (const s of ALL_SECRET_STRINGS) expect(text).not.toContain(s);
  expect(text).not.toContain(ARN);
}

beforeAll(async () => {
  emulator = await startSecretsManagerEmulator({ secrets: SECRETS });
});

afterAll(async () => {
  for (const c of clients) c.destroy();
  await emulator?.close();
});

describe("SecretReader against the secrets emulator", () => {
  it("reads a JSON secret version, then serves it from cache without another call", async () => {
    const reader = newReader();
    const before = emulator.calls;
    const first = await reader.read(ARN, "v1");
    expect(first).toEqual({ clientId: "cid-1", clientSecret: CLIENT_SECRET, nested: { scopes: ["a"] } });
    expect(emulator.calls).toBe(before + 1);
    const second = await reader.read(ARN, "v1");
    expect(second).toEqual(first);
    expect(emulator.calls).toBe(before + 1);
  });

  it("caches per version: another version id is another call with its own value", async () => {
    const reader = newReader();
    const before = emulator.calls;
    expect((await reader.read(ARN, "v1")).clientId).toBe("cid-1");
    expect((await reader.read(ARN, "v2")).clientId).toBe("cid-2");
    expect(emulator.calls).toBe(before + 2);
  });

  it("concurrent reads of one version make a single call", async () => {
    const reader = newReader();
    const before = emulator.calls;
    const results = await Promise.all(Array.from({ length: 8 }, () => reader.read(ARN, "v2")));
    expect(emulator.calls).toBe(before + 1);
    for (const r of results) expect(r.clientId).toBe("cid-2");
  });

  it("hands each caller its own copy", async () => {
    const reader = newReader();
    const a = await reader.read(ARN, "v1");
    (a.nested as { scopes: string[] }).scopes.push("tampered");
    a.clientId = "changed";
    const b = await reader.read(ARN, "v1");
    expect(b.clientId).toBe("cid-1");
    expect(b.nested).toEqual({ scopes: ["a"] });
  });

  it("wraps a non-JSON string secret as { value }", async () => {
    expect(await newReader().read(ARN, "plain")).toEqual({ value: PLAIN_SECRET });
  });

  it("decodes SecretBinary as UTF-8 JSON (or { value } when it is not JSON)", async () => {
    const reader = newReader();
    expect(await reader.read(ARN, "bin")).toEqual({ token: BINARY_SECRET });
    expect(await reader.read(ARN, "bin-plain")).toEqual({ value: BINARY_SECRET });
  });

  it("maps an unknown secret to NotFound, without the ARN or any secret in the error", async () => {
    const err = await readError(newReader(), "no-such-version");
    expect(err.code).toBe("NotFound");
    expect(err.serviceErrorName).toBe("ResourceNotFoundException");
    expectNoSecretIn(err);
  });

  it("maps service errors to typed codes, secret-free", async () => {
    const reader = newReader();
    const cases: Array<[string, string]> = [
      ["denied", "AccessDenied"],
      ["kms", "AccessDenied"],
      ["bad-request", "Invalid"],
      ["internal", "Unavailable"],
    ];
    for (const [versionId, code] of cases) {
      const err = await readError(reader, versionId);
      expect(err.code).toBe(code);
      expectNoSecretIn(err);
    }
  });

  it("does not cache a failure: the next read asks again", async () => {
    const reader = newReader();
    const before = emulator.calls;
    await readError(reader, "denied");
    await readError(reader, "denied");
    expect(emulator.calls).toBe(before + 2);
  });

  it("keeps at most maxEntries versions cached, dropping the least recently used", async () => {
    const reader = newReader(2);
    const before = emulator.calls;
    await reader.read(ARN, "v1");
    await reader.read(ARN, "v2");
    await reader.read(ARN, "v1"); // cached; v2 is now the least recently used
    await reader.read(ARN, "plain"); // evicts v2
    expect(emulator.calls).toBe(before + 3);
    await reader.read(ARN, "v1");
    expect(emulator.calls).toBe(before + 3);
    await reader.read(ARN, "v2");
    expect(emulator.calls).toBe(before + 4);
  });

  it("rejects an empty ARN or version id without calling the service", async () => {
    const reader = newReader();
    const before = emulator.calls;
    await expect(reader.read("", "v1")).rejects.toMatchObject({ code: "Invalid" });
    await expect(reader.read(ARN, "")).rejects.toMatchObject({ code: "Invalid" });
    expect(emulator.calls).toBe(before);
  });

  it("reaches the emulator through C2C_SECRETS_MANAGER_ENDPOINT", async () => {
    const reader = new SecretReader({
      env: { C2C_SECRETS_MANAGER_ENDPOINT: emulator.endpoint },
      region: "us-east-1",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    });
    try {
      expect((await reader.read(ARN, "v2")).clientId).toBe("cid-2");
    } finally {
      reader.close();
    }
  });
});

describe("parseSecretText", () => {
  it("returns JSON objects as they are and wraps everything else", () => {
    expect(parseSecretText('{"a":1}')).toEqual({ a: 1 });
    expect(parseSecretText("[1,2]")).toEqual({ value: "[1,2]" });
    expect(parseSecretText("42")).toEqual({ value: "42" });
    expect(parseSecretText("null")).toEqual({ value: "null" });
    expect(parseSecretText("not json")).toEqual({ value: "not json" });
  });
});
