import type { ProviderConfig } from "../config/index.js";
import { KeyPool, parseKeyRef } from "../secrets/index.js";
import { AnthropicProvider } from "./anthropic/index.js";
import { OllamaProvider } from "./ollama/index.js";
import { OpenAIProvider } from "./openai/index.js";
import type { Provider } from "./provider.js";

/** A provider built from config, or the reason it cannot run in this build. */
export type ProviderSlot =
  | { name: string; config: ProviderConfig; provider: Provider; keys: KeyPool }
  | {
      name: string;
      config: ProviderConfig;
      provider: undefined;
      unavailable: string;
    };

export function createProvider(name: string, config: ProviderConfig, env: NodeJS.ProcessEnv = process.env): ProviderSlot {
  if (config.kind === "llamacpp") {
    return {
      name,
      config,
      provider: undefined,
      unavailable:
        "the embedded llama.cpp engine is not part of this build yet; use an ollama or OpenAI-compatible provider for local models",
    };
  }
  const keys = new KeyPool(
    config.apiKeys.map((ref) => parseKeyRef(ref)).filter((r) => r !== undefined),
    env,
  );
  const common = {
    id: name,
    baseUrl: config.baseUrl,
    apiKey: () => keys.require(name),
    headers: config.headers,
    connectTimeoutMs: config.connectTimeoutMs,
  };
  switch (config.kind) {
    case "openai":
      return { name, config, keys, provider: new OpenAIProvider(common) };
    case "anthropic":
      return {
        name,
        config,
        keys,
        provider: new AnthropicProvider({
          ...common,
          anthropicVersion: config.anthropicVersion,
          defaultMaxTokens: config.defaultMaxTokens,
        }),
      };
    case "ollama":
      return { name, config, keys, provider: new OllamaProvider(common) };
  }
}
