import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

// s3rver is CommonJS without type declarations; createRequire loads it the same way under tsx,
// vitest and plain Node ESM.
const require = createRequire(import.meta.url);
interface S3rverInstance {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}
const S3rver = require("s3rver") as new (options: Record<string, unknown>) => S3rverInstance;

/** s3rver's built-in account: the only key pair it accepts (it does not verify SigV4 signatures). */
export const LOCAL_S3_CREDENTIALS = Object.freeze({ accessKeyId: "S3RVER", secretAccessKey: "S3RVER" });

export interface LocalS3 {
  /** http://127.0.0.1:<port>; clients need path-style addressing (forcePathStyle). */
  endpoint: string;
  close(): Promise<void>;
}

/**
 * A real S3-compatible server (s3rver: the REST API over a folder) on a free loopback port, with
 * the given buckets, its objects in a temporary folder removed on close. It has no bucket
 * versioning: PutObject answers without a VersionId.
 */
export async function startLocalS3(buckets: string[]): Promise<LocalS3> {
  const directory = await mkdtemp(join(tmpdir(), "c2c-s3-"));
  const server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory, configureBuckets: buckets.map((name) => ({ name })) });
  const { port } = await server.run();
  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close() {
      closing ??= server.close().then(() => rm(directory, { recursive: true, force: true }));
      return closing;
    },
  };
}
