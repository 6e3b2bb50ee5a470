import type { TokenLogprob, TopLogprob } from "../../core/index.js";

/** One of the most likely tokens at a position (openai-node's `ChatCompletionTokenLogprob.TopLogprob`). */
export interface ChatTopLogprob {
  token: string;
  logprob: number;
  /** The upstream's bytes; null where it gave none (OpenAI's null: the token has no byte form). */
  bytes: number[] | null;
}

/** One output token (openai-node's `ChatCompletionTokenLogprob`). */
export interface ChatTokenLogprob extends ChatTopLogprob {
  top_logprobs: ChatTopLogprob[];
}

/**
 * A choice's `logprobs`, whole or on a chunk (`ChatCompletion.Choice.Logprobs`,
 * `ChatCompletionChunk.Choice.Logprobs`): the tokens of its text. A refusal's tokens are not carried
 * (the canonical answer keeps none, see ChatResult.logprobs), so `refusal` is null.
 */
export interface ChatChoiceLogprobs {
  content: ChatTokenLogprob[];
  refusal: null;
}

/** Canonical token logprobs as a chat completion choice has them. */
export function chatChoiceLogprobs(tokens: readonly TokenLogprob[]): ChatChoiceLogprobs {
  return {
    content: tokens.map((t) => ({ ...chatTopLogprob(t), top_logprobs: t.topLogprobs.map(chatTopLogprob) })),
    refusal: null,
  };
}

function chatTopLogprob(token: TopLogprob): ChatTopLogprob {
  return { token: token.token, logprob: token.logprob, bytes: token.bytes ?? null };
}
