import { z } from "zod";

/**
 * Lenient zod schemas of the Anthropic Messages API request (POST /v1/messages and
 * /v1/messages/count_tokens). Unknown fields (cache_control, citations, thinking, service_tier...)
 * are stripped; a wrong type is a 400 naming the field.
 */

/** "Field required" for a missing field, zod's own message otherwise (Anthropic says the same). */
function required(iss: { input: unknown }): string | undefined {
  return iss.input === undefined ? "Field required" : undefined;
}

/** Anthropic accepts `content: "text"` as shorthand for one text block. */
function textShorthand(value: unknown): unknown {
  return typeof value === "string" ? [{ type: "text", text: value }] : value;
}

function unsupportedType(what: string, hint = "") {
  return (iss: { code?: string; input?: unknown }): string | undefined => {
    if (iss.code !== "invalid_union") return undefined;
    const type = typeof iss.input === "object" && iss.input !== null ? (iss.input as { type?: unknown }).type : undefined;
    return `unsupported ${what} ${JSON.stringify(type)}${hint}`;
  };
}

const blocksOrString = "expected a string or an array of content blocks";

export const TextBlockSchema = z.object({ type: z.literal("text"), text: z.string({ error: required }) });

const ImageSourceSchema = z.discriminatedUnion(
  "type",
  [
    z.object({
      type: z.literal("base64"),
      media_type: z.string({ error: required }),
      data: z.string({ error: required }),
    }),
    z.object({ type: z.literal("url"), url: z.string({ error: required }) }),
  ],
  { error: unsupportedType("image source type", "; use base64 or url") },
);

export const ImageBlockSchema = z.object({ type: z.literal("image"), source: ImageSourceSchema });

const ToolResultContentSchema = z.preprocess(
  textShorthand,
  z.array(
    z.discriminatedUnion("type", [TextBlockSchema, ImageBlockSchema], {
      error: unsupportedType("tool_result content block type", "; use text or image"),
    }),
    { error: blocksOrString },
  ),
);

const ToolUseBlockSchema = z.object({
  type: z.literal("tool_use"),
  id: z.string({ error: required }),
  name: z.string({ error: required }),
  input: z.record(z.string(), z.unknown(), { error: "expected an object" }).nullish(),
});

const ToolResultBlockSchema = z.object({
  type: z.literal("tool_result"),
  tool_use_id: z.string({ error: required }),
  content: ToolResultContentSchema.nullish(),
  is_error: z.boolean().nullish(),
});

// Clients such as Claude Code send their earlier thinking back: reasoning, with its signature.
const ThinkingBlockSchema = z.object({
  type: z.literal("thinking"),
  thinking: z.string().nullish(),
  signature: z.string().nullish(),
});
const RedactedThinkingBlockSchema = z.object({ type: z.literal("redacted_thinking"), data: z.string().nullish() });

const ContentBlockSchema = z.discriminatedUnion(
  "type",
  [
    TextBlockSchema,
    ImageBlockSchema,
    ToolUseBlockSchema,
    ToolResultBlockSchema,
    ThinkingBlockSchema,
    RedactedThinkingBlockSchema,
  ],
  {
    error: unsupportedType(
      "content block type",
      "; supported: text, image, tool_use, tool_result, thinking, redacted_thinking (document blocks are not supported)",
    ),
  },
);

export type ContentBlock = z.output<typeof ContentBlockSchema>;

const MessageParamSchema = z.object({
  // The system prompt goes in `system`; agent clients also send `system` turns in the middle of the
  // conversation (text only), which are kept where they stand.
  role: z.enum(["user", "assistant", "system"], {
    error: (iss) => required(iss) ?? "expected 'user', 'assistant' or 'system'",
  }),
  content: z.preprocess(textShorthand, z.array(ContentBlockSchema, { error: (iss) => required(iss) ?? blocksOrString })),
});

export type MessageParam = z.output<typeof MessageParamSchema>;

const ToolSchema = z
  .object({
    type: z.string().nullish(),
    name: z.string({ error: required }),
    description: z.string().nullish(),
    input_schema: z.record(z.string(), z.unknown(), { error: "expected a JSON Schema object" }).nullish(),
  })
  .superRefine((tool, ctx) => {
    if (tool.type != null && tool.type !== "custom") {
      ctx.addIssue({
        code: "custom",
        path: ["type"],
        message: `server tool ${JSON.stringify(tool.type)} is not supported; only custom tools (name, description, input_schema) are`,
      });
    } else if (tool.input_schema == null) {
      ctx.addIssue({ code: "custom", path: ["input_schema"], message: "Field required" });
    }
  });

const disableParallel = z.boolean().nullish();

const ToolChoiceSchema = z.discriminatedUnion(
  "type",
  [
    z.object({ type: z.literal("auto"), disable_parallel_tool_use: disableParallel }),
    z.object({ type: z.literal("any"), disable_parallel_tool_use: disableParallel }),
    z.object({ type: z.literal("tool"), name: z.string({ error: required }), disable_parallel_tool_use: disableParallel }),
    z.object({ type: z.literal("none") }),
  ],
  { error: unsupportedType("tool_choice type", "; use auto, any, tool or none") },
);

const MessagesRequestBase = z.object({
  model: z.string({ error: required }).min(1),
  messages: z.array(MessageParamSchema, { error: required }),
  system: z
    .preprocess(
      textShorthand,
      z.array(z.discriminatedUnion("type", [TextBlockSchema], { error: unsupportedType("system block type", "; use text") }), {
        error: blocksOrString,
      }),
    )
    .nullish(),
  tools: z.array(ToolSchema).nullish(),
  tool_choice: ToolChoiceSchema.nullish(),
  stop_sequences: z.array(z.string()).nullish(),
  temperature: z.number().min(0).max(1).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  top_k: z.int().min(0).nullish(),
  metadata: z.object({ user_id: z.string().nullish() }).nullish(),
  // Structured outputs; `effort` has no canonical form and is ignored.
  output_config: z
    .object({
      format: z
        .object({
          type: z.literal("json_schema"),
          schema: z.record(z.string(), z.unknown(), { error: (iss) => required(iss) ?? "expected a JSON Schema object" }),
        })
        .nullish(),
    })
    .nullish(),
  stream: z.boolean().nullish(),
  // Extended thinking: the canonical reasoning control.
  thinking: z
    .discriminatedUnion(
      "type",
      [
        z.object({ type: z.literal("enabled"), budget_tokens: z.int({ error: required }).min(1) }),
        z.object({ type: z.literal("disabled") }),
        // The model decides whether and how much to think (Claude Code 2.x sends it on every request).
        // No canonical control: each target keeps its own default, so a model with no reasoning
        // (gpt-4o-mini, which refuses `reasoning_effort`) is not asked for any.
        z.object({ type: z.literal("adaptive") }),
      ],
      { error: unsupportedType("thinking type", "; use enabled, adaptive or disabled") },
    )
    .nullish(),
});

/** POST /v1/messages: max_tokens is required, as at Anthropic. */
export const MessagesRequestSchema = MessagesRequestBase.extend({
  max_tokens: z.int({ error: required }).min(1),
});

/** POST /v1/messages/count_tokens: the same body, max_tokens not needed. */
export const CountTokensRequestSchema = MessagesRequestBase.extend({
  max_tokens: z.int().min(1).nullish(),
});

export type MessagesRequest = z.output<typeof CountTokensRequestSchema>;
