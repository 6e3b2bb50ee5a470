import type { ProviderConfig } from "../config/index.js";
import { rememberSecret } from "../core/index.js";
import { KeyPool, type KeySources, parseKeyRef } from "../secrets/index.js";
import { AnthropicProvider } from "./anthropic/index.js";
import type { AnswerLimits } from "./http/answer-limits.js";
import { KeyRotation } from "./key-rotation.js";
import { LlamaCppProvider } from "./llamacpp/index.js";
import { OllamaProvider } from "./ollama/index.js";
import { OpenAIProvider } from "./openai/index.js";
import type { Provider } from "./provider.js";

/** Header names whose values are credentials. */
const SECRET_HEADER = /auth|key|token|secret|cookie|session|signature|password/i;

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
  /** Told when a request moved on to a provider's next key (reason: the error code). */
  onKeyRotation?: (provider: string, reason: string) => void;
  /** Where `keychain:` and `store:` key references are read (default: the OS keychain; no store). */
  keySources?: KeySources;
  /** How much of an upstream's answer is held at once (config `limits`). Default: the config's defaults. */
  limits?: AnswerLimits;
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
      gpuLayers: config.gpuLayers,
      parallel: config.parallel,
      maxQueue: config.maxQueue,
      keepAliveMs: config.keepAliveMs,
      hangTimeoutMs: config.hangTimeoutMs,
      onLog: options.onEngineLog,
      env,
    });
    return { name, config, provider, keys: new KeyPool([], env) };
  }
  // Configured headers that carry credentials (a gateway's own key, a proxy's token) are secrets too.
  for (const [name, value] of Object.entries(config.headers ?? {})) {
    if (SECRET_HEADER.test(name)) rememberSecret(value.replace(/^(Bearer|Basic)\s+/i, ""));
  }
  const keys = new KeyPool(
    config.apiKeys.map((ref) => parseKeyRef(ref)).filter((r) => r !== undefined),
    env,
    options.keySources,
  );
  // Several keys form a pool: a refused or rate-limited key rests and the request goes on with the next.
  const rotation = new KeyRotation(name, keys, options.onKeyRotation && ((reason) => options.onKeyRotation?.(name, reason)));
  const common = {
    id: name,
    baseUrl: config.baseUrl,
    apiKey: rotation.apiKey,
    headers: config.headers,
    connectTimeoutMs: config.connectTimeoutMs,
    ...(options.limits && { limits: options.limits }),
  };
  switch (config.kind) {
    case "openai":
      return {
        name,
        config,
        keys,
        provider: rotation.wrap(
          new OpenAIProvider({ ...common, ...(config.responses !== undefined && { responses: config.responses }) }),
        ),
      };
    case "anthropic":
      return {
        name,
        config,
        keys,
        provider: rotation.wrap(
          new AnthropicProvider({
            ...common,
            anthropicVersion: config.anthropicVersion,
            defaultMaxTokens: config.defaultMaxTokens,
          }),
        ),
      };
    case "ollama":
      return { name, config, keys, provider: rotation.wrap(new OllamaProvider(common)) };
  }
}
