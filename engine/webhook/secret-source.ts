/**
 * Resolves the secrets a mapping's `webhooks.verify` names (`{ env, secretsManager?, key? }`) into
 * the options verifyWebhook takes. A secret held in Secrets Manager is read as its current version
 * (AWSCURRENT, so rotation needs no redeploy) and cached briefly per container. A variable that
 * holds a Secrets Manager ARN is read from Secrets Manager even when the mapping does not say
 * `secretsManager`: that is how the generated template passes webhook secrets by default
 * (engine/deploy/template.ts), while `c2c dev` and tests keep passing the value itself.
 */
// Types only: the SDK is loaded when a secret is first read from Secrets Manager.
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { parseSecretText, SecretReadError, secretReadErrorCode } from "../auth/secrets.ts";
import type { CompiledVerify } from "../mapping/compiled.ts";
import type { SecretRegistry } from "../log/redact.ts";
import type { SignedContent, VerifyOptions } from "./verify.ts";
import type { HttpSignatureAlgorithm, HttpSignatureVerifyOptions } from "./http-signature.ts";
import type { JwtVerifyOptions } from "./jwt-bearer.ts";

/** Every scheme's run-time options. */
export type DeliveryVerifyOptions = VerifyOptions | HttpSignatureVerifyOptions | JwtVerifyOptions;

export type SecretRef = NonNullable<CompiledVerify["secret"]>;

/** A secret the mapping names is not available: the delivery cannot be checked, so it is refused. */
export class WebhookSecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WebhookSecretError";
  }
}

export interface WebhookSecretSourceOptions {
  env?: Record<string, string | undefined>;
  /** A ready client (tests); otherwise one is created on first use, honouring C2C_SECRETS_MANAGER_ENDPOINT. */
  client?: SecretsManagerClient;
  /** How long a Secrets Manager value is reused. Default 5 minutes. */
  cacheMs?: number;
  /** Every resolved secret is registered here so no log line can carry it. */
  secrets?: SecretRegistry;
}

/** A Secrets Manager secret ARN (what the template's SecretArn parameters accept); never a plausible secret value. */
export function isSecretsManagerArn(value: string): boolean {
  return /^arn:aws[a-z-]*:secretsmanager:[0-9a-zA-Z-]{1,32}:\d{12}:secret:[A-Za-z0-9/_+=.@-]{8,520}$/.test(value);
}

export class WebhookSecretSource {
  private client?: SecretsManagerClient;
  private readonly cache = new Map<string, { at: number; value: Promise<Record<string, unknown>> }>();

  constructor(private readonly options: WebhookSecretSourceOptions = {}) {
    this.client = options.client;
  }

  private get env(): Record<string, string | undefined> {
    return this.options.env ?? process.env;
  }

  /** The secret's text. Errors name the environment variable, never a value or an ARN. */
  async resolve(ref: SecretRef): Promise<string> {
    const raw = this.env[ref.env];
    if (raw === undefined || raw.trim() === "") throw new WebhookSecretError(`environment variable ${ref.env} is not set`);
    let value: string;
    if (!ref.secretsManager && !isSecretsManagerArn(raw.trim())) {
      value = raw;
    } else {
      const secret = await this.readSecretsManager(raw.trim());
      const item = secret[ref.key ?? "value"];
      if (typeof item !== "string" || item === "") {
        throw new WebhookSecretError(`the secret named by ${ref.env} has no string field ${ref.key ?? "value"}`);
      }
      value = item;
    }
    this.options.secrets?.add(value);
    return value;
  }

  private async readSecretsManager(arn: string): Promise<Record<string, unknown>> {
    const ttl = this.options.cacheMs ?? 5 * 60_000;
    const hit = this.cache.get(arn);
    if (hit && Date.now() - hit.at < ttl) return hit.value;
    const value = this.fetch(arn);
    this.cache.set(arn, { at: Date.now(), value });
    value.catch(() => this.cache.delete(arn));
    return value;
  }

