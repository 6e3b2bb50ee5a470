/**
 * A Responses WebSocket whose peer no longer answers pings is dropped, so that leaked or dead
 * connections do not hold the 64 slots for ever; one that is only quiet, whose client answers pings
 * (Codex keeps one connection across its turns), stays open.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import pino from "pino";
import { WebSocket } from "ws";
import { ServerLoopback } from "../../src/server/loopback.js";
import { attachResponsesSocket } from "../../src/server/responses-socket.js";

const PING_MS = 40;

describe("Responses WebSocket heartbeat", () => {
  let app: FastifyInstance;
  let port: number;
  before(async () => {
    app = Fastify();
    attachResponsesSocket(app, new ServerLoopback(app), {
      refusal: () => undefined,
      renderError: (error) => ({ status: error.status, body: { error: { message: error.message } } }),
      maxMessageBytes: 1024 * 1024,
      logger: pino({ level: "silent" }),
      pingIntervalMs: PING_MS,
    });
    await app.listen({ host: "127.0.0.1", port: 0 });
    port = (app.server.address() as { port: number }).port;
  });
  after(async () => {
    await app?.close();
  });

  it("drops a connection whose peer does not answer pings, within two intervals or so", { timeout: 5000 }, async () => {
    // A bare socket that completes the handshake and then reads nothing: it never sends a pong.
    const socket = connect(port, "127.0.0.1");
    await once(socket, "connect");
    socket.write(
      "GET /v1/responses HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    const [head] = (await once(socket, "data")) as [Buffer];
    assert.match(head.toString("latin1"), /^HTTP\/1\.1 101/);
    const started = performance.now();
    socket.resume();
    // Destroyed when the test ends either way, so that a failure does not hold the run open.
    const closed = once(socket, "close");
    setTimeout(() => socket.destroy(), 4000).unref();
    await closed;
    // Generous for a loaded machine; without the heartbeat it stayed open for good.
    assert.ok(performance.now() - started < 40 * PING_MS, `closed after ${Math.round(performance.now() - started)} ms`);
  });

  it("keeps a quiet connection whose client answers pings", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/responses`);
    await once(ws, "open");
    let pings = 0;
    ws.on("ping", () => pings++);
    while (pings < 4) await new Promise((resolve) => setTimeout(resolve, PING_MS));
    assert.equal(ws.readyState, WebSocket.OPEN);
    ws.close();
    await once(ws, "close");
  });
});
