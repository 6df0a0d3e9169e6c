import { afterEach, describe, expect, it } from "vitest";
import { loadBundleOrThrow } from "../../engine/mapping/bundle.ts";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { functionUrlEvent, startDevStack, type DevStack } from "../../engine/cli/dev-stack.ts";
import { httpEventVersion, toWebhookRequest } from "../../engine/webhook/http-event.ts";
import { replayExchanges } from "../../engine/cli/local-engine.ts";
import type { ReceivedEvent } from "../../engine/local/mi-emulator.ts";
import { FIXTURE_TOKEN } from "../../engine/testing/fixture-runner.ts";
import { consoles } from "../../engine/cli/io.ts";
import { devCommand } from "../../engine/cli/commands/misc.ts";
import { cli, REPO } from "./helpers.ts";

let stack: DevStack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

async function lifxStack(onEvent?: (e: ReceivedEvent) => void): Promise<DevStack> {
  const bundle = await loadBundleOrThrow("mappings/lifx");
  return startDevStack({ bundle, exchanges: await replayExchanges("mappings/lifx"), port: 0, onEvent });
}

describe("c2c dev stack", () => {
  it("answers a Lambda-style invoke of ActivateUser with the handler's result", async () => {
    stack = await lifxStack();
    const res = await fetch(stack.invokeUrl, {
      method: "POST",
      body: JSON.stringify({
        header: { auth: { type: "OAuth2.0", token: FIXTURE_TOKEN } },
        payload: { operationName: "AWS.ActivateUser", operationVersion: "1.0.0", connectorId: "lifx-connector" },
      }),
    });
    expect(res.status).toBe(200);
    expect((await res.json()) as any).toMatchObject({ header: { responseCode: 200 }, payload: { userId: "a0c1aa82395411e9a0757200055bf1c9" } });
    expect(stack.vendor.received.map((r) => `${r.method} ${r.path}`)).toEqual(["GET /v1/lights/all"]);
  });

  it("reports each event MI accepts as it arrives", async () => {
    const events: ReceivedEvent[] = [];
    stack = await lifxStack((e) => events.push(e));
    const res = await fetch(stack.invokeUrl, {
      method: "POST",
      body: JSON.stringify({
        header: { auth: { type: "OAuth2.0", token: FIXTURE_TOKEN } },
        payload: { operationName: "AWS.DiscoverDevices", operationVersion: "1.0", connectorId: "lifx-connector", deviceDiscoveryId: "77" },
      }),
    });
    expect(((await res.json()) as any).header.responseCode).toBe(200);
    await stack.local.drain();
    await stack.mi.waitForEvents(1, 2000);
    expect(events).toHaveLength(1);
    expect(events[0].body).toMatchObject({ Operation: "DEVICE_DISCOVERY", DeviceDiscoveryId: "77", StatusCode: 200 });
  });

  it("builds function-URL events the webhook layer reads back exactly", async () => {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const event = functionUrlEvent(req, new URL(req.url ?? "/", "http://127.0.0.1"), Buffer.concat(chunks));
        res.end(JSON.stringify({ version: httpEventVersion(event), request: toWebhookRequest(event), body: toWebhookRequest(event).rawBody.toString("utf8") }));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const port = (server.address() as AddressInfo).port;
      const res = await fetch(`http://127.0.0.1:${port}/webhook/acme?a=1&b=two`, { method: "POST", headers: { "x-signature": "abc" }, body: '{"event":"on"}' });
      const seen = (await res.json()) as any;
      expect(seen.version).toBe("2.0");
      expect(seen.request).toMatchObject({ method: "POST", path: "/webhook/acme", query: { a: "1", b: "two" } });
      expect(seen.request.headers["x-signature"]).toBe("abc");
      expect(seen.body).toBe('{"event":"on"}');
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it("answers 404 on /webhook for a bundle without webhooks, and rejects bad invoke bodies", async () => {
    stack = await lifxStack();
    const hook = await fetch(stack.webhookUrl + "/lifx", { method: "POST", body: "{}" });
    expect(hook.status).toBe(404);
    expect(((await hook.json()) as any).errorMessage).toContain("no webhooks");
    const bad = await fetch(stack.invokeUrl, { method: "POST", body: "not json" });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).errorType).toBe("InvalidRequestContent");
    const unknown = await fetch(stack.url + "/elsewhere");
    expect(unknown.status).toBe(404);
  });

  it("`c2c dev` refuses a bundle that does not exist, exit 1", async () => {
    const r = await cli(["dev", "no-such-vendor", "--port", "0"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("no bundle");
  });

  it("`c2c dev --port` rejects a port that is not a number, exit 2", async () => {
    const r = await cli(["dev", "lifx", "--port", "eighty"]);
    expect(r.code).toBe(2);
  });
});

describe("c2c dev command", () => {
  it("prints its endpoints and the events as they arrive, and stops when asked", async () => {
    let out = "";
    let stop!: () => void;
    const until = new Promise<void>((r) => (stop = r));
    const con = consoles({ stdout: { write: (s: string) => (out += s) }, stderr: { write: () => true }, cwd: REPO, env: {} });
    const running = devCommand("lifx", { port: 0, until }, con);
    await expect.poll(() => /invoke {3}POST (\S+)/.exec(out)?.[1], { timeout: 5000 }).toBeTruthy();
    const invokeUrl = /invoke {3}POST (\S+)/.exec(out)![1];
    const res = await fetch(invokeUrl, {
      method: "POST",
      body: JSON.stringify({
        header: { auth: { type: "OAuth2.0", token: FIXTURE_TOKEN } },
        payload: { operationName: "AWS.DiscoverDevices", operationVersion: "1.0", connectorId: "lifx-connector", deviceDiscoveryId: "78" },
      }),
    });
    expect(((await res.json()) as any).header.responseCode).toBe(200);
    await expect.poll(() => out, { timeout: 5000 }).toMatch(/event DEVICE_DISCOVERY .*"DeviceDiscoveryId":"78"/);
    // The banner shows the public fixture token in its curl example; nothing after it may.
    expect(out.slice(out.indexOf("Ctrl-C stops."))).not.toContain(FIXTURE_TOKEN);
    stop();
    expect(await running).toBe(0);
    expect(out).toContain("stopping...");
  });
});

describe("c2c dev live reload and configuration", () => {
  it("serves the edited YAML after a save, and keeps the last good build while an edit does not validate", async () => {
    const { mkdtemp, cp, readFile, writeFile, rm } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const parent = await mkdtemp(join(tmpdir(), "c2c-dev-reload-"));
    const dir = join(parent, "lifx");
    await cp(join(REPO, "mappings", "lifx"), dir, { recursive: true });
    let out = "";
    let errOut = "";
    let stop!: () => void;
    const until = new Promise<void>((r) => (stop = r));
    const con = consoles({ stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (errOut += s) }, cwd: REPO, env: {} });
    const running = devCommand(dir, { port: 0, until }, con);
    try {
      await expect.poll(() => /invoke {3}POST (\S+)/.exec(out)?.[1], { timeout: 5000 }).toBeTruthy();
      const invokeUrl = /invoke {3}POST (\S+)/.exec(out)![1];
      const activate = async () =>
        ((await (
          await fetch(invokeUrl, {
            method: "POST",
            body: JSON.stringify({
              header: { auth: { type: "OAuth2.0", token: FIXTURE_TOKEN } },
              payload: { operationName: "AWS.ActivateUser", operationVersion: "1.0.0", connectorId: "lifx-connector" },
            }),
          })
        ).json()) as any);
      expect((await activate()).payload.userId).toBe("a0c1aa82395411e9a0757200055bf1c9");
      const file = join(dir, "connector.yaml");
      const yaml = await readFile(file, "utf8");
      const userIdLine = /^( +userId: )(.+)$/m.exec(yaml)!;
      await writeFile(file, yaml.replace(userIdLine[0], `${userIdLine[1]}"'reloaded-user-id'"`));
      await expect.poll(() => out, { timeout: 5000 }).toMatch(/reloaded \S*lifx/);
      expect((await activate()).payload.userId).toBe("reloaded-user-id");

      await writeFile(file, yaml.replace(userIdLine[0], `${userIdLine[1]}"$sort("`));
      await expect.poll(() => errOut, { timeout: 5000 }).toContain("still serving the previous build");
      expect((await activate()).payload.userId).toBe("reloaded-user-id");
    } finally {
      stop();
      await running;
      await rm(parent, { recursive: true, force: true });
    }
  });

  it("names the webhook variables that are not set when it starts", async () => {
    let errOut = "";
    let stop!: () => void;
    const until = new Promise<void>((r) => (stop = r));
    const saved = { secret: process.env.NETATMO_WEBHOOK_SECRET, id: process.env.C2C_CONNECTOR_ID };
    delete process.env.NETATMO_WEBHOOK_SECRET;
    delete process.env.C2C_CONNECTOR_ID;
    const con = consoles({ stdout: { write: () => true }, stderr: { write: (s: string) => (errOut += s) }, cwd: REPO, env: {} });
    const running = devCommand("netatmo", { port: 0, until, watch: false }, con);
    try {
      await expect.poll(() => errOut, { timeout: 5000 }).toContain("webhook deliveries will be refused until NETATMO_WEBHOOK_SECRET, C2C_CONNECTOR_ID are set");
    } finally {
      stop();
      await running;
      if (saved.secret !== undefined) process.env.NETATMO_WEBHOOK_SECRET = saved.secret;
      if (saved.id !== undefined) process.env.C2C_CONNECTOR_ID = saved.id;
    }
  });
});
