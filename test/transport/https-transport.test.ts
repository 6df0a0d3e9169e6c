/**
 * Vendor calls and SendConnectorEvent go to https origins: the transport's https agent (the
 * idle-closing keep-alive agent) must verify the server's certificate and keep one socket for
 * consecutive requests, as the http one does. The server is a loopback TLS server with a test
 * certificate (test/transport/data, not anyone's real key); the client runs in a child process
 * that trusts it through NODE_EXTRA_CA_CERTS, since Node reads that only at start.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import https from "node:https";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const here = path.dirname(fileURLToPath(import.meta.url));
const data = (name: string) => path.join(here, "data", name);
const run = promisify(execFile);

describe("https transport", () => {
  let server: https.Server;
  let origin: string;
  const sockets = new Set<unknown>();
  beforeAll(async () => {
    server = https.createServer({ key: readFileSync(data("loopback-tls.key.pem")), cert: readFileSync(data("loopback-tls.cert.pem")) }, (req, res) => {
      sockets.add(req.socket);
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ path: req.url, tls: (req.socket as { encrypted?: boolean }).encrypted === true }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const client = (env: NodeJS.ProcessEnv) =>
    run(process.execPath, ["--import", "tsx", data("tls-client.ts"), `${origin}/v1/lights`], { env: { ...process.env, ...env }, timeout: 30_000 });

  it("verifies the certificate and re-uses one TLS socket for consecutive requests", async () => {
    sockets.clear();
    const { stdout } = await client({ NODE_EXTRA_CA_CERTS: data("loopback-tls.cert.pem") });
    const answers = JSON.parse(stdout);
    expect(answers).toEqual([
      { status: 200, text: JSON.stringify({ path: "/v1/lights", tls: true }) },
      { status: 200, text: JSON.stringify({ path: "/v1/lights", tls: true }) },
    ]);
    expect(sockets.size).toBe(1);
  });

  it("refuses a server whose certificate it does not trust", async () => {
    const { NODE_EXTRA_CA_CERTS: _, ...env } = process.env;
    await expect(run(process.execPath, ["--import", "tsx", data("tls-client.ts"), `${origin}/v1/lights`], { env, timeout: 30_000 })).rejects.toThrow(/self[- ]signed|certificate/i);
  });
});
