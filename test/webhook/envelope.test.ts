import { describe, expect, it } from "vitest";
import { WebhookBodyError, decodeBase64Json, mediaType, parseBody, unwrapBase64JsonField } from "../../engine/webhook/envelope.ts";
import type { WebhookRequest } from "../../engine/webhook/http-event.ts";

function request(body: string | Buffer, contentType?: string): WebhookRequest {
  const headers: Record<string, string> = contentType === undefined ? {} : { "content-type": contentType };
  return { method: "POST", path: "/hook", headers, query: {}, rawBody: Buffer.isBuffer(body) ? body : Buffer.from(body) };
}

function bodyError(fn: () => unknown): WebhookBodyError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(WebhookBodyError);
    return error as WebhookBodyError;
  }
  throw new Error("expected a WebhookBodyError");
}

describe("parseBody", () => {
  it("parses JSON declared by content type, including +json types and charset parameters", () => {
    expect(parseBody(request('{"a":1,"b":[true]}', "application/json; charset=utf-8"))).toEqual({ a: 1, b: [true] });
    expect(parseBody(request('{"specversion":"1.0"}', "application/cloudevents+json"))).toEqual({ specversion: "1.0" });
    expect(mediaType(request("", "Application/JSON; charset=UTF-8"))).toBe("application/json");
  });

  it("sniffs JSON when the content type is missing or generic, and strips a BOM", () => {
    expect(parseBody(request('  [{"id":"d1"}]'))).toEqual([{ id: "d1" }]);
    expect(parseBody(request('{"x":"y"}', "text/plain"))).toEqual({ x: "y" });
    expect(parseBody(request(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"bom":true}')]), "application/json"))).toEqual({ bom: true });
  });

  it("turns form bodies into objects, repeated keys into arrays", () => {
    const parsed = parseBody(request("event=motion&device=cam%201&tag=a&tag=b&payload=%7B%22k%22%3A1%7D", "application/x-www-form-urlencoded"));
    expect(parsed).toEqual({ event: "motion", device: "cam 1", tag: ["a", "b"], payload: '{"k":1}' });
  });

  it("returns plain text as a string and an empty body as undefined", () => {
    expect(parseBody(request("ping", "text/plain"))).toBe("ping");
    expect(parseBody(request("", "application/json"))).toBeUndefined();
    expect(parseBody(request("   "))).toBeUndefined();
  });

  it("throws a typed error for invalid JSON without echoing the body", () => {
    const declared = bodyError(() => parseBody(request('{"token":"s3cr3t-value",', "application/json")));
    expect(declared.code).toBe("invalid_json");
    expect(declared.message).not.toContain("s3cr3t");
    const sniffed = bodyError(() => parseBody(request("{not json")));
    expect(sniffed.code).toBe("invalid_json");
    expect(bodyError(() => parseBody(request("plain words", "application/json"))).code).toBe("invalid_json");
  });
});

describe("push envelopes", () => {
  const payload = { deviceId: "thermo-3", event: "temperature", value: 21.5 };
  const envelope = {
    message: {
      attributes: { eventType: "state" },
      data: Buffer.from(JSON.stringify(payload)).toString("base64"),
      messageId: "2070443601311540",
      publishTime: "2024-03-09T16:00:00.000Z",
    },
    subscription: "projects/example/subscriptions/hooks",
  };

  it("decodes base64 JSON in standard and URL-safe alphabets", () => {
    expect(decodeBase64Json(envelope.message.data)).toEqual(payload);
    const urlSafe = Buffer.from(JSON.stringify({ s: "??>>" })).toString("base64url");
    expect(urlSafe).toMatch(/[-_]/);
    expect(decodeBase64Json(urlSafe)).toEqual({ s: "??>>" });
  });

  it("unwraps message.data from a parsed push body", () => {
    const req = request(JSON.stringify(envelope), "application/json");
    expect(unwrapBase64JsonField(parseBody(req))).toEqual(payload);
    expect(unwrapBase64JsonField({ wrapper: { blob: envelope.message.data } }, "wrapper.blob")).toEqual(payload);
  });

  it("reports missing fields, non-base64 and non-JSON payloads with distinct codes", () => {
    expect(bodyError(() => unwrapBase64JsonField({ message: {} })).code).toBe("missing_field");
    expect(bodyError(() => unwrapBase64JsonField({ message: { data: 12 } })).code).toBe("invalid_base64");
    expect(bodyError(() => decodeBase64Json("not base64!")).code).toBe("invalid_base64");
    expect(bodyError(() => decodeBase64Json("")).code).toBe("invalid_base64");
    expect(bodyError(() => decodeBase64Json(Buffer.from("plain text").toString("base64"))).code).toBe("invalid_json");
  });
});
