import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Deadline } from "../../engine/runtime/deadline.ts";
import { VendorClient } from "../../engine/vendor/client.ts";
import { VendorError, type PaginationSpec, type VendorResponse } from "../../engine/vendor/types.ts";
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
});

const ITEMS = ["a", "b", "c", "d", "e", "f", "g"];

async function collect(gen: AsyncGenerator<VendorResponse>): Promise<VendorResponse[]> {
  const out: VendorResponse[] = [];
  for await (const page of gen) out.push(page);
  return out;
}

const items = (pages: VendorResponse[]) => pages.flatMap((p) => (p.body as { items: string[] }).items);
const query = (i: number) => new URL(server.received[i].rawUrl, server.origin).searchParams;

describe("pagination", () => {
  it("cursor: sends the cursor back until it is empty", async () => {
    // Pages of 3: cursor is the offset of the next page.
    server.handle((req, res) => {
      const from = Number(new URL(req.rawUrl, server.origin).searchParams.get("cursor") ?? 0);
      const next = from + 3 < ITEMS.length ? String(from + 3) : null;
      sendJson(res, 200, { items: ITEMS.slice(from, from + 3), next });
    });
    const c = new VendorClient({ retry: NO_RETRY });
    const p: PaginationSpec = { style: "cursor", param: "cursor", start: 0, maxPages: 10 };
    const indexes: number[] = [];
    const pages = await collect(
      c.paginate(spec(server.origin, { query: { limit: 3 } }), p, Deadline.after(5000), (page, index) => {
        indexes.push(index);
        return { next: (page.body as { next: string | null }).next };
      }),
    );
    expect(pages).toHaveLength(3);
    expect(items(pages)).toEqual(ITEMS);
    expect(indexes).toEqual([0, 1, 2]);
    expect(query(0).get("cursor")).toBeNull();
    expect(query(1).get("cursor")).toBe("3");
    expect(query(2).get("cursor")).toBe("6");
    expect(query(2).get("limit")).toBe("3");
  });

  it("page: counts from start while hasMore is true", async () => {
    server.handle((req, res) => {
      const page = Number(new URL(req.rawUrl, server.origin).searchParams.get("page"));
      const from = (page - 1) * 3;
      sendJson(res, 200, { items: ITEMS.slice(from, from + 3), more: from + 3 < ITEMS.length });
    });
    const c = new VendorClient({ retry: NO_RETRY });
    const pages = await collect(
      c.paginate(spec(server.origin), { style: "page", param: "page", start: 1, maxPages: 10 }, Deadline.after(5000), (page) => ({
        hasMore: (page.body as { more: boolean }).more,
      })),
    );
    expect(pages).toHaveLength(3);
    expect(items(pages)).toEqual(ITEMS);
    expect([0, 1, 2].map((i) => query(i).get("page"))).toEqual(["1", "2", "3"]);
  });

  it("page: stops when hasMore is not said", async () => {
    server.handle((_req, res) => sendJson(res, 200, { items: ["x"] }));
    const c = new VendorClient({ retry: NO_RETRY });
    const pages = await collect(c.paginate(spec(server.origin), { style: "page", param: "p", start: 0, maxPages: 10 }, Deadline.after(5000), () => ({})));
    expect(pages).toHaveLength(1);
    expect(query(0).get("p")).toBe("0");
  });

  it("link: follows relative and absolute rel=next links on the same origin, with credentials", async () => {
    server.handle((req, res) => {
      const page = Number(new URL(req.rawUrl, server.origin).searchParams.get("page") ?? 1);
      const from = (page - 1) * 3;
      const headers: Record<string, string> = {};
      if (page === 1) headers.link = `<${server.origin}/v1/devices?page=2&size=3>; rel="next", <${server.origin}/v1/devices?page=3>; rel="last"`;
      if (page === 2) headers.link = `</v1/devices?page=3&size=3>; rel="prev next"`;
      sendJson(res, 200, { items: ITEMS.slice(from, from + 3) }, headers);
    });
    const c = new VendorClient({ retry: NO_RETRY });
    const pages = await collect(
      c.paginate(
        spec(`${server.origin}/v1`, { auth: { kind: "header", name: "Authorization", value: "Bearer tok-abcdef" } }),
        { style: "link", start: 0, maxPages: 10 },
        Deadline.after(5000),
        () => ({}),
      ),
    );
    expect(pages).toHaveLength(3);
    expect(items(pages)).toEqual(ITEMS);
    expect(server.received.map((r) => r.rawUrl)).toEqual(["/v1/devices", "/v1/devices?page=2&size=3", "/v1/devices?page=3&size=3"]);
    expect(server.received.every((r) => r.headers.authorization === "Bearer tok-abcdef")).toBe(true);
  });

  it("link: refuses a next link to another origin and sends nothing there", async () => {
    const other = await startLoopbackServer();
    try {
      server.handle((_req, res) => sendJson(res, 200, { items: ["a"] }, { link: `<${other.origin}/steal?page=2>; rel="next"` }));
      const c = new VendorClient({ retry: NO_RETRY });
      const seen: VendorResponse[] = [];
      const err = await (async () => {
        for await (const page of c.paginate(
          spec(server.origin, { auth: { kind: "header", name: "Authorization", value: "Bearer tok-abcdef" } }),
          { style: "link", start: 0, maxPages: 10 },
          Deadline.after(5000),
          () => ({}),
        )) {
          seen.push(page);
        }
      })().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(VendorError);
      expect((err as VendorError).kind).toBe("invalid-request");
      expect(seen).toHaveLength(1);
      expect(other.received).toHaveLength(0);
    } finally {
      await other.close();
    }
  });

  it("link: with originOverride, a link naming the real vendor host goes to the override", async () => {
    server.handle((req, res) => {
      const page = Number(new URL(req.rawUrl, server.origin).searchParams.get("page") ?? 1);
      const headers: Record<string, string> = page < 2 ? { link: `<https://api.example.com/v1/devices?page=${page + 1}>; rel="next"` } : {};
      sendJson(res, 200, { items: [String(page)] }, headers);
    });
    const c = new VendorClient({ retry: NO_RETRY, originOverride: server.origin });
    const pages = await collect(c.paginate(spec("https://api.example.com/v1"), { style: "link", start: 0, maxPages: 10 }, Deadline.after(5000), () => ({})));
    expect(items(pages)).toEqual(["1", "2"]);
    expect(server.received.map((r) => r.rawUrl)).toEqual(["/v1/devices", "/v1/devices?page=2"]);
  });

  it("stops at maxPages with a warning even when the vendor has more", async () => {
    const records: LogRecord[] = [];
    server.handle((req, res) => {
      const n = Number(new URL(req.rawUrl, server.origin).searchParams.get("cursor") ?? 0);
      sendJson(res, 200, { items: [String(n)], next: String(n + 1) });
    });
    const c = new VendorClient({ retry: NO_RETRY, logger: new RedactingLogger(memorySink(records)) });
    const pages = await collect(
      c.paginate(spec(server.origin), { style: "cursor", param: "cursor", start: 0, maxPages: 4 }, Deadline.after(5000), (page) => ({
        next: (page.body as { next: string }).next,
      })),
    );
    expect(pages).toHaveLength(4);
    expect(server.received).toHaveLength(4);
    expect(records.some((r) => r.level === "warn" && r.message.includes("maxPages"))).toBe(true);
  });

  it("refuses a cursor or page style without param", async () => {
    const c = new VendorClient({ retry: NO_RETRY });
    const err = await collect(c.paginate(spec(server.origin), { style: "cursor", start: 0, maxPages: 3 }, Deadline.after(5000), () => ({}))).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as VendorError).kind).toBe("invalid-request");
    expect(server.received).toHaveLength(0);
  });
});
