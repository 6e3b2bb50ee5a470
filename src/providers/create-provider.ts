import type { ProviderConfig } from "../config/index.js";
import { KeyPool, parseKeyRef } from "../secrets/index.js";
import { AnthropicProvider } from "./anthropic/index.js";
import { LlamaCppProvider } from "./llamacpp/index.js";
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

export interface CreateProviderOptions {
  env?: NodeJS.ProcessEnv;
  /** Where relative model paths and pulled models live. */
  dataDir: string;
  /** Where the local engine's own log lines go. */
  onEngineLog?: (line: string) => void;
}

export function createProvider(name: string, config: ProviderConfig, options: CreateProviderOptions): ProviderSlot {
  const env = options.env ?? process.env;
  if (config.kind === "llamacpp") {
    const provider = new LlamaCppProvider({
      id: name,
      dataDir: options.dataDir,
      models: config.models,
      threads: config.threads,
      gpu: config.gpu,
      parallel: config.parallel,
      maxQueue: config.maxQueue,
      keepAliveMs: config.keepAliveMs,
      hangTimeoutMs: config.hangTimeoutMs,
      onLog: options.onEngineLog,
      env,
    });
    return { name, config, provider, keys: new KeyPool([], env) };
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
