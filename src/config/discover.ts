import type { ConfigInput } from "./schema.js";

/** Cheap default models for providers found through their standard env keys. */
export const DEFAULT_MODELS = {
  openai: "gpt-4o-mini",
  anthropic: "claude-haiku-4-5",
  openrouter: "openai/gpt-4o-mini",
} as const;

export interface DiscoveryOptions {
  env: NodeJS.ProcessEnv;
  /** Whether an Ollama answers at the given origin (probed by the caller, so tests can decide). */
  ollamaAt?: string;
  /** The models that Ollama has, first one preferred. */
  ollamaModels?: string[];
  /** GGUF models in the data dir (names without `.gguf`), for the embedded engine. */
  localModels?: string[];
  /** The local model to put first when present. */
  preferredLocal?: string;
}

/**
 * The configuration used when there is no config file at all: the embedded engine over the data
 * dir's models, cloud providers whose standard env key is set, an Ollama if one answers, and a route
 * `auto` over them, local first.
 */
export function discoverConfig({
  env,
  ollamaAt,
  ollamaModels = [],
  localModels = [],
  preferredLocal,
}: DiscoveryOptions): ConfigInput {
  const providers: NonNullable<ConfigInput["providers"]> = {};
  const tiers: string[] = [];
  // The embedded engine is always there, so `tandem models pull` and Ollama's /api/pull have somewhere to put models.
  providers.local = { kind: "llamacpp" };
  if (localModels.length > 0) {
    tiers.push(`local/${preferredLocal && localModels.includes(preferredLocal) ? preferredLocal : localModels[0]}`);
  }
  if (ollamaAt) {
    providers.ollama = { kind: "ollama", baseUrl: ollamaAt };
    const first = ollamaModels[0];
    if (first) tiers.push(`ollama/${first}`);
  }
  if (env.OPENAI_API_KEY) {
    providers.openai = {
      kind: "openai",
      baseUrl: env.OPENAI_BASE_URL || "https://api.openai.com/v1",
      apiKeys: ["env:OPENAI_API_KEY"],
    };
    tiers.push(`openai/${DEFAULT_MODELS.openai}`);
  }
  if (env.OPENROUTER_API_KEY) {
    providers.openrouter = { kind: "openai", baseUrl: "https://openrouter.ai/api/v1", apiKeys: ["env:OPENROUTER_API_KEY"] };
    tiers.push(`openrouter/${DEFAULT_MODELS.openrouter}`);
  }
  if (env.ANTHROPIC_API_KEY) {
    providers.claude = {
      kind: "anthropic",
      baseUrl: env.ANTHROPIC_BASE_URL || "https://api.anthropic.com",
      apiKeys: ["env:ANTHROPIC_API_KEY"],
    };
    tiers.push(`claude/${DEFAULT_MODELS.anthropic}`);
  }
  return { providers, routes: tiers.length > 0 ? { auto: { tiers } } : {} };
}

/** Ollama's address from OLLAMA_HOST (which may omit the scheme or port), else the default. */
export function ollamaOrigin(env: NodeJS.ProcessEnv): string {
  const host = env.OLLAMA_HOST?.trim();
  if (!host) return "http://127.0.0.1:11434";
  const withScheme = /^https?:\/\//.test(host) ? host : `http://${host}`;
  const url = new URL(withScheme);
  if (!url.port && !/^https?:\/\/[^/]+:\d+/.test(withScheme)) url.port = "11434";
  return url.origin;
}

/** The model names of an Ollama at the origin, or undefined when none answers within the time limit. */
export async function probeOllama(origin: string, timeoutMs = 300): Promise<string[] | undefined> {
  try {
    const res = await fetch(`${origin}/api/tags`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) {
      await res.body?.cancel();
      return undefined;
    }
    const body = (await res.json()) as { models?: { name?: unknown }[] };
    return (body.models ?? []).map((m) => m.name).filter((n): n is string => typeof n === "string");
  } catch {
    return undefined;
  }
}
