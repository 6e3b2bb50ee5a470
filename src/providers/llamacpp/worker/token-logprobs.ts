import type { LlamaContextSequence, LlamaModel, Token } from "node-llama-cpp";
import type { TokenLogprob, TopLogprob } from "../../../core/index.js";

/**
 * The log probability OpenAI gives a token whose probability is too small to write (its floor).
 * llama.cpp reports a chosen token's probability as a float, which can underflow to 0.
 */
const LOGPROB_FLOOR = -9999;

/** Tokens of context detokenizing needs for a token's text (a SentencePiece token's leading space). */
export const TRAIL = 16;

/** One generated token as sampled: its id, logprob, and the most likely ids at its position with theirs. */
interface Sampled {
  token: Token;
  logprob: number;
  top: { token: Token; logprob: number }[];
}

/** What node-llama-cpp's evaluateWithMetadata yields for each generated token. */
interface EvaluateStep {
  token: Token;
  confidence?: number;
  probabilities?: Map<Token, number>;
}

type Evaluate = (tokens: Token[], options?: object) => AsyncGenerator<Token, void, Token | Token[] | undefined>;

/**
 * Token logprobs of one generation on the embedded engine. node-llama-cpp's LlamaChat (chat template,
 * stop triggers, grammar, thought segments, function calls, context shift) has no hook for them, but
 * it generates through its sequence's `evaluate`: while attached, that sequence's `evaluate` is
 * `evaluateWithMetadata` asking for the chosen token's probability (and, with alternatives asked for,
 * the whole distribution), so LlamaChat generates exactly as it does without logprobs while each
 * token's figures are kept. LlamaChat then releases the tokens that make up the answer's text
 * (onToken, then onTextChunk with their text, whole characters only), and `take` pairs them with
 * what was kept.
 *
 * What the figures are: llama.cpp's probabilities of the distribution the token was drawn from, after
 * the request's sampling (a grammar's or JSON schema's mask, and with temperature above 0, top-k/top-p
 * truncation and the temperature); at temperature 0 (greedy) that is the model's own softmax, and the
 * chosen token is always the most likely one. node-llama-cpp gives no other distribution.
 *
 * A request that does not ask for logprobs never constructs one: its generation is untouched.
 */
export class TokenLogprobs {
  readonly #queue: Sampled[] = [];
  /** The tokens released before the ones being taken (their text's context). */
  readonly #trail: Token[] = [];
  #detach: (() => void) | undefined;

  constructor(
    readonly model: LlamaModel,
    /** Alternatives per token (0-20): 0 asks only for the chosen token's probability, which is cheaper. */
    readonly topLogprobs: number,
  ) {}

