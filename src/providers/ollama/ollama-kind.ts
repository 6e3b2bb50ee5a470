import { z } from "zod";
import type { ProviderKind } from "../provider-kind.js";
import { buildRemote, REMOTE_CAPABILITIES, remoteConfigFields } from "../remote-kind.js";
import { OllamaProvider } from "./ollama-provider.js";

const configSchema = z.object({
  kind: z.literal("ollama"),
  /** Default http://127.0.0.1:11434. */
  baseUrl: z.url().default("http://127.0.0.1:11434"),
  ...remoteConfigFields,
});

/** `kind: ollama`: an Ollama server's native API (local when at a loopback address). */
export const ollamaKind: ProviderKind<typeof configSchema> = {
  configSchema,
  capabilities: REMOTE_CAPABILITIES,
  create: (name, config, context) => buildRemote(name, config, context, (options) => new OllamaProvider(options)),
  // An Ollama that answered at its address, with its first model in `auto`.
  discover: ({ ollamaAt, ollamaModels = [] }) =>
    ollamaAt ? [{ name: "ollama", config: { kind: "ollama" as const, baseUrl: ollamaAt }, tier: ollamaModels[0] }] : [],
};
