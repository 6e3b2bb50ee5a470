/**
 * node-llama-cpp called directly, the way tandem's engine calls it (same model, threads, context
 * size, chat wrapper and greedy sampling), as the baseline for the local-engine figures. Prints one
 * JSON line: time to first token and tokens/s per run.
 * Usage: local-direct.ts <model.gguf> <maxTokens> <runs>
 */
import { getLlama, LlamaChat, LlamaLogLevel } from "node-llama-cpp";
import { BENCH_PROMPT } from "./local-prompt.js";

const [path, maxTokensArg, runsArg] = process.argv.slice(2);
if (!path) throw new Error("usage: local-direct.ts <model.gguf> <maxTokens> <runs>");
const maxTokens = Number(maxTokensArg ?? 400);
const runs = Number(runsArg ?? 5);

const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath: path });
const context = await model.createContext({ contextSize: 1024, sequences: 1, threads: 1 });
const sequence = context.getSequence();
const out: { ttftMs: number; tokensPerSecond: number; tokens: number }[] = [];
for (let i = 0; i < runs + 1; i++) {
  // A fresh chat on a cleared sequence each time, as a new request would be.
  await sequence.clearHistory();
  const chat = new LlamaChat({ contextSequence: sequence, autoDisposeSequence: false });
  const t0 = performance.now();
  let first = 0;
  let last = 0;
  let tokens = 0;
  await chat.generateResponse(
    [
      { type: "user", text: BENCH_PROMPT },
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
  chat.dispose({ disposeSequence: false });
  // The first run warms caches and is not counted, as tandem's warm-up request is not.
  if (i > 0) out.push({ ttftMs: first - t0, tokensPerSecond: (tokens - 1) / ((last - first) / 1000), tokens });
}
process.stdout.write(`${JSON.stringify(out)}\n`);
await context.dispose();
await model.dispose();
