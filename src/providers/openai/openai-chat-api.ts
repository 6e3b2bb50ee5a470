import { z } from "zod";

/**
 * Lenient schemas of what OpenAI-compatible upstreams send back (after vercel/ai
 * `openai-chat-api.ts`): only the fields we read, everything nullish, unknown fields ignored, so
 * vLLM, llama-server, LM Studio, Groq and OpenRouter parse as well as api.openai.com.
 */

export const openAIUsageSchema = z.object({
  prompt_tokens: z.number().nullish(),
  completion_tokens: z.number().nullish(),
  prompt_tokens_details: z.object({ cached_tokens: z.number().nullish() }).nullish(),
});

export const openAIErrorObjectSchema = z.object({
  message: z.string().nullish(),
  type: z.string().nullish(),
  param: z.string().nullish(),
  // api.openai.com sends a string; vLLM and OpenRouter send the HTTP status as a number.
  code: z.union([z.string(), z.number()]).nullish(),
});

export type OpenAIErrorObjectWire = z.output<typeof openAIErrorObjectSchema>;

export const openAIChatChunkSchema = z.object({
  id: z.string().nullish(),
  model: z.string().nullish(),
  choices: z
    .array(
      z.object({
        index: z.number().nullish(),
        delta: z
          .object({
            content: z.string().nullish(),
            refusal: z.string().nullish(),
            tool_calls: z
              .array(
                z.object({
                  index: z.number().nullish(),
                  id: z.string().nullish(),
                  function: z.object({ name: z.string().nullish(), arguments: z.string().nullish() }).nullish(),
                }),
              )
              .nullish(),
          })
          .nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .nullish(),
  usage: openAIUsageSchema.nullish(),
});

export type OpenAIChatChunk = z.output<typeof openAIChatChunkSchema>;

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
  stream: true;
  stream_options: { include_usage: true };
  tools?: {
    type: "function";
    function: { name: string; description?: string; parameters: Record<string, unknown>; strict?: boolean };
  }[];
  tool_choice?: "auto" | "none" | "required" | { type: "function"; function: { name: string } };
  parallel_tool_calls?: boolean;
  response_format?:
    | { type: "text" }
    | { type: "json_object" }
    | { type: "json_schema"; json_schema: { name: string; schema: Record<string, unknown>; strict?: boolean } };
  max_tokens?: number;
  max_completion_tokens?: number;
  temperature?: number;
  top_p?: number;
  stop?: string[];
  seed?: number;
  user?: string;
}

export type OpenAIContentPart =
  | { type: "text"; text: string }
  | { type: "image_url"; image_url: { url: string; detail?: "auto" | "low" | "high" } };

export type OpenAIChatMessage =
  | { role: "system"; content: string }
  | { role: "user"; content: string | OpenAIContentPart[] }
  | {
      role: "assistant";
      content: string | null;
      tool_calls?: { id: string; type: "function"; function: { name: string; arguments: string } }[];
    }
  | { role: "tool"; tool_call_id: string; content: string };
