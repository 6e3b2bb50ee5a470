import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface SlowUpstream {
  /** The base URL of an OpenAI-kind provider (ends in /v1). */
  url: string;
  /** How many requests tandem hung up on before their answer ended. */
  cut(): number;
  /** The messages of every chat request received, in order. */
  readonly received: Array<Array<{ role: string; content: unknown }>>;
  close(): void;
}

/**
 * An OpenAI upstream whose answer takes as long as the last message says (`ms:NNNN`): streamed as a
 * word every 50 ms, or whole at the end. It counts the requests whose client (tandem) hung up first.
 */
export async function startSlowUpstream(): Promise<SlowUpstream> {
  let cut = 0;
  const received: SlowUpstream["received"] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = "";
    req.on("data", (chunk: Buffer) => {
      raw += chunk;
    });
    req.on("end", () => {
      if (req.method === "GET") {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ object: "list", data: [] }));
        return;
      }
      const body = JSON.parse(raw) as { stream?: boolean; messages: Array<{ role: string; content: string }> };
      received.push(body.messages);
      const ms = Number(/ms:(\d+)/.exec(JSON.stringify(body.messages.at(-1)))?.[1] ?? 500);
      const started = Date.now();
      let timer: NodeJS.Timeout | undefined;
      res.on("close", () => {
        clearInterval(timer);
        if (!res.writableFinished) cut++;
      });
      const base = { id: "chatcmpl-1", created: 1, model: "slow" };
      if (!body.stream) {
        timer = setTimeout(() => {
          res.writeHead(200, { "content-type": "application/json" }).end(
            JSON.stringify({
              ...base,
              object: "chat.completion",
              choices: [{ index: 0, message: { role: "assistant", content: "whole answer" }, finish_reason: "stop" }],
              usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
            }),
          );
        }, ms);
        return;
      }
      res.writeHead(200, { "content-type": "text/event-stream" });
      const frame = (data: unknown) => res.write(`data: ${JSON.stringify(data)}\n\n`);
      let n = 0;
      timer = setInterval(() => {
        if (Date.now() - started < ms) {
          frame({ ...base, object: "chat.completion.chunk", choices: [{ index: 0, delta: { content: `w${n++} ` } }] });
          return;
        }
        clearInterval(timer);
        frame({ ...base, object: "chat.completion.chunk", choices: [{ index: 0, delta: {}, finish_reason: "stop" }] });
        res.end("data: [DONE]\n\n");
      }, 50);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    cut: () => cut,
    received,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}
