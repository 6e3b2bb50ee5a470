import { type IncomingMessage, STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { GatewayError } from "../core/index.js";
import { dialectFor } from "../dialects/index.js";

/** What Node's HTTP parser hands the server's `clientError` listener. */
export interface ClientError extends Error {
  code?: string;
  /** The bytes the parser was reading when it failed (the request's head, or part of it): a Buffer at run time. */
  rawPacket?: unknown;
}

/** How much of the bytes that failed to parse is read for the request line and headers. */
const HEAD_BYTES = 64 * 1024;

/**
 * Answers a request Node's HTTP parser refused before Fastify saw it (headers past the server's
 * limit, a malformed request line, a head that took too long) in its client's dialect, with the
 * status Node would give: 431, 400 or 408. Fastify's own answer (`{"error":"Request Header Fields
 * Too Large","message",...}`) is no dialect's shape. The dialect is found from the request line and
 * headers the parser had read, as far as they go; without a path it is the default one.
 */
export function answerClientError(err: ClientError, socket: Socket): void {
  // A reset connection: there is no one to answer.
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  const [status, message] =
    err.code === "HPE_HEADER_OVERFLOW"
      ? [
          431,
          "Request header fields too large: the URL and headers together are over the server's limit (16 KiB); send long values in the JSON body",
        ]
      : err.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? [408, "Request timeout: the request's headers did not arrive in time"]
        : [400, "Bad request: the request is not valid HTTP"];
  const error = new GatewayError(status === 408 ? "timeout" : "invalid_request", message, { status });
  const rendered = dialectFor(requestHead(err.rawPacket)).renderError(error);
  const body = JSON.stringify(rendered.body);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}

/** The request line's path and the header names the parser had read (values only for anthropic-version). */
function requestHead(raw: unknown): { url: string; headers: Record<string, string | undefined> } {
  const text = Buffer.isBuffer(raw) ? raw.subarray(0, HEAD_BYTES).toString("latin1") : "";
  const url = /^[A-Z]+ (\S+) HTTP\/1\.[01]\r?\n/.exec(text)?.[1] ?? "";
  const headers: Record<string, string | undefined> = {};
  const version = /\r\nanthropic-version:[ \t]*([^\r\n]*)/i.exec(text);
  if (version) headers["anthropic-version"] = version[1];
  return { url, headers };
}

/**
 * Answers a CONNECT request, which Node hands the server's `connect` listener instead of Fastify
 * (and, without one, closes the connection with no answer at all): tandem is no proxy, so a client
 * that tunnels through it is told so, with a 405 in its dialect, and the connection is closed (the
 * bytes after the head would be the tunnel's).
 */
export function answerConnect(request: IncomingMessage, socket: Duplex): void {
  if (socket.destroyed) return;
  const status = 405;
  const error = new GatewayError(
    "invalid_request",
    "Method not allowed: tandem is not a proxy and does not answer CONNECT; send requests to its own paths (POST /v1/chat/completions, ...)",
    { status },
  );
  const target = request.url ?? "";
  const version = request.headers["anthropic-version"];
  const rendered = dialectFor({
    url: target.startsWith("/") ? target : "",
    headers: { "anthropic-version": version },
  }).renderError(error);
  const body = JSON.stringify(rendered.body);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nAllow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
