/**
 * Account values are encrypted by the engine before they reach the state store (AES-256-GCM), on
 * top of the table's own encryption at rest: whoever can read the table (a backup, a console
 * user) still cannot read an application key. The record's store key is the additional
 * authenticated data, so a record copied under another user's key does not decrypt.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

export interface SealedRecord {
  v: 1;
  iv: string;
  tag: string;
  data: string;
}

export class AccountKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AccountKeyError";
  }
}

/** 32 bytes from the configured key text (any length >= 32; hashed so every text gives a full key). */
export function accountKeyFromText(text: string): Buffer {
  if (text.length < 32) throw new AccountKeyError("C2C_ACCOUNT_KEY must be at least 32 characters (e.g. `openssl rand -base64 32`)");
  return createHash("sha256").update(text, "utf8").digest();
}

/**
 * The key for this container: C2C_ACCOUNT_KEY when set; else, with per-container memory state only,
 * a random key (the values die with the container anyway); with a durable store and no key,
 * undefined, and saving values is refused with a clear error.
 */
export function accountKeyFromEnv(env: Record<string, string | undefined>, durableStore: boolean): Buffer | undefined {
  const text = env.C2C_ACCOUNT_KEY;
  if (text) return accountKeyFromText(text);
  return durableStore ? undefined : randomBytes(32);
}

export function seal(key: Buffer, aad: string, value: unknown): SealedRecord {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(aad, "utf8"));
  const data = Buffer.concat([cipher.update(JSON.stringify(value), "utf8"), cipher.final()]);
  return { v: 1, iv: iv.toString("base64"), tag: cipher.getAuthTag().toString("base64"), data: data.toString("base64") };
}

/** The value, or undefined when the record is not ours (other key, other user, tampered). */
export function open(key: Buffer, aad: string, record: unknown): unknown {
  if (!isSealed(record)) return undefined;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(record.iv, "base64"));
    decipher.setAAD(Buffer.from(aad, "utf8"));
    decipher.setAuthTag(Buffer.from(record.tag, "base64"));
    const text = Buffer.concat([decipher.update(Buffer.from(record.data, "base64")), decipher.final()]).toString("utf8");
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isSealed(r: unknown): r is SealedRecord {
  const x = r as Partial<SealedRecord> | null;
  return !!x && typeof x === "object" && x.v === 1 && typeof x.iv === "string" && typeof x.tag === "string" && typeof x.data === "string";
}
