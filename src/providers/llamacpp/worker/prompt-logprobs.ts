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
export interface PromptStep {
  logprob: number;
  top: { token: Token; logprob: number }[];
}

/**
 * Positions evaluated per batch: each batch's tokens are reported as soon as it is done, so a long
 * prompt on a large vocabulary (each position reads the whole vocabulary's probabilities) keeps the
 * answer moving rather than look hung to the engine's watchdog and the route's idle timeout.
 */
const PROMPT_BATCH = 32;

/**
 * Evaluates a prompt on `sequence` keeping every position's distribution of the next token: the
 * logprob of each prompt token after the first given those before it, and its `topLogprobs` most
 * likely alternatives, given to `onSteps` batch by batch (all so far, in order). The distribution is
 * the model's own softmax over its whole vocabulary (a greedy sampler, which keeps every candidate,
 * without penalties, biases or a grammar), the same computation TokenLogprobs reads for a generated
 * token at temperature 0.
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
  onSteps: (steps: readonly PromptStep[]) => void,
  signal: AbortSignal,
): Promise<void> {
  await sequence.clearHistory();
  const last = tokens.length - 1;
  const steps: PromptStep[] = [];
  const generateNext = { probabilities: true, options: { temperature: 0 } };
  for (let from = 0; from < last && !signal.aborted; from += PROMPT_BATCH) {
    const batch = tokens.slice(from, Math.min(last, from + PROMPT_BATCH));
    const results = await sequence.controlledEvaluate(
      batch.map((token): [Token, { generateNext: typeof generateNext }] => [token, { generateNext }]),
    );
    for (const [i, result] of results.entries()) {
      const probabilities = result?.next.probabilities;
      if (probabilities === undefined) throw new Error(`llama.cpp gave no distribution after prompt token ${from + i}`);
      const top: PromptStep["top"] = [];
      // Most likely first (node-llama-cpp sorts the map).
      for (const [token, p] of probabilities) {
        if (top.length >= topLogprobs || !(p > 0)) break;
        top.push({ token, logprob: logprobOf(p) });
      }
      steps.push({ logprob: logprobOf(probabilities.get(tokens[from + i + 1] as Token) ?? 0), top });
    }
    onSteps(steps);
  }
}

/**
 * A prompt's tokens as the client is shown them: each one's bytes, and the text they make. `added`
 * leading tokens the engine put in front (a beginning-of-text token) have none; every other token
 * its share of `text` (the client's own text prompt) or, for a prompt of ids, of the model's decoding
 * of them. Special tokens read as their text (`<|im_start|>`), as a raw prompt's were.
 */
export function promptBytes(model: LlamaModel, tokens: readonly Token[], added: number, text: string | undefined): number[][] {
  const own = tokens.slice(added);
  const bytes = [...UTF8.encode(text ?? model.detokenize(own, true))];
  const pieces = own.map((token, i) => pieceBytes(model, token, own.slice(Math.max(0, i - TRAIL), i)));
  const shares = shareBytes(pieces, bytes.length);
  const out: number[][] = tokens.slice(0, added).map(() => []);
  let at = 0;
  for (const [i, token] of own.entries()) {
    if (shares) {
      out.push(bytes.slice(at, at + (shares[i] as number)));
      at += shares[i] as number;
    } else out.push(pieces[i] ?? [...UTF8.encode(model.detokenize([token], true))]);
  }
  return out;
}

/**
 * Prompt token `i` (of `tokens`, with its `bytes`) and its logprob: `step`, what evaluatePrompt gave
 * it, or none for the first (nothing precedes it), whose logprob and alternatives are null.
 */
export function promptTokenLogprob(
  model: LlamaModel,
  tokens: readonly Token[],
  i: number,
  bytes: number[],
  step: PromptStep | undefined,
): PromptTokenLogprob {
  if (step === undefined) return { token: tokenText(bytes), bytes, logprob: null, topLogprobs: null };
  const before = tokens.slice(Math.max(0, i - TRAIL), i);
  const topLogprobs = step.top.map((alt): TopLogprob => {
    if (alt.token === tokens[i]) return { token: tokenText(bytes), logprob: alt.logprob, bytes };
    const altBytes = pieceBytes(model, alt.token, before) ?? [...UTF8.encode(model.detokenize([alt.token], true, before))];
    return { token: tokenText(altBytes), logprob: alt.logprob, bytes: altBytes };
  });
  return { token: tokenText(bytes), bytes, logprob: step.logprob, topLogprobs };
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
