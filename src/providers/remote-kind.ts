import { z } from "zod";
import { MAX_TIMER_MS, rememberSecret, TIMER_MS_MESSAGE } from "../core/index.js";
import { KeyPool, keyRefSchema, parseKeyRef } from "../secrets/index.js";
import type { AnswerLimits } from "./http/answer-limits.js";
import { KeyRotation } from "./key-rotation.js";
import type { ApiKeySource, Provider } from "./provider.js";
import type { BuiltProvider, ConfiguredModel, ProviderContext, ProviderKindCapabilities } from "./provider-kind.js";

/*
 * What the HTTP kinds (openai, anthropic, ollama) share: the config fields of a remote upstream, and
 * building one behind its key pool.
 */

/**
 * A remote kind's `baseUrl`: an http or https URL, the only schemes its HTTP client speaks. Another
 * (`ftp:`, `file:`, `ws:`) passes zod's url() yet fails every request to the provider, so it is
 * refused at load, with the field's path, rather than found by a client as an internal error.
 */
export function httpBaseUrl() {
  return (
    z
      .url()
      // zod runs this check after a failed url() too: a text that is no URL is that one's to report.
      .refine((url) => !URL.canParse(url) || /^https?:$/i.test(new URL(url).protocol), "expected an http or https URL")
  );
}

/** A remote model: the alias clients use maps to the upstream's id (default: the alias itself). */
const remoteModel = z.strictObject({
  /** The upstream's model id. Default: the model's key in `models`. */
  id: z.string().min(1).optional(),
  /** Context window in tokens, when known (used to fit conversations). */
  contextWindow: z.number().int().positive().optional(),
  /** US dollars per million tokens, for the store's cost per target. Default: unknown (no cost recorded). */
  price: z.strictObject({ input: z.number().min(0), output: z.number().min(0) }).optional(),
  /**
   * What the model can do, when known: a route skips it (saying why in x-tandem-degraded) for a
   * request it cannot serve, instead of spending an attempt on the upstream's refusal. Each is
   * unknown by default (the model is tried).
   */
  capabilities: z
    .strictObject({
      /** Reads images. */
      vision: z.boolean().optional(),
      /** Calls tools (function calling). */
      tools: z.boolean().optional(),
      /** JSON mode and JSON schema output (`response_format`, Anthropic tool-forced JSON, Ollama `format`). */
      json: z.boolean().optional(),
    })
    .optional(),
});

/** `models` as a map `{alias: {id?, contextWindow?}}` or a plain list of upstream ids. */
const remoteModels = z
  .union([z.array(z.string().min(1)), z.record(z.string().min(1), remoteModel.nullable())])
  .transform((value): Record<string, z.infer<typeof remoteModel>> => {
    if (Array.isArray(value)) return Object.fromEntries(value.map((id) => [id, {}]));
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, v ?? {}]));
  });

/** The config fields every remote kind has besides `kind` and `baseUrl`. */
export const remoteConfigFields = {
  /** API keys, tried in order: `env:NAME`, `keychain:NAME`, `store:NAME`. Default: none. */
  apiKeys: z.array(keyRefSchema).default([]),
  /** Extra headers sent upstream (e.g. OpenRouter's HTTP-Referer). Default: none. */
  headers: z.record(z.string(), z.string()).default({}),
  /** Models offered. Default: discovered from the upstream's model list. */
  models: remoteModels.optional(),
  /** Milliseconds to establish a connection. Default 10000. */
  connectTimeoutMs: z.number().int().max(MAX_TIMER_MS, TIMER_MS_MESSAGE).positive().default(10_000),
  /**
   * Whether this upstream runs on this machine (local-only routing, `x-tandem-prefer: local`, network
   * loss). Default: true for a loopback address, false otherwise (a tunnel to a remote API says false).
   */
  local: z.boolean().optional(),
};

/** A remote kind's config as parsed: its own fields plus these. */
export interface RemoteConfig {
  baseUrl: string;
  apiKeys: string[];
  headers: Record<string, string>;
  models?: Record<string, ConfiguredModel>;
  connectTimeoutMs: number;
  local?: boolean;
}

/** What a remote kind is: somewhere else unless its address says otherwise, priced by its config, its models asked for once. */
export const REMOTE_CAPABILITIES: ProviderKindCapabilities = { local: false, pricing: "configured", discovery: "upstream" };

/** The options every remote provider class takes, built from its config. */
export interface RemoteOptions {
  id: string;
  baseUrl: string;
  apiKey: ApiKeySource;
  headers: Record<string, string>;
  connectTimeoutMs: number;
  limits?: AnswerLimits;
}

/** Header names whose values are credentials. */
const SECRET_HEADER = /auth|key|token|secret|cookie|session|signature|password/i;

/** Builds a remote provider behind its key pool: several keys rotate when one is refused or rate-limited. */
export function buildRemote(
  name: string,
  config: RemoteConfig,
  context: ProviderContext,
  build: (options: RemoteOptions) => Provider,
): BuiltProvider {
  const env = context.env ?? process.env;
  // Configured headers that carry credentials (a gateway's own key, a proxy's token) are secrets too.
  for (const [header, value] of Object.entries(config.headers)) {
    if (SECRET_HEADER.test(header)) rememberSecret(value.replace(/^(Bearer|Basic)\s+/i, ""));
  }
  const keys = new KeyPool(
    config.apiKeys.map((ref) => parseKeyRef(ref)).filter((r) => r !== undefined),
    env,
    context.keySources,
  );
  // Several keys form a pool: a refused or rate-limited key rests and the request goes on with the next.
  const rotation = new KeyRotation(name, keys, context.onKeyRotation && ((reason) => context.onKeyRotation?.(name, reason)));
  const provider = build({
    id: name,
    baseUrl: config.baseUrl,
    apiKey: rotation.apiKey,
    headers: config.headers,
    connectTimeoutMs: config.connectTimeoutMs,
    ...(context.limits && { limits: context.limits }),
  });
  const models = config.models && Object.keys(config.models).length > 0 ? config.models : undefined;
  return { provider: rotation.wrap(provider), keys, local: isLoopback(config), models };
}

/** Whether a remote config points at this machine: its own `local` setting, else a loopback address. */
function isLoopback(config: RemoteConfig): boolean {
  if (config.local !== undefined) return config.local;
  try {
    const host = new URL(config.baseUrl).hostname.replace(/^\[|\]$/g, "");
    return host === "localhost" || host === "::1" || /^127\./.test(host);
  } catch {
    return false;
  }
}
