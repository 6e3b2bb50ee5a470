/**
 * An upstream on 127.0.0.1 that answers each POST with exactly the bytes a test scripts (no model of
 * its own) and keeps what it received as it came (raw body text and headers), so same-wire tests can
 * check both ways byte for byte. GETs answer an empty model list in every wire's shape.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** What the upstream does with one request. */
export type ScriptedReply =
  /** One JSON body (an error when `status` is not 200). */
  | { kind: "json"; body: unknown; status?: number }
  /**
   * A stream: each text written as it is (`data: ...\n\n` for SSE, `{...}\n` for NDJSON), one write
   * each; a function is awaited before the next write (a test holds the stream open until its client
   * has read what came before).
   */
  | {
      kind: "stream";
      contentType: string;
      writes: Array<string | (() => Promise<void>)>;
      /** Drop the connection after the writes. */
      breakOff?: boolean;
    };

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
      if (reply.kind === "json") {
        res.writeHead(reply.status ?? 200, { "content-type": "application/json" }).end(JSON.stringify(reply.body));
        return;
      }
      void (async () => {
        res.writeHead(200, { "content-type": reply.contentType });
        for (const write of reply.writes) {
          if (typeof write === "string") res.write(write);
          else await write();
        }
        if (reply.breakOff) setTimeout(() => res.destroy(), 20);
        else res.end();
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
