/**
 * A fast OpenAI-compatible upstream for the benchmark: fixed answers, no work, so what is measured
 * is the path between the client and it. Streams `CHUNKS` chunks, flushing each as it is written.
 */
import { createServer } from "node:http";

const CHUNKS = Number(process.env.BENCH_CHUNKS ?? 20);
const created = Math.floor(Date.now() / 1000);
const completion = JSON.stringify({
  id: "chatcmpl-bench",
  object: "chat.completion",
  created,
  model: "bench",
  choices: [{ index: 0, message: { role: "assistant", content: "word ".repeat(CHUNKS).trim() }, finish_reason: "stop" }],
  usage: { prompt_tokens: 5, completion_tokens: CHUNKS, total_tokens: 5 + CHUNKS },
});
const chunk = (delta: object, finish: string | null) =>
  `data: ${JSON.stringify({ id: "chatcmpl-bench", object: "chat.completion.chunk", created, model: "bench", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
const first = chunk({ role: "assistant", content: "" }, null);
const word = chunk({ content: "word " }, null);
const last = chunk({}, "stop");
const usage = `data: ${JSON.stringify({ id: "chatcmpl-bench", object: "chat.completion.chunk", created, model: "bench", choices: [], usage: { prompt_tokens: 5, completion_tokens: CHUNKS, total_tokens: 5 + CHUNKS } })}\n\n`;

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
    const stream = body.includes('"stream":true');
    if (!stream) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(completion);
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    res.write(first);
    for (let i = 0; i < CHUNKS; i++) res.write(word);
    res.write(last);
    if (body.includes('"include_usage":true')) res.write(usage);
    res.end("data: [DONE]\n\n");
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === "object" && address ? address.port : 0 })}\n`);
});
