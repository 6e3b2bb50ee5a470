import type { ConfigInput } from "../../src/config/index.js";
import { type FakeAnthropic, startFakeAnthropic } from "./fake-anthropic-upstream.js";
import { type FakeOllamaUpstream, startFakeOllama } from "./fake-ollama-upstream.js";
import { type FakeResponsesUpstream, startFakeOpenAIResponses } from "./fake-openai-responses-upstream.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "./fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "./tandem.js";

/** One fake upstream per wire behind one tandem: what a test of a request crossing to every kind of target needs. */
export interface EveryWireStage {
  /** `claude/claude-sonnet-4-5`: Anthropic's Messages API. */
  claude: FakeAnthropic;
  /** `oai/gpt-4o-mini`: an OpenAI-compatible chat upstream. */
  oai: FakeOpenAIUpstream;
  /** `codex/gpt-5-codex`: an upstream that speaks only the Responses API (answers "Fine."). */
  codex: FakeResponsesUpstream;
  /** `ollama/llama3.2:latest`: Ollama's API. */
  ollama: FakeOllamaUpstream;
  tandem: RunningTandem;
  close(): Promise<void>;
}

/** Starts the four fakes and a tandem over them; `routes`, when given, are the config's. */
export async function startEveryWireStage(routes?: ConfigInput["routes"]): Promise<EveryWireStage> {
  const [claude, oai, codex, ollama] = await Promise.all([
    startFakeAnthropic({ models: ["claude-sonnet-4-5"] }),
    startFakeOpenAI({ models: ["gpt-4o-mini"] }),
    startFakeOpenAIResponses({ models: ["gpt-5-codex"] }),
    startFakeOllama({ models: ["llama3.2:latest"] }),
  ]);
  codex.script(() => ({ kind: "answer", text: "Fine." }));
  const tandem = await startTandem(
    {
      providers: {
        claude: { kind: "anthropic", baseUrl: claude.url, apiKeys: ["env:UP"], models: ["claude-sonnet-4-5"] },
        oai: { kind: "openai", baseUrl: oai.url, apiKeys: ["env:UP"], models: ["gpt-4o-mini"] },
        codex: { kind: "openai", baseUrl: codex.url, apiKeys: ["env:UP"], responses: "only", models: ["gpt-5-codex"] },
        ollama: { kind: "ollama", baseUrl: ollama.url, models: ["llama3.2:latest"] },
      },
      ...(routes !== undefined && { routes }),
    },
    { env: { UP: "sk-upstream" } },
  );
  return {
    claude,
    oai,
    codex,
    ollama,
    tandem,
    close: async () => {
      await tandem.close();
      await Promise.all([claude.close(), oai.close(), codex.close(), ollama.close()]);
    },
  };
}
