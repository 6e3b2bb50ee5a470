import type { DiscoveryFindings } from "../providers/provider-kind.js";
import { discoverProviders } from "../providers/registry.js";
import type { ConfigInput } from "./schema.js";

/** What the loader found: env keys, an answering Ollama, the data dir's GGUF models. */
export type DiscoveryOptions = DiscoveryFindings;

/**
 * The configuration used when there is no config file at all: each registered kind's own discovery
 * (the embedded engine over the data dir's models, cloud providers whose standard env key is set, an
 * Ollama if one answers), and a route `auto` over what they offer, local first.
 */
export function discoverConfig(options: DiscoveryOptions): ConfigInput {
  const providers: NonNullable<ConfigInput["providers"]> = {};
  const tiers: string[] = [];
  for (const found of discoverProviders(options)) {
    providers[found.name] = found.config;
    if (found.tier) tiers.push(`${found.name}/${found.tier}`);
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
