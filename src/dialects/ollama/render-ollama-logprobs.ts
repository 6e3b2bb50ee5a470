import { type TokenLogprob, type TopLogprob, tokenBytes } from "../../core/index.js";

/** One of the most likely tokens at a position, as Ollama gives it (api/types.go `TokenLogprob`). */
export interface OllamaTopLogprob {
  token: string;
  logprob: number;
  /** Left out when empty, as Go's omitempty does (an empty token). */
  bytes?: number[];
}

/** One output token, as Ollama gives it (api/types.go `Logprob`, ollama-js `Logprob`). */
export interface OllamaLogprob extends OllamaTopLogprob {
  /** Left out when there are none (no `top_logprobs` asked), as Go's omitempty does. */
  top_logprobs?: OllamaTopLogprob[];
}

/**
 * Canonical token logprobs as Ollama's `logprobs` list. Ollama's bytes are its token's UTF-8; a
 * target's own bytes are kept (a token may hold part of a character).
 */
export function ollamaLogprobs(tokens: readonly TokenLogprob[]): OllamaLogprob[] {
  return tokens.map((t) => {
    const token: OllamaLogprob = ollamaTopLogprob(t);
    if (t.topLogprobs.length > 0) token.top_logprobs = t.topLogprobs.map(ollamaTopLogprob);
    return token;
  });
}

/** A whole answer's `logprobs` field: there when there are tokens to give, as Ollama leaves an empty list out. */
export function ollamaLogprobsField(tokens: readonly TokenLogprob[] | undefined): { logprobs?: OllamaLogprob[] } {
  return tokens === undefined || tokens.length === 0 ? {} : { logprobs: ollamaLogprobs(tokens) };
}

function ollamaTopLogprob(token: TopLogprob): OllamaTopLogprob {
  const bytes = tokenBytes(token);
  return bytes.length > 0
    ? { token: token.token, logprob: token.logprob, bytes }
    : { token: token.token, logprob: token.logprob };
}
