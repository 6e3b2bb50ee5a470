import { type ChatResult, GatewayError, type ResponseMeta } from "../../core/index.js";
import type { ChoiceFormat } from "./choices-fan-out.js";
import { CompletionStreamRenderer, renderCompletion } from "./render-completion.js";
import { renderOpenAICompletionUsage } from "./render-openai-usage.js";

/** A legacy completions request's choices: several prompts, `n` each, from `bestOf` candidates each. */
export interface CompletionChoices {
  /** Every prompt's text, in the client's order. */
  prompts: readonly string[];
  n: number;
  /** Candidates per prompt; above `n`, ranked by their tokens' mean logprob and the best `n` kept. */
  bestOf: number;
  includeUsage: boolean;
  /** The client asked for the answer's tokens (`logprobs: N`): each choice carries them. */
  logprobs: boolean;
  /** `echo: true`: each choice starts with its own prompt. */
  echo: boolean;
}

/**
 * Legacy completions' shape for fanned-out choices (fanOutChoices): the requests are prompt-major,
 * `bestOf` per prompt, so choice `i` answers prompt `i / n` (OpenAI's indexes: prompt 0's choices are
 * 0..n-1, prompt 1's n..2n-1), with that prompt's echo and token offsets. With `bestOf` above `n`
 * each prompt's candidates are ranked by the mean log probability of their tokens ("the highest log
 * probability per token", as the API reference says) and the best `n` returned, best first; the
 * usage counts every candidate, as OpenAI bills them. A target that cannot report token logprobs
 * cannot rank: the request is refused with a 400 naming `best_of` rather than answered with a
 * ranking that is not one.
 */
export function completionChoiceFormat(choices: CompletionChoices): ChoiceFormat {
  const { prompts, n, bestOf, includeUsage, logprobs, echo } = choices;
  const promptOf = (index: number) => prompts[Math.floor(index / n)] as string;
  const ranked = bestOf > n;
  return {
    idPrefix: "cmpl-",
    object: "text_completion",
    chunkObject: "text_completion",
    renderer: (meta, slot) => {
      const prompt = promptOf(slot.index);
      return new CompletionStreamRenderer(
        meta.target,
        includeUsage,
        logprobs ? { prompt } : undefined,
        echo ? prompt : undefined,
        slot,
      );
    },
    choice: (result, meta, index) => {
      const prompt = promptOf(index);
      return renderCompletion(result, meta, logprobs ? { prompt } : undefined, echo ? prompt : undefined).choices[0] as object;
    },
    usage: renderOpenAICompletionUsage,
    ...(ranked && {
      started: (meta: ResponseMeta) => {
        if (meta.warnings?.includes("best_of")) throw cannotRank(meta.target);
      },
      pick: (results: readonly ChatResult[]) => {
        const picked: ChatResult[] = [];
        for (let from = 0; from < results.length; from += bestOf) {
          const candidates = results.slice(from, from + bestOf).map((result) => ({ result, score: meanLogprob(result) }));
          candidates.sort((a, b) => b.score - a.score);
          picked.push(...candidates.slice(0, n).map((c) => c.result));
        }
        return picked;
      },
    }),
  };
}

/**
 * A candidate's mean token logprob; -Infinity for one with no tokens (nothing to rank it by). A
 * candidate with text but no logprobs came from a target that reports none (one switched to
 * mid-answer): refused, as the check at its start would have.
 */
function meanLogprob(result: ChatResult): number {
  const tokens = result.logprobs ?? [];
  if (tokens.length === 0) {
    if (result.text !== "") throw cannotRank(undefined);
    return Number.NEGATIVE_INFINITY;
  }
  return tokens.reduce((sum, token) => sum + token.logprob, 0) / tokens.length;
}

function cannotRank(target: string | undefined): GatewayError {
  const who = target === undefined ? "the target that answered" : `the target ${target}`;
  return new GatewayError(
    "invalid_request",
    `Invalid value for 'best_of': ${who} cannot report token logprobs, which best_of candidates are ranked by; send best_of equal to n (or leave it out), or name a target that reports them (an OpenAI-compatible or Ollama upstream, or the embedded engine).`,
    { param: "best_of" },
  );
}
