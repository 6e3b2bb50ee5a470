import { z } from "zod";
import { int64 } from "../shared/index.js";

/**
 * Lenient schema of a POST /v1/chat/completions body (after the OpenAI API reference and the
 * openai-node `ChatCompletionCreateParams`). Unknown fields are stripped; every optional field may be
 * null, as the SDKs send it. Ranges are OpenAI's own, so a bad value gets a 400 naming the field.
 */

const textPart = z.object({ type: z.literal("text"), text: z.string() });

const imagePart = z.object({
  type: z.literal("image_url"),
  // Some clients send the URL as a bare string; the API reference has an object.
  image_url: z.union([z.string(), z.object({ url: z.string(), detail: z.enum(["auto", "low", "high", "original"]).nullish() })]),
});

// Audio and files have no canonical form: they reach an OpenAI-compatible target in the client's
// own body only (see NativeRequest.wireOnly).
const audioPart = z.object({
  type: z.literal("input_audio"),
  input_audio: z.object({ data: z.string(), format: z.string() }),
});
const filePart = z.object({
  type: z.literal("file"),
  file: z.object({ file_data: z.string().nullish(), file_id: z.string().nullish(), filename: z.string().nullish() }),
});
const refusalPart = z.object({ type: z.literal("refusal"), refusal: z.string() });

const userContentPart = z.discriminatedUnion("type", [textPart, imagePart, audioPart, filePart]);
const assistantContentPart = z.discriminatedUnion("type", [textPart, refusalPart]);

/** A legacy `function_call` (the deprecated functions API): the model's one call, without an id. */
const legacyFunctionCall = z.object({
  name: z.string(),
  // As a tool call's: some clients send the arguments as an object instead of JSON text.
  arguments: z.union([z.string(), z.record(z.string(), z.unknown())]),
});

const functionCall = z.object({
  id: z.string(),
  type: z.literal("function"),
  function: z.object({
    name: z.string(),
    // Some clients send the arguments as an object instead of JSON text.
    arguments: z.union([z.string(), z.record(z.string(), z.unknown())]),
  }),
});

/** A call of a custom tool (free-form text input), as the model made it. */
const customCall = z.object({
  id: z.string(),
  type: z.literal("custom"),
  custom: z.object({ name: z.string(), input: z.string() }),
});

/** A call without a type is a function call (as clients of older APIs send it). */
const toolCall = z.preprocess(
  (value) =>
    typeof value === "object" && value !== null && (value as { type?: unknown }).type == null
      ? { ...value, type: "function" }
      : value,
  z.discriminatedUnion("type", [functionCall, customCall]),
);

const systemMessage = z.object({
  role: z.enum(["system", "developer"]),
  content: z.union([z.string(), z.array(textPart)]),
});

const userMessage = z.object({
  role: z.literal("user"),
  content: z.union([z.string(), z.array(userContentPart)]),
});

const assistantMessage = z.object({
  role: z.literal("assistant"),
  content: z.union([z.string(), z.array(assistantContentPart)]).nullish(),
  refusal: z.string().nullish(),
  /** The turn's reasoning as DeepSeek (and tandem) answer it, sent back by clients that keep the message. */
  reasoning_content: z.string().nullish(),
  tool_calls: z.array(toolCall).nullish(),
  /** Deprecated (ChatCompletionAssistantMessageParam.function_call): the turn's one call of the legacy functions API. */
  function_call: legacyFunctionCall.nullish(),
});

const toolMessage = z.object({
  role: z.literal("tool"),
  tool_call_id: z.string(),
  content: z.union([z.string(), z.array(textPart)]),
});

/**
 * Deprecated (ChatCompletionFunctionMessageParam): the result of a legacy `function_call`, named by
 * its function, with no call id (legacy-functions.ts pairs it with its call).
 */
const functionMessage = z.object({
  role: z.literal("function"),
  name: z.string(),
  content: z.union([z.string(), z.array(textPart)]).nullish(),
});

export const chatMessageSchema = z.discriminatedUnion("role", [
  systemMessage,
  userMessage,
  assistantMessage,
  toolMessage,
  functionMessage,
]);

const functionTool = z.object({
  type: z.literal("function"),
  function: z.object({
    name: z.string().min(1),
    description: z.string().nullish(),
    parameters: z.record(z.string(), z.unknown()).nullish(),
    strict: z.boolean().nullish(),
  }),
});