  private async fetch(arn: string): Promise<Record<string, unknown>> {
    const sdk = await import("@aws-sdk/client-secrets-manager");
    if (!this.client) {
      const endpoint = this.env.C2C_SECRETS_MANAGER_ENDPOINT?.trim();
      this.client = new sdk.SecretsManagerClient(endpoint ? { endpoint } : {});
    }
    try {
      const out = await this.client.send(new sdk.GetSecretValueCommand({ SecretId: arn }));
      if (typeof out.SecretString === "string") return parseSecretText(out.SecretString);
      if (out.SecretBinary instanceof Uint8Array) return parseSecretText(Buffer.from(out.SecretBinary).toString("utf8"));
    } catch (err) {
      const name = (err as { name?: unknown } | null)?.name;
      throw new SecretReadError(secretReadErrorCode(typeof name === "string" ? name : undefined), typeof name === "string" ? name : undefined);
    }
    throw new SecretReadError("Invalid");
  }
}

/** The compiled `verify` section with its secrets filled in, as verifyWebhook expects it. */
export async function verifyOptionsFor(verify: CompiledVerify, source: WebhookSecretSource): Promise<DeliveryVerifyOptions> {
  const signed: SignedContent | undefined =
    verify.signed === undefined || verify.signed === "body" || verify.signed === "timestamp.body" ? (verify.signed as SignedContent | undefined) : { template: verify.signed };
  const common = {
    header: verify.header ?? "",
    encoding: verify.encoding ?? "hex",
    ...(verify.prefix !== undefined ? { prefix: verify.prefix } : {}),
    ...(signed !== undefined ? { signed } : {}),
    ...(verify.timestampHeader !== undefined ? { timestampHeader: verify.timestampHeader } : {}),
    ...(verify.toleranceSeconds !== undefined ? { toleranceSeconds: verify.toleranceSeconds } : {}),
  };
  switch (verify.scheme) {
    case "none":
      return { scheme: "none" };
    case "sharedSecret":
      return {
        scheme: "sharedSecret",
        header: verify.header ?? "",
        secret: await required(verify.secret, "secret", source),
        ...(verify.prefix !== undefined ? { prefix: verify.prefix } : {}),
      };
    case "hmac":
      return { scheme: "hmac", algorithm: verify.algorithm as "sha256", secret: await required(verify.secret, "secret", source), ...common };
    case "publicKey":
      return { scheme: "publicKey", algorithm: verify.algorithm as "ed25519", publicKey: await required(verify.publicKey, "publicKey", source), ...common };
    case "httpSignature":
      return {
        scheme: "httpSignature",
        algorithms: (verify.algorithms ?? []) as HttpSignatureAlgorithm[],
        ...(verify.components !== undefined ? { components: verify.components } : {}),
        ...(verify.toleranceSeconds !== undefined ? { toleranceSeconds: verify.toleranceSeconds } : {}),
        ...(verify.publicKey !== undefined ? { publicKey: await source.resolve(verify.publicKey) } : {}),
        ...(verify.keyUrl !== undefined ? { keyUrl: verify.keyUrl } : {}),
      };
    case "jwt": {
      const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
      const audience = list(verify.audience);
      if (verify.audienceEnv !== undefined) audience.push(await source.resolve({ env: verify.audienceEnv }));
      const claims: Record<string, string | boolean> = {};
      for (const [name, value] of Object.entries(verify.claims ?? {})) {
        claims[name] = typeof value === "object" ? await source.resolve(value) : value;
      }
      return {
        scheme: "jwt",
        jwksUrl: verify.jwksUrl ?? "",
        issuer: list(verify.issuer),
        audience,
        algorithms: verify.algorithms ?? [],
        claims,
        ...(verify.header !== undefined ? { header: verify.header } : {}),
        ...(verify.prefix !== undefined ? { prefix: verify.prefix } : {}),
        ...(verify.toleranceSeconds !== undefined ? { toleranceSeconds: verify.toleranceSeconds } : {}),
      };
    }
  }
}

async function required(ref: SecretRef | undefined, field: string, source: WebhookSecretSource): Promise<string> {
  if (!ref) throw new WebhookSecretError(`webhooks.verify.${field} is not declared`);
  return source.resolve(ref);
}
