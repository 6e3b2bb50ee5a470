import type { EmbedResult, ResponseMeta } from "../../core/index.js";
import type { EmbeddingEncoding } from "./parse-embedding-request.js";

/** The embeddings list object of the API reference. */
export interface EmbeddingList {
  object: "list";
  data: { object: "embedding"; index: number; embedding: number[] | string }[];
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

export function renderEmbeddings(result: EmbedResult, meta: ResponseMeta, encoding: EmbeddingEncoding): EmbeddingList {
  return {
    object: "list",
    data: result.embeddings.map((vector, index) => ({
      object: "embedding",
      index,
      embedding: encoding === "base64" ? encodeFloat32Base64(vector) : vector,
    })),
    model: meta.target,
    usage: { prompt_tokens: result.usage.inputTokens, total_tokens: result.usage.inputTokens },
  };
}

/**
 * `encoding_format: "base64"`: the vector as little-endian float32 bytes, base64-encoded. This is what
 * the official openai Node SDK asks for by default and decodes with a Float32Array.
 */
export function encodeFloat32Base64(vector: readonly number[]): string {
  const bytes = Buffer.allocUnsafe(vector.length * 4);
  for (let i = 0; i < vector.length; i++) bytes.writeFloatLE(vector[i] as number, i * 4);
  return bytes.toString("base64");
}
