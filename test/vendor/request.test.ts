import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Deadline } from "../../engine/runtime/deadline.ts";
import { VendorClient } from "../../engine/vendor/client.ts";
import { VendorError } from "../../engine/vendor/types.ts";
import { RedactingLogger, memorySink, type LogRecord } from "../../engine/log/json-logger.ts";
import { sendJson, startLoopbackServer, type LoopbackServer } from "./loopback-server.ts";
import { NO_RETRY, spec } from "./helpers.ts";

let server: LoopbackServer;
beforeAll(async () => {
  server = await startLoopbackServer();
});
afterAll(() => server.close());
beforeEach(() => {
  server.received.length = 0;
  server.handle((_req, res) => sendJson(res, 200, { ok: true }));
});

const client = () => new VendorClient({ retry: NO_RETRY });
const budget = () => Deadline.after(5000);

async function invalid(p: Promise<unknown>): Promise<VendorError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(VendorError);
  expect((err as VendorError).kind).toBe("invalid-request");
  return err as VendorError;
}

describe("path building", () => {
  it("keeps the base URL path and fills placeholders", async () => {
    const res = await client().call(
      spec(`${server.origin}/v1`, { path: "/lights/{selector}/state", pathParams: { selector: "id:abc" } }),
      budget(),
    );
    expect(server.received[0].rawUrl).toBe("/v1/lights/id:abc/state");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true });
    expect(res.attempts).toBe(1);
    expect(res.url).toBe(`${server.origin}/v1/lights/id:abc/state`);
  });

  it.each([
    ["../admin", "..%2Fadmin"],
    ["a/b?x#y", "a%2Fb%3Fx%23y"],
    ["%2F", "%252F"],
    ["..%2F..%2Fadmin", "..%252F..%252Fadmin"],
    ["@evil.example", "%40evil.example"],
    ["x y", "x%20y"],
  ])("value %j stays inside its segment", async (value, encoded) => {
    await client().call(spec(`${server.origin}/v1`, { path: "/lights/{id}/state", pathParams: { id: value } }), budget());
    const raw = server.received[0].rawUrl;
    expect(raw).toBe(`/v1/lights/${encoded}/state`);
    expect(raw.split("?")[0].split("/")).toHaveLength(5);
  });

  it.each([".", "..", ""])("refuses the segment value %j that a URL parser would collapse", async (value) => {
    await invalid(client().call(spec(server.origin, { path: "/lights/{id}/state", pathParams: { id: value } }), budget()));
    expect(server.received).toHaveLength(0);
  });

  it("refuses a placeholder without a value and unknown placeholder syntax", async () => {
    const e = await invalid(client().call(spec(server.origin, { path: "/lights/{id}", pathParams: { other: "x" } }), budget()));
    expect(e.message).toContain("{id}");
    await invalid(client().call(spec(server.origin, { path: "/lights/{}" }), budget()));
    await invalid(client().call(spec(server.origin, { path: "/lights/{a b}", pathParams: { "a b": "x" } }), budget()));
    await invalid(client().call(spec(server.origin, { path: "/lights?x=1" }), budget()));
    expect(server.received).toHaveLength(0);
  });

  it("refuses a bad base URL, header or method before sending", async () => {
    await invalid(client().call(spec("not a url"), budget()));
    await invalid(client().call(spec("ftp://example.com"), budget()));
    await invalid(client().call(spec(server.origin, { headers: { "X-Bad": "a\r\nInjected: yes" } }), budget()));
    await invalid(client().call(spec(server.origin, { method: "TRACE" as never }), budget()));
    await invalid(client().call(spec(server.origin, { json: { a: 1 } }), budget()));
    expect(server.received).toHaveLength(0);
  });

  it("rewrites the origin with originOverride, keeping the path", async () => {
    const c = new VendorClient({ retry: NO_RETRY, originOverride: server.origin });
    const res = await c.call(spec("https://api.example.com/v1", { path: "/x" }), budget());
    expect(server.received[0].rawUrl).toBe("/v1/x");
    expect(server.received[0].headers.host).toBe(new URL(server.origin).host);
    expect(res.url).toBe(`${server.origin}/v1/x`);
  });
});

