/**
 * node-llama-cpp called directly, the way tandem's engine calls it (same model, threads, context
 * size, chat wrapper and greedy sampling, and one sequence that each request gets a new LlamaChat
 * on, so a prompt's shared prefix is reused as in tandem), as the baseline for the local-engine
 * figures. Driven over stdin so its runs interleave one by one with tandem's: each input line is a
 * prompt (a JSON string), each answer one JSON line with time to first token, tokens/s and tokens.
 * It prints {"ready":true} once the model is loaded and one run has warmed it up (as tandem's
 * warm-up request is not counted either), and exits when stdin ends.
 * Usage: local-direct.ts <model.gguf> <maxTokens>
 */
import { createInterface } from "node:readline";
import { getLlama, LlamaChat, LlamaLogLevel } from "node-llama-cpp";
import { BENCH_PROMPT } from "./local-prompt.js";

const [path, maxTokensArg] = process.argv.slice(2);
if (!path) throw new Error("usage: local-direct.ts <model.gguf> <maxTokens>");
const maxTokens = Number(maxTokensArg ?? 400);

const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath: path });
const context = await model.createContext({ contextSize: 1024, sequences: 1, threads: 1 });
const sequence = context.getSequence();

async function run(prompt: string): Promise<{ ttftMs: number; tokensPerSecond: number; tokens: number }> {
  const chat = new LlamaChat({ contextSequence: sequence, autoDisposeSequence: false });
  const t0 = performance.now();
  let first = 0;
  let last = 0;
  let tokens = 0;
  try {
    await chat.generateResponse(
      [
        { type: "user", text: prompt },
        { type: "model", response: [] },
      ],
      {
        maxTokens,
        temperature: 0,
        onTextChunk: () => {
          last = performance.now();
          if (!first) first = last;
        },
        onToken: (t) => {
          tokens += t.length;
        },
      },
    );
  } finally {
    chat.dispose({ disposeSequence: false });
  }
  return { ttftMs: first - t0, tokensPerSecond: (tokens - 1) / ((last - first) / 1000), tokens };
}

await run(`Warm-up. ${BENCH_PROMPT}`);
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === "") continue;
  process.stdout.write(`${JSON.stringify(await run(JSON.parse(line) as string))}\n`);
}
await context.dispose();
await model.dispose();
