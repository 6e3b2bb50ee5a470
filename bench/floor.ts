/**
 * The floor under tandem's added latency and CPU: each step tandem must take for one `npm run bench`
 * request (a one-message chat completion, not streamed by the client, streamed from the upstream as
 * 20 words plus the role, finish and usage chunks), timed alone in a tight loop, in µs per request.
 * A tight loop is the best case (warm caches, no GC pressure from other work, no event loop): the
 * same steps inside a server cost more. Beside them, what the bare proxy does with a body.
 *
 *   npx tsx bench/floor.ts
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { StreamEvent } from "../src/core/index.js";
import { nativeOpenAIChatCompletion, nativeOpenAIChatRequest } from "../src/dialects/openai/native-openai-chat.js";
import { parseChatCompletionRequest } from "../src/dialects/openai/parse-chat-completion-request.js";
import { classifyRequest } from "../src/privacy/classify-request.js";
import { readSseBatches } from "../src/providers/http/sse.js";
import { readOpenAIChatStream } from "../src/providers/openai/read-openai-chat-stream.js";
import { nativeOpenAIChatBody } from "../src/providers/openai/tap-openai-chat.js";
import { AuditJournal } from "../src/store/audit-journal.js";
import { egressValues } from "../src/store/log-tables.js";

const N = Number(process.env.FLOOR_N ?? 20_000);
const CHUNKS = 20;
const body = JSON.stringify({
  model: "up/bench",
  messages: [{ role: "user", content: "Say something short." }],
  stream: false,
  max_tokens: 64,
});
const created = Math.floor(Date.now() / 1000);
const chunk = (delta: object, finish: string | null) =>
  `data: ${JSON.stringify({ id: "chatcmpl-bench", object: "chat.completion.chunk", created, model: "bench", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
const usage = `data: ${JSON.stringify({ id: "chatcmpl-bench", object: "chat.completion.chunk", created, model: "bench", choices: [], usage: { prompt_tokens: 5, completion_tokens: CHUNKS, total_tokens: 5 + CHUNKS } })}\n\n`;
const answer = Buffer.from(
  chunk({ role: "assistant", content: "" }, null) +
    chunk({ content: "word " }, null).repeat(CHUNKS) +
    chunk({}, "stop") +
    usage +
    "data: [DONE]\n\n",
);

async function time(name: string, step: () => unknown): Promise<number> {
  for (let i = 0; i < N / 4; i++) await step();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) await step();
  const us = Number(process.hrtime.bigint() - t0) / N / 1000;
  process.stdout.write(`${name.padEnd(64)} ${us.toFixed(1).padStart(6)} µs\n`);
  return us;
}

async function* once(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}

async function tap(): Promise<StreamEvent[]> {
  const events: StreamEvent[] = [];
  for await (const e of readOpenAIChatStream(readSseBatches(once(answer)), "up/bench", { frames: true })) events.push(e);
  return events;
}

const dataDir = mkdtempSync(join(tmpdir(), "tandem-floor-"));
const journal = new AuditJournal(dataDir, randomBytes(32));
try {
  const parsed = JSON.parse(body) as Record<string, unknown>;
  const { chat } = parseChatCompletionRequest(parsed);
  const native = nativeOpenAIChatRequest(parsed, { "content-type": "application/json" });
  const upstreamBody = JSON.stringify(nativeOpenAIChatBody(native, "bench", false));
  const frames = (await tap()).filter((e): e is Extract<StreamEvent, { type: "frame" }> => e.type === "frame");
  process.stdout.write(`tandem's steps for one bench request (${N} each, tight loop):\n`);
  const steps = [
    await time("parse the body (JSON.parse)", () => JSON.parse(body)),
    await time("validate it and build the canonical request", () => parseChatCompletionRequest(JSON.parse(body))),
    await time("privacy: classify the request", () => classifyRequest(chat)),
    await time("upstream body: the client's, model and stream options set", () =>
      JSON.stringify(nativeOpenAIChatBody(native, "bench", false)),
    ),
    await time("audit: SHA-256 of the body sent", () => createHash("sha256").update(upstreamBody).digest("hex")),
    await time("audit: the row, encrypted, appended to the journal (write(2))", () =>
      journal.append(egressValues({ target: "up/bench", sensitivity: "public", sha256: "0".repeat(64), bytes: 100 }) as never),
    ),
    await time("tap: 23 SSE messages parsed into events and frames", tap),
    await time("the client's completion assembled from the frames, serialized", () =>
      JSON.stringify(nativeOpenAIChatCompletion(frames, { target: "up/bench" })),
    ),
  ];
  const total = steps.reduce((a, b) => a + b, 0);
  process.stdout.write(`${"sum".padEnd(64)} ${total.toFixed(1).padStart(6)} µs\n\n`);
  process.stdout.write("the bare proxy's steps:\n");
  await time("parse the body and serialize it again", () => JSON.stringify(JSON.parse(body)));
  process.stdout.write(
    "\nNot counted: HTTP in and out (the same for both), the deadline and its timers, the log line,\nmetrics, the request log and usage rows, promises and async iteration between the steps, GC.\n",
  );
} finally {
  journal.close();
  rmSync(dataDir, { recursive: true, force: true });
}