describe("query, headers and bodies", () => {
  it("repeats the key for array query values and encodes values", async () => {
    await client().call(spec(server.origin, { query: { id: ["a", "b&c", 3], on: true, q: "x y" } }), budget());
    const url = new URL(server.received[0].rawUrl, server.origin);
    expect(url.searchParams.getAll("id")).toEqual(["a", "b&c", "3"]);
    expect(url.searchParams.get("on")).toBe("true");
    expect(url.searchParams.get("q")).toBe("x y");
  });

  it("sends a JSON body", async () => {
    await client().call(spec(server.origin, { method: "PUT", json: { power: "on", brightness: 0.5 }, headers: { "X-Trace": "t1" } }), budget());
    const r = server.received[0];
    expect(r.method).toBe("PUT");
    expect(r.headers["content-type"]).toContain("application/json");
    expect(r.headers["x-trace"]).toBe("t1");
    expect(JSON.parse(r.body)).toEqual({ power: "on", brightness: 0.5 });
  });

  it("sends a form body", async () => {
    await client().call(spec(server.origin, { method: "POST", path: "/oauth/revoke", form: { token: "abc def", hint: "a&b" } }), budget());
    const r = server.received[0];
    expect(r.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(Object.fromEntries(new URLSearchParams(r.body))).toEqual({ token: "abc def", hint: "a&b" });
  });

  it("parses JSON bodies, keeps text, and gives undefined for empty ones", async () => {
    server.handle((req, res) => {
      if (req.rawUrl === "/text") {
        res.writeHead(200, { "content-type": "text/plain" });
        res.end("hello");
      } else if (req.rawUrl === "/json-as-text") {
        res.writeHead(200, { "content-type": "text/plain" });
        res.end('{"a":1}');
      } else {
        res.writeHead(204);
        res.end();
      }
    });
    expect((await client().call(spec(server.origin, { path: "/text" }), budget())).body).toBe("hello");
    expect((await client().call(spec(server.origin, { path: "/json-as-text" }), budget())).body).toEqual({ a: 1 });
    const empty = await client().call(spec(server.origin, { path: "/empty" }), budget());
    expect(empty.status).toBe(204);
    expect(empty.body).toBeUndefined();
  });
});

describe("auth injection", () => {
  it("adds a bearer header", async () => {
    await client().call(spec(server.origin, { auth: { kind: "header", name: "Authorization", value: "Bearer tok-123456" } }), budget());
    expect(server.received[0].headers.authorization).toBe("Bearer tok-123456");
  });

  it("adds a custom header, overriding a mapping header of the same name", async () => {
    await client().call(
      spec(server.origin, { headers: { "X-Api-Key": "spoofed" }, auth: { kind: "header", name: "X-Api-Key", value: "key-987654" } }),
      budget(),
    );
    expect(server.received[0].headers["x-api-key"]).toBe("key-987654");
  });

  it("adds a query parameter, keeps the other parameters and the body, and leaves it out of the response url", async () => {
    const res = await client().call(
      spec(server.origin, { method: "POST", query: { q: "a b", id: ["1", "2"] }, json: { x: 1 }, auth: { kind: "query", name: "api_key", value: "k/ey+1" } }),
      budget(),
    );
    const r = server.received[0];
    const url = new URL(r.rawUrl, server.origin);
    expect(url.searchParams.get("api_key")).toBe("k/ey+1");
    expect(url.searchParams.getAll("id")).toEqual(["1", "2"]);
    expect(url.searchParams.get("q")).toBe("a b");
    expect(JSON.parse(r.body)).toEqual({ x: 1 });
    expect(res.url).not.toContain("api_key");
  });

  it("adds HTTP basic credentials", async () => {
    await client().call(spec(server.origin, { auth: { kind: "basic", username: "client-id", password: "s3cret:pw" } }), budget());
    const header = server.received[0].headers.authorization ?? "";
    expect(header.startsWith("Basic ")).toBe(true);
    expect(Buffer.from(header.slice(6), "base64").toString("utf8")).toBe("client-id:s3cret:pw");
  });

  it("sends no credentials for kind none", async () => {
    await client().call(spec(server.origin), budget());
    expect(server.received[0].headers.authorization).toBeUndefined();
  });
});

describe("logging", () => {
  it("logs method, template, status and attempts but never the token, query values or filled path", async () => {
    const records: LogRecord[] = [];
    const logger = new RedactingLogger(memorySink(records));
    server.handle((req, res) => (req.rawUrl.includes("fail") ? sendJson(res, 404, { error: "nope-body" }) : sendJson(res, 200, { secretish: "resp-body" })));
    const c = new VendorClient({ retry: NO_RETRY, logger });
    const token = "tok-SECRET-abcdef";
    await c.call(
      spec(server.origin, {
        label: "discoverDevices.list",
        path: "/users/{user}/devices",
        pathParams: { user: "user-id-42424242" },
        query: { search: "query-value-777" },
        auth: { kind: "header", name: "Authorization", value: `Bearer ${token}` },
      }),
      budget(),
    );
    await c
      .call(spec(server.origin, { path: "/fail/{id}", pathParams: { id: "dev-9999" }, query: { k: "qv-555" }, auth: { kind: "query", name: "key", value: token } }), budget())
      .catch(() => undefined);

    const text = JSON.stringify(records);
    for (const secret of [token, "user-id-42424242", "query-value-777", "dev-9999", "qv-555", "resp-body", "nope-body"]) {
      expect(text).not.toContain(secret);
    }
    const done = records.find((r) => r.message === "vendor call");
    expect(done).toMatchObject({ method: "GET", path: "/users/{user}/devices", status: 200, attempts: 1, label: "discoverDevices.list" });
    expect(typeof done?.durationMs).toBe("number");
    const failed = records.find((r) => r.message === "vendor call failed");
    expect(failed).toMatchObject({ path: "/fail/{id}", status: 404, kind: "http" });
  });
});
