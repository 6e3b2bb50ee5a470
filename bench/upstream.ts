/**
 * A fast fake upstream for the benchmark, speaking both OpenAI's /v1/chat/completions and
 * Anthropic's /v1/messages with fixed answers and no work, so what is measured is the path between
 * the client and it. Streams `BENCH_CHUNKS` content chunks, each its own write, as a model would.
 */
import { createServer, type ServerResponse } from "node:http";

const CHUNKS = Number(process.env.BENCH_CHUNKS ?? 20);
/** For models named `*-paced`: milliseconds between chunks, as a model generating tokens would space them. */
export const PACE_MS = Number(process.env.BENCH_PACE_MS ?? 2);
const created = Math.floor(Date.now() / 1000);
const TEXT = "word ".repeat(CHUNKS).trim();

const openai = {
  completion: JSON.stringify({
    id: "chatcmpl-bench",
    object: "chat.completion",
    created,
    model: "bench",
    choices: [{ index: 0, message: { role: "assistant", content: TEXT }, finish_reason: "stop" }],
    usage: { prompt_tokens: 5, completion_tokens: CHUNKS, total_tokens: 5 + CHUNKS },
  }),
  chunk: (delta: object, finish: string | null) =>
    `data: ${JSON.stringify({ id: "chatcmpl-bench", object: "chat.completion.chunk", created, model: "bench", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`,
  usage: `data: ${JSON.stringify({ id: "chatcmpl-bench", object: "chat.completion.chunk", created, model: "bench", choices: [], usage: { prompt_tokens: 5, completion_tokens: CHUNKS, total_tokens: 5 + CHUNKS } })}\n\n`,
};
const openaiFirst = openai.chunk({ role: "assistant", content: "" }, null);
const openaiWord = openai.chunk({ content: "word " }, null);
const openaiLast = openai.chunk({}, "stop");

const event = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
const anthropic = {
  message: JSON.stringify({
    id: "msg_bench",
    type: "message",
    role: "assistant",
    model: "bench",
    content: [{ type: "text", text: TEXT }],
    stop_reason: "end_turn",
    stop_sequence: null,
    usage: { input_tokens: 5, output_tokens: CHUNKS },
  }),
  start:
    event("message_start", {
      message: {
        id: "msg_bench",
        type: "message",
        role: "assistant",
        model: "bench",
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 5, output_tokens: 1 },
      },
    }) +
    event("content_block_start", { index: 0, content_block: { type: "text", text: "" } }) +
    event("ping", {}),
  word: event("content_block_delta", { index: 0, delta: { type: "text_delta", text: "word " } }),
  end:
    event("content_block_stop", { index: 0 }) +
    event("message_delta", { delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: CHUNKS } }) +
    event("message_stop", {}),
};

function stream(res: ServerResponse, first: string, word: string, last: string, paced = false): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  res.write(first);
  if (!paced) {
    for (let i = 0; i < CHUNKS; i++) res.write(word);
    res.end(last);
    return;
  }
  // Chunk k leaves at k * PACE_MS after the first, measured from the start so timer drift does not add up.
  const start = performance.now();
  let sent = 0;
  const next = () => {
    if (res.destroyed) return;
    res.write(word);
    sent++;
    if (sent === CHUNKS) res.end(last);
    else setTimeout(next, Math.max(0, start + (sent + 1) * PACE_MS - performance.now()));
  };
  setTimeout(next, PACE_MS);
}

const server = createServer((req, res) => {
  if (req.method === "GET") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ object: "list", data: [{ id: "bench", object: "model", created, owned_by: "bench" }] }));
    return;
  }
  let body = "";
  req.setEncoding("utf8");
  req.on("data", (d) => {
    body += d;
  });
  req.on("end", () => {
    const streamed = body.includes('"stream":true');
    if (req.url?.endsWith("/messages")) {
      if (!streamed) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(anthropic.message);
      } else stream(res, anthropic.start, anthropic.word, anthropic.end);
      return;
    }
    if (!streamed) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(openai.completion);
      return;
    }
    if (body.includes('-broken"')) {
      // Half the words, then the connection drops: a stream that breaks mid-way.
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      res.write(openaiFirst);
      for (let i = 0; i < CHUNKS / 2; i++) res.write(openaiWord);
      setTimeout(() => res.socket?.destroy(), 1);
      return;
    }
    const usage = body.includes('"include_usage":true') ? openai.usage : "";
    stream(res, openaiFirst, openaiWord, `${openaiLast}${usage}data: [DONE]\n\n`, body.includes('-paced"'));
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === "object" && address ? address.port : 0 })}\n`);
});
