import { type ChatRequest, choiceSeed } from "../../core/index.js";

/**
 * Choice `index` of the several a request is fanned out into (chat's `n`, legacy completions' `n` and
 * `best_of` for one prompt), as a request of its own. Without a seed it is the request as it is, with
 * its index: each choice is a request of its own, which every target samples afresh, unless the
 * target has a seed of its own for it (a local model's saved one), which steps as the client's would. With one, the choices must still
 * differ, as OpenAI's do, and the whole answer must come again with the same seed: choice `index`
 * gets a seed of its own, see choiceSeed. The client's body, which a target on its wire would be
 * sent, says the same seed.
 */
export function withChoiceSeed(request: ChatRequest, index: number): ChatRequest {
  // Unseeded, a later choice says which it is, for a target that seeds it itself (ChatRequest.choice).
  if (request.seed === undefined) return index === 0 ? request : { ...request, choice: index };
  const seed = choiceSeed(request.seed, index);
  if (seed === request.seed) return request;
  const native = request.native;
  if (native === undefined || !("seed" in native.body)) return { ...request, seed };
  // The body's text no longer says it: the body is sent serialised.
  const { text: _text, ...rest } = native;
  return { ...request, seed, native: { ...rest, body: { ...native.body, seed } } };
}
