/**
 * Anthropic's Messages API answers as the @anthropic-ai/sdk types declare them
 * (resources/messages/messages.ts: Message, Usage, ContentBlock, RawMessageStreamEvent,
 * MessageDeltaUsage, MessageTokensCount; resources/models.ts: ModelInfo; the error body), as zod
 * schemas a test checks tandem's answers with. A field the types declare without `?` must be
 * present (null where the type allows it); `strictObject` refuses a field the types do not have,
 * so a tandem-only field is found too. Only the blocks tandem renders itself are listed; a native
 * Anthropic target's own blocks are checked by that target.
 */
import { z } from "zod";

const count = z.int().min(0);

export const CacheCreationSchema = z.strictObject({ ephemeral_1h_input_tokens: count, ephemeral_5m_input_tokens: count });
const ServerToolUsageSchema = z.strictObject({ web_fetch_requests: count, web_search_requests: count });
const OutputTokensDetailsSchema = z.strictObject({ thinking_tokens: count });

export const UsageSchema = z.strictObject({
  cache_creation: CacheCreationSchema.nullable(),
  cache_creation_input_tokens: count.nullable(),
  cache_read_input_tokens: count.nullable(),
  inference_geo: z.string().nullable(),
  input_tokens: count,
  output_tokens: count,
  output_tokens_details: OutputTokensDetailsSchema.nullable(),
  server_tool_use: ServerToolUsageSchema.nullable(),
  service_tier: z.enum(["standard", "priority", "batch"]).nullable(),
  speed: z.enum(["standard", "fast"]).nullable(),
});

export const MessageDeltaUsageSchema = z.strictObject({
  cache_creation_input_tokens: count.nullable(),
  cache_read_input_tokens: count.nullable(),
  input_tokens: count.nullable(),
  output_tokens: count,
  output_tokens_details: OutputTokensDetailsSchema.nullable(),
  server_tool_use: ServerToolUsageSchema.nullable(),
});

const ContainerSchema = z.strictObject({ id: z.string(), expires_at: z.string(), skills: z.array(z.unknown()).nullable() });

export const TextBlockSchema = z.strictObject({
  type: z.literal("text"),
  text: z.string(),
  citations: z.array(z.record(z.string(), z.unknown())).nullable(),
});
export const ThinkingBlockSchema = z.strictObject({ type: z.literal("thinking"), thinking: z.string(), signature: z.string() });
export const RedactedThinkingBlockSchema = z.strictObject({ type: z.literal("redacted_thinking"), data: z.string() });
export const ToolUseBlockSchema = z.strictObject({
  type: z.literal("tool_use"),
  id: z.string().regex(/^toolu_/),
  name: z.string().min(1),
  input: z.record(z.string(), z.unknown()),
  caller: z.strictObject({ type: z.literal("direct") }),
});

export const ContentBlockSchema = z.discriminatedUnion("type", [
  TextBlockSchema,
  ThinkingBlockSchema,
  RedactedThinkingBlockSchema,
  ToolUseBlockSchema,
]);

const StopReasonSchema = z.enum([
  "end_turn",
  "max_tokens",
  "stop_sequence",
  "tool_use",
  "pause_turn",
  "refusal",
  "model_context_window_exceeded",
]);

const RefusalStopDetailsSchema = z.strictObject({
  type: z.literal("refusal"),
  category: z.enum(["cyber", "bio", "frontier_llm", "reasoning_extraction", "general_harms"]).nullable(),
  explanation: z.string().nullable(),
});

function messageSchema<C extends z.ZodType, R extends z.ZodType>(content: C, stopReason: R) {
  return z.strictObject({
    id: z.string().regex(/^msg_/),
    type: z.literal("message"),
    role: z.literal("assistant"),
    model: z.string().min(1),
    content,
    container: ContainerSchema.nullable(),
    diagnostics: z.strictObject({ cache_miss_reason: z.unknown() }).nullable(),
    stop_reason: stopReason,
    stop_sequence: z.string().nullable(),
    stop_details: RefusalStopDetailsSchema.nullable(),
    usage: UsageSchema,
  });
}

