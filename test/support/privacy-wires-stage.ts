/**
 * The stage of the privacy tests that follow one request field across every wire: a cloud target per
 * wire (`up/gpt` and `up/emb` OpenAI-compatible, `an/claude` Anthropic, `ol/llama` Ollama, `rs/gpt`
 * Responses-native), a local one (`home/m`, `home/emb`), and tandem with its encrypted store and
 * `privacy.default: local-only`. Routes: `guarded-<wire>` (the cloud target first, then the local
 * one, local-only), `cloud-only-up` (local-only with no local target), `redact-<wire>` (redact), and
 * `guarded-emb` / `redact-emb` for embeddings; one attempt each and short stall limits.
 */
import { type FakeAnthropic, startFakeAnthropic } from "./fake-anthropic-upstream.js";
import { type FakeOllamaUpstream, startFakeOllama } from "./fake-ollama-upstream.js";
import { type FakeResponsesUpstream, startFakeOpenAIResponses } from "./fake-openai-responses-upstream.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "./fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "./tandem.js";

export interface PrivacyWiresStage {
  cloud: FakeOpenAIUpstream;
  home: FakeOpenAIUpstream;
  claude: FakeAnthropic;
  ollamaCloud: FakeOllamaUpstream;
  native: FakeResponsesUpstream;
  tandem: RunningTandem;
  close(): Promise<void>;
}

/** `log`: where the server's log lines go, for a test that checks them. */
export async function startPrivacyWiresStage(options: { log?: string[] } = {}): Promise<PrivacyWiresStage> {
  const [cloud, home, claude, ollamaCloud, native] = await Promise.all([
    startFakeOpenAI({ models: ["gpt-up", "emb-up"] }),
    startFakeOpenAI({ models: ["home-m", "home-emb"] }),
    startFakeAnthropic({ models: ["claude-up"] }),
    startFakeOllama(),
    startFakeOpenAIResponses({ models: ["gpt-5-mini"] }),
  ]);
  const once = { retry: { attempts: 1 }, timeouts: { firstTokenMs: 5000, idleMs: 5000 } };
  const tandem = await startTandem(
    {
      privacy: { default: "local-only" },
      providers: {
        up: { kind: "openai", baseUrl: cloud.url, local: false, models: { gpt: { id: "gpt-up" }, emb: { id: "emb-up" } } },
        home: { kind: "openai", baseUrl: home.url, local: true, models: { m: { id: "home-m" }, emb: { id: "home-emb" } } },
        an: {
          kind: "anthropic",
          baseUrl: claude.url,
          local: false,
          apiKeys: ["env:UP_ANTHROPIC"],
          models: { claude: { id: "claude-up" } },
        },
        ol: { kind: "ollama", baseUrl: ollamaCloud.url, local: false, models: { llama: { id: "llama3.2:latest" } } },
        rs: { kind: "openai", baseUrl: native.url, responses: true, local: false, models: { gpt: { id: "gpt-5-mini" } } },
      },
      routes: {
        // Cloud first: a private request is sent to the local target only.
        "guarded-up": { tiers: ["up/gpt", "home/m"], privacy: "local-only", ...once },
        "guarded-an": { tiers: ["an/claude", "home/m"], privacy: "local-only", ...once },
        "guarded-ol": { tiers: ["ol/llama", "home/m"], privacy: "local-only", ...once },
        "guarded-rs": { tiers: ["rs/gpt", "home/m"], privacy: "local-only", ...once },
        "cloud-only-up": { tiers: ["up/gpt"], privacy: "local-only", ...once },
        "redact-up": { tiers: ["up/gpt"], privacy: "redact", ...once },
        "redact-an": { tiers: ["an/claude"], privacy: "redact", ...once },
        "redact-ol": { tiers: ["ol/llama"], privacy: "redact", ...once },
        "redact-rs": { tiers: ["rs/gpt"], privacy: "redact", ...once },
        "guarded-emb": { tiers: ["up/emb", "home/emb"], privacy: "local-only", ...once },
        "redact-emb": { tiers: ["up/emb"], privacy: "redact", ...once },
      },
    },
    { store: true, ...(options.log !== undefined && { log: options.log }), env: { UP_ANTHROPIC: "sk-ant-upstream" } },
  );
  return {
    cloud,
    home,
    claude,
    ollamaCloud,
    native,
    tandem,
    close: async () => {
      await tandem.close();
      await Promise.all([cloud.close(), home.close(), claude.close(), ollamaCloud.close(), native.close()]);
    },
  };
}
