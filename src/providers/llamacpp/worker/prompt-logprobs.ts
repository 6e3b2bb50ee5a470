import { type LlamaContextSequence, type LlamaModel, LlamaVocabularyType, type Token } from "node-llama-cpp";
import { GatewayError, type PromptTokenLogprob, type TopLogprob } from "../../../core/index.js";
import { byteOfByteToken, logprobOf, shareBytes, TRAIL, tokenText, UTF8 } from "./token-logprobs.js";

/**
 * The beginning-of-text token LlamaCompletion puts before every raw prompt, as node-llama-cpp
 * decides it (resolveBeginningTokenToPrepend, not exported): a WordPiece vocabulary's always, none
 * for RWKV and Unigram ones, else the model's when its GGUF says to add one.
 */
export function beginningToken(model: LlamaModel): Token | undefined {
  const type = model.vocabularyType;
  if (type === LlamaVocabularyType.rwkv || type === LlamaVocabularyType.ugm) return undefined;
  if (type === LlamaVocabularyType.wpm || model.tokens.shouldPrependBosToken) return model.tokens.bos ?? undefined;
  return undefined;
}

/** How many tokens the model's vocabulary has (its GGUF's token list), where the file says. */
function vocabularySize(model: LlamaModel): number | undefined {
  const metadata = model.fileInfo.metadata as { tokenizer?: { ggml?: { tokens?: unknown } } };
  const tokens = metadata.tokenizer?.ggml?.tokens;
  return Array.isArray(tokens) ? tokens.length : undefined;
}

/**
 * A 400 naming `prompt` when one of a token-id prompt's ids is not a token of the model's own
 * vocabulary (llama.cpp must never be handed one: it reads past its tables).
 */
export function checkVocabulary(model: LlamaModel, ids: readonly number[], target: string): void {
  const size = vocabularySize(model);
  const bad = ids.find((id) => !Number.isSafeInteger(id) || id < 0 || (size !== undefined && id >= size));
  if (bad === undefined) return;
  throw new GatewayError(
    "invalid_request",
    `Invalid value for 'prompt': token id ${bad} is not a token of ${target}'s vocabulary${size === undefined ? "" : ` (ids 0 to ${size - 1})`}; the embedded engine reads a prompt's token ids as its model's own.`,
    { param: "prompt", target, retryable: false },
  );
}

/** What the model gave one prompt token, from the distribution after the tokens before it. */
interface PromptStep {
  logprob: number;
  top: { token: Token; logprob: number }[];
}

/**
 * Evaluates a prompt on `sequence` keeping every position's distribution of the next token: the
 * logprob of each prompt token after the first given those before it, and its `topLogprobs` most
 * likely alternatives. The distribution is the model's own softmax over its whole vocabulary (a
 * greedy sampler, which keeps every candidate, without penalties, biases or a grammar), the same
 * computation TokenLogprobs reads for a generated token at temperature 0.
 *
 * Whatever the sequence held is erased first: a position's logits exist only when it is evaluated,
 * so a prefix kept from an earlier request (the engine reuses sequences) cannot give them. The last
 * token is left for the generation that follows (its logits are the answer's first distribution), so
 * the sequence ends holding all the prompt but it, which LlamaCompletion then takes as its prefix.
 */
export async function evaluatePrompt(
  sequence: LlamaContextSequence,
  tokens: readonly Token[],
  topLogprobs: number,
): Promise<PromptStep[]> {
  await sequence.clearHistory();
  const last = tokens.length - 1;
  if (last <= 0) return [];
  const generateNext = { probabilities: true, options: { temperature: 0 } };
  const results = await sequence.controlledEvaluate(
    tokens.slice(0, last).map((token): [Token, { generateNext: typeof generateNext }] => [token, { generateNext }]),
  );
  return results.map((result, i) => {
    const probabilities = result?.next.probabilities;
    if (probabilities === undefined) throw new Error(`llama.cpp gave no distribution after prompt token ${i}`);
    const top: PromptStep["top"] = [];
    // Most likely first (node-llama-cpp sorts the map).
    for (const [token, p] of probabilities) {
      if (top.length >= topLogprobs || !(p > 0)) break;
      top.push({ token, logprob: logprobOf(p) });
    }
    return { logprob: logprobOf(probabilities.get(tokens[i + 1] as Token) ?? 0), top };
  });
}

/**
 * The prompt's tokens as the client is shown them, with the text they make: `added` leading tokens
 * the engine put in front (a beginning-of-text token) have no text; every other token its share of
 * `text` (the client's own text prompt) or, for a prompt of ids, of the model's decoding of them.
 * Special tokens read as their text (`<|im_start|>`), as a raw prompt's were. `steps`: what
 * evaluatePrompt gave the tokens after the first, for their logprobs and alternatives; without
 * them, the tokens carry no logprobs (an echo alone).
 */
export function describePrompt(
  model: LlamaModel,
  tokens: readonly Token[],
  added: number,
  text: string | undefined,
  steps: readonly PromptStep[] | undefined,
): { text: string; logprobs?: PromptTokenLogprob[] } {
  const own = tokens.slice(added);
  const whole = text ?? model.detokenize(own, true);
  const bytes = [...UTF8.encode(whole)];
  const pieces = own.map((token, i) => pieceBytes(model, token, own.slice(Math.max(0, i - TRAIL), i)));
  const shares = shareBytes(pieces, bytes.length);
  const tokenBytes: number[][] = tokens.slice(0, added).map(() => []);
  let at = 0;
  for (const [i, token] of own.entries()) {
    if (shares) {
      tokenBytes.push(bytes.slice(at, at + (shares[i] as number)));
      at += shares[i] as number;
    } else tokenBytes.push(pieces[i] ?? [...UTF8.encode(model.detokenize([token], true))]);
  }
  const echoed = shares ? whole : new TextDecoder().decode(new Uint8Array(tokenBytes.flat()));
  if (steps === undefined) return { text: echoed };
  const logprobs = tokens.map((_, i): PromptTokenLogprob => {
    const share = tokenBytes[i] as number[];
    const step = i === 0 ? undefined : steps[i - 1];
    if (step === undefined) return { token: tokenText(share), bytes: share, logprob: null, topLogprobs: null };
    const before = tokens.slice(Math.max(0, i - TRAIL), i);
    const topLogprobs = step.top.map((alt): TopLogprob => {
      if (alt.token === tokens[i]) return { token: tokenText(share), logprob: alt.logprob, bytes: share };
      const altBytes = pieceBytes(model, alt.token, before) ?? [...UTF8.encode(model.detokenize([alt.token], true, before))];
      return { token: tokenText(altBytes), logprob: alt.logprob, bytes: altBytes };
    });
    return { token: tokenText(share), bytes: share, logprob: step.logprob, topLogprobs };
  });
  return { text: echoed, logprobs };
}

/** A token's bytes when they can be known alone: a byte-fallback token's byte, or its text's (special tokens' too) when whole characters. */
function pieceBytes(model: LlamaModel, token: Token, trail: readonly Token[]): number[] | undefined {
  if (model.getTokenAttributes(token).byte) {
    const byte = byteOfByteToken(model, token);
    return byte === undefined ? undefined : [byte];
  }
  const text = model.detokenize([token], true, trail);
  return text.includes("\uFFFD") ? undefined : [...UTF8.encode(text)];
}
