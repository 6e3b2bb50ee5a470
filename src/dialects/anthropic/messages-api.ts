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

/**
 * Anthropic accepts `content: "text"` as shorthand for one text block; `""` is no content at all
 * (which a final assistant message and a tool result may have), not an empty text block.
 */
function textShorthand(value: unknown): unknown {
  if (typeof value !== "string") return value;
  return value === "" ? [] : [{ type: "text", text: value }];
}

function unsupportedType(what: string, hint = "") {
  return (iss: { code?: string; input?: unknown }): string | undefined => {
    if (iss.code !== "invalid_union") return undefined;
    const type = typeof iss.input === "object" && iss.input !== null ? (iss.input as { type?: unknown }).type : undefined;
    return `unsupported ${what} ${JSON.stringify(type)}${hint}`;
  };
}

const blocksOrString = "expected a string or an array of content blocks";

/**
 * A block of a type this build does not know (one Anthropic added since, or a beta's), with that
 * type as `block_type`: kept out of the canonical form and sent on to an Anthropic target only (the
 * client's own bytes, on the same wire), so that a block Anthropic answered with can go back to it.
 */
const UNKNOWN_BLOCK = "tandem.unknown_block";
const UnknownBlockSchema = z.object({ type: z.literal(UNKNOWN_BLOCK), block_type: z.string() });

/**
 * `blocks` (an array, or the text shorthand) with each block whose `type` is a string none of `known`
 * as an UnknownBlockSchema block; anything else as it is, for the schema to judge.
 */
function markUnknownBlocks(known: ReadonlySet<string>) {
  return (value: unknown): unknown => {
    const blocks = textShorthand(value);
    if (!Array.isArray(blocks)) return blocks;
    return blocks.map((block: unknown) => {
      const type = typeof block === "object" && block !== null ? (block as { type?: unknown }).type : undefined;
      return typeof type === "string" && !known.has(type) ? { type: UNKNOWN_BLOCK, block_type: type } : block;
    });
  };
}

/** Anthropic refuses empty and blank text blocks, in its words. */
export const TextBlockSchema = z.object({
  type: z.literal("text"),
  text: z
    .string({ error: required })
    .min(1, "text content blocks must be non-empty")
    .regex(/\S/, "text content blocks must contain non-whitespace text"),
});

/**
 * A message's own text block may be whitespace only: models write them (a "\n\n" before a tool
 * call, Anthropic's own after a web search) and clients send them back, which Anthropic then refuses
 * for good. tandem leaves them out on the way to an Anthropic upstream (native-anthropic.ts,
 * convert-to-anthropic-messages.ts); a user message of nothing but such text is refused
 * (check-anthropic-turns.ts), as Anthropic refuses it.
 */
const MessageTextBlockSchema = TextBlockSchema.extend({
  text: z.string({ error: required }).min(1, "text content blocks must be non-empty"),
  // An answer's citations of the documents and search results it drew on, sent back with its text:
  // read only to say, on another wire, that they were left out.
  citations: z.unknown().optional(),
});

/** The image types Anthropic takes (Base64ImageSource.media_type), in its words when another is sent. */
const IMAGE_MEDIA_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"] as const;

/**
 * Standard base64 as Anthropic decodes `data`: the alphabet, padding at the end only, whole groups of
 * four. One character class, not a group repeated (a 20 MB image would overflow the regex's stack).
 */
function isBase64(data: string): boolean {
  return data.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(data);
}

/** The image type the first bytes say, for the four Anthropic takes; undefined for any other bytes. */
function sniffedImageType(data: string): (typeof IMAGE_MEDIA_TYPES)[number] | undefined {
  if (data.startsWith("iVBORw0KGgo")) return "image/png";
  if (data.startsWith("/9j/")) return "image/jpeg";
  if (data.startsWith("R0lGOD")) return "image/gif";
  // RIFF, 4 bytes of size, WEBP.
  if (data.startsWith("UklGR") && Buffer.from(data.slice(0, 16), "base64").subarray(8, 12).toString("latin1") === "WEBP") {
    return "image/webp";
  }
  return undefined;
}

