import { z } from "zod";
import type { ReasoningEffort } from "../../core/index.js";

/**
 * OpenAI's effort levels (`reasoning_effort`, `reasoning.effort`) above `none`, least first: no `max`
 * (Anthropic's and Ollama's).
 */
export const OPENAI_EFFORTS: readonly ReasoningEffort[] = ["minimal", "low", "medium", "high", "xhigh"];

/**
 * Lenient schemas of what OpenAI-compatible upstreams send back (after vercel/ai
 * `openai-chat-api.ts`): only the fields we read, everything nullish, unknown fields ignored, so
 * vLLM, llama-server, LM Studio, Groq and OpenRouter parse as well as api.openai.com.
 */

export const openAIUsageSchema = z.object({
  prompt_tokens: z.number().nullish(),
  completion_tokens: z.number().nullish(),
  prompt_tokens_details: z.object({ cached_tokens: z.number().nullish() }).nullish(),
  /** DeepSeek's count of the prompt's tokens read from its context cache (it sends no `prompt_tokens_details`). */
  prompt_cache_hit_tokens: z.number().nullish(),
  completion_tokens_details: z.object({ reasoning_tokens: z.number().nullish() }).nullish(),
});

export const openAIErrorObjectSchema = z.object({
  message: z.string().nullish(),
  type: z.string().nullish(),
  param: z.string().nullish(),
  // api.openai.com sends a string; vLLM and OpenRouter send the HTTP status as a number.
  code: z.union([z.string(), z.number()]).nullish(),
});

export type OpenAIErrorObjectWire = z.output<typeof openAIErrorObjectSchema>;

export interface OpenAIToolCallPiece {
  index?: number | null;
  id?: string | null;
  function?: { name?: string | null; arguments?: string | null } | null;
  /** A call of a custom tool: free-form text input, streamed in pieces like a function's arguments. */
  custom?: { name?: string | null; input?: string | null } | null;
}

/** One `chat.completion.chunk`, as far as we read it. */
export interface OpenAIChatChunk {
  id?: string | null;
  model?: string | null;
  choices?:
    | {
        index?: number | null;
        delta?: {
          content?: string | null;
          refusal?: string | null;
          /** The model's reasoning as DeepSeek, vLLM and llama-server name it (read when a string). */
          reasoning_content?: unknown;
          /** The same as OpenRouter names it (read when a string). */
          reasoning?: unknown;
          tool_calls?: OpenAIToolCallPiece[] | null;
        } | null;
        /** The tokens' log probabilities, when asked for: `content` and `refusal` lists (read leniently, see map-openai-logprobs.ts). */
        logprobs?: unknown;
        finish_reason?: string | null;
      }[]
    | null;
  usage?: OpenAIUsage | null;
}

export type OpenAIUsage = z.output<typeof openAIUsageSchema>;

/**
 * Checks a parsed chunk against the OpenAIChatChunk shape by hand (the same leniency as the zod
 * schemas here: nullish everywhere, unknown fields ignored). A stream carries hundreds of chunks, so
 * this runs per token; a zod parse per chunk was a measurable part of tandem's CPU per request.
 * Returns undefined when a field we read has the wrong type.
 */
export function asOpenAIChatChunk(value: unknown): OpenAIChatChunk | undefined {
  if (!isObject(value)) return undefined;
  if (!nullishOf(value.id, "string") || !nullishOf(value.model, "string")) return undefined;
  const choices = value.choices;
  if (choices != null) {
    if (!Array.isArray(choices)) return undefined;
    for (const choice of choices) {
      if (!isObject(choice) || !nullishOf(choice.index, "number") || !nullishOf(choice.finish_reason, "string")) return undefined;
      const delta = choice.delta;
      if (delta == null) continue;
      if (!isObject(delta) || !nullishOf(delta.content, "string") || !nullishOf(delta.refusal, "string")) return undefined;
      // Reasoning of another type is not read (OpenAIAnswer reads strings only), but not refused either;
      // the chunk is not changed, as the same-wire path hands it to the client as it came.
      const calls = delta.tool_calls;
      if (calls == null) continue;
      if (!Array.isArray(calls)) return undefined;
      for (const call of calls) {
        if (!isObject(call) || !nullishOf(call.index, "number") || !nullishOf(call.id, "string")) return undefined;
        const fn = call.function;
        if (fn != null && (!isObject(fn) || !nullishOf(fn.name, "string") || !nullishOf(fn.arguments, "string")))
          return undefined;
        const custom = call.custom;
        if (custom != null && (!isObject(custom) || !nullishOf(custom.name, "string") || !nullishOf(custom.input, "string")))
          return undefined;
      }
    }
  }
  if (value.usage != null && !openAIUsageSchema.safeParse(value.usage).success) return undefined;
  return value as OpenAIChatChunk;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function nullishOf(value: unknown, type: "string" | "number"): boolean {
  return value == null || typeof value === type;
}

export const openAIEmbeddingResponseSchema = z.object({
  data: z.array(z.object({ index: z.number().nullish(), embedding: z.array(z.number()) })),
  usage: z.object({ prompt_tokens: z.number().nullish() }).nullish(),
});

export const openAIModelListSchema = z.object({
  data: z.array(
    z.object({
      id: z.string(),
      created: z.number().nullish(),
      owned_by: z.string().nullish(),
      // Context window where compatible servers report one (OpenRouter, vLLM).
      context_length: z.number().nullish(),
      max_model_len: z.number().nullish(),
    }),
  ),
});

/** The request body we send to POST /chat/completions. */
export interface OpenAIChatRequestBody {
  model: string;
  messages: OpenAIChatMessage[];
  stream: boolean;
  stream_options?: { include_usage: true };
  tools?: {
    type: "function";
    function: { name: string; description?: string; parameters: Record<string, unknown>; strict?: boolean };
  }[];
  tool_choice?: "auto" | "none" | "required" | { type: "function"; function: { name: string } };
  parallel_tool_calls?: boolean;
  reasoning_effort?: string;
  response_format?:
    | { type: "text" }
    | { type: "json_object" }
    | { type: "json_schema"; json_schema: { name: string; schema: Record<string, unknown>; strict?: boolean } };
  max_tokens?: number;
  max_completion_tokens?: number;
  temperature?: number;
  top_p?: number;
  presence_penalty?: number;
  frequency_penalty?: number;
  stop?: string[];
  seed?: number;
  user?: string;
  logprobs?: boolean;
  top_logprobs?: number;
  prompt_cache_key?: string;
  safety_identifier?: string;
  service_tier?: string;
  verbosity?: string;
}

export type OpenAIContentPart =
  | { type: "text"; text: string }
  | { type: "image_url"; image_url: { url: string; detail?: "auto" | "low" | "high" | "original" } }
  /** A PDF given whole, inline (`file_data` as a `data:` URL). */
  | { type: "file"; file: { filename?: string; file_data: string } };

export type OpenAIChatMessage =
  | { role: "system"; content: string }
  | { role: "user"; content: string | OpenAIContentPart[] }
  | {
      role: "assistant";
      content: string | null;
      /** Earlier reasoning, to an upstream that reads it back (DeepSeek's, Moonshot's: see OpenAIProviderOptions.reasoningContent). */
      reasoning_content?: string;
      tool_calls?: { id: string; type: "function"; function: { name: string; arguments: string } }[];
    }
  | { role: "tool"; tool_call_id: string; content: string };
