import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { listenOnLoopback, readTextBody } from "./loopback.ts";

/**
 * A loopback stand-in for the secrets service (JSON 1.1 protocol): GetSecretValue for the engine, and
 * for `c2c deploy` CreateSecret, PutSecretValue, DescribeSecret and PutResourcePolicy, so the real SDK
 * client can be exercised in tests and local runs without a cloud account.
 */

export interface EmulatedSecret {
  arn: string;
  versionId: string;
  /** An object is served as its JSON text. */
  value: string | object;
  /** Serve the value as SecretBinary (base64) instead of SecretString. */
  binary?: boolean;
  /** Answer reads of this version with this service error instead (e.g. AccessDeniedException). */
  error?: { type: string; status?: number };
}

export interface SecretsManagerEmulator {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  /** GetSecretValue requests received so far. */
  readonly calls: number;
  /** Every secret version, those created or put through the API included. */
  readonly secrets: EmulatedSecret[];
  /** Resource policies by secret ARN (PutResourcePolicy). */
  readonly policies: Map<string, string>;
  /** Operations received, in order (the X-Amz-Target without the service prefix). */
  readonly operations: string[];
  close(): Promise<void>;
}

const TARGET = "secretsmanager.GetSecretValue";
const DEPLOY_TARGETS = new Set(["CreateSecret", "PutSecretValue", "DescribeSecret", "PutResourcePolicy"]);
const JSON_11 = "application/x-amz-json-1.1";

