import { z } from "zod";
import { GatewayError, type Provider } from "../core/index.js";
import type { KeyPool } from "../secrets/index.js";
import { anthropicKind } from "./anthropic/anthropic-kind.js";
import { llamacppKind } from "./llamacpp/llamacpp-kind.js";
import { ollamaKind } from "./ollama/ollama-kind.js";
import { openaiKind } from "./openai/openai-kind.js";
import type {
  ConfiguredModel,
  DiscoveredProvider,
  DiscoveryFindings,
  ProviderContext,
  ProviderKind,
  ProviderKindCapabilities,
} from "./provider-kind.js";

/**
 * Every kind of provider tandem can build: one entry each (config schema, capabilities, factory,
 * zero-config discovery), in both lists below (zod needs the schemas as a literal tuple to type the
 * union). A new kind is its folder plus its entry here; config/schema.ts takes the providers union from
 * here. This list's order is discovery's: local kinds first, so a discovered `auto` route tries them first.
 */
const KINDS: readonly ProviderKind[] = [llamacppKind, ollamaKind, openaiKind, anthropicKind];

/** One entry of `providers` in the config: any registered kind, told apart by `kind`. */
export const providerConfigSchema = z.discriminatedUnion("kind", [
  openaiKind.configSchema,
  anthropicKind.configSchema,
  ollamaKind.configSchema,
  llamacppKind.configSchema,
]);

export type ProviderConfig = z.output<typeof providerConfigSchema>;
export type ProviderConfigInput = z.input<typeof providerConfigSchema>;

const BY_KIND: ReadonlyMap<string, ProviderKind> = new Map(KINDS.map((k) => [k.configSchema.shape.kind.value, k]));

/** A provider built from config (with what its kind is), or the reason it cannot run in this build. */
export type ProviderSlot = {
  name: string;
  config: ProviderConfig;
  capabilities: ProviderKindCapabilities;
  /** Runs on this machine (worked out once, from its kind and config). */
  local: boolean;
  /** The models its config lists; undefined when the list comes from discovery. */
  models: Record<string, ConfiguredModel> | undefined;
} & ({ provider: Provider; keys: KeyPool } | { provider: undefined; unavailable: string });

/** A kind's registry entry by its name (the `kind` in the config); undefined when none is registered. */
export function providerKind(kind: string): ProviderKind | undefined {
  return BY_KIND.get(kind);
}

/** Builds the provider a config entry describes, by its kind's registry entry. */
export function createProviderSlot(name: string, config: ProviderConfig, context: ProviderContext): ProviderSlot {
  const kind = BY_KIND.get(config.kind);
  // The config was parsed by providerConfigSchema, so its kind is registered; this guards hand-made configs.
  if (!kind) throw new GatewayError("internal", `no provider kind '${config.kind}' is registered`);
  return { name, config, capabilities: kind.capabilities, ...kind.create(name, config, context) };
}

/** The providers zero-config discovery sets up from what was found, in the registry's order (local first). */
export function discoverProviders(found: DiscoveryFindings): DiscoveredProvider<ProviderConfigInput>[] {
  return KINDS.flatMap((kind) => (kind.discover?.(found) ?? []) as DiscoveredProvider<ProviderConfigInput>[]);
}
