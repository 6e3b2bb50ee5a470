import { z } from "zod";
import type { ProviderKind } from "../provider-kind.js";
import { buildRemote, httpBaseUrl, REMOTE_CAPABILITIES, remoteConfigFields } from "../remote-kind.js";
import { OllamaProvider } from "./ollama-provider.js";

const configSchema = z.strictObject({
  kind: z.literal("ollama"),
  /**
   * The origin, as OLLAMA_HOST gives it (tandem adds /api/chat...). Default http://127.0.0.1:11434.
   * One ending in /api is refused: it would send /api/api/chat and get only an upstream 404.
   */
  baseUrl: httpBaseUrl()
    .refine(
      (url) => !URL.canParse(url) || !/\/api\/?$/.test(new URL(url).pathname),
      "the ollama kind takes the origin, without /api (e.g. http://127.0.0.1:11434): tandem adds /api/chat",
    )
    .default("http://127.0.0.1:11434"),
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
