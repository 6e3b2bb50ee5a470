import { GatewayError, shortenEmbedding, unitLength } from "../../core/index.js";

/**
 * One /api/embed vector as Ollama answers it (routes.go's EmbedHandler): scaled to unit length, and
 * with `dimensions` smaller than the vector, cut to that many values and scaled to unit length again.
 * A target that already did both (an OpenAI model asked `dimensions`) is left as it was, give or take
 * rounding; one that did neither (most Ollama and OpenAI-compatible models'
 * raw pooled vectors) answers what Ollama would. The legacy /api/embeddings is not normalized, as
 * in Ollama.
 */
export function normalizeOllamaEmbedding(vector: readonly number[], dimensions?: number): number[] {
  if (!vector.every(Number.isFinite)) {
    // Ollama's normalize refuses such a vector, and its handler answers that with a 400.
    throw new GatewayError("invalid_request", "embedding contains NaN or Inf values");
  }
  return [...shortenEmbedding(unitLength(vector), dimensions)];
}
