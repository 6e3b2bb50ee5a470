import { type TokenLogprob, tokenBytes } from "../../core/index.js";

/**
 * A legacy completion choice's `logprobs` (openai-node's `CompletionChoice.Logprobs`): the tokens,
 * their log probabilities, at each position the most likely tokens with theirs (`{token: logprob}`,
 * with the chosen token's always among them, as OpenAI gives up to `logprobs` + 1), and where each
 * token starts in the prompt followed by the answer, in characters.
 */
export interface CompletionLogprobs {
  tokens: string[];
  token_logprobs: number[];
  top_logprobs: Record<string, number>[];
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

  constructor(prompt: string) {
    this.#offset = characters(prompt);
  }

  /** The next tokens of the answer. */
  next(tokens: readonly TokenLogprob[]): CompletionLogprobs {
    const out: CompletionLogprobs = { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
    for (const token of tokens) {
      out.tokens.push(token.token);
      out.token_logprobs.push(token.logprob);
      // No prototype: a token may be "constructor" or "__proto__".
      const top = Object.create(null) as Record<string, number>;
      for (const alternative of token.topLogprobs) top[alternative.token] ??= alternative.logprob;
      top[token.token] ??= token.logprob;
      out.top_logprobs.push(top);
      out.text_offset.push(this.#offset);
      this.#offset += characters(this.#decoder.decode(new Uint8Array(tokenBytes(token)), { stream: true }));
    }
    return out;
  }
}

/** A text's length in characters (code points), as OpenAI counts offsets, not UTF-16 units. */
function characters(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}
