import { describe, expect, it } from "vitest";
import { parseBody } from "../../engine/webhook/envelope.ts";
import { matchHandshake, type HandshakeRule } from "../../engine/webhook/handshake.ts";
import { toHttpResponse, toWebhookRequest, type WebhookRequest } from "../../engine/webhook/http-event.ts";

function request(partial: Partial<WebhookRequest>): WebhookRequest {
  return { method: "POST", path: "/hook", headers: {}, query: {}, rawBody: Buffer.alloc(0), ...partial };
}

function jsonRequest(body: unknown, headers: Record<string, string> = {}): { req: WebhookRequest; parsed: unknown } {
  const req = request({ headers: { "content-type": "application/json", ...headers }, rawBody: Buffer.from(JSON.stringify(body)) });
  return { req, parsed: parseBody(req) };
}

const rules: HandshakeRule[] = [
  // Hub-style subscription verification guarded by a verify token.
  {
    when: { method: "GET", query: { "hub.mode": "subscribe", "hub.verify_token": "expected-token", "hub.challenge": true } },
    respond: { status: 200, body: { fromQuery: "hub.challenge" } },
  },
  // Plain challenge echo.
  { when: { method: "get", query: { challenge: true } }, respond: { status: 200, body: { fromQuery: "challenge" } } },
  // JSON url_verification echo.
  {
    when: { method: "POST", bodyEquals: { type: "url_verification" }, bodyField: "challenge" },
    respond: { status: 200, body: { fromBody: "challenge" } },
  },
  // Ping delivered as a header-tagged event.
  { when: { header: { "X-Event-Type": "ping" } }, respond: { status: 200, body: { literal: "pong" } } },
  // Liveness HEAD without a body.
  { when: { method: "HEAD" }, respond: { status: 204 } },
];

describe("matchHandshake", () => {
  it("echoes a hub challenge only when the verify token matches", () => {
    const query = { "hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": "expected-token" };
    expect(matchHandshake(request({ method: "GET", query }), undefined, rules)).toEqual({
      status: 200,
      headers: { "content-type": "text/plain; charset=utf-8" },
      body: "1158201444",
    });
    const wrongToken = { ...query, "hub.verify_token": "guess" };
    expect(matchHandshake(request({ method: "GET", query: wrongToken }), undefined, rules)).toBeUndefined();
    const noMode = { "hub.challenge": "1", "hub.verify_token": "expected-token" };
    expect(matchHandshake(request({ method: "GET", query: noMode }), undefined, rules)).toBeUndefined();
  });

  it("echoes ?challenge= on GET but not on POST", () => {
    expect(matchHandshake(request({ method: "GET", query: { challenge: "abc" } }), undefined, rules)?.body).toBe("abc");
    expect(matchHandshake(request({ method: "POST", query: { challenge: "abc" } }), undefined, rules)).toBeUndefined();
  });

  it("echoes a JSON challenge for url_verification and ignores other event types", () => {
    const verification = jsonRequest({ token: "t", challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", type: "url_verification" });
    expect(matchHandshake(verification.req, verification.parsed, rules)?.body).toBe("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P");
    const event = jsonRequest({ type: "event_callback", challenge: "x", event: { type: "switch" } });
    expect(matchHandshake(event.req, event.parsed, rules)).toBeUndefined();
  });

  it("answers a ping by header name case-insensitively and a HEAD with an empty 204", () => {
    const ping = jsonRequest({ zen: "Keep it simple" }, { "x-event-type": "ping" });
    expect(matchHandshake(ping.req, ping.parsed, rules)).toEqual({ status: 200, headers: { "content-type": "text/plain; charset=utf-8" }, body: "pong" });
    expect(matchHandshake(request({ method: "HEAD" }), undefined, rules)).toEqual({ status: 204 });
    const delivery = jsonRequest({ type: "device.event" }, { "x-event-type": "state" });
    expect(matchHandshake(delivery.req, delivery.parsed, rules)).toBeUndefined();
  });

  it("sends an object echo as JSON and honours an explicit content type", () => {
    const objectEcho: HandshakeRule[] = [{ when: { bodyField: "validation.code" }, respond: { status: 200, body: { fromBody: "validation" } } }];
    const { req, parsed } = jsonRequest({ validation: { code: 7, nonce: "n" } });
    expect(matchHandshake(req, parsed, objectEcho)).toEqual({
      status: 200,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ code: 7, nonce: "n" }),
    });
    const typed: HandshakeRule[] = [{ when: {}, respond: { status: 202, body: { literal: "{}" }, contentType: "application/json" } }];
    expect(matchHandshake(request({}), undefined, typed)).toEqual({ status: 202, headers: { "content-type": "application/json" }, body: "{}" });
  });

  it("skips a rule whose echo source is absent and tries the next", () => {
    const fallthrough: HandshakeRule[] = [
      { when: { method: "GET" }, respond: { status: 200, body: { fromQuery: "challenge" } } },
      { when: { method: "GET" }, respond: { status: 200, body: { literal: "ok" } } },
    ];
    expect(matchHandshake(request({ method: "GET" }), undefined, fallthrough)?.body).toBe("ok");
    expect(matchHandshake(request({ method: "GET" }), undefined, [])).toBeUndefined();
  });

  it("works end to end from a function URL event to the Lambda response", () => {
    const event = {
      version: "2.0",
      routeKey: "$default",
      rawPath: "/hook",
      rawQueryString: "hub.mode=subscribe&hub.challenge=c%2B1&hub.verify_token=expected-token",
      headers: { host: "abc.lambda-url.eu-west-1.on.aws" },
      requestContext: { http: { method: "GET", path: "/hook", protocol: "HTTP/1.1", sourceIp: "203.0.113.9", userAgent: "hub" } },
      isBase64Encoded: false,
    };
    const req = toWebhookRequest(event);
    const response = matchHandshake(req, parseBody(req), rules);
    expect(response).toBeDefined();
    expect(toHttpResponse(event, response!)).toEqual({
      statusCode: 200,
      headers: { "content-type": "text/plain; charset=utf-8" },
      body: "c+1",
      isBase64Encoded: false,
    });
  });
});
