/**
 * OpenAI's Chat Completions, Completions, Embeddings and Models answers as the openai SDK's types
 * (6.49) declare them (resources/chat/completions/completions.ts: ChatCompletion,
 * ChatCompletionChunk, ChatCompletionMessage, ChatCompletionTokenLogprob, ChatCompletionDeleted,
 * ChatCompletionStoreMessage; resources/completions.ts: Completion, CompletionUsage;
 * resources/embeddings.ts: CreateEmbeddingResponse; resources/models.ts: Model; the error body of
 * core/error.ts), as zod schemas a test checks tandem's answers with. A field the types declare
 * without `?` must be present (null where the type allows it); `strictObject` refuses a field the
 * types do not have, so a stray field is found too. tandem's documented extensions are allowed by
 * name: `reasoning_content` (README, Reasoning across dialects) and a custom tool's call in a
 * chunk (the SDK's ChatCompletionMessageCustomToolCall, streamed as the SDK's helper joins it).
 */
import { z } from "zod";

const count = z.int().min(0);

const TopLogprobSchema = z.strictObject({ token: z.string(), bytes: z.array(z.int()).nullable(), logprob: z.number() });
const TokenLogprobSchema = z.strictObject({
  token: z.string(),
  bytes: z.array(z.int()).nullable(),
  logprob: z.number(),
  top_logprobs: z.array(TopLogprobSchema),
});
const ChoiceLogprobsSchema = z.strictObject({
  content: z.array(TokenLogprobSchema).nullable(),
  refusal: z.array(TokenLogprobSchema).nullable(),
});

export const CompletionUsageSchema = z.strictObject({
  completion_tokens: count,
  prompt_tokens: count,
  total_tokens: count,
  completion_tokens_details: z
    .strictObject({
      accepted_prediction_tokens: count.optional(),
      audio_tokens: count.optional(),
      reasoning_tokens: count.optional(),
      rejected_prediction_tokens: count.optional(),
    })
    .optional(),
  prompt_tokens_details: z
    .strictObject({ audio_tokens: count.optional(), cache_write_tokens: count.optional(), cached_tokens: count.optional() })
    .optional(),
});

const ServiceTierSchema = z.enum(["auto", "default", "flex", "scale", "priority"]).nullable().optional();

const FunctionToolCallSchema = z.strictObject({
  id: z.string().min(1),
  type: z.literal("function"),
  function: z.strictObject({ name: z.string().min(1), arguments: z.string() }),
});
const CustomToolCallSchema = z.strictObject({
  id: z.string().min(1),
  type: z.literal("custom"),
  custom: z.strictObject({ name: z.string().min(1), input: z.string() }),
});

const AnnotationSchema = z.strictObject({
  type: z.literal("url_citation"),
  url_citation: z.strictObject({ end_index: count, start_index: count, title: z.string(), url: z.string() }),
});

export const ChatCompletionMessageSchema = z.strictObject({
  role: z.literal("assistant"),
  content: z.string().nullable(),
  refusal: z.string().nullable(),
  annotations: z.array(AnnotationSchema).optional(),
  audio: z.null().optional(),
  /** Deprecated: the one call of an answer to a request with `functions` (ChatCompletionMessage.FunctionCall). */
  function_call: z
    .strictObject({ name: z.string().min(1), arguments: z.string() })
    .nullable()
    .optional(),
  tool_calls: z.array(z.discriminatedUnion("type", [FunctionToolCallSchema, CustomToolCallSchema])).optional(),
  /** tandem's extension (as DeepSeek answers it). */
  reasoning_content: z.string().optional(),
});

const FinishReasonSchema = z.enum(["stop", "length", "tool_calls", "content_filter", "function_call"]);

export const ChatCompletionSchema = z.strictObject({
  id: z.string().regex(/^chatcmpl-/),
  object: z.literal("chat.completion"),
  created: count,
  model: z.string().min(1),
  choices: z.array(
    z.strictObject({
      index: count,
      message: ChatCompletionMessageSchema,
      logprobs: ChoiceLogprobsSchema.nullable(),
      finish_reason: FinishReasonSchema,
    }),
  ),
  moderation: z.null().optional(),
  service_tier: ServiceTierSchema,
  system_fingerprint: z.string().optional(),
  usage: CompletionUsageSchema.optional(),
});

const ToolCallDeltaSchema = z.union([
  z.strictObject({
    index: count,
    id: z.string().min(1).optional(),
    type: z.literal("function").optional(),
    function: z.strictObject({ name: z.string().min(1).optional(), arguments: z.string().optional() }).optional(),
  }),
  z.strictObject({
    index: count,
    id: z.string().min(1).optional(),
    type: z.literal("custom").optional(),
    custom: z.strictObject({ name: z.string().min(1).optional(), input: z.string().optional() }),
  }),
]);

