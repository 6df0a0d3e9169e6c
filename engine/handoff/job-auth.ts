/**
 * Deferred work is authenticated (a forged job must never reach MI or a vendor). A job is accepted
 * only when it is
 *  - a reference to work this deployment stored (payload `{ ref }`, the work under `job:<ref>` in the
 *    state store; refs are random UUIDs, so knowing one means having read the queue), or
 *  - signed: `mac` is an HMAC-SHA256 of the job under the deployment's job key.
 * With a durable store the engine always writes references; inline work (and so the MAC) is what an
 * in-memory store leaves, where the key is C2C_JOB_KEY or, without it, a random key of this
 * container (a job then only runs in the container that wrote it, as its work does anyway).
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { DeferredJob } from "./job.ts";

export const JOB_KEY_ENV = "C2C_JOB_KEY";

export class JobSigner {
  private readonly key: Buffer;

  constructor(key?: string | Buffer) {
    if (typeof key === "string" && key.length < 16) throw new RangeError(`${JOB_KEY_ENV} must be at least 16 characters`);
    this.key = key === undefined ? randomBytes(32) : Buffer.from(key);
  }

  static fromEnv(env: Record<string, string | undefined>): JobSigner {
    const key = env[JOB_KEY_ENV]?.trim();
    return new JobSigner(key ? key : undefined);
  }

  sign(job: DeferredJob): DeferredJob {
    return { ...job, mac: this.mac(job) };
  }

  /** True when the job carries a valid MAC for its work (scheduling fields aside). */
  verify(job: DeferredJob): boolean {
    if (typeof job.mac !== "string") return false;
    const expected = Buffer.from(this.mac(job));
    const given = Buffer.from(job.mac);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /**
   * Covers what the job does; `attempt` and `notBefore` are left out so a retry keeps its MAC
   * (changing them only moves the job in time, never what it does or for whom).
   */
  private mac(job: DeferredJob): string {
    const { kind, version, jobId, operation, maxAttempts, payload } = job;
    return createHmac("sha256", this.key).update(canonicalJson({ kind, version, jobId, operation, maxAttempts, payload })).digest("base64url");
  }
}

/** JSON with object keys sorted, so the MAC does not depend on how a queue re-serialises the job. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}