export async function startSecretsManagerEmulator(options: {
  secrets: EmulatedSecret[];
}): Promise<SecretsManagerEmulator> {
  const secrets = [...options.secrets];
  const policies = new Map<string, string>();
  const operations: string[] = [];
  let calls = 0;

  const server = createServer((req, res) => {
    readTextBody(req)
      .then((body) => {
        const target = req.headers["x-amz-target"];
        const operation = typeof target === "string" ? target.replace(/^secretsmanager\./, "") : "";
        operations.push(operation);
        if (req.method === "POST" && DEPLOY_TARGETS.has(operation)) return handleDeployOperation(operation, body, secrets, policies, res);
        if (req.method !== "POST" || target !== TARGET) {
          return sendError(res, 400, "UnknownOperationException", "only GetSecretValue is emulated");
        }
        calls++;
        let input: { SecretId?: unknown; VersionId?: unknown; VersionStage?: unknown };
        try {
          input = JSON.parse(body || "{}");
        } catch {
          return sendError(res, 400, "SerializationException", "request body is not JSON");
        }
        if (typeof input.SecretId !== "string" || input.SecretId.length === 0) {
          return sendError(res, 400, "InvalidParameterException", "SecretId is required");
        }
        const secret = findSecret(secrets, input.SecretId, input.VersionId);
        if (!secret) {
          return sendError(res, 400, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.");
        }
        if (secret.error) {
          return sendError(res, secret.error.status ?? 400, secret.error.type, "emulated failure");
        }
        const text = typeof secret.value === "string" ? secret.value : JSON.stringify(secret.value);
        sendJson(res, 200, {
          ARN: secret.arn,
          Name: secret.arn.split(":").pop(),
          VersionId: secret.versionId,
          VersionStages: ["AWSCURRENT"],
          CreatedDate: 1_700_000_000,
          ...(secret.binary ? { SecretBinary: Buffer.from(text, "utf8").toString("base64") } : { SecretString: text }),
        });
      })
      .catch(() => sendError(res, 500, "InternalServiceError", "emulator failure"));
  });

  const listening = await listenOnLoopback(server);
    return {
    endpoint: listening.endpoint,
    get calls() {
      return calls;
    },
    secrets,
    policies,
    operations,
    close: listening.close,
  };
}

const ACCOUNT = "123456789012";
const REGION = "us-east-1";

/** The calls `c2c deploy` makes; a secret's versions are its entries in `secrets`, the last one current. */
function handleDeployOperation(operation: string, body: string, secrets: EmulatedSecret[], policies: Map<string, string>, res: ServerResponse): void {
  let input: Record<string, unknown>;
  try {
    input = JSON.parse(body || "{}");
  } catch {
    return sendError(res, 400, "SerializationException", "request body is not JSON");
  }
  const id = (operation === "CreateSecret" ? input.Name : input.SecretId) as unknown;
  if (typeof id !== "string" || id.length === 0) return sendError(res, 400, "InvalidParameterException", operation === "CreateSecret" ? "Name is required" : "SecretId is required");
  const existing = secrets.filter((s) => s.arn === id || secretName(s.arn) === id);
  // Same ClientRequestToken as an existing version: idempotent, that version is the answer.
  const token = typeof input.ClientRequestToken === "string" ? input.ClientRequestToken : randomUUID();
  const newVersion = (arn: string): EmulatedSecret | undefined => {
    const same = existing.find((s) => s.versionId === token);
    if (same) return undefined;
    if (typeof input.SecretString !== "string") return undefined;
    const v: EmulatedSecret = { arn, versionId: token, value: input.SecretString };
    secrets.push(v);
    return v;
  };
  switch (operation) {
    case "CreateSecret": {
      if (existing.length > 0) return sendError(res, 400, "ResourceExistsException", `The operation failed because the secret ${id} already exists.`);
      if (typeof input.SecretString !== "string") return sendError(res, 400, "InvalidParameterException", "SecretString is required here");
      const arn = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${id}-${randomUUID().slice(0, 6)}`;
      newVersion(arn);
      return sendJson(res, 200, { ARN: arn, Name: id, VersionId: token });
    }
    case "PutSecretValue": {
      if (existing.length === 0) return sendError(res, 400, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.");
      const arn = existing[0]!.arn;
      newVersion(arn);
      return sendJson(res, 200, { ARN: arn, Name: secretName(arn), VersionId: token, VersionStages: ["AWSCURRENT"] });
    }
    case "DescribeSecret": {
      if (existing.length === 0) return sendError(res, 400, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.");
      const current = existing[existing.length - 1]!;
      const stages = Object.fromEntries(existing.map((s) => [s.versionId, s === current ? ["AWSCURRENT"] : []]));
      return sendJson(res, 200, { ARN: current.arn, Name: secretName(current.arn), VersionIdsToStages: stages });
    }
    case "PutResourcePolicy": {
      if (existing.length === 0) return sendError(res, 400, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.");
      if (typeof input.ResourcePolicy !== "string") return sendError(res, 400, "InvalidParameterException", "ResourcePolicy is required");
      try {
        JSON.parse(input.ResourcePolicy);
      } catch {
        return sendError(res, 400, "MalformedPolicyDocumentException", "the policy is not JSON");
      }
      policies.set(existing[0]!.arn, input.ResourcePolicy);
      return sendJson(res, 200, { ARN: existing[0]!.arn, Name: secretName(existing[0]!.arn) });
    }
  }
}

/** The name part of a secret ARN, without the random suffix Secrets Manager appends. */
function secretName(arn: string): string {
  return (arn.split(":").pop() ?? arn).replace(/-[A-Za-z0-9]{6}$/, "");
}

/** By ARN or name; without VersionId the last listed version of that secret is "current". */
function findSecret(secrets: EmulatedSecret[], secretId: string, versionId: unknown): EmulatedSecret | undefined {
  const matches = secrets.filter((s) => s.arn === secretId || s.arn.split(":").pop() === secretId || secretName(s.arn) === secretId);
  if (typeof versionId === "string") return matches.find((s) => s.versionId === versionId);
  return matches[matches.length - 1];
}


function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": JSON_11, "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, type: string, message: string): void {
  res.setHeader("x-amzn-ErrorType", type);
  sendJson(res, status, { __type: type, message });
}
