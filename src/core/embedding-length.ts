/** A vector scaled to unit length; a zero vector stays zero (its norm floored at 1e-12, as Ollama's normalize does). */
export function unitLength(vector: readonly number[]): number[] {
  let sum = 0;
  for (const v of vector) sum += v * v;
  const scale = 1 / Math.max(Math.sqrt(sum), 1e-12);
  return vector.map((v) => v * scale);
}

/**
 * An embedding asked for in fewer `dimensions` than it has: its first values, scaled to unit length
 * again, as OpenAI's text-embedding-3 models and Ollama's `dimensions` shorten theirs (the vectors
 * are trained so that a prefix keeps their meaning). A vector no longer than that is left as it is.
 */
export function shortenEmbedding(vector: readonly number[], dimensions: number | undefined): readonly number[] {
  if (dimensions === undefined || dimensions <= 0 || dimensions >= vector.length) return vector;
  return unitLength(vector.slice(0, dimensions));
}
