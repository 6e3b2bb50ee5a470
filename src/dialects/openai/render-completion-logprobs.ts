import { type PromptTokenLogprob, type TokenLogprob, tokenBytes } from "../../core/index.js";

/**
 * A legacy completion choice's `logprobs` (openai-node's `CompletionChoice.Logprobs`): the tokens,
 * their log probabilities, at each position the most likely tokens with theirs (`{token: logprob}`,
 * with the chosen token's always among them, as OpenAI gives up to `logprobs` + 1), and where each
 * token starts in the prompt followed by the answer, in characters. With `echo`, the prompt's own
 * tokens come first, from offset 0; the first has nothing before it, so its logprob and alternatives
 * are null (as OpenAI and vLLM give them; openai-node types the lists without the null).
 */
export interface CompletionLogprobs {
  tokens: string[];
  token_logprobs: (number | null)[];
  top_logprobs: (Record<string, number> | null)[];
  text_offset: number[];
}

/**
 * Canonical token logprobs as legacy completions give them, a stream's chunk after chunk: each
 * token's offset runs on from the end of the prompt and the tokens before it, counted in the
 * characters their bytes make (a token holding part of a character, its text its bytes escaped,
 * moves the offset on only once the character is complete).
 */
export class CompletionLogprobsWriter {
  #offset: number;
  readonly #decoder = new TextDecoder();

  /** `prompt`: the text before the first token written (none, for a writer that starts with the prompt's own tokens). */
  constructor(prompt: string) {
    this.#offset = characters(prompt);
  }

  /** The next tokens of the answer, or of the prompt (PromptTokenLogprob, whose logprob may be null). */
  next(tokens: readonly (TokenLogprob | PromptTokenLogprob)[]): CompletionLogprobs {
    const out: CompletionLogprobs = { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
    for (const token of tokens) {
      out.tokens.push(token.token);
      out.token_logprobs.push(token.logprob);
      out.top_logprobs.push(token.topLogprobs === null ? null : topOf(token.token, token.logprob, token.topLogprobs));
      out.text_offset.push(this.#offset);
      this.#offset += characters(this.#decoder.decode(new Uint8Array(tokenBytes(token)), { stream: true }));
    }
    return out;
  }
}

/** Two runs of tokens as one (the echoed prompt's, then the answer's). */
export function joinCompletionLogprobs(first: CompletionLogprobs, then: CompletionLogprobs): CompletionLogprobs {
  return {
    tokens: [...first.tokens, ...then.tokens],
    token_logprobs: [...first.token_logprobs, ...then.token_logprobs],
    top_logprobs: [...first.top_logprobs, ...then.top_logprobs],
    text_offset: [...first.text_offset, ...then.text_offset],
  };
}

/** A position's alternatives as `{token: logprob}`, the chosen token always among them. */
function topOf(token: string, logprob: number | null, alternatives: TokenLogprob["topLogprobs"]): Record<string, number> {
  // No prototype: a token may be "constructor" or "__proto__".
  const top = Object.create(null) as Record<string, number>;
  for (const alternative of alternatives) top[alternative.token] ??= alternative.logprob;
  if (logprob !== null) top[token] ??= logprob;
  return top;
}

/** A text's length in characters (code points), as OpenAI counts offsets, not UTF-16 units. */
function characters(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}
