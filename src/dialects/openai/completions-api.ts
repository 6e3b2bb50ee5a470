import { z } from "zod";
import { int64 } from "../shared/index.js";
import { modelSchema, stopSchema, streamOptionsSchema } from "./chat-completions-api.js";

/**
 * Lenient schema of a POST /v1/completions body (the legacy text completions API, after the API
 * reference and openai-node `CompletionCreateParams`). `prompt` is checked by hand after parsing so
 * token arrays and batches get their own clear 400.
 */
export const completionRequestSchema = z.object({
  model: modelSchema,
  prompt: z.union([z.string(), z.array(z.union([z.string(), z.number(), z.array(z.number())]))]).nullish(),
  /** 0 answers the prompt's own tokens alone (with echo and logprobs, as OpenAI and vLLM allow). */
  max_tokens: z.number().int().min(0).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  stop: stopSchema,
  seed: int64().nullish(),
  n: z.number().int().min(1).max(128).nullish(),
  best_of: z.number().int().min(0).max(20).nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  echo: z.boolean().nullish(),
  suffix: z.string().nullish(),
  /** The answer's tokens with this many alternatives each (ChatRequest.logprobs), as the legacy API's `logprobs` shape. */
  logprobs: z.number().int().min(0).max(5).nullish(),
  user: z.string().nullish(),
  stream: z.boolean().nullish(),
  stream_options: streamOptionsSchema,
});

export type CompletionRequestBody = z.output<typeof completionRequestSchema>;
