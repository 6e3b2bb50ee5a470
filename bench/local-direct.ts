/**
 * node-llama-cpp called directly, the way tandem's engine calls it (same model, threads, context
 * size, chat wrapper and greedy sampling, and one sequence that each request gets a new LlamaChat
 * on, so a prompt's shared prefix is reused as in tandem), as the baseline for the local-engine
 * figures. Driven over stdin so its runs interleave one by one with tandem's: each input line is a
 * prompt (a JSON string), each answer one JSON line with time to first token, tokens/s and tokens.
 * It prints {"ready":true} once the model is loaded and one run has warmed it up (as tandem's
 * warm-up request is not counted either), and exits when stdin ends.
 * Usage: local-direct.ts <model.gguf> <maxTokens> [threads] [mode]
 *
 * `mode` peels tandem's layers off one at a time, for bench/local-ttft.ts: `direct` (default) is
 * node-llama-cpp alone; `worker` runs tandem's own engine code (ModelHost, generateChat: its chat
 * history, sampling options, context-shift guard) in this process; `provider` drives tandem's
 * LlamaCppProvider, so the engine is its child process and every event crosses IPC. Only HTTP, the
 * router and the dialect are left for a full tandem server to add.
 */
import { createInterface } from "node:readline";
import { getLlama, LlamaChat, LlamaLogLevel } from "node-llama-cpp";
import type { ProviderChatRequest } from "../src/core/index.js";
import { LlamaCppProvider } from "../src/providers/llamacpp/index.js";
import { generateChat } from "../src/providers/llamacpp/worker/generate-chat.js";
import { ModelHost } from "../src/providers/llamacpp/worker/model-host.js";
import { BENCH_PROMPT } from "./local-prompt.js";

const [path, maxTokensArg, threadsArg, modeArg] = process.argv.slice(2);
if (!path) throw new Error("usage: local-direct.ts <model.gguf> <maxTokens> [threads] [mode]");
const maxTokens = Number(maxTokensArg ?? 400);
const mode = (modeArg ?? "direct") as "direct" | "worker" | "provider";

// 0 or absent: llama.cpp's default threads (its math cores), as tandem's engine takes when unset.
const llama = mode === "provider" ? undefined : await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
const threads =
  Number(threadsArg ?? 1) || (llama ? Math.min(llama.cpuMathCores, (await import("node:os")).availableParallelism()) : undefined);

type Run = { ttftMs: number; tokensPerSecond: number; tokens: number };

function chatRequest(prompt: string): ProviderChatRequest {
  return {
    model: "local/bench",
    upstreamModel: "bench",
    messages: [{ role: "user", content: [{ type: "text", text: prompt }] }],
    stream: true,
    maxTokens,
    temperature: 0,
  };
}

/** Times one request whose events arrive through `events` (text events counted as tandem's client counts content chunks). */
async function timeEvents(events: AsyncIterable<{ type: string; text?: string }>): Promise<Run> {
  const t0 = performance.now();
  let first = 0;
  let last = 0;
  let tokens = 0;
  for await (const ev of events) {
    if (ev.type === "text-delta" && ev.text) {
      last = performance.now();
      if (!first) first = last;
    }
    if (ev.type === "usage") tokens = (ev as unknown as { usage: { outputTokens: number } }).usage.outputTokens;
  }
  return { ttftMs: first - t0, tokensPerSecond: (tokens - 1) / ((last - first) / 1000), tokens };
}

let run: (prompt: string) => Promise<Run>;
let close: () => Promise<void>;
if (mode === "provider") {
  const provider = new LlamaCppProvider({
    id: "local",
    dataDir: process.cwd(),
    threads,
    parallel: 1,
    gpu: false,
    models: { bench: { path, contextSize: 1024 } },
  });
  run = (prompt) => timeEvents(provider.chat(chatRequest(prompt), new AbortController().signal));
  close = () => provider.close();
} else if (mode === "worker") {
  const host = new ModelHost(llama as NonNullable<typeof llama>, () => {});
  const loaded = await host.get({ name: "bench", path, contextSize: 1024, parallel: 1, threads, gpuLayers: 0, generation: 0 });
  run = (prompt) => {
    const queue: { type: string; text?: string }[] = [];
    let wake: (() => void) | undefined;
    let done = false;
    void generateChat(loaded, chatRequest(prompt), new AbortController().signal, (ev) => {
      queue.push(ev as { type: string; text?: string });
      wake?.();
    }).finally(() => {
      done = true;
      wake?.();
    });
    return timeEvents(
      (async function* () {
        for (;;) {
          while (queue.length) yield queue.shift() as { type: string; text?: string };
          if (done) return;
          await new Promise<void>((r) => {
            wake = r;
          });
        }
      })(),
    );
  };
  close = () => host.unload("bench").then(() => undefined);
} else {
  run = directRun;
  close = async () => {
    await context?.dispose();
    await model?.dispose();
  };
}

const model = mode === "direct" ? await llama?.loadModel({ modelPath: path }) : undefined;
const context = await model?.createContext({ contextSize: 1024, sequences: 1, threads });
const sequence = context?.getSequence();

async function directRun(prompt: string): Promise<Run> {
  if (!sequence) throw new Error("no sequence");
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
await close();
