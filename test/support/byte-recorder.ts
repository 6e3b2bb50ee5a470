/**
 * A raw TCP proxy on 127.0.0.1 that sits in front of a fake upstream and keeps every byte tandem
 * sends through it: request lines, headers and bodies, exactly as they crossed the socket. The fakes
 * record parsed bodies only; this is what "nothing of it reached the cloud" is checked against, so
 * nothing is decoded, normalised or skipped before it is kept.
 */
import { connect, createServer, type Socket } from "node:net";

export interface ByteRecorder {
  /** `http://127.0.0.1:<port>`: the recorder's origin (append `/v1` for an OpenAI-kind provider). */
  readonly url: string;
  /** Every byte received from clients since the last clear(), all connections in arrival order. */
  received(): Buffer;
  /** The bytes received per connection (in the order connections were opened), since the last clear(). */
  connections(): Buffer[];
  /** The HTTP requests parsed out of the received bytes, connection by connection. */
  requests(): RawHttpRequest[];
  /** Forgets everything received so far (connections still open keep recording from here). */
  clear(): void;
  /** Stops listening and drops every open connection. */
  close(): Promise<void>;
}

/** One HTTP/1.1 request as it was on the wire. */
export interface RawHttpRequest {
  method: string;
  path: string;
  /** Header names lower-cased; a repeated header keeps its last value. */
  headers: Record<string, string>;
  /** The exact header block, request line included, up to and without the blank line. */
  head: string;
  /** The body bytes: as sent for content-length, de-chunked for chunked transfer encoding. */
  body: Buffer;
  /** Whether the body was sent with `transfer-encoding: chunked`. */
  chunked: boolean;
  /** False when the connection ended before the whole body arrived. */
  complete: boolean;
}

/** Starts a recorder that forwards every connection to `target` (an origin or base URL on 127.0.0.1). */
export async function startByteRecorder(target: string): Promise<ByteRecorder> {
  const upstream = new URL(target);
  const port = Number(upstream.port || (upstream.protocol === "https:" ? 443 : 80));
  const host = upstream.hostname;
  const sockets = new Set<Socket>();
  // One entry per connection; clear() starts a new list, and live connections then start new entries.
  let recorded: { chunks: Buffer[] }[] = [];

  const server = createServer((client) => {
    const entry = { chunks: [] as Buffer[] };
    recorded.push(entry);
    let current = entry;
    const forward = connect({ host, port });
    sockets.add(client);
    sockets.add(forward);
    const dropBoth = () => {
      client.destroy();
      forward.destroy();
    };
    // tandem aborts connections (timeouts, cancelled streams), fakes drop them on purpose: quietly.
    client.on("error", dropBoth);
    forward.on("error", dropBoth);
    client.on("close", () => {
      sockets.delete(client);
      forward.destroy();
    });
    forward.on("close", () => {
      sockets.delete(forward);
      client.destroy();
    });
    client.on("data", (chunk: Buffer) => {
      if (!recorded.includes(current)) {
        // clear() ran since the connection opened (keep-alive): what follows is a fresh entry.
        current = { chunks: [] };
        recorded.push(current);
      }
      current.chunks.push(Buffer.from(chunk));
      forward.write(chunk);
    });
    client.on("end", () => forward.end());
    forward.on("data", (chunk: Buffer) => {
      if (!client.destroyed) client.write(chunk);
    });
    forward.on("end", () => client.end());
  });
  server.on("error", () => {});

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (typeof address !== "object" || !address) throw new Error("byte recorder has no address");

  const connections = () => recorded.map((entry) => Buffer.concat(entry.chunks)).filter((b) => b.length > 0);
  return {
    url: `http://127.0.0.1:${address.port}`,
    received: () => Buffer.concat(connections()),
    connections,
    requests: () => connections().flatMap((bytes) => parseHttpRequests(bytes)),
    clear() {
      recorded = [];
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const CRLF2 = Buffer.from("\r\n\r\n");

/**
 * Splits the bytes one connection received into HTTP/1.1 requests (keep-alive sends several in a
 * row). Bodies are framed by content-length or chunked transfer encoding; a request without either
 * has no body. Stops at bytes it cannot frame, returning the last request as incomplete.
 */
export function parseHttpRequests(bytes: Buffer): RawHttpRequest[] {
  const out: RawHttpRequest[] = [];
  let at = 0;
  while (at < bytes.length) {
    const headEnd = bytes.indexOf(CRLF2, at);
    if (headEnd < 0) break;
    const head = bytes.subarray(at, headEnd).toString("latin1");
    const [requestLine = "", ...lines] = head.split("\r\n");
    const [method = "", path = ""] = requestLine.split(" ");
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(":");
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    let cursor = headEnd + CRLF2.length;
    const chunked = /\bchunked\b/i.test(headers["transfer-encoding"] ?? "");
    let body: Buffer;
    let complete = true;
    if (chunked) {
      const parts: Buffer[] = [];
      complete = false;
      for (;;) {
        const lineEnd = bytes.indexOf("\r\n", cursor);
        if (lineEnd < 0) break;
        const size = Number.parseInt(bytes.subarray(cursor, lineEnd).toString("latin1").split(";")[0] ?? "", 16);
        if (!Number.isFinite(size)) break;
        cursor = lineEnd + 2;
        if (size === 0) {
          // Trailers (none expected) end with a blank line.
          const trailerEnd = bytes.indexOf("\r\n", cursor);
          cursor = trailerEnd < 0 ? bytes.length : trailerEnd + 2;
          complete = true;
          break;
        }
        if (cursor + size > bytes.length) {
          parts.push(bytes.subarray(cursor));
          cursor = bytes.length;
          break;
        }
        parts.push(bytes.subarray(cursor, cursor + size));
        cursor += size + 2;
      }
      body = Buffer.concat(parts);
    } else {
      const length = Number(headers["content-length"] ?? 0);
      body = bytes.subarray(cursor, Math.min(bytes.length, cursor + length));
      complete = body.length === length;
      cursor += length;
    }
    out.push({ method, path, headers, head, body: Buffer.from(body), chunked, complete });
    if (!complete) break;
    at = cursor;
  }
  return out;
}
