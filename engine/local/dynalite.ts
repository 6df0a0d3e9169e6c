import { createRequire } from "node:module";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

// dynalite is CommonJS without type declarations; createRequire loads it the same way under
// tsx, vitest and plain Node ESM.
const require = createRequire(import.meta.url);
const dynalite = require("dynalite") as (options: Record<string, unknown>) => Server;

export interface LocalDynamo {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  close(): Promise<void>;
}

/**
 * A DynamoDB-compatible server in this process, in memory, on a free loopback port. Table
 * lifecycle delays are zero so tests and local runs never wait for CREATING -> ACTIVE.
 */
export async function startDynalite(): Promise<LocalDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err?: Error) => (err ? reject(err) : resolve()));
        // Keep-alive sockets held by SDK clients would otherwise delay the close.
        server.closeAllConnections?.();
      });
      return closing;
    },
  };
}
