import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { listenOnLoopback, readTextBody } from "./loopback.ts";

/**
 * A loopback stand-in for the secrets service's GetSecretValue (JSON 1.1 protocol), so the real
 * SDK client can be exercised in tests and local runs without a cloud account.
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
  close(): Promise<void>;
}

const TARGET = "secretsmanager.GetSecretValue";
const JSON_11 = "application/x-amz-json-1.1";

export async function startSecretsManagerEmulator(options: {
  secrets: EmulatedSecret[];
}): Promise<SecretsManagerEmulator> {
  const secrets = [...options.secrets];
  let calls = 0;

  const server = createServer((req, res) => {
    readTextBody(req)
      .then((body) => {
        const target = req.headers["x-amz-target"];
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
    close: listening.close,
  };
}

/** By ARN or name; without VersionId the last listed version of that secret is "current". */
function findSecret(secrets: EmulatedSecret[], secretId: string, versionId: unknown): EmulatedSecret | undefined {
  const matches = secrets.filter((s) => s.arn === secretId || s.arn.split(":").pop() === secretId);
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
