import { z } from "zod";
import type { ProviderKind } from "../provider-kind.js";
import { buildRemote, httpBaseUrl, REMOTE_CAPABILITIES, remoteConfigFields } from "../remote-kind.js";
import { OpenAIProvider } from "./openai-provider.js";

const configSchema = z.strictObject({
  kind: z.literal("openai"),
  /** Any OpenAI-compatible API, up to and including /v1. Default https://api.openai.com/v1. */
  baseUrl: httpBaseUrl().default("https://api.openai.com/v1"),
  /**
   * Whether the upstream also speaks OpenAI's Responses API (`POST /responses`): requests on
   * tandem's /v1/responses then reach it as Responses requests (every field kept, reasoning items
   * with their encrypted content, `store: false` and the history tandem holds) instead of as chat
   * completions. `only`: the upstream serves its models through the Responses API alone (OpenAI's
   * Responses-only models, e.g. a codex or pro model): every request, from any client, is then sent
   * as a Responses request. Default: true when the base URL's host is api.openai.com, else false.
   */
  responses: z.union([z.boolean(), z.literal("only")]).optional(),
  /**
   * Whether earlier turns' reasoning goes back to the upstream as `reasoning_content` on assistant
   * messages, as DeepSeek's and Moonshot's (Kimi) thinking models require in a tool loop (they refuse
   * a tool call's turn without it). Default: true when the base URL's host is api.deepseek.com,
   * api.moonshot.ai or api.moonshot.cn, else false (api.openai.com refuses the unknown field).
   */
  reasoningContent: z.boolean().optional(),
  ...remoteConfigFields,
});

/** `kind: openai`: any OpenAI-compatible chat completions API (OpenAI, OpenRouter, vLLM, LM Studio...). */
export const openaiKind: ProviderKind<typeof configSchema> = {
  configSchema,
  capabilities: REMOTE_CAPABILITIES,
  create: (name, config, context) =>
    buildRemote(
      name,
      config,
      context,
      (options) =>
        new OpenAIProvider({
          ...options,
          ...(config.responses !== undefined && { responses: config.responses }),
          ...(config.reasoningContent !== undefined && { reasoningContent: config.reasoningContent }),
        }),
    ),
  // Found through the standard env keys: OpenAI itself and OpenRouter, each with a cheap default model.
  discover: ({ env }) => [
    ...(env.OPENAI_API_KEY
      ? [
          {
            name: "openai",
            config: {
              kind: "openai" as const,
              baseUrl: env.OPENAI_BASE_URL || "https://api.openai.com/v1",
              apiKeys: ["env:OPENAI_API_KEY"],
            },
            tier: "gpt-4o-mini",
          },
        ]
      : []),
    ...(env.OPENROUTER_API_KEY
      ? [
          {
            name: "openrouter",
            config: { kind: "openai" as const, baseUrl: "https://openrouter.ai/api/v1", apiKeys: ["env:OPENROUTER_API_KEY"] },
            tier: "openai/gpt-4o-mini",
          },
        ]
      : []),
  ],
};
