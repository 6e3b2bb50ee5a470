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

/**
 * The seed of choice `index`: choice 0 keeps the client's seed (it is the answer the request alone
 * would get), choice `index` the seed `index` past it, stepping over the one value that means random
 * to the engine and Ollama (-1, 2^32 - 1), so that every choice repeats. A seed past 2^53, where
 * `seed + 1` is `seed` again as a double, counts on from its 32 bits, which are all the engine reads.
 * The random seed itself stays as it is for every choice: each then draws its own.
 */
export function choiceSeed(seed: number, index: number): number {
  if (index === 0 || uint32Seed(seed) === RANDOM_SEED) return seed;
  const base = Number.isSafeInteger(seed + index + 1) ? seed : uint32Seed(seed);
  const toRandom = RANDOM_SEED - uint32Seed(seed);
  return base + index + (index >= toRandom ? 1 : 0);
}
