import { randomInt } from "node:crypto";
import { RANDOM_SEED, uint32Seed } from "../../../core/index.js";

/**
 * The seed one generation samples with. A request without a seed samples afresh: a random seed of
 * its own. node-llama-cpp would otherwise seed it with the current second, so every request (and every
 * fanned-out choice) started in the same second drew the same text at any temperature.
 *
 * A given seed is taken as llama.cpp and Ollama take one, as a uint32 (wrapped, not clamped: -2 is
 * 0xFFFFFFFE, 2^32 + 5 is 5, where node-llama-cpp would clamp every negative seed to 0), so the same
 * seed gives the same answer. The one that comes to 0xFFFFFFFF, -1 above all, means random, as in
 * llama.cpp, llama-server and Ollama (whose sampler leaves -1 unseeded).
 */
export function samplingSeed(seed: number | undefined, random: () => number = randomSeed): number {
  if (seed === undefined) return random();
  const wrapped = uint32Seed(seed);
  return wrapped === RANDOM_SEED ? random() : wrapped;
}

/** Any seed but the one that means random. */
function randomSeed(): number {
  return randomInt(0, RANDOM_SEED);
}
