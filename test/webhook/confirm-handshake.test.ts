/**
 * Confirmation handshakes with an outbound call (`handshakes[].confirm`): the connector calls the
 * URL a delivery names, against a loopback confirmation server, only when the host is on the
 * rule's allow-list; a URL off the list is refused (403) and logged by host, never fetched; the
 * one-time token in the URL never reaches a log.
 */
import { createServer, type IncomingMessage } from "node:http";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { listenOnLoopback, type Listening } from "../../engine/local/loopback.ts";
import { startMiEmulator, type MiEmulator } from "../../engine/local/mi-emulator.ts";
import type { CompiledBundle } from "../../engine/mapping/compiled.ts";
import { callConfirmationUrl } from "../../engine/webhook/handshake.ts";
import { deliveryEvent } from "../../engine/webhook/delivery-event.ts";
import { acmeBundle, rig } from "../events/helpers.ts";
import { timedOnEngineTime } from "../support/engine-time.ts";

const TOKEN = "one-time-subscribe-token-7f3a91";
let mi: MiEmulator;
let bundle: CompiledBundle;
let server: Listening;
let seen: Array<{ method: string; url: string }>;
let answer: number | "hang";
beforeAll(async () => {
  [mi, bundle] = await Promise.all([startMiEmulator(), acmeBundle()]);
  server = await listenOnLoopback(
    createServer((req: IncomingMessage, res) => {
      seen.push({ method: req.method ?? "", url: req.url ?? "" });
      if (answer === "hang") return; // never answers: the call must time out
      res.writeHead(answer, { "content-type": "text/xml" }).end("<ConfirmSubscriptionResponse/>");
    }),
  );
});
afterAll(async () => {
  await Promise.all([mi.close(), server.close()]);
});
beforeEach(() => {
  mi.reset();
  seen = [];
  answer = 200;
});

const confirmation = (url: string) => ({ type: "subscription_confirmation", confirm_url: url });

describe("confirmation handshake", () => {
  it("calls the allow-listed URL from a verified delivery once, then answers as the rule says", async () => {
    const r = rig(bundle, mi);
    const res = await r.deliver(confirmation(`${server.endpoint}/confirm?Action=ConfirmSubscription&Token=${TOKEN}`));
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe("subscribed");
    expect(seen).toEqual([{ method: "GET", url: `/confirm?Action=ConfirmSubscription&Token=${TOKEN}` }]);
    expect(mi.events).toHaveLength(0);
    expect(r.logs.some((l) => l.message === "webhook handshake confirmed")).toBe(true);
    expect(JSON.stringify(r.logs)).not.toContain(TOKEN);
  });

  it("refuses a URL whose host is off the list (403), logs the host, and never fetches it", async () => {
    const r = rig(bundle, mi);
    // Same loopback server under another name: reachable, but not on the list.
    const offList = server.endpoint.replace("127.0.0.1", "localhost");
    const res = await r.deliver(confirmation(`${offList}/confirm?Token=${TOKEN}`));
    expect(res.statusCode).toBe(403);
    expect(seen).toHaveLength(0);
    const refusal = r.logs.find((l) => l.message === "webhook handshake confirmation not made");
    expect(refusal).toMatchObject({ level: "warn", code: "refused", host: offList.replace("http://", "") });
    expect(JSON.stringify(r.logs)).not.toContain(TOKEN);
    // Metadata endpoints and the like, whatever the scheme, are refused the same way.
    expect((await r.deliver(confirmation("http://169.254.169.254/latest/meta-data/"))).statusCode).toBe(403);
    expect((await r.deliver(confirmation("https://confirm.acme.test.evil.example/x"))).statusCode).toBe(403);
  });

  it("refuses plain http to an allow-listed host that is not loopback", async () => {
    const outcome = await callConfirmationUrl("http://confirm.acme.test/confirm", { method: "GET", allowedHosts: ["confirm.acme.test"], timeoutMs: 500 }, () => {
      throw new Error("must not be fetched");
    });
    expect(outcome).toMatchObject({ ok: false, code: "refused", reason: expect.stringContaining("https") });
  });

  it("refuses before any call when the delivery fails verification", async () => {
    const r = rig(bundle, mi);
    const unsigned = (await r.engine.handle(deliveryEvent({ path: "/hooks/acme", body: confirmation(`${server.endpoint}/confirm`) }))) as any;
    expect(unsigned.statusCode).toBe(401);
    expect(seen).toHaveLength(0);
  });

  it("answers 400 when the delivery names no URL", async () => {
    const r = rig(bundle, mi);
    expect((await r.deliver({ type: "subscription_confirmation" })).statusCode).toBe(400);
    expect((await r.deliver(confirmation("not a url"))).statusCode).toBe(400);
    expect(seen).toHaveLength(0);
  });

  it("answers 502 (the sender retries) when the confirmation fails or does not answer in time, and does not follow redirects", async () => {
    const r = rig(bundle, mi);
    answer = 500;
    expect((await r.deliver(confirmation(`${server.endpoint}/confirm`))).statusCode).toBe(502);
    answer = 302;
    expect((await r.deliver(confirmation(`${server.endpoint}/confirm`))).statusCode).toBe(502);
    expect(seen).toHaveLength(2);
    answer = "hang";
    const hung = await timedOnEngineTime(() => r.deliver(confirmation(`${server.endpoint}/confirm`)));
    expect(hung.result.statusCode).toBe(502);
    // Inside MI's 2 s on the engine's own time (a busy machine's CPU waits left out: test/support/engine-time.ts).
    expect(hung.ms).toBeLessThan(1900);
    expect(r.logs.filter((l) => l.message === "webhook handshake confirmation not made" && l.code === "failed")).toHaveLength(3);
  });
});
