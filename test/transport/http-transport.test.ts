import http from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { nodeHttpTransport } from "../../engine/transport/http-transport.ts";

interface Server {
  origin: string;
  /** Remote ports of the connections that carried each request: equal ports = one re-used socket. */
  ports: number[];
  close(): Promise<void>;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(handler: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void): Promise<Server> {
  const ports: number[] = [];
  const server = http.createServer((req, res) => {
    ports.push(req.socket.remotePort!);
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => handler(req, res, body));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const s: Server = {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    ports,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
  servers.push(s);
  return s;
}

describe("node:http keep-alive transport", () => {
  it("re-uses one socket for consecutive requests and sends method, headers and body as given", async () => {
    const seen: Array<{ method?: string; ct?: string; len?: string; body: string }> = [];
    const s = await serve((req, res, body) => {
      seen.push({ method: req.method, ct: req.headers["content-type"], len: req.headers["content-length"], body });
      res.writeHead(201, { "content-type": "application/json", "set-cookie": ["a=1", "b=2"] });
      res.end('{"ok":true}');
    });
    const send = nodeHttpTransport();
    const answers = [];
    for (let i = 0; i < 3; i++) {
      answers.push(await send({ method: "PUT", url: `${s.origin}/x?i=${i}`, headers: { "Content-Type": "application/json" }, body: '{"é":1}' }));
    }
    expect(new Set(s.ports).size).toBe(1);
    expect(answers[0]).toMatchObject({ status: 201, text: '{"ok":true}', url: `${s.origin}/x?i=0` });
    expect(answers[0]!.headers["set-cookie"]).toBe("a=1, b=2");
    expect(seen[0]).toEqual({ method: "PUT", ct: "application/json", len: String(Buffer.byteLength('{"é":1}')), body: '{"é":1}' });
  });

  it("sends again on a fresh socket when a re-used keep-alive socket turns out closed, once", async () => {
    // The server drops a kept-alive connection just as the next request arrives on it, as servers
    // do when their idle timeout races the client's re-use.
    const perSocket = new Map<number, number>();
    let drops = 0;
    const s = await serve((req, res) => {
      const port = req.socket.remotePort!;
      const n = (perSocket.get(port) ?? 0) + 1;
      perSocket.set(port, n);
      if (n === 2 && drops++ === 0) return req.socket.destroy();
      res.end(`answer ${n}`);
    });
    const send = nodeHttpTransport();
    expect((await send({ method: "GET", url: `${s.origin}/a`, headers: {} })).text).toBe("answer 1");
    expect((await send({ method: "POST", url: `${s.origin}/b`, headers: {}, body: "x" })).text).toBe("answer 1");
    expect(drops).toBe(1);
    expect(new Set(s.ports).size).toBe(2);
  });

  it("aborts on the signal, before and during the answer", async () => {
    const s = await serve(() => {
      /* never answers */
    });
    const send = nodeHttpTransport();
    const controller = new AbortController();
    const pending = send({ method: "GET", url: `${s.origin}/slow`, headers: {}, signal: controller.signal });
    setTimeout(() => controller.abort(new Error("deadline")), 20);
    await expect(pending).rejects.toThrow("deadline");
    await expect(send({ method: "GET", url: `${s.origin}/slow`, headers: {}, signal: AbortSignal.abort() })).rejects.toThrow();
  });

  it("does not follow redirects and decodes a compressed answer", async () => {
    const s = await serve((req, res) => {
      if (req.url === "/moved") {
        res.writeHead(302, { location: "http://elsewhere.invalid/" });
        return res.end();
      }
      res.writeHead(200, { "content-encoding": "gzip", "content-type": "text/plain" });
      res.end(gzipSync("compressed text"));
    });
    const send = nodeHttpTransport();
    const moved = await send({ method: "GET", url: `${s.origin}/moved`, headers: {} });
    expect(moved.status).toBe(302);
    expect(moved.headers.location).toBe("http://elsewhere.invalid/");
    expect((await send({ method: "GET", url: `${s.origin}/z`, headers: {} })).text).toBe("compressed text");
  });

  it("fails with a network error when nothing listens", async () => {
    const s = await serve((_req, res) => res.end());
    const origin = s.origin;
    await s.close();
    servers.length = 0;
    await expect(nodeHttpTransport()({ method: "GET", url: `${origin}/`, headers: {} })).rejects.toThrow(/ECONNREFUSED/);
  });

  it("sends the head as Node would for a header object: lower-case names, the last of a name wins, Host added unless given", async () => {
    const heads: string[][] = [];
    const s = await serve((req, res) => {
      heads.push(req.rawHeaders);
      res.end("ok");
    });
    const send = nodeHttpTransport();
    await send({ method: "POST", url: `${s.origin}/h`, headers: { "X-Trace": "a", "x-trace": "b", "Content-Length": "999" }, body: "abc" });
    await send({ method: "GET", url: `${s.origin}/h`, headers: { Host: "vendor.example" } });
    const port = new URL(s.origin).port;
    expect(heads[0]).toEqual(["x-trace", "b", "content-length", "3", "host", `127.0.0.1:${port}`, "Connection", "keep-alive"]);
    expect(heads[1]).toEqual(["host", "vendor.example", "Connection", "keep-alive"]);
    // Node's own checks still apply to every line.
    await expect(send({ method: "GET", url: `${s.origin}/h`, headers: { "x-bad": "a\r\nInjected: 1" } })).rejects.toThrow(/Invalid character/);
    await expect(send({ method: "GET", url: "ftp://127.0.0.1/x", headers: {} })).rejects.toThrow(/unsupported protocol ftp:/);
    await expect(send({ method: "GET", url: "ftp://127.0.0.1/x", headers: {} })).rejects.toThrow(TypeError);
  });

  it("closes a kept-alive socket once idle for idleTimeoutMs, and never times out a request in flight", async () => {
    const closed: number[] = [];
    const watched = new WeakSet<object>();
    const s = await serve((req, res) => {
      const socket = req.socket;
      if (!watched.has(socket)) socket.once("close", () => closed.push(socket.remotePort ?? 0));
      watched.add(socket);
      if (req.url === "/slow") setTimeout(() => res.end("slow"), 150);
      else res.end("quick");
    });
    const send = nodeHttpTransport({ idleTimeoutMs: 50 });
    expect((await send({ method: "GET", url: `${s.origin}/quick`, headers: {} })).text).toBe("quick");
    // In flight three times longer than the idle timeout, on the re-used socket: answered.
    expect((await send({ method: "GET", url: `${s.origin}/slow`, headers: {} })).text).toBe("slow");
    expect(new Set(s.ports).size).toBe(1);
    expect(closed).toEqual([]);
    // Idle now: the client closes it.
    const t0 = Date.now();
    while (closed.length === 0 && Date.now() - t0 < 2000) await new Promise((r) => setTimeout(r, 10));
    expect(closed).toHaveLength(1);
    expect((await send({ method: "GET", url: `${s.origin}/quick`, headers: {} })).text).toBe("quick");
    expect(new Set(s.ports).size).toBe(2);
  });
});
