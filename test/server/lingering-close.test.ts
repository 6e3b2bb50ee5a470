/**
 * An answer sent before its request's body arrived (413 over server.bodyLimit, 401, ...): the server
 * reads the rest of the body and drops it, so a client that writes its whole body before reading
 * reads the answer rather than a reset, and the connection can carry the next request; within
 * bounds (bytes, time, a declared length), past which the connection is closed. Raw sockets, to see
 * what the connection does.
 */
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import { registerLingeringClose } from "../../src/server/lingering-close.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

interface RawConnection {
  socket: Socket;
  /** Everything the server has sent so far. */
  text(): string;
  /** Resolves once `pattern` has been received (fails after 5 s). */
  until(pattern: RegExp): Promise<void>;
  /** Resolves when the server has closed the connection (a FIN or a reset). */
  closed: Promise<void>;
}

function open(url: string): Promise<RawConnection> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), "127.0.0.1", () => {
      let received = "";
      const wakers = new Set<() => void>();
      socket.setEncoding("utf8");
      socket.on("data", (d: string) => {
        received += d;
        for (const wake of wakers) wake();
      });
      socket.on("error", () => {});
      const closed = new Promise<void>((done) => {
        socket.once("end", done);
        socket.once("close", done);
      });
      const until = async (pattern: RegExp) => {
        const deadline = Date.now() + 5000;
        while (!pattern.test(received)) {
          if (Date.now() > deadline) throw new Error(`no ${pattern} in ${JSON.stringify(received.slice(0, 500))}`);
          await new Promise<void>((wake) => {
            wakers.add(wake);
            setTimeout(wake, 50);
          }).finally(() => wakers.clear());
        }
      };
      resolve({ socket, text: () => received, until, closed });
    });
    socket.once("error", reject);
  });
}

function head(path: string, headers: Record<string, string | number>): string {
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}`);
  return [`POST ${path} HTTP/1.1`, "host: 127.0.0.1", ...lines, "", ""].join("\r\n");
}

const write = (socket: Socket, data: string | Buffer): Promise<void> =>
  new Promise((resolve, reject) => socket.write(data, (err) => (err ? reject(err) : resolve())));

describe("an early answer on tandem's server", () => {
  let upstream: FakeOpenAIUpstream;
  let tandem: RunningTandem;

  before(async () => {
    upstream = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
    tandem = await startTandem({ server: { bodyLimit: 4096 }, providers: { up: { kind: "openai", baseUrl: upstream.url } } });
  });
  after(async () => {
    await tandem?.close();
    await upstream?.close();
  });

  it("413: the rest of the body is read, and the connection answers the next request", async () => {
    const body = Buffer.from(JSON.stringify({ model: "up/gpt-4o-mini", junk: "x".repeat(200_000) }));
    const conn = await open(tandem.url);
    await write(conn.socket, head("/v1/messages", { "content-type": "application/json", "content-length": body.length }));
    await write(conn.socket, body.subarray(0, 1000));
    await conn.until(/request_too_large[\s\S]*\}$/);
    assert.match(conn.text(), /^HTTP\/1\.1 413 /);
    assert.doesNotMatch(conn.text(), /connection: close/i);
    // The client goes on writing its body, as the SDKs do, and then asks again on the same connection.
    for (let at = 1000; at < body.length; at += 16_384) await write(conn.socket, body.subarray(at, at + 16_384));
    await write(conn.socket, "GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n");
    await conn.until(/HTTP\/1\.1 200 [\s\S]*"status":"ok"/);
    conn.socket.destroy();
  });

  it("a body sent in chunks past the limit: the same", async () => {
    const conn = await open(tandem.url);
    await write(
      conn.socket,
      head("/v1/chat/completions", { "content-type": "application/json", "transfer-encoding": "chunked" }),
    );
    const chunk = (text: string) => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
    await write(conn.socket, chunk(`{"model":"up/gpt-4o-mini","junk":"${"x".repeat(5000)}`));
    await conn.until(/request_too_large[\s\S]*\}$/);
    for (let i = 0; i < 20; i++) await write(conn.socket, chunk("y".repeat(10_000)));
    await write(conn.socket, `${chunk('"}')}0\r\n\r\n`);
    await write(conn.socket, "GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n");
    await conn.until(/HTTP\/1\.1 200 [\s\S]*"status":"ok"/);
    conn.socket.destroy();
  });
});

describe("registerLingeringClose's bounds", () => {
  const MAX = 64 * 1024;
  const apps: FastifyInstance[] = [];
  after(() => Promise.all(apps.map((app) => app.close())));

  /** A server that refuses every body at once, as one over the limit is (Fastify marks it `connection: close`). */
  async function refusing(timeoutMs: number): Promise<string> {
    const app = Fastify();
    apps.push(app);
    registerLingeringClose(app, { maxBytes: MAX, timeoutMs });
    app.removeAllContentTypeParsers();
    app.addContentTypeParser("*", (_request, _payload, done) => {
      done(Object.assign(new Error("too large"), { statusCode: 413 }), undefined);
    });
    app.post("/", async () => "never");
    app.get("/", async () => "ok");
    return app.listen({ host: "127.0.0.1", port: 0 });
  }

  it("a body that declares more than the bound is not waited for", async () => {
    const conn = await open(await refusing(60_000));
    await write(conn.socket, head("/", { "content-type": "text/plain", "content-length": MAX + 1 }));
    await conn.closed;
    assert.match(conn.text(), /^HTTP\/1\.1 413 [\s\S]*connection: close/i);
  });

  it("past the bound in bytes, the connection is closed", async () => {
    // A minute to send it in: what closes the connection is the bytes.
    const conn = await open(await refusing(60_000));
    await write(conn.socket, head("/", { "content-type": "text/plain", "transfer-encoding": "chunked" }));
    await conn.until(/too large/);
    let sent = 0;
    let closed = false;
    void conn.closed.then(() => {
      closed = true;
    });
    const piece = `4000\r\n${"z".repeat(0x4000)}\r\n`;
    // Far more than the bound and the socket buffers between: a connection still open then was not cut.
    const plenty = 64 * 1024 * 1024;
    while (!closed && sent < plenty) {
      await write(conn.socket, piece).catch(() => {});
      sent += 0x4000;
      // A turn for I/O: the server reads in this process, and the close has to be seen.
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.ok(closed, `still open after ${sent} bytes`);
    assert.ok(sent > MAX, `closed after ${sent} bytes`);
  });

  it("past the bound in time, the connection is closed", async () => {
    const conn = await open(await refusing(300));
    await write(conn.socket, head("/", { "content-type": "text/plain", "content-length": 1000 }));
    await conn.until(/too large/);
    const started = Date.now();
    // A byte now and then: never done.
    const trickle = setInterval(() => conn.socket.write("z"), 50);
    await conn.closed;
    clearInterval(trickle);
    const waited = Date.now() - started;
    assert.ok(waited >= 250 && waited < 5000, `closed after ${waited} ms`);
  });

  it("a body that ends within the bounds leaves the connection in use", async () => {
    const conn = await open(await refusing(60_000));
    await write(conn.socket, head("/", { "content-type": "text/plain", "content-length": 10_000 }));
    await conn.until(/too large/);
    assert.doesNotMatch(conn.text(), /connection: close/i);
    await write(conn.socket, "z".repeat(10_000));
    await write(conn.socket, "GET / HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n");
    await conn.until(/HTTP\/1\.1 200 [\s\S]*ok$/);
    conn.socket.destroy();
  });
});