export const ChatCompletionChunkSchema = z.strictObject({
  id: z.string().regex(/^chatcmpl-/),
  object: z.literal("chat.completion.chunk"),
  created: count,
  model: z.string().min(1),
  choices: z.array(
    z.strictObject({
      index: count,
      delta: z.strictObject({
        role: z.enum(["developer", "system", "user", "assistant", "tool"]).optional(),
        content: z.string().nullable().optional(),
        refusal: z.string().nullable().optional(),
        function_call: z.strictObject({ name: z.string().optional(), arguments: z.string().optional() }).optional(),
        tool_calls: z.array(ToolCallDeltaSchema).optional(),
        /** tandem's extension (as DeepSeek streams it). */
        reasoning_content: z.string().optional(),
      }),
      logprobs: ChoiceLogprobsSchema.nullable().optional(),
      finish_reason: FinishReasonSchema.nullable(),
    }),
  ),
  moderation: z.null().optional(),
  service_tier: ServiceTierSchema,
  system_fingerprint: z.string().optional(),
  usage: CompletionUsageSchema.nullable().optional(),
  /** What api.openai.com pads chunks with (stream_options.include_obfuscation), passed through from it. */
  obfuscation: z.string().optional(),
});

export const CompletionSchema = z.strictObject({
  id: z.string().regex(/^cmpl-/),
  object: z.literal("text_completion"),
  created: count,
  model: z.string().min(1),
  choices: z.array(
    z.strictObject({
      text: z.string(),
      index: count,
      logprobs: z
        .strictObject({
          text_offset: z.array(count).optional(),
          token_logprobs: z.array(z.number()).optional(),
          tokens: z.array(z.string()).optional(),
          top_logprobs: z.array(z.record(z.string(), z.number())).optional(),
        })
        .nullable(),
      finish_reason: z.enum(["stop", "length", "content_filter"]),
    }),
  ),
  system_fingerprint: z.string().optional(),
  usage: CompletionUsageSchema.optional(),
});

/** A streamed Completion: the SDK's Stream<Completion>; the last choice chunk has the finish reason, others null. */
export const CompletionChunkSchema = CompletionSchema.extend({
  choices: z.array(
    z.strictObject({
      text: z.string(),
      index: count,
      logprobs: CompletionSchema.shape.choices.element.shape.logprobs,
      finish_reason: z.enum(["stop", "length", "content_filter"]).nullable(),
    }),
  ),
  usage: CompletionUsageSchema.nullable().optional(),
});

export const CreateEmbeddingResponseSchema = z.strictObject({
  object: z.literal("list"),
  data: z.array(
    z.strictObject({ object: z.literal("embedding"), index: count, embedding: z.union([z.array(z.number()), z.string()]) }),
  ),
  model: z.string().min(1),
  usage: z.strictObject({ prompt_tokens: count, total_tokens: count }),
});

export const ModelSchema = z.strictObject({
  id: z.string().min(1),
  object: z.literal("model"),
  created: count,
  owned_by: z.string().min(1),
});

export const ModelListSchema = z.strictObject({ object: z.literal("list"), data: z.array(ModelSchema) });

/** OpenAI's error body: every one of the four fields present, param and code null when there is none. */
export const ErrorBodySchema = z.strictObject({
  error: z.strictObject({
    message: z.string().min(1),
    type: z.string().min(1),
    param: z.string().nullable(),
    code: z.string().nullable(),
  }),
});

export function problems(schema: z.ZodType, value: unknown): string[] {
  const parsed = schema.safeParse(value);
  return parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
}

/** The `data:` payloads of an OpenAI SSE body, `[DONE]` as the string; comment lines skipped. */
export function sseData(body: string): unknown[] {
  const out: unknown[] = [];
  for (const frame of body.split("\n\n")) {
    const data = frame
      .split("\n")
      .filter((line) => line.startsWith("data: "))
      .map((line) => line.slice(6))
      .join("\n");
    if (data === "") continue;
    out.push(data === "[DONE]" ? data : JSON.parse(data));
  }
  return out;
}

/** Every chunk of a stream checked against a schema, and `[DONE]` last and only last. */
export function streamProblems(body: string, schema: z.ZodType): string[] {
  const frames = sseData(body);
  const out: string[] = [];
  if (frames.at(-1) !== "[DONE]") out.push("the stream does not end with [DONE]");
  frames.slice(0, -1).forEach((frame, i) => {
    if (frame === "[DONE]") out.push(`frame ${i}: [DONE] before the end`);
    else out.push(...problems(schema, frame).map((p) => `frame ${i}: ${p}`));
  });
  return out;
}
