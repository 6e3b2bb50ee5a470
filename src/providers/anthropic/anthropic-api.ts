import { z } from "zod";

/** What tandem sends to POST /v1/messages (only the fields it uses). */
export type AnthropicTextBlock = { type: "text"; text: string };
export type AnthropicImageBlock = {
  type: "image";
  source: { type: "base64"; media_type: string; data: string } | { type: "url"; url: string };
};
/** A PDF given whole (Anthropic reads its text and its pages as images). */
export type AnthropicDocumentBlock = {
  type: "document";
  source: { type: "base64"; media_type: "application/pdf"; data: string };
  title?: string;
};
export type AnthropicToolUseBlock = { type: "tool_use"; id: string; name: string; input: Record<string, unknown> };
export type AnthropicToolResultBlock = {
  type: "tool_result";
  tool_use_id: string;
  content?: Array<AnthropicTextBlock | AnthropicImageBlock | AnthropicDocumentBlock>;
  is_error?: boolean;
};

export type AnthropicUserBlock = AnthropicTextBlock | AnthropicImageBlock | AnthropicDocumentBlock | AnthropicToolResultBlock;
export type AnthropicThinkingBlock = { type: "thinking"; thinking: string; signature: string };
export type AnthropicRedactedThinkingBlock = { type: "redacted_thinking"; data: string };
export type AnthropicAssistantBlock =
  | AnthropicTextBlock
  | AnthropicImageBlock
  | AnthropicToolUseBlock
  | AnthropicThinkingBlock
  | AnthropicRedactedThinkingBlock;

export type AnthropicMessageParam =
  | { role: "user"; content: AnthropicUserBlock[] }
  | { role: "assistant"; content: AnthropicAssistantBlock[] }
  /** A system turn in `messages` (SystemMessageParam), where it stands. */
  | { role: "system"; content: AnthropicTextBlock[] };

export type AnthropicToolChoice =
  | { type: "auto" | "any"; disable_parallel_tool_use?: boolean }
  | { type: "tool"; name: string; disable_parallel_tool_use?: boolean }
  | { type: "none" };

/** `output_config.effort`'s levels, least first (@anthropic-ai/sdk OutputConfig; `xhigh` since Claude Opus 4.7). */
export const ANTHROPIC_EFFORTS = ["low", "medium", "high", "xhigh", "max"] as const;

export type AnthropicEffort = (typeof ANTHROPIC_EFFORTS)[number];

export interface AnthropicMessagesRequest {
  model: string;
  max_tokens: number;
  messages: AnthropicMessageParam[];
  system?: string;
  /** `strict` (Tool.strict, @anthropic-ai/sdk resources/messages): calls follow input_schema exactly. */
  tools?: Array<{ name: string; description?: string; input_schema: Record<string, unknown>; strict?: boolean }>;
  tool_choice?: AnthropicToolChoice;
  stop_sequences?: string[];
  temperature?: number;
  top_p?: number;
  top_k?: number;
  metadata?: { user_id: string };
  thinking?: { type: "enabled"; budget_tokens: number } | { type: "disabled" } | { type: "adaptive" };
  /**
   * Adaptive thinking's effort, and `format`: structured output (@anthropic-ai/sdk OutputConfig,
   * JSONOutputFormat), the answer held to a JSON schema.
   */
  output_config?: {
    effort?: AnthropicEffort;
    format?: { type: "json_schema"; schema: Record<string, unknown> };
  };
  stream: boolean;
}

/*
 * Lenient schemas of what comes back. Anthropic adds fields and event types over time
 * (versioning policy), so everything unknown is ignored rather than rejected.
 */

const count = z.number().nullish();

export const UsageSchema = z.object({
  input_tokens: count,
  output_tokens: count,
  cache_creation_input_tokens: count,
  cache_read_input_tokens: count,
  /** The thinking tokens among output_tokens (the SDK's OutputTokensDetails), on Usage and MessageDeltaUsage alike. */
  output_tokens_details: z.object({ thinking_tokens: count }).nullish(),
});

export type AnthropicUsage = z.output<typeof UsageSchema>;

export const MessageStartSchema = z.object({
  type: z.literal("message_start"),
  message: z.object({ id: z.string().nullish(), model: z.string().nullish(), usage: UsageSchema.nullish() }),
});

export const ContentBlockStartSchema = z.object({
  type: z.literal("content_block_start"),
  index: z.number(),
  content_block: z.looseObject({
    type: z.string(),
    text: z.string().nullish(),
    id: z.string().nullish(),
    name: z.string().nullish(),
    input: z.unknown().optional(),
    thinking: z.string().nullish(),
    data: z.string().nullish(),
    signature: z.string().nullish(),
    citations: z.unknown().optional(),
  }),
});

export const ContentBlockDeltaSchema = z.object({
  type: z.literal("content_block_delta"),
  index: z.number(),
  delta: z.looseObject({
    type: z.string(),
    text: z.string().nullish(),
    partial_json: z.string().nullish(),
    thinking: z.string().nullish(),
    signature: z.string().nullish(),
  }),
});

export const ContentBlockStopSchema = z.object({ type: z.literal("content_block_stop"), index: z.number() });

export const MessageDeltaSchema = z.object({
  type: z.literal("message_delta"),
  delta: z.object({ stop_reason: z.string().nullish(), stop_sequence: z.string().nullish() }),
  usage: UsageSchema.nullish(),
});

export const ErrorEventSchema = z.object({
  type: z.literal("error"),
  error: z.object({ type: z.string().nullish(), message: z.string().nullish() }).nullish(),
});

export const ModelListSchema = z.object({
  data: z.array(
    z.object({
      id: z.string(),
      created_at: z.string().nullish(),
      max_input_tokens: z.number().nullish(),
    }),
  ),
  has_more: z.boolean().nullish(),
  last_id: z.string().nullish(),
});
