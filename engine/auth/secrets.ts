// Types only: the SDK client is loaded on first use, so a connector that never reads a secret
// does not pay for it at cold start.
import type { SecretsManagerClient, SecretsManagerClientConfig } from "@aws-sdk/client-secrets-manager";
import { SecretReadError, secretReadErrorCode } from "./secret-errors.ts";

/**
 * Reads the credentials of a General Authorization (client id/secret, API keys...) from the
 * secret version MI names in a request. A version id is immutable, so a read is cached for the
 * life of the container; concurrent reads of the same version share one call.
 */

export { SecretReadError, secretReadErrorCode, type SecretReadErrorCode } from "./secret-errors.ts";

export interface SecretReaderOptions {
  /** A ready client; when given, `endpoint`, `region` and `credentials` are ignored. */
  client?: SecretsManagerClient;
  /** Defaults to env C2C_SECRETS_MANAGER_ENDPOINT (a local emulator), else the SDK's own. */
  endpoint?: string;
  region?: string;
  credentials?: SecretsManagerClientConfig["credentials"];
  /** Bound on cached secret versions per container. */
  maxEntries?: number;
  env?: Record<string, string | undefined>;
}

export const DEFAULT_SECRET_CACHE_ENTRIES = 256;

export class SecretReader {
  private client?: Promise<SecretsManagerClient>;
  private readonly clientConfig: SecretsManagerClientConfig;
  private readonly ownsClient: boolean;
  private readonly maxEntries: number;
  /** Settled and in-flight reads alike; a failed read is removed so the next call retries. */
  private readonly cache = new Map<string, Promise<Record<string, unknown>>>();

  constructor(options: SecretReaderOptions = {}) {
    const env = options.env ?? process.env;
    const endpoint = options.endpoint ?? (env.C2C_SECRETS_MANAGER_ENDPOINT?.trim() || undefined);
    this.ownsClient = options.client === undefined;
    if (options.client) this.client = Promise.resolve(options.client);
    this.clientConfig = {
      ...(endpoint ? { endpoint } : {}),
      ...(options.region ? { region: options.region } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
    };
    const max = options.maxEntries ?? DEFAULT_SECRET_CACHE_ENTRIES;
    if (!Number.isInteger(max) || max < 1) throw new RangeError("maxEntries must be a positive integer");
    this.maxEntries = max;
  }

  /**
   * The secret version as an object: SecretString (or SecretBinary as UTF-8) parsed as JSON; a
   * value that is not a JSON object is returned as `{ value: <text> }`. Each call gets its own
   * copy, so a caller cannot alter what later callers see.
   */
  async read(arn: string, versionId: string): Promise<Record<string, unknown>> {
    if (typeof arn !== "string" || arn.length === 0) throw new SecretReadError("Invalid");
    if (typeof versionId !== "string" || versionId.length === 0) throw new SecretReadError("Invalid");
    const key = `${arn}\u0000${versionId}`;
    let pending = this.cache.get(key);
    if (pending) {
      // Refresh recency so the bound evicts the least recently used version.
      this.cache.delete(key);
      this.cache.set(key, pending);
    } else {
      pending = this.fetch(arn, versionId);
      this.cache.set(key, pending);
      pending.catch(() => {
        if (this.cache.get(key) === pending) this.cache.delete(key);
      });
      while (this.cache.size > this.maxEntries) {
        this.cache.delete(this.cache.keys().next().value as string);
      }
    }
    return structuredClone(await pending);
  }

  /** Releases the HTTP connections of a client this reader created itself. */
  close(): void {
    if (this.ownsClient) void this.client?.then((c) => c.destroy());
  }

  private sdk(): Promise<SecretsManagerClient> {
    this.client ??= import("@aws-sdk/client-secrets-manager").then((m) => new m.SecretsManagerClient(this.clientConfig));
    return this.client;
  }

  private async fetch(arn: string, versionId: string): Promise<Record<string, unknown>> {
    let out;
    try {
      const { GetSecretValueCommand } = await import("@aws-sdk/client-secrets-manager");
      out = await (await this.sdk()).send(new GetSecretValueCommand({ SecretId: arn, VersionId: versionId }));
    } catch (err) {
      const name = (err as { name?: unknown } | null)?.name;
      const serviceName = typeof name === "string" ? name : undefined;
      throw new SecretReadError(secretReadErrorCode(serviceName), serviceName);
    }
    if (typeof out.SecretString === "string") return parseSecretText(out.SecretString);
    if (out.SecretBinary instanceof Uint8Array) {
      return parseSecretText(Buffer.from(out.SecretBinary).toString("utf8"));
    }
    throw new SecretReadError("Invalid");
  }
}

/** Never throws: a JSON parse error message would quote the secret text. */
export function parseSecretText(text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { value: text };
  }
  if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) {
    return parsed as Record<string, unknown>;
  }
  return { value: text };
}
