import type { IncomingMessage } from "node:http";
import type { FastifyInstance } from "fastify";

/** How much of a body answered before it arrived the server still reads and drops, and for how long. */
export interface LingerLimits {
  /**
   * Bytes read and dropped after the answer, at most; past them the connection is closed. A body
   * that declares more is not read at all: its connection is closed after the answer.
   */
  maxBytes: number;
  /** Milliseconds from the answer the rest of the body may take; past them the connection is closed. */
  timeoutMs: number;
}

/** The floor of LingerLimits.maxBytes when it is derived from `server.bodyLimit`. */
const MIN_LINGER_BYTES = 64 * 1024 * 1024;

/**
 * What `lingerLimits` reads after an early answer: four times `server.bodyLimit`, at least 64 MiB
 * (enough for an SDK's oversized upload of a few images to end and read its 413), within
 * `server.bodyTimeoutMs`, the time any body has to arrive.
 */
export function lingerLimits(bodyLimit: number, bodyTimeoutMs: number): LingerLimits {
  return { maxBytes: Math.max(4 * bodyLimit, MIN_LINGER_BYTES), timeoutMs: bodyTimeoutMs };
}

/**
 * Keeps reading, and dropping, the rest of a request body the server answered before it arrived (a
 * 413 over `server.bodyLimit`, a 415, a 401, an unknown route), bounded by `limits`, as nginx's
 * lingering close does.
 *
 * Why: closing a connection with unread bytes in its receive buffer makes the kernel send a reset.
 * Clients that write the whole body before they read the answer (the Node SDKs: Anthropic's,
 * OpenAI's, ollama-js over fetch) then fail on the write with EPIPE or ECONNRESET and report a
 * connection error, and retry the upload, never seeing the 413. Fastify marks every body parser's
 * refusal `connection: close`, and Node closes such a connection as soon as the answer is written;
 * so while the rest is read the connection is kept (the answer says keep-alive: once the body has
 * ended the connection is in step again and may carry the client's next request). Nothing is kept
 * of what is read, and past `limits` (more bytes, more time, or a larger declared length) the
 * connection is closed, so a client cannot make the server read for ever. A 408 (the body stopped
 * coming, `server.bodyTimeoutMs`) closes the connection after the answer: there is nothing to wait for.
 */
export function registerLingeringClose(app: FastifyInstance, limits: LingerLimits): void {
  // A callback hook: every answer passes here.
  app.addHook("onSend", (request, reply, payload, done) => {
    const raw = request.raw;
    // Bodies read to their end, requests without one, and injected requests (no `complete`) are done.
    if (raw.complete !== false) return done(null, payload);
    if (reply.statusCode === 408 || Number(raw.headers["content-length"]) > limits.maxBytes) {
      reply.header("connection", "close");
    } else {
      reply.removeHeader("connection");
      // Now, not when the answer has been written: Node then dumps a body nobody reads, and a dumped
      // body's bytes are dropped before they could be counted.
      dropRest(raw, limits);
    }
    done(null, payload);
  });
}

/** Reads the rest of `raw` and drops it; closes its connection past `limits`. */
function dropRest(raw: IncomingMessage, limits: LingerLimits): void {
  if (raw.complete || raw.destroyed) return;
  const socket = raw.socket;
  let dropped = 0;
  const onData = (chunk: Buffer | string): void => {
    dropped += chunk.length;
    if (dropped > limits.maxBytes) cut();
  };
  const settle = (): void => {
    clearTimeout(timer);
    raw.removeListener("data", onData);
    raw.removeListener("end", settle);
    raw.removeListener("close", settle);
  };
  const cut = (): void => {
    settle();
    socket.destroy();
  };
  const timer = setTimeout(cut, limits.timeoutMs);
  timer.unref();
  raw.on("data", onData);
  raw.once("end", settle);
  raw.once("close", settle);
  raw.resume();
}
