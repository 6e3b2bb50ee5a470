import { type ChatRequest, RANDOM_SEED, uint32Seed } from "../../core/index.js";

/**
 * Choice `index` of the several a request is fanned out into (chat's `n`, legacy completions' `n` and
 * `best_of` for one prompt), as a request of its own. Without a seed it is the request as it is: each
 * choice is a request of its own, which every target samples afresh. With one, the choices must still
 * differ, as OpenAI's do, and the whole answer must come again with the same seed: choice `index`
 * gets a seed of its own, see choiceSeed. The client's body, which a target on its wire would be
 * sent, says the same seed.
 */
export function withChoiceSeed(request: ChatRequest, index: number): ChatRequest {
  if (request.seed === undefined) return request;
  const seed = choiceSeed(request.seed, index);
  if (seed === request.seed) return request;
  const native = request.native;
  if (native === undefined || !("seed" in native.body)) return { ...request, seed };
  // The body's text no longer says it: the body is sent serialised.
  const { text: _text, ...rest } = native;
  return { ...request, seed, native: { ...rest, body: { ...native.body, seed } } };
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
