/**
 * The fake upstreams the token-logprobs e2e tests share: an OpenAI-compatible one and an Ollama one
 * (each reports logprobs when asked, one token per stream piece: see fakeLogprobs) and an Anthropic
 * one (which cannot), all scripted to answer PIECES, and a real tandem over them, whose providers
 * name them `openai/gpt-4o-mini`, `anthropic/claude-haiku-4-5` and `ollama/llama3.2:latest`.
 */
import assert from "node:assert/strict";
import type { ConfigInput } from "../../src/config/index.js";
import { type FakeAnthropic, startFakeAnthropic } from "./fake-anthropic-upstream.js";
import { type FakeOllamaUpstream, startFakeOllama } from "./fake-ollama-upstream.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "./fake-openai-upstream.js";
import type { RecordedRequest } from "./fake-upstream.js";
import { type RunningTandem, startTandem } from "./tandem.js";

export const OPENAI = "openai/gpt-4o-mini";
export const ANTHROPIC = "anthropic/claude-haiku-4-5";
export const OLLAMA = "ollama/llama3.2:latest";
/** The fakes' stream pieces; each is one token of the answer. */
export const PIECES = ["Bon", "jour", " à", " vous"];
export const TEXT = PIECES.join("");

export interface LogprobsTandem {
  tandem: RunningTandem;
  openai: FakeOpenAIUpstream;
  anthropic: FakeAnthropic;
  ollama: FakeOllamaUpstream;
  /** Forgets what each fake saw and scripts each to answer PIECES again (for a beforeEach). */
  reset(): void;
  /** Closes tandem, then the fakes. */
  close(): Promise<void>;
}

/** The fakes and a tandem over them, with the test's `routes` (and startTandem's options but env). */
export async function startLogprobsTandem(
  routes: ConfigInput["routes"],
  options: Omit<Parameters<typeof startTandem>[1], "env"> = {},
): Promise<LogprobsTandem> {
  const [openai, anthropic, ollama] = await Promise.all([
    startFakeOpenAI({ models: ["gpt-4o-mini"] }),
    startFakeAnthropic({ models: ["claude-haiku-4-5"] }),
    startFakeOllama({ models: ["llama3.2:latest"] }),
  ]);
  const fakes = [openai, anthropic, ollama];
  const tandem = await startTandem(
    {
      providers: {
        openai: { kind: "openai", baseUrl: openai.url, apiKeys: ["env:UP_OPENAI"], local: false },
        anthropic: { kind: "anthropic", baseUrl: anthropic.url, apiKeys: ["env:UP_ANTHROPIC"] },
        ollama: { kind: "ollama", baseUrl: ollama.url, models: ["llama3.2:latest"] },
      },
      routes,
    },
    { ...options, env: { UP_OPENAI: "sk-upstream-openai", UP_ANTHROPIC: "sk-ant-upstream" } },
  );
  return {
    tandem,
    openai,
    anthropic,
    ollama,
    reset() {
      for (const fake of fakes) {
        fake.requests.length = 0;
        fake.script(() => ({ kind: "text", text: TEXT, chunks: PIECES, usage: { input: 9, output: 4 } }));
      }
    },
    async close() {
      await tandem.close();
      await Promise.all(fakes.map((fake) => fake.close()));
    },
  };
}

/** The body of the last POST a fake saw. */
export function lastPostBody(fake: { requests: RecordedRequest[] }): Record<string, unknown> {
  const last = fake.requests.filter((r) => r.method === "POST").at(-1);
  assert.ok(last, "the upstream saw a request");
  return last.body as Record<string, unknown>;
}