/** A whole Message (non-streamed): `stop_reason` is never null there. */
export const MessageSchema = messageSchema(z.array(ContentBlockSchema), StopReasonSchema).superRefine((message, ctx) => {
  if ((message.stop_reason === "stop_sequence") !== (message.stop_sequence !== null)) {
    ctx.addIssue({ code: "custom", path: ["stop_sequence"], message: "set exactly when stop_reason is stop_sequence" });
  }
});

/** message_start's message: no content, no stop reason yet. */
const StartMessageSchema = messageSchema(z.array(ContentBlockSchema).length(0), z.null());

const DeltaSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("text_delta"), text: z.string() }),
  z.strictObject({ type: z.literal("input_json_delta"), partial_json: z.string() }),
  z.strictObject({ type: z.literal("thinking_delta"), thinking: z.string() }),
  z.strictObject({ type: z.literal("signature_delta"), signature: z.string() }),
  z.strictObject({ type: z.literal("citations_delta"), citation: z.record(z.string(), z.unknown()) }),
]);

export const StreamEventSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("message_start"), message: StartMessageSchema }),
  z.strictObject({ type: z.literal("ping") }),
  z.strictObject({ type: z.literal("content_block_start"), index: count, content_block: ContentBlockSchema }),
  z.strictObject({ type: z.literal("content_block_delta"), index: count, delta: DeltaSchema }),
  z.strictObject({ type: z.literal("content_block_stop"), index: count }),
  z.strictObject({
    type: z.literal("message_delta"),
    delta: z.strictObject({
      container: ContainerSchema.nullable(),
      stop_details: RefusalStopDetailsSchema.nullable(),
      stop_reason: StopReasonSchema,
      stop_sequence: z.string().nullable(),
    }),
    usage: MessageDeltaUsageSchema,
  }),
  z.strictObject({ type: z.literal("message_stop") }),
]);

export type StreamEvent = z.output<typeof StreamEventSchema>;

/**
 * Anthropic's error types (the SDK's ErrorType union, and the "Errors" page's table, whose 413
 * `request_too_large` the SDK's union leaves out).
 */
export const ERROR_TYPE_BY_STATUS: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  402: "billing_error",
  403: "permission_error",
  404: "not_found_error",
  409: "conflict_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  504: "timeout_error",
  529: "overloaded_error",
};

export const ErrorBodySchema = z.strictObject({
  type: z.literal("error"),
  error: z.looseObject({
    type: z.enum([
      "invalid_request_error",
      "authentication_error",
      "billing_error",
      "permission_error",
      "not_found_error",
      "request_too_large",
      "rate_limit_error",
      "conflict_error",
      "api_error",
      "timeout_error",
      "overloaded_error",
    ]),
    message: z.string().min(1),
  }),
  request_id: z.string().regex(/^req_/),
});

export const TokensCountSchema = z.strictObject({ input_tokens: count });

const rfc3339 = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);

export const ModelInfoSchema = z.strictObject({
  type: z.literal("model"),
  id: z.string().min(1),
  display_name: z.string().min(1),
  created_at: rfc3339,
  capabilities: z.record(z.string(), z.unknown()).nullable(),
  deprecated_at: rfc3339.nullable(),
  lifecycle: z.enum(["active", "deprecated", "retired"]),
  line: z.enum(["haiku", "sonnet", "opus", "fable", "mythos"]).nullable(),
  max_input_tokens: count.nullable(),
  max_tokens: count.nullable(),
  retires_at: rfc3339.nullable(),
});

export const ModelPageSchema = z.strictObject({
  data: z.array(ModelInfoSchema),
  has_more: z.boolean(),
  first_id: z.string().nullable(),
  last_id: z.string().nullable(),
});

/** The schema's complaints, one line each, or [] when the value fits. */
export function problems(schema: z.ZodType, value: unknown): string[] {
  const parsed = schema.safeParse(value);
  return parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
}