/** A tool that takes free-form text (and its grammar), not JSON arguments: no canonical form. */
const customTool = z.object({
  type: z.literal("custom"),
  custom: z.object({
    name: z.string().min(1),
    description: z.string().nullish(),
    format: z.record(z.string(), z.unknown()).nullish(),
  }),
});

const tool = z.discriminatedUnion("type", [functionTool, customTool]);

/** A function of the deprecated `functions` list: a function tool's `function`, without the wrapper. */
const legacyFunction = z.object({
  name: z.string().min(1),
  description: z.string().nullish(),
  parameters: z.record(z.string(), z.unknown()).nullish(),
});

const toolChoice = z.union([
  z.enum(["auto", "none", "required"]),
  z.object({ type: z.literal("function"), function: z.object({ name: z.string() }) }),
  z.object({ type: z.literal("custom"), custom: z.object({ name: z.string() }) }),
  z.object({
    type: z.literal("allowed_tools"),
    allowed_tools: z.object({
      mode: z.enum(["auto", "required"]),
      tools: z.array(z.record(z.string(), z.unknown())),
    }),
  }),
]);

/**
 * A response format's name, as OpenAI checks it (`a-z`, `A-Z`, `0-9`, `_` and `-`, at most 64): checked
 * here, whatever the target, so a name OpenAI would refuse is refused the same on every route rather
 * than only when the request reaches OpenAI.
 */
export const schemaNameSchema = z
  .string()
  .max(64, { error: "string too long. Expected a string with maximum length 64." })
  .regex(/^[a-zA-Z0-9_-]+$/, {
    error: "string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.",
  });

const responseFormat = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text") }),
  z.object({ type: z.literal("json_object") }),
  z.object({
    type: z.literal("json_schema"),
    json_schema: z.object({
      name: schemaNameSchema,
      description: z.string().nullish(),
      schema: z.record(z.string(), z.unknown()).nullish(),
      strict: z.boolean().nullish(),
    }),
  }),
]);

export const streamOptionsSchema = z.object({ include_usage: z.boolean().nullish() }).nullish();

export const stopSchema = z.union([z.string(), z.array(z.string()).max(4)]).nullish();

export const modelSchema = z.string({
  error: (issue) => (issue.input === undefined || issue.input === null ? "you must provide a model parameter" : undefined),
});

export const chatCompletionRequestSchema = z.object({
  model: modelSchema,
  messages: z.array(chatMessageSchema).min(1),
  tools: z.array(tool).nullish(),
  tool_choice: toolChoice.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  response_format: responseFormat.nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  max_tokens: z.number().int().min(1).nullish(),
  max_completion_tokens: z.number().int().min(1).nullish(),
  stop: stopSchema,
  seed: int64().nullish(),
  n: z.number().int().min(1).max(128).nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  /** The answer's token log probabilities (ChatRequest.logprobs); `top_logprobs` only with `logprobs: true`, as OpenAI. */
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
  user: z.string().nullish(),
  /**
   * OpenAI's request settings the Responses API has too (ChatRequest.promptCacheKey...): carried, so
   * that a Responses-only target is sent them.
   */
  prompt_cache_key: z.string().nullish(),
  safety_identifier: z.string().nullish(),
  service_tier: z.string().nullish(),
  verbosity: z.string().nullish(),
  /** The canonical reasoning control; "none" asks for no reasoning (a level a target lacks goes as the nearest below, named). */
  reasoning_effort: z
    .enum(["none", "minimal", "low", "medium", "high", "xhigh", "max"], {
      error: "expected 'none', 'minimal', 'low', 'medium', 'high', 'xhigh' or 'max'",
    })
    .nullish(),
  stream: z.boolean().nullish(),
  stream_options: streamOptionsSchema,
  /** Deprecated in favour of `tools` (ChatCompletionCreateParams.Function), still taken by OpenAI: see legacy-functions.ts. */
  functions: z.array(legacyFunction).nullish(),
  /** Deprecated in favour of `tool_choice`. */
  function_call: z.union([z.enum(["none", "auto"]), z.object({ name: z.string() })]).nullish(),
});

export type ChatCompletionRequestBody = z.output<typeof chatCompletionRequestSchema>;
export type ChatMessageBody = z.output<typeof chatMessageSchema>;
export type LegacyFunctionBody = z.output<typeof legacyFunction>;
