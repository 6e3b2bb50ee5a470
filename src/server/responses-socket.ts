import { type IncomingHttpHeaders, type IncomingMessage, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { type WebSocket, WebSocketServer } from "ws";
import type { GatewayError } from "../core/index.js";
import { ResponsesSocketSession, runLoopbackTurn, type SocketTurnRunner } from "../dialects/openai/index.js";
import type { Loopback } from "../dialects/shared/index.js";
import { loggableError } from "../telemetry/loggable-error.js";
import { jsonTooDeep } from "./json-body.js";
import type { ServerLoopback } from "./loopback.js";

export interface ResponsesSocketOptions {
  /** Why a request with these headers may not come in (Host, Origin, key), as for any request. */
  refusal(headers: IncomingHttpHeaders): GatewayError | undefined;
  /** An error in OpenAI's shape and status. */
  renderError(error: GatewayError): { status: number; body: unknown };
  /** The largest message a client may send (`server.bodyLimit`, as for a request body). */
  maxMessageBytes: number;
  logger: Logger;
  /** How often each connection is pinged; one that has not answered the last ping by the next is dropped. Default PING_INTERVAL_MS. */
  pingIntervalMs?: number;
}

/**
 * WebSocket connections open at once; one more is refused (429) until one closes. Each may hold
 * `server.bodyLimit` bytes of messages waiting behind the turns it is answering, and at most
 * MAX_ACTIVE_LANES turns at once, so this bounds what clients can make the server hold (a Codex
 * session opens one).
 */
export const MAX_RESPONSE_SOCKETS = 64;
/**
 * Past this many bytes waiting to be sent to a client, each turn's next event waits for them to be
 * flushed (each lane adds at most the one event it is sending, so a slow reader holds the lanes
 * and their upstreams rather than growing this buffer).
 */
const SEND_HIGH_WATER = 256 * 1024;
/**
 * How often each connection is pinged. A peer that is gone (a crashed client, a leaked socket, a
 * network that dropped it) never answers, and is dropped at the next ping, so that it does not hold
 * one of the MAX_RESPONSE_SOCKETS slots for ever. A connection that is only quiet is kept: Codex keeps
 * one connection across a session's turns, and the user may think for a long while between them (its
 * WebSocket library answers pings by itself, as every conforming client does).
 */
export const PING_INTERVAL_MS = 30_000;
const INTERNAL_ERROR = {
  error: { message: "Internal error in tandem (see the server log)", type: "server_error", param: null, code: null },
};

/**
 * The Responses API's WebSocket mode on `GET /v1/responses` (Upgrade: websocket). The upgrade passes
 * the front door as every request does (Host, a web page's Origin, the key), and each
 * `response.create` is then answered as POST /v1/responses with `stream: true` inside this server
 * (Fastify's inject, with the upgrade's headers): the same route, checks, router, audit, store and
 * request log, with nothing new to keep in step. The session (dialects/openai) keeps the turn order
 * and the connection's last response.
 */
export function attachResponsesSocket(app: FastifyInstance, loopback: ServerLoopback, options: ResponsesSocketOptions): void {
  const sockets = new WebSocketServer({ noServer: true, maxPayload: options.maxMessageBytes, perMessageDeflate: false });
  // Upgrades under way (their handshake not yet done), counted with the open sockets against the cap.
  let upgrading = 0;
  // The connections that answered (a pong, or any message) since the last ping.
  const answered = new WeakSet<WebSocket>();
  const heartbeat = setInterval(() => {
    for (const ws of sockets.clients) {
      if (!answered.has(ws)) {
        ws.terminate();
        continue;
      }
      answered.delete(ws);
      ws.ping();
    }
  }, options.pingIntervalMs ?? PING_INTERVAL_MS);
  heartbeat.unref();
  app.server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (request.url ?? "").split("?")[0] ?? "";
    if (path !== "/v1/responses" || request.headers.upgrade?.toLowerCase() !== "websocket") {
      return refuseUpgrade(socket, 404, {
        error: {
          message: `WebSocket is served at /v1/responses only (not ${path.slice(0, 200)})`,
          type: "invalid_request_error",
          param: null,
          code: "unknown_url",
        },
      });
    }
    const refusal = options.refusal(request.headers);
    if (refusal !== undefined) {
      const rendered = options.renderError(refusal);
      return refuseUpgrade(socket, rendered.status, rendered.body);
    }
    if (sockets.clients.size + upgrading >= MAX_RESPONSE_SOCKETS) {
      return refuseUpgrade(socket, 429, {
        error: {
          message: `${MAX_RESPONSE_SOCKETS} WebSocket connections are open already: close one, or use POST /v1/responses.`,
          type: "invalid_request_error",
          param: null,
          code: "too_many_connections",
        },
      });
    }
    upgrading++;
    let counted = true;
    const settle = () => {
      if (counted) upgrading--;
      counted = false;
    };
    socket.once("close", settle);
    sockets.handleUpgrade(request, socket, head, (ws) => {
      settle();
      answered.add(ws);
      const alive = () => answered.add(ws);
      ws.on("pong", alive);
      ws.on("message", alive);
      serve(loopback.from(request.socket.remoteAddress), ws, request, options);
    });
  });
  // Open sockets would hold the server's close for ever: each is told the server is going away (1001,
  // so a client knows to reconnect later, not that the connection broke), and dropped if it does not
  // answer the close within a second.
  app.addHook("preClose", (done) => {
    clearInterval(heartbeat);
    for (const ws of sockets.clients) {
      ws.close(1001, "tandem is stopping");
      setTimeout(() => ws.terminate(), 1000).unref();
    }
    sockets.close();
    done();
  });
}

function serve(loopback: Loopback, ws: WebSocket, upgrade: IncomingMessage, options: ResponsesSocketOptions): void {
  const { logger } = options;
  const run: SocketTurnRunner = async (body, relay, signal, connection) => {
    try {
      return await runTurn(body, relay, signal, connection);
    } catch (err) {
      if (signal.aborted) return { kind: "streamed" };
      // As the HTTP route answers what it did not expect: the details stay in the log.
      logger.error({ err: loggableError(err) }, "a Responses WebSocket turn failed");
      return { kind: "refused", status: 500, body: INTERNAL_ERROR };
    }
  };
  const runTurn: SocketTurnRunner = (body, relay, signal, connection) =>
    runLoopbackTurn(loopback, upgrade.headers, body, relay, signal, { connection });
  const send = (text: string): Promise<void> =>
    new Promise((resolve) => {
      if (ws.readyState !== ws.OPEN) return resolve();
      if (ws.bufferedAmount < SEND_HIGH_WATER) {
        ws.send(text);
        return resolve();
      }
      ws.send(text, () => resolve());
    });
  const session = new ResponsesSocketSession(run, send, options.maxMessageBytes, jsonTooDeep);
  ws.on("message", (data, isBinary) => {
    if (isBinary) session.receiveBinary();
    else session.receive(Buffer.isBuffer(data) ? data.toString("utf8") : Buffer.concat(data as Buffer[]).toString("utf8"));
  });
  ws.on("close", () => session.close());
  // A message over the limit or a broken frame: ws closes the socket with the right code; the log says why.
  ws.on("error", (err) => logger.warn({ err: { message: err.message } }, "a Responses WebSocket failed"));
}

/** Answers an upgrade that may not go on with a plain HTTP response, in OpenAI's error shape. */
function refuseUpgrade(socket: Duplex, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}\r\n` +
      "content-type: application/json\r\n" +
      `content-length: ${Buffer.byteLength(text)}\r\n` +
      "connection: close\r\n\r\n" +
      text,
  );
}