/**
 * A base64 image as Anthropic checks one: one of its four media types, data that decodes, and bytes
 * of the type declared (its own words: "The image was specified using the image/jpeg media type, but
 * the image appears to be a image/png image"). Bytes of no type it knows are left to the target.
 */
const Base64ImageSourceSchema = z
  .object({
    type: z.literal("base64"),
    media_type: z.enum(IMAGE_MEDIA_TYPES, {
      error: (iss) => required(iss) ?? "Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'",
    }),
    data: z.string({ error: required }).min(1, "invalid base64 data: it is empty").refine(isBase64, "invalid base64 data"),
  })
  .superRefine((source, ctx) => {
    const sniffed = sniffedImageType(source.data);
    if (sniffed === undefined || sniffed === source.media_type) return;
    ctx.addIssue({
      code: "custom",
      path: ["data"],
      message: `The image was specified using the ${source.media_type} media type, but the image appears to be a ${sniffed} image`,
    });
  });

const ImageSourceSchema = z.discriminatedUnion(
  "type",
  [
    Base64ImageSourceSchema,
    z.object({ type: z.literal("url"), url: z.string({ error: required }) }),
    // An uploaded file (Files API): no canonical form, for an Anthropic target only.
    z.object({ type: z.literal("file"), file_id: z.string({ error: required }) }),
  ],
  { error: unsupportedType("image source type", "; use base64, url or file") },
);

export const ImageBlockSchema = z.object({ type: z.literal("image"), source: ImageSourceSchema });

/**
 * A document: plain text or content blocks cross to other wires as their text; a PDF (base64, url)
 * or an uploaded file reaches an Anthropic target only.
 */
const DocumentBlockSchema = z.object({
  type: z.literal("document"),
  source: z.discriminatedUnion(
    "type",
    [
      z.object({ type: z.literal("base64"), media_type: z.string({ error: required }), data: z.string({ error: required }) }),
      z.object({ type: z.literal("text"), media_type: z.string().nullish(), data: z.string({ error: required }) }),
      z.object({
        type: z.literal("content"),
        content: z.preprocess(
          textShorthand,
          z.array(
            z.discriminatedUnion("type", [TextBlockSchema, ImageBlockSchema], {
              error: unsupportedType("document content block type", "; use text or image"),
            }),
            { error: blocksOrString },
          ),
        ),
      }),
      z.object({ type: z.literal("url"), url: z.string({ error: required }) }),
      z.object({ type: z.literal("file"), file_id: z.string({ error: required }) }),
    ],
    { error: unsupportedType("document source type", "; use base64, text, content, url or file") },
  ),
  title: z.string().nullish(),
  context: z.string().nullish(),
});

/** A search result the client supplies (for citations): crosses to other wires as its text. */
const SearchResultBlockSchema = z.object({
  type: z.literal("search_result"),
  source: z.string({ error: required }),
  title: z.string({ error: required }),
  content: z.array(TextBlockSchema, { error: (iss) => required(iss) ?? "expected an array of text blocks" }),
});

/**
 * The blocks of Anthropic's server-side tools (and the beta's MCP connector, container uploads,
 * compaction...) as a client sends its history back: they have no canonical form and reach an
 * Anthropic target only, as they came (NativeRequest.wireOnly).
 */
export const OPAQUE_BLOCK_TYPES = [
  "server_tool_use",
  "web_search_tool_result",
  "web_fetch_tool_result",
  "advisor_tool_result",
  "code_execution_tool_result",
  "bash_code_execution_tool_result",
  "text_editor_code_execution_tool_result",
  "tool_search_tool_result",
  "mcp_tool_use",
  "mcp_tool_result",
  "container_upload",
  "compaction",
  "mcp_tool_listing",
  "fallback",
] as const;

const OpaqueBlockSchema = z.object({ type: z.literal(OPAQUE_BLOCK_TYPES) });

