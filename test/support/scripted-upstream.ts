/**
 * An upstream on 127.0.0.1 that answers each POST with exactly the bytes a test scripts (no model of
 * its own) and keeps what it received as it came (raw body text and headers), so same-wire tests can
 * check both ways byte for byte. GETs answer an empty model list in every wire's shape.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createBrotliCompress, createDeflate, createGzip } from "node:zlib";

/**
 * How an answer's bytes are sent: compressed (`Content-Encoding` set, each write flushed, as a
 * compressing proxy streams), or under a content coding named but not applied (a coding no client
 * decodes).
 */
export interface ScriptedCoding {
  /** Compressed with this coding. */
  encoding?: "gzip" | "deflate" | "br";
  /** Sent as `Content-Encoding` as it is, the bytes unchanged (overrides `encoding`'s header). */
  contentEncoding?: string;
  /** A UTF-8 byte order mark (EF BB BF) before the first byte. */
  bom?: boolean;
}

/** What the upstream does with one request. */
export type ScriptedReply =
  /**
   * One JSON body (an error when `status` is not 200), labelled `contentType` (default
   * application/json), or `text` as it is in its place.
   */
  | ({ kind: "json"; body: unknown; status?: number; contentType?: string; text?: string } & ScriptedCoding)
  /**
   * A stream: each text written as it is (`data: ...\n\n` for SSE, `{...}\n` for NDJSON), one write
   * each; a function is awaited before the next write (a test holds the stream open until its client
   * has read what came before). An empty `contentType` sends none.
   */
  | ({
      kind: "stream";
      contentType: string;
      writes: Array<string | Buffer | (() => Promise<void>)>;
      /** Drop the connection after the writes. */
      breakOff?: boolean;
    } & ScriptedCoding);

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  /** The body exactly as it arrived. */
  raw: string;
  body: Record<string, unknown>;
}

export interface ScriptedUpstream {
  /** The origin (append `/v1` for an OpenAI-kind provider). */
  url: string;
  script(reply: (request: ReceivedRequest) => ScriptedReply): void;
  /** POSTs received since the last clear(). */
  readonly requests: ReceivedRequest[];
  clear(): void;
  close(): Promise<void>;
}

/** Writes an answer's bytes as its coding says: compressed and flushed write by write, or as they are. */
function codedWriter(
  res: ServerResponse,
  coding: ScriptedCoding,
): { write: (bytes: string | Buffer) => Promise<void>; end: () => Promise<void> } {
  const encoder =
    coding.contentEncoding !== undefined || coding.encoding === undefined
      ? undefined
      : coding.encoding === "gzip"
        ? createGzip()
        : coding.encoding === "deflate"
          ? createDeflate()
          : createBrotliCompress();
  if (encoder === undefined) {
    return {
      write: async (bytes) => {
        res.write(bytes);
      },
      end: async () => {
        res.end();
      },
    };
  }
  encoder.on("data", (chunk: Buffer) => res.write(chunk));
  return {
    write: (bytes) =>
      new Promise<void>((resolve) => {
        encoder.write(bytes);
        encoder.flush(() => resolve());
      }),
    end: () =>
      new Promise<void>((resolve) => {
        encoder.once("end", () => {
          res.end();
          resolve();
        });
        encoder.end();
      }),
  };
}

export async function startScriptedUpstream(): Promise<ScriptedUpstream> {
  let script: (request: ReceivedRequest) => ScriptedReply = () => ({ kind: "json", body: {} });
  const requests: ReceivedRequest[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method === "GET") {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ object: "list", data: [], models: [] }));
        return;
      }
      const raw = Buffer.concat(chunks).toString("utf8");
      const request = { method: req.method ?? "", path: req.url ?? "", headers: req.headers, raw, body: JSON.parse(raw) };
      requests.push(request);
      const reply = script(request);
      void (async () => {
        const json = reply.kind === "json";
        const contentType = json ? (reply.contentType ?? "application/json") : reply.contentType;
        const headers: Record<string, string> = contentType === "" ? {} : { "content-type": contentType };
        const encoding = reply.contentEncoding ?? reply.encoding;
        if (encoding !== undefined) headers["content-encoding"] = encoding;
        res.writeHead(json ? (reply.status ?? 200) : 200, headers);
        const out = codedWriter(res, reply);
        if (reply.bom) await out.write(Buffer.from([0xef, 0xbb, 0xbf]));
        const writes = json ? [reply.text ?? JSON.stringify(reply.body)] : reply.writes;
        for (const write of writes) {
          if (typeof write === "function") await write();
          else await out.write(write);
        }
        if (!json && reply.breakOff) setTimeout(() => res.destroy(), 20);
        else await out.end();
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    script: (reply) => {
      script = reply;
    },
    requests,
    clear: () => {
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
