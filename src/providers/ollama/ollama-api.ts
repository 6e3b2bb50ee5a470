/**
 * The Ollama wire as this provider sends and reads it (docs/api.md and api/types.go in
 * ollama/ollama). Answers are parsed leniently: unknown fields are ignored, optional ones may be
 * missing or null, and only what the provider uses is checked.
 */
import { z } from "zod";

export interface OllamaToolCallIn {
  /** Ollama >= 0.12.10 reads and returns tool-call ids; older servers ignore the field. */
  id?: string;
  function: { name: string; arguments: Record<string, unknown> };
}

export interface OllamaMessageIn {
  role: "system" | "user" | "assistant" | "tool";
  content: string;
  /** Base64, no data: prefix. */
  images?: string[];
  tool_calls?: OllamaToolCallIn[];
  /** On assistant messages: the turn's reasoning (a thinking model's `thinking`). */
  thinking?: string;
  /** On tool messages: which tool produced this result. */
  tool_name?: string;
  /** On tool messages (Ollama >= 0.12.10): the call this answers. */
  tool_call_id?: string;
}

export interface OllamaChatBody {
  model: string;
  messages: OllamaMessageIn[];
  tools?: { type: "function"; function: { name: string; description?: string; parameters: Record<string, unknown> } }[];
  format?: "json" | Record<string, unknown>;
  /** Reasoning on or off, or a level (gpt-oss takes "low" | "medium" | "high"). */
  think?: boolean | "low" | "medium" | "high" | "max";
  /** Each output token's log probability on its line (Ollama 0.12.11 and later), and how many alternatives with it (0-20). */
  logprobs?: boolean;
  top_logprobs?: number;
  options?: {
    temperature?: number;
    top_p?: number;
    top_k?: number;
    num_predict?: number;
    stop?: string[];
    seed?: number;
    presence_penalty?: number;
    frequency_penalty?: number;
    num_ctx?: number;
  };
  stream: boolean;
}

/** A POST /api/generate body tandem builds (for a raw prompt, see convertToOllamaGenerateRequest). */
export interface OllamaGenerateBody extends Pick<OllamaChatBody, "format" | "think" | "logprobs" | "top_logprobs" | "options"> {
  model: string;
  prompt: string;
  /** Fill-in-the-middle: the text after the gap. */
  suffix?: string;
  /** Whether the prompt goes to the model untemplated. */
  raw?: boolean;
  system?: string;
  stream: boolean;
}

const toolCallSchema = z.object({
  id: z.string().nullish(),
  function: z.object({
    index: z.number().nullish(),
    name: z.string(),
    arguments: z.union([z.record(z.string(), z.unknown()), z.string()]).nullish(),
  }),
});

/** One line of the /api/chat NDJSON stream: a chunk, the final chunk, or an in-band error. */
export const ollamaChatChunkSchema = z.object({
  model: z.string().nullish(),
  message: z
    .object({
      content: z.string().nullish(),
      thinking: z.string().nullish(),
      tool_calls: z.array(toolCallSchema).nullish(),
    })
    .nullish(),
  done: z.boolean().nullish(),
  done_reason: z.string().nullish(),
  prompt_eval_count: z.number().nullish(),
  eval_count: z.number().nullish(),
  error: z.string().nullish(),
  /** The line's tokens, `[{token, logprob, bytes, top_logprobs}]`, when asked for (read by core's readTokenLogprobs). */
  logprobs: z.unknown().optional(),
});

export type OllamaChatChunk = z.output<typeof ollamaChatChunkSchema>;

export const ollamaEmbedResponseSchema = z.object({
  embeddings: z.array(z.array(z.number())),
  prompt_eval_count: z.number().nullish(),
});

/** The legacy /api/embeddings answer: one vector, the model's own (not scaled to unit length). */
export const ollamaEmbeddingResponseSchema = z.object({
  embedding: z.array(z.number()),
});

export const ollamaTagsResponseSchema = z.object({
  models: z
    .array(
      z.object({
        name: z.string().nullish(),
        model: z.string().nullish(),
        modified_at: z.string().nullish(),
        size: z.number().nullish().catch(undefined),
        digest: z.string().nullish().catch(undefined),
        // Each field on its own (size and digest too): a server that writes one oddly (`families: null`,
        // as older ones do) keeps the rest, and its list.
        details: z
          .object({
            parent_model: z.string().nullish().catch(undefined),
            format: z.string().nullish().catch(undefined),
            family: z.string().nullish().catch(undefined),
            families: z.array(z.string()).nullish().catch(undefined),
            parameter_size: z.string().nullish().catch(undefined),
            quantization_level: z.string().nullish().catch(undefined),
          })
          .nullish()
          .catch(undefined),
      }),
    )
    .nullish(),
});

/** One model of an /api/tags answer. */
export type OllamaTagsEntry = NonNullable<z.output<typeof ollamaTagsResponseSchema>["models"]>[number];