  /** Reports every token generated on `sequence` from now until detach. */
  attach(sequence: LlamaContextSequence): void {
    const metadata = this.topLogprobs > 0 ? { probabilities: true } : { confidence: true };
    const record = (step: EvaluateStep) => this.#record(step);
    const evaluate: Evaluate = async function* (tokens, options) {
      const inner = sequence.evaluateWithMetadata(tokens, metadata, options) as AsyncGenerator<
        EvaluateStep,
        void,
        Token | Token[] | undefined
      >;
      let input: Token | Token[] | undefined;
      try {
        while (true) {
          const step = await inner.next(input);
          if (step.done) return;
          record(step.value);
          input = yield step.value.token;
        }
      } finally {
        await inner.return(undefined);
      }
    };
    // An own property shadows the prototype's method for this sequence only; detach removes it.
    Object.defineProperty(sequence, "evaluate", { value: evaluate, configurable: true, writable: true });
    this.#detach = () => {
      delete (sequence as unknown as Record<string, unknown>).evaluate;
    };
  }

  detach(): void {
    this.#detach?.();
    this.#detach = undefined;
  }

  #record(step: EvaluateStep): void {
    const probabilities = step.probabilities;
    if (probabilities) {
      const top: Sampled["top"] = [];
      // The map is most likely first (node-llama-cpp sorts it); tokens a grammar ruled out have 0.
      for (const [token, p] of probabilities) {
        if (top.length >= this.topLogprobs || !(p > 0)) break;
        top.push({ token, logprob: logprobOf(p) });
      }
      this.#queue.push({ token: step.token, logprob: logprobOf(probabilities.get(step.token) ?? 0), top });
    } else {
      this.#queue.push({ token: step.token, logprob: logprobOf(step.confidence ?? 0), top: [] });
    }
  }

  /**
   * Tokens LlamaChat released for something other than the answer's text (a thought segment): what
   * was kept for them is dropped, and they are the next tokens' context.
   */
  skip(tokens: readonly Token[]): void {
    for (const token of tokens) this.#dequeue(token);
    this.#remember(tokens);
  }

  /**
   * The canonical logprobs of `tokens`, which LlamaChat released as `text`. Each token's bytes are
   * its share of the text's UTF-8: a byte-fallback token's one byte, any other token its own text's,
   * and a token holding part of a character (its own text undecodable) what is left of the run it is
   * in; joined, they are the text's bytes. A token that is not whole characters is written as its
   * bytes escaped (`\xf0`), as OpenAI does.
   */
  take(tokens: readonly Token[], text: string): TokenLogprob[] {
    const bytes = [...UTF8.encode(text)];
    const trail = this.#trail.slice();
    const pieces = tokens.map((token) => {
      const piece = this.#pieceBytes(token, trail);
      trail.push(token);
      return piece;
    });
    const shares = shareBytes(pieces, bytes.length);
    const out: TokenLogprob[] = [];
    let at = 0;
    const before = this.#trail.slice();
    for (const [i, token] of tokens.entries()) {
      const end = at + (shares?.[i] ?? 0);
      const share = shares ? bytes.slice(at, end) : (pieces[i] ?? []);
      at = end;
      const sampled = this.#dequeue(token);
      if (sampled) {
        const chosen = { token: tokenText(share), bytes: share };
        const topLogprobs = sampled.top.map((alt): TopLogprob => {
          if (alt.token === token) return { ...chosen, logprob: alt.logprob };
          const altBytes = this.#pieceBytes(alt.token, before) ?? [...UTF8.encode(this.#text(alt.token, before))];
          return { token: tokenText(altBytes), logprob: alt.logprob, bytes: altBytes };
        });
        out.push({ ...chosen, logprob: sampled.logprob, topLogprobs });
      }
      before.push(token);
    }
    this.#remember(tokens);
    return out;
  }

  /** What was kept for `token`: the oldest entry for it, with those before it (never released as text) dropped. */
  #dequeue(token: Token): Sampled | undefined {
    const index = this.#queue.findIndex((s) => s.token === token);
    if (index < 0) return undefined;
    return this.#queue.splice(0, index + 1)[index];
  }

  #remember(tokens: readonly Token[]): void {
    this.#trail.push(...tokens);
    if (this.#trail.length > TRAIL) this.#trail.splice(0, this.#trail.length - TRAIL);
  }

  #text(token: Token, trail: readonly Token[]): string {
    return this.model.detokenize([token], false, trail.slice(-TRAIL));
  }

  /** A token's bytes when they can be known alone: a byte-fallback token's byte, or its text's when whole characters. */
  #pieceBytes(token: Token, trail: readonly Token[]): number[] | undefined {
    if (this.model.getTokenAttributes(token).byte) {
      const byte = byteOfByteToken(this.model, token);
      return byte === undefined ? undefined : [byte];
    }
    const text = this.#text(token, trail);
    return text.includes("\uFFFD") ? undefined : [...UTF8.encode(text)];
  }
}

export const UTF8 = new TextEncoder();
const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true });

/** A probability as a logprob: its log, at most 0, at least the floor (a probability that underflowed to 0). */
export function logprobOf(p: number): number {
  return p > 0 ? Math.min(0, Math.max(LOGPROB_FLOOR, Math.log(p))) : LOGPROB_FLOOR;
}

/** A token's text: its bytes decoded when they are whole characters, else each byte escaped (`\xe2`). */
export function tokenText(bytes: readonly number[]): string {
  try {
    return STRICT_UTF8.decode(new Uint8Array(bytes));
  } catch {
    return bytes.map((b) => `\\x${b.toString(16).padStart(2, "0")}`).join("");
  }
}

/**
 * How many of a text's `total` bytes each token holds: the known ones theirs, the rest shared among
 * the tokens whose bytes are not known alone (parts of a character), in order. Undefined when the
 * known ones do not add up (the text is not the tokens' own: each token then gets its own bytes).
 */
export function shareBytes(pieces: readonly (number[] | undefined)[], total: number): number[] | undefined {
  const known = pieces.reduce((sum, p) => sum + (p?.length ?? 0), 0);
  const unknown = pieces.filter((p) => p === undefined).length;
  const left = total - known;
  if (left < 0 || (unknown === 0 && left !== 0) || (unknown > 0 && left < unknown)) return undefined;
  let given = 0;
  let seen = 0;
  return pieces.map((p) => {
    if (p !== undefined) return p.length;
    seen++;
    const share = seen === unknown ? left - given : Math.floor(left / unknown);
    given += share;
    return share;
  });
}

/**
 * A byte-fallback token's byte, from its vocabulary text (`<0xF0>`, as GGUF's SentencePiece vocabularies
 * write them). node-llama-cpp's public API decodes such a token to U+FFFD, so the vocabulary text is
 * read from its binding; undefined where that is not there.
 */
export function byteOfByteToken(model: LlamaModel, token: Token): number | undefined {
  const binding = (model as unknown as { _model?: { getTokenString?: (token: number) => string | undefined } })._model;
  const text = binding?.getTokenString?.(token);
  const match = text === undefined ? null : /^<0x([0-9A-Fa-f]{2})>$/.exec(text);
  return match ? Number.parseInt(match[1] as string, 16) : undefined;
}
