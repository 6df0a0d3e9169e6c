import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cli } from "./helpers.ts";

const ACTIVATE = {
  header: { auth: { type: "OAuth2.0", token: "replaced-by-the-runner" } },
  payload: { operationName: "AWS.ActivateUser", operationVersion: "1.0.0", connectorId: "lifx-connector" },
};

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "c2c-cli-invoke-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe("c2c invoke", () => {
  it("--trace on LIFX prints vendor requests and responses and expression traces tied to YAML lines", async () => {
    const r = await cli(["invoke", "lifx", "mappings/lifx/tests/discover-devices.yaml", "--trace"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/→ GET \/v1\/lights\/all/);
    expect(r.stdout).toMatch(/← 200 GET \/v1\/lights\/all \d+ ms {2}\[\{"id":"d073d5141876"/);
    // Each evaluation names the line that declared it, with input and output.
    expect(r.stdout).toMatch(/ƒ mappings\/lifx\/connector\.yaml:\d+:\d+ {2}\$levelFromFraction\(brightness\)\n\s+in: .*"brightness":0\.29999.*\n\s+out: 76\n/);
    expect(r.stdout).toMatch(/ƒ mappings\/lifx\/connector\.yaml:72:\d+ {2}\$sort\(response\.location\.id\)\[0\]/);
    // The ACK and the discovery event.
    expect(r.stdout).toMatch(/ACK \(\d+ ms\)\n\s+\{\n\s+"header": \{\n\s+"responseCode": 200/);
    expect(r.stdout).toMatch(/Events \(1\)/);
    expect(r.stdout).toContain('"Operation": "DEVICE_DISCOVERY"');
    expect(r.stdout).toContain('"ConnectorDeviceId": "d073d5141876"');
  });

  it("never prints the access token, even when traced", async () => {
    const token = "super-secret-access-token-4242";
    const file = join(tmp, "activate.json");
    await writeFile(file, JSON.stringify(ACTIVATE));
    // The simulator's recorded exchanges without a header constraint still answer this token.
    const r = await cli(["invoke", "lifx", file, "--trace", "--token", token]);
    expect(r.stdout).toMatch(/→ GET \/v1\/lights\/all/);
    expect(r.stdout).toContain('"token":"[redacted]"');
    expect(r.stdout + r.stderr).not.toContain(token);
    expect(r.code).toBe(0);
  });

  it("with --vendor-url sends the calls to that origin", async () => {
    const seen: Array<{ method?: string; url?: string; auth?: string }> = [];
    const server: Server = createServer((req, res) => {
      seen.push({ method: req.method, url: req.url, auth: req.headers.authorization });
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify([{ id: "d1", location: { id: "loc-000000000000000000000000000001" } }]));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const file = join(tmp, "activate-real.json");
      await writeFile(file, JSON.stringify(ACTIVATE));
      const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const r = await cli(["invoke", "lifx", file, "--vendor-url", origin, "--token", "tok-for-vendor"]);
      expect(r.code).toBe(0);
      expect(seen).toEqual([{ method: "GET", url: "/v1/lights/all", auth: "Bearer tok-for-vendor" }]);
      expect(r.stdout).toContain('"userId": "loc-000000000000000000000000000001"');
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it("refuses a placeholder token against a real vendor, and a bad URL, exit 1", async () => {
    const file = join(tmp, "activate-placeholder.json");
    await writeFile(file, JSON.stringify(ACTIVATE));
    const noToken = await cli(["invoke", "lifx", file, "--vendor-url", "http://127.0.0.1:9"]);
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toContain("--token");
    const badUrl = await cli(["invoke", "lifx", file, "--vendor-url", "not a url"]);
    expect(badUrl.code).toBe(1);
    expect(badUrl.stderr).toContain("is not a URL");
  });

  it("exits 1 when the ACK is not 2xx, and reports an unreadable request file", async () => {
    const file = join(tmp, "bad-request.json");
    await writeFile(file, JSON.stringify({ header: ACTIVATE.header, payload: { operationName: "AWS.ActivateUser" } }));
    const r = await cli(["invoke", "lifx", file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/"responseCode": 400/);

    const missing = await cli(["invoke", "lifx", join(tmp, "nope.json")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("cannot read request file");
  });
});
