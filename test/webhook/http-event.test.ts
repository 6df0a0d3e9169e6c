import { readFileSync } from "node:fs";
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, LambdaFunctionURLEvent } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { HttpEventError, httpEventVersion, isHttpEvent, toHttpResponse, toWebhookRequest } from "../../engine/webhook/http-event.ts";

const jsonBody = JSON.stringify({ event: "device.state_changed", deviceId: "dev-1", on: true });

// Shaped after the function URL request payload in the Lambda developer guide.
function functionUrlEvent(): LambdaFunctionURLEvent {
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: "/webhook/events",
    rawQueryString: "tag=a&tag=b&note=hello%20world",
    cookies: ["session=abc", "theme=dark"],
    headers: {
      "content-type": "application/json",
      "x-signature": "sha256=00ff",
      "x-forwarded-for": "203.0.113.7",
      host: "abcdefghij.lambda-url.eu-west-1.on.aws",
    },
    queryStringParameters: { tag: "a,b", note: "hello world" },
    requestContext: {
      accountId: "anonymous",
      apiId: "abcdefghij",
      domainName: "abcdefghij.lambda-url.eu-west-1.on.aws",
      domainPrefix: "abcdefghij",
      http: { method: "POST", path: "/webhook/events", protocol: "HTTP/1.1", sourceIp: "203.0.113.7", userAgent: "vendor-hooks/1.0" },
      requestId: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
      routeKey: "$default",
      stage: "$default",
      time: "12/Mar/2024:19:03:58 +0000",
      timeEpoch: 1710270238390,
    },
    body: Buffer.from(jsonBody).toString("base64"),
    isBase64Encoded: true,
  };
}

// HTTP API, payload format 2.0: a verification GET without a body.
function httpApiV2Event(): APIGatewayProxyEventV2 {
  return {
    version: "2.0",
    routeKey: "GET /hooks",
    rawPath: "/hooks",
    rawQueryString: "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=tok%2Bplus",
    headers: { accept: "*/*", "user-agent": "hub-verifier", "x-amzn-trace-id": "Root=1-65f0-abc" },
    queryStringParameters: { "hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": "tok+plus" },
    requestContext: {
      accountId: "123456789012",
      apiId: "api1234567",
      domainName: "api1234567.execute-api.eu-west-1.amazonaws.com",
      domainPrefix: "api1234567",
      http: { method: "get", path: "/hooks", protocol: "HTTP/1.1", sourceIp: "198.51.100.20", userAgent: "hub-verifier" },
      requestId: "JKJaXmPLvHcESHA=",
      routeKey: "GET /hooks",
      stage: "$default",
      time: "10/Mar/2024:21:12:58 +0000",
      timeEpoch: 1710105178000,
    },
    isBase64Encoded: false,
  };
}

// REST API proxy integration (payload 1.0): sender's header case kept, multi-value maps present.
function restApiV1Event(): APIGatewayProxyEvent {
  return {
    resource: "/webhook",
    path: "/webhook",
    httpMethod: "POST",
    headers: { "Content-Type": "application/json", "X-Hub-Signature-256": "sha256=abcd", Accept: "text/html" },
    multiValueHeaders: {
      "Content-Type": ["application/json"],
      "X-Hub-Signature-256": ["sha256=abcd"],
      Accept: ["text/html", "application/json"],
    },
    queryStringParameters: { source: "device", id: "2" },
    multiValueQueryStringParameters: { source: ["device"], id: ["1", "2"] },
    pathParameters: null,
    stageVariables: null,
    requestContext: {
      accountId: "123456789012",
      apiId: "1234567890",
      authorizer: null,
      domainName: "1234567890.execute-api.eu-west-1.amazonaws.com",
      httpMethod: "POST",
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: "192.0.2.44",
        user: null,
        userAgent: "vendor-hooks/2.0",
        userArn: null,
      },
      path: "/prod/webhook",
      protocol: "HTTP/1.1",
      requestId: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
      requestTimeEpoch: 1710105178000,
      resourceId: "123456",
      resourcePath: "/webhook",
      stage: "prod",
    },
    body: jsonBody,
    isBase64Encoded: false,
  };
}

describe("isHttpEvent", () => {
  it("recognizes function URL, HTTP API v2 and REST API v1 events with their version", () => {
    expect(httpEventVersion(functionUrlEvent())).toBe("2.0");
    expect(httpEventVersion(httpApiV2Event())).toBe("2.0");
    expect(httpEventVersion(restApiV1Event())).toBe("1.0");
    expect(isHttpEvent(functionUrlEvent())).toBe(true);
    expect(isHttpEvent(restApiV1Event())).toBe(true);
  });

  it("does not take MI invocations or other events for HTTP", () => {
    const miRequest = JSON.parse(readFileSync(new URL("../examples/mi-requests/discover-devices.request.oauth.json", import.meta.url), "utf8"));
    const scheduled = { version: "0", id: "x", "detail-type": "Scheduled Event", source: "aws.events", detail: {} };
    for (const event of [miRequest, scheduled, null, undefined, "GET /", [], 42, { version: "2.0", rawPath: "/x" }]) {
      expect(isHttpEvent(event)).toBe(false);
    }
  });
});