/** Parses an SSE body as Anthropic writes it: `event: <type>` then `data: <json>` whose type repeats it. */
export function sseEvents(body: string): { event: string | undefined; data: Record<string, unknown> }[] {
  const out: { event: string | undefined; data: Record<string, unknown> }[] = [];
  for (const frame of body.split("\n\n")) {
    if (frame.trim() === "") continue;
    let event: string | undefined;
    const data: string[] = [];
    for (const line of frame.split("\n")) {
      if (line.startsWith(":")) continue;
      if (line.startsWith("event: ")) event = line.slice(7);
      else if (line.startsWith("data: ")) data.push(line.slice(6));
    }
    if (data.length === 0) continue;
    out.push({ event, data: JSON.parse(data.join("\n")) as Record<string, unknown> });
  }
  return out;
}

/**
 * The rules of a stream beyond each event's shape: message_start first, message_stop last, each
 * block started, delta'd and stopped in index order with no interleaving, the `event:` line equal
 * to the data's type, every delta of the block's own kind, and a tool's partial_json joining into
 * valid JSON.
 */
export function streamProblems(frames: { event: string | undefined; data: Record<string, unknown> }[]): string[] {
  const out: string[] = [];
  for (const [i, frame] of frames.entries()) {
    if (frame.event !== frame.data.type)
      out.push(`frame ${i}: event line ${frame.event} but data type ${String(frame.data.type)}`);
    out.push(...problems(StreamEventSchema, frame.data).map((p) => `frame ${i} (${String(frame.data.type)}): ${p}`));
  }
  const types = frames.map((f) => f.data.type);
  if (types[0] !== "message_start") out.push(`first event ${String(types[0])}`);
  if (types.at(-1) !== "message_stop") out.push(`last event ${String(types.at(-1))}`);
  if (types.filter((t) => t === "message_delta").length !== 1) out.push("not exactly one message_delta");
  let open: { index: number; type: string; json: string } | undefined;
  let next = 0;
  for (const { data } of frames) {
    if (data.type === "content_block_start") {
      if (open) out.push(`block ${String(data.index)} started while ${open.index} is open`);
      if (data.index !== next) out.push(`block started at ${String(data.index)}, expected ${next}`);
      open = { index: data.index as number, type: String((data.content_block as { type: string }).type), json: "" };
      next++;
    } else if (data.type === "content_block_delta") {
      const delta = data.delta as { type: string; partial_json?: string };
      if (open?.index !== data.index) out.push(`delta for block ${String(data.index)} not open`);
      const fits = {
        text: ["text_delta", "citations_delta"],
        tool_use: ["input_json_delta"],
        thinking: ["thinking_delta", "signature_delta"],
      }[open?.type ?? ""];
      if (!fits?.includes(delta.type)) out.push(`${delta.type} in a ${open?.type} block`);
      if (open && delta.type === "input_json_delta") open.json += delta.partial_json ?? "";
    } else if (data.type === "content_block_stop") {
      if (open?.index !== data.index) out.push(`stop for block ${String(data.index)} not open`);
      if (open?.type === "tool_use") {
        try {
          JSON.parse(open.json === "" ? "{}" : open.json);
        } catch {
          out.push(`block ${open.index}: partial_json ${open.json} is not JSON`);
        }
      }
      open = undefined;
    } else if (data.type === "message_delta" && open) out.push(`message_delta while block ${open.index} is open`);
  }
  return out;
}

/**
 * The beta Messages API's shapes (resources/beta/messages: BetaMessage, BetaUsage,
 * BetaMessageDeltaUsage, BetaRawMessageDeltaEvent), which the SDK's `beta.messages` decodes a
 * `?beta=true` answer as (Claude Code's requests): the Message's `context_management`, the usage's
 * `fallback_credit` and `iterations`, and message_delta's `context_management`, all required.
 */
const betaUsageFields = {
  fallback_credit: z.record(z.string(), z.unknown()).nullable(),
  iterations: z.array(z.unknown()).nullable(),
};
const ContextManagementSchema = z.strictObject({ applied_edits: z.array(z.unknown()) }).nullable();

export const BetaMessageSchema = z
  .strictObject({
    ...MessageSchema.shape,
    usage: UsageSchema.extend(betaUsageFields),
    context_management: ContextManagementSchema,
  })
  .superRefine((message, ctx) => {
    if ((message.stop_reason === "stop_sequence") !== (message.stop_sequence !== null)) {
      ctx.addIssue({ code: "custom", path: ["stop_sequence"], message: "set exactly when stop_reason is stop_sequence" });
    }
  });
