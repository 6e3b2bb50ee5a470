import type { z } from "zod";
import type { Provider } from "../core/index.js";
import type { KeyPool, KeySources } from "../secrets/index.js";
import type { AnswerLimits } from "./http/answer-limits.js";

/**
 * What a kind of provider is, whatever one config says: the router and the catalog ask these, never
 * the kind's name.
 */
export interface ProviderKindCapabilities {
  /**
   * True: runs on this machine whatever its config says (an embedded engine). False: local only when
   * its config says `local: true`, or says nothing and its baseUrl is a loopback address.
   */
  local: boolean;
  /** "free": its tokens cost nothing. "configured": each model's `price` in the config, else unknown. */
  pricing: "free" | "configured";
  /**
   * Where its model list comes from. "engine": the provider lists its own models on each call, cheaply
   * (a folder it reads): a model added since discovery is served, and with no model it cannot answer
   * anything. "upstream": the config's `models`, else the upstream's list, asked for once.
   */
  discovery: "engine" | "upstream";
  /**
   * The listed model id that a name the upstream's API also takes is an alias of (Anthropic takes
   * `claude-sonnet-4-5` for its listed `claude-sonnet-4-5-20250929`), or undefined when the name is
   * no listed id's alias. Absent: the upstream takes only the ids it lists.
   */
  aliasOf?: (name: string, listed: readonly string[]) => string | undefined;
}

/**
 * True when the provider lists its own model files (`discovery: "engine"`): its list is cheap to read
 * again, is the truth on every call, and is empty until a model is installed. Takes a slot or a kind
 * (anything with `capabilities`); a provider that is not there lists nothing.
 */
export function listsOwnModels(provider: { readonly capabilities: ProviderKindCapabilities } | undefined): boolean {
  return provider?.capabilities.discovery === "engine";
}

/** A model a config lists, by the alias clients use (`provider/alias`). */
export interface ConfiguredModel {
  /** The upstream's model id. Default: the alias. */
  id?: string;
  contextWindow?: number;
  /** US dollars per million tokens. */
  price?: { input: number; output: number };
  /** What the model is known to do or not (unknown: tried). */
  capabilities?: ModelCapabilities;
}

/** What one model is known to do; an absent fact is unknown, and the model is tried. */
export interface ModelCapabilities {
  vision?: boolean;
  tools?: boolean;
  json?: boolean;
}

/** What every kind's factory is given besides its own config. */
export interface ProviderContext {
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

/** One provider built from its config. */
export interface BuiltProvider {
  provider: Provider;
  keys: KeyPool;
  /** Runs on this machine: always for a kind whose capabilities say so, else by this config's `local` or address. */
  local: boolean;
  /** The models the config lists; undefined when the list comes from discovery (see `discovery`). */
  models: Record<string, ConfiguredModel> | undefined;
}

/** The config object of one kind: a zod object discriminated by its `kind` literal. */
export type ProviderConfigSchema = z.ZodObject<{ kind: z.ZodLiteral<string> } & z.ZodRawShape, z.core.$strict>;

/** What the loader found on this machine when there is no config file (probed by the caller, so tests can decide). */
export interface DiscoveryFindings {
  env: NodeJS.ProcessEnv;
  /** The origin where an Ollama answered, if one did. */
  ollamaAt?: string;
  /** The models that Ollama has, first one preferred. */
  ollamaModels?: string[];
  /** GGUF models in the data dir (names without `.gguf`), for the embedded engine. */
  localModels?: string[];
  /** The local model to put first when present. */
  preferredLocal?: string;
}

/** A provider configured by zero-config discovery. */
export interface DiscoveredProvider<Input> {
  /** Its name in the config (`local`, `openai`...). */
  name: string;
  /** Its config entry, as a file would give it. */
  config: Input;
  /** The model (without the provider's name) to put in the discovered `auto` route, if any. */
  tier?: string;
}

/**
 * One kind of provider, as the registry (registry.ts) holds it: its config schema (which config/schema.ts
 * puts in the providers union), what it is (capabilities) and how one is built.
 */
export interface ProviderKind<Schema extends ProviderConfigSchema = ProviderConfigSchema> {
  readonly configSchema: Schema;
  readonly capabilities: ProviderKindCapabilities;
  create(name: string, config: z.output<Schema>, context: ProviderContext): BuiltProvider;
  /**
   * The providers of this kind to configure when there is no config file, from what was found; kinds
   * that are only used when configured have none. Their `auto` route puts earlier registry entries first.
   */
  discover?(found: DiscoveryFindings): DiscoveredProvider<z.input<Schema>>[];
}