describe("toWebhookRequest", () => {
  it("normalizes a function URL event, decoding a base64 body and restoring cookies", () => {
    const req = toWebhookRequest(functionUrlEvent());
    expect(req.method).toBe("POST");
    expect(req.path).toBe("/webhook/events");
    expect(req.rawBody.toString("utf8")).toBe(jsonBody);
    expect(req.headers["content-type"]).toBe("application/json");
    expect(req.headers["x-signature"]).toBe("sha256=00ff");
    expect(req.headers.cookie).toBe("session=abc; theme=dark");
    expect(req.query).toEqual({ tag: "a,b", note: "hello world" });
    expect(req.sourceIp).toBe("203.0.113.7");
  });

  it("normalizes an HTTP API v2 GET: upper-cased method, decoded query, empty body", () => {
    const req = toWebhookRequest(httpApiV2Event());
    expect(req.method).toBe("GET");
    expect(req.path).toBe("/hooks");
    expect(req.query).toEqual({ "hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": "tok+plus" });
    expect(req.rawBody.length).toBe(0);
    expect(req.sourceIp).toBe("198.51.100.20");
  });

  it("normalizes a REST API v1 event from its multi-value maps with lower-cased names", () => {
    const req = toWebhookRequest(restApiV1Event());
    expect(req.method).toBe("POST");
    expect(req.path).toBe("/webhook");
    expect(req.headers).toEqual({
      "content-type": "application/json",
      "x-hub-signature-256": "sha256=abcd",
      accept: "text/html, application/json",
    });
    expect(req.query).toEqual({ source: "device", id: "1,2" });
    expect(req.rawBody.toString("utf8")).toBe(jsonBody);
    expect(req.sourceIp).toBe("192.0.2.44");
  });

  it("falls back to single-value maps in v1 and keeps binary bodies byte-exact", () => {
    const bytes = Buffer.from([0xff, 0x00, 0xfe, 0x80, 0x41]);
    const event = {
      ...restApiV1Event(),
      multiValueHeaders: null,
      multiValueQueryStringParameters: null,
      headers: { "Content-Type": "application/octet-stream", "content-type": "x/duplicate" },
      queryStringParameters: null,
      body: bytes.toString("base64"),
      isBase64Encoded: true,
    };
    const req = toWebhookRequest(event);
    expect(req.headers["content-type"]).toBe("application/octet-stream, x/duplicate");
    expect(req.query).toEqual({});
    expect(req.rawBody.equals(bytes)).toBe(true);
  });

  it("keeps a __proto__ header or query key as plain data", () => {
    const headers: Record<string, string> = Object.defineProperty({}, "__proto__", { value: "evil", enumerable: true });
    const event = { ...httpApiV2Event(), rawQueryString: "__proto__=x&a=1", headers };
    const req = toWebhookRequest(event);
    expect(Object.getPrototypeOf(req.query)).toBe(Object.prototype);
    expect(req.query.a).toBe("1");
    expect(Object.hasOwn(req.query, "__proto__")).toBe(true);
    expect(Object.hasOwn(req.headers, "__proto__")).toBe(true);
  });

  it("rejects non-HTTP events and broken bodies with HttpEventError", () => {
    expect(() => toWebhookRequest({ payload: { operationName: "AWS.SendCommand" } })).toThrow(HttpEventError);
    expect(() => toWebhookRequest({ ...functionUrlEvent(), body: "not base64 !!", isBase64Encoded: true })).toThrow(/not valid base64/);
    expect(() => toWebhookRequest({ ...restApiV1Event(), body: { already: "parsed" } })).toThrow(HttpEventError);
  });
});

describe("toHttpResponse", () => {
  it("produces a proxy response with a string body for both payload versions", () => {
    for (const event of [functionUrlEvent(), httpApiV2Event(), restApiV1Event()]) {
      expect(toHttpResponse(event, { status: 200, headers: { "content-type": "text/plain" }, body: "abc" })).toEqual({
        statusCode: 200,
        headers: { "content-type": "text/plain" },
        body: "abc",
        isBase64Encoded: false,
      });
    }
    expect(toHttpResponse(restApiV1Event(), { status: 204 })).toEqual({ statusCode: 204, headers: {}, body: "", isBase64Encoded: false });
  });

  it("refuses invalid statuses and non-HTTP events", () => {
    expect(() => toHttpResponse(functionUrlEvent(), { status: 42 })).toThrow(/invalid HTTP status/);
    expect(() => toHttpResponse(functionUrlEvent(), { status: 200.5 })).toThrow(HttpEventError);
    expect(() => toHttpResponse({ payload: {} }, { status: 200 })).toThrow(HttpEventError);
  });
});
