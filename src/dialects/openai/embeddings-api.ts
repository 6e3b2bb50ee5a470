import { z } from "zod";
import { modelSchema } from "./chat-completions-api.js";

/**
 * Lenient schema of a POST /v1/embeddings body (API reference and openai-node `EmbeddingCreateParams`).
 * Token-id inputs parse here and are read by hand (parseEmbeddingRequest).
 */
export const embeddingRequestSchema = z.object({
  model: modelSchema,
  input: z.union([z.string(), z.array(z.union([z.string(), z.number(), z.array(z.number())]))], {
    error: (issue) => (issue.input === undefined ? "you must provide an input parameter" : undefined),
  }),
  dimensions: z.number().int().min(1).nullish(),
  encoding_format: z.enum(["float", "base64"]).nullish(),
  user: z.string().nullish(),
});

export type EmbeddingRequestBody = z.output<typeof embeddingRequestSchema>;
