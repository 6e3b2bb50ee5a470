/** Seeds as llama.cpp and Ollama's runner take them: 32 bits (its samplers take a uint32_t). */
export const SEED_RANGE = 2 ** 32;

/**
 * llama.cpp's LLAMA_DEFAULT_SEED, 0xFFFFFFFF: its sampler draws a random seed for it. It is what
 * Ollama's "random" seed, -1 (its default), comes to as a uint32, and what llama-server's -1 means.
 */
export const RANDOM_SEED = SEED_RANGE - 1;

/** A seed as a uint32, wrapped as C wraps it (-2 is 0xFFFFFFFE, 2^32 + 5 is 5), not clamped. */
export function uint32Seed(seed: number): number {
  return ((seed % SEED_RANGE) + SEED_RANGE) % SEED_RANGE;
}