/**
 * What a tool change names (the mid-conversation tool changes beta): a tool of the request's `tools`
 * by name (`tool_reference`), a tool defined inline (`tool_definition`), or an MCP server's tool or
 * toolset (`mcp_tool_reference`, `mcp_toolset_reference`: Anthropic's MCP connector, Anthropic only).
 */
const ToolChangeTargetSchema = z.looseObject({
  type: z.string({ error: required }),
  name: z.string().nullish(),
  definition: z.record(z.string(), z.unknown()).nullish(),
});

/** A tool offered (`tool_addition`) or taken away (`tool_removal`) from this point of the conversation on. */
const ToolChangeBlockSchema = z.object({
  type: z.literal(["tool_addition", "tool_removal"]),
  tool: ToolChangeTargetSchema,
});
export type ToolChangeBlock = z.output<typeof ToolChangeBlockSchema>;

/** Blocks a tool result may hold besides text, images, documents and search results (Anthropic target only). */
const OpaqueToolResultBlockSchema = z.object({ type: z.literal("browser_state") });

/**
 * A tool search's answer (the advanced-tool-use beta; Claude Code's ToolSearch sends them): it loads
 * the named deferred tool (`defer_loading: true`) into the model's context from then on.
 */
const ToolReferenceBlockSchema = z.object({ type: z.literal("tool_reference"), tool_name: z.string({ error: required }) });

const TOOL_RESULT_BLOCKS = [
  TextBlockSchema,
  ImageBlockSchema,
  DocumentBlockSchema,
  SearchResultBlockSchema,
  ToolReferenceBlockSchema,
  OpaqueToolResultBlockSchema,
] as const;

