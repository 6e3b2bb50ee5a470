import { z } from "zod";
import type { ProviderKind } from "../provider-kind.js";
import { buildRemote, httpBaseUrl, REMOTE_CAPABILITIES, remoteConfigFields } from "../remote-kind.js";
import { AnthropicProvider } from "./anthropic-provider.js";
import { anthropicAliasTarget } from "./model-alias.js";

const configSchema = z.strictObject({
  kind: z.literal("anthropic"),
  /**
   * The origin, as Anthropic's SDKs take it (tandem adds /v1/messages). Default https://api.anthropic.com.
   * One ending in /v1 (the openai kind's convention) is refused: it would send /v1/v1/messages and
   * get only an upstream 404.
   */
  baseUrl: httpBaseUrl()
    .refine(
      (url) => !URL.canParse(url) || !/\/v1\/?$/.test(new URL(url).pathname),
      "the anthropic kind takes the origin, without /v1 (e.g. https://api.anthropic.com): tandem adds /v1/messages",
    )
    .default("https://api.anthropic.com"),
  /** The anthropic-version header. Default 2023-06-01. */
  anthropicVersion: z.string().default("2023-06-01"),
  /** max_tokens sent when the client gave none (Anthropic requires one). Default 4096. */
  defaultMaxTokens: z.number().int().positive().default(4096),
  ...remoteConfigFields,
});

/** `kind: anthropic`: Anthropic's Messages API (chat only: it has no embeddings). */
export const anthropicKind: ProviderKind<typeof configSchema> = {
  configSchema,
  // Its list names dated ids only; its API takes their aliases too (see model-alias.ts).
  capabilities: { ...REMOTE_CAPABILITIES, aliasOf: anthropicAliasTarget },
  create: (name, config, context) =>
    buildRemote(
      name,
      config,
      context,
      (options) =>
        new AnthropicProvider({
          ...options,
          anthropicVersion: config.anthropicVersion,
          defaultMaxTokens: config.defaultMaxTokens,
        }),
    ),
  // Found through ANTHROPIC_API_KEY, with a cheap default model.
  discover: ({ env }) =>
    env.ANTHROPIC_API_KEY
      ? [
          {
            name: "claude",
            config: {
              kind: "anthropic" as const,
              baseUrl: env.ANTHROPIC_BASE_URL || "https://api.anthropic.com",
              apiKeys: ["env:ANTHROPIC_API_KEY"],
            },
            tier: "claude-haiku-4-5",
          },
        ]
      : [],
};