const ToolResultContentSchema = z.preprocess(
  markUnknownBlocks(typesOf(TOOL_RESULT_BLOCKS)),
  z.array(
    z.discriminatedUnion("type", [...TOOL_RESULT_BLOCKS, UnknownBlockSchema], {
      error: unsupportedType("tool_result content block type", "; use text, image, document or search_result"),
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

const CONTENT_BLOCKS = [
  MessageTextBlockSchema,
  ImageBlockSchema,
  ToolUseBlockSchema,
  ToolResultBlockSchema,
  ThinkingBlockSchema,
  RedactedThinkingBlockSchema,
  DocumentBlockSchema,
  SearchResultBlockSchema,
  ToolChangeBlockSchema,
  OpaqueBlockSchema,
] as const;

/** The `type`s the block schemas take (each a literal, or a list of them). */
function typesOf(schemas: readonly { shape: { type: z.ZodType } }[]): ReadonlySet<string> {
  return new Set(schemas.flatMap((schema) => [...((schema.shape.type as z.ZodLiteral).values as Set<string>)]));
}

/** The block types a message's content takes: any other is an unknown block (UnknownBlockSchema). */
const CONTENT_BLOCK_TYPES = typesOf(CONTENT_BLOCKS);

const ContentBlockSchema = z.discriminatedUnion("type", [...CONTENT_BLOCKS, UnknownBlockSchema], {
  error: unsupportedType(
    "content block type",
    "; supported: text, image, document, search_result, tool_use, tool_result, thinking, redacted_thinking and the server tools' blocks",
  ),
});

export type ContentBlock = z.output<typeof ContentBlockSchema>;

const MessageParamSchema = z.object({
  // The system prompt goes in `system`; agent clients also send `system` turns in the middle of the
  // conversation (text only), which are kept where they stand.
  role: z.enum(["user", "assistant", "system"], {
    error: (iss) => required(iss) ?? "expected 'user', 'assistant' or 'system'",
  }),
  content: z.preprocess(
    markUnknownBlocks(CONTENT_BLOCK_TYPES),
    z.array(ContentBlockSchema, { error: (iss) => required(iss) ?? blocksOrString }),
  ),
  /** A system turn's: `next_user_message` shows it only until a later user turn (Anthropic's beta). */
  clear_at: z.enum(["next_user_message", "never"], { error: "expected 'next_user_message' or 'never'" }).nullish(),
});

export type MessageParam = z.output<typeof MessageParamSchema>;

/**
 * A custom tool (name, description, input_schema), or one of Anthropic's own, versioned tools
 * (`web_search_20250305`, `bash_20250124`, `text_editor_*`, `code_execution_*`, an MCP toolset...):
 * those have no canonical form and reach an Anthropic target only, which checks their fields.
 */
const ToolSchema = z
  .object({
    type: z.string().nullish(),
    name: z.string().nullish(),
    description: z.string().nullish(),
    input_schema: z.record(z.string(), z.unknown(), { error: "expected a JSON Schema object" }).nullish(),
    /** Left out of the model's context until a tool_reference block (a tool search's answer) names it. */
    defer_loading: z.boolean().nullish(),
    /** Calls follow input_schema exactly (Tool.strict): crosses as the canonical tool's `strict`. */
    strict: z.boolean().nullish(),
  })
  .superRefine((tool, ctx) => {
    if (tool.type != null && tool.type !== "custom") return;
    if (tool.name == null) ctx.addIssue({ code: "custom", path: ["name"], message: "Field required" });
    else if (tool.input_schema == null) ctx.addIssue({ code: "custom", path: ["input_schema"], message: "Field required" });
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

/** How thinking is shown: `omitted` asks for its blocks without their text (ThinkingConfigAdaptive.display). */
const thinkingDisplay = z.enum(["summarized", "omitted"]).nullish();

const MessagesRequestBase = z.object({
  model: z.string({ error: required }).min(1),
  messages: z.array(MessageParamSchema, { error: required }).min(1, "at least one message is required"),
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
  // Structured outputs, and the effort of adaptive thinking (see convertFromAnthropicRequest).
  output_config: z
    .object({
      effort: z.string().nullish(),
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
        // Anthropic's minimum, and its words for it.
        z.object({
          type: z.literal("enabled"),
          budget_tokens: z.int({ error: required }).min(1024, "Input should be greater than or equal to 1024"),
          display: thinkingDisplay,
        }),
        z.object({ type: z.literal("disabled") }),
        // The model decides whether and how much to think (Claude Code 2.x sends it on every request,
        // with output_config.effort: the canonical control then, see ReasoningControl.adaptive), or
        // thinks between tool calls only.
        z.object({ type: z.literal("adaptive"), display: thinkingDisplay }),
        z.object({ type: z.literal("between_tools") }),
      ],
      { error: unsupportedType("thinking type", "; use enabled, adaptive, between_tools or disabled") },
    )
    .nullish(),
});

/**
 * POST /v1/messages with the interleaved-thinking beta (`anthropic-beta: interleaved-thinking-…`,
 * which Claude Code sends): max_tokens is required, as at Anthropic; a thinking budget may exceed it,
 * the limit then being the context window (Anthropic's extended-thinking guide).
 */
export const InterleavedMessagesRequestSchema = MessagesRequestBase.extend({
  max_tokens: z.int({ error: required }).min(1),
});

/** POST /v1/messages: max_tokens is required, as at Anthropic, and above a thinking budget. */
export const MessagesRequestSchema = InterleavedMessagesRequestSchema.superRefine((body, ctx) => {
  if (body.thinking?.type !== "enabled" || body.max_tokens > body.thinking.budget_tokens) return;
  ctx.addIssue({
    code: "custom",
    path: ["max_tokens"],
    message: `\`max_tokens\` must be greater than \`thinking.budget_tokens\` (${body.max_tokens} is not above ${body.thinking.budget_tokens})`,
  });
});

/** Whether `anthropic-beta` (a comma-separated list, in one header or several) asks for interleaved thinking. */
export function interleavedThinking(beta: string | string[] | undefined): boolean {
  return [beta ?? []]
    .flat()
    .flatMap((value) => value.split(","))
    .some((name) => name.trim().startsWith("interleaved-thinking-"));
}

/** POST /v1/messages/count_tokens: the same body, max_tokens not needed. */
export const CountTokensRequestSchema = MessagesRequestBase.extend({
  max_tokens: z.int().min(1).nullish(),
});

export type MessagesRequest = z.output<typeof CountTokensRequestSchema>;
