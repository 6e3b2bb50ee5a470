import type { ReasoningPart } from "../../../core/index.js";
import type { StateItem } from "../../../core/state.js";

/**
 * Anthropic's opaque thinking, kept in the stored reasoning item tandem rendered it as: a thinking
 * block's signature, or a `redacted_thinking` block's data (the item then shows no summary). Kept in
 * the item's `encrypted_content` (the Responses API's field for reasoning only its maker can read
 * back), marked, so that it is told apart from a Responses upstream's own encrypted reasoning, and
 * stored with its origin, so that it goes back only to the provider that made it (an Anthropic target
 * refuses a thinking block without its signature). Never shown to the client: the Response and the
 * item lists give the item without it.
 */
const SIGNATURE = "tandem.thinking-signature:";
const REDACTED = "tandem.redacted-thinking:";

/** The reasoning item as stored, with the signature of the thinking block it shows. */
export function signedReasoningItem(item: StateItem, signature: string): StateItem {
  return { ...item, encrypted_content: SIGNATURE + signature };
}

/** The reasoning item as stored for a `redacted_thinking` block, with the block's data. */
export function redactedReasoningItem(item: StateItem, data: string): StateItem {
  return { ...item, encrypted_content: REDACTED + data };
}

function marked(item: StateItem, mark: string): string | undefined {
  const sealed = item.encrypted_content;
  return typeof sealed === "string" && sealed.startsWith(mark) ? sealed.slice(mark.length) : undefined;
}

/** The Anthropic signature a stored reasoning item keeps, if it keeps one. */
export function thinkingSignature(item: StateItem): string | undefined {
  return marked(item, SIGNATURE);
}

/** The `redacted_thinking` data a stored reasoning item keeps, if it keeps one. */
export function redactedThinking(item: StateItem): string | undefined {
  return marked(item, REDACTED);
}

/** Whether the item's `encrypted_content` is Anthropic thinking tandem keeps (not the Responses API's). */
export function keepsAnthropicThinking(item: StateItem): boolean {
  return thinkingSignature(item) !== undefined || redactedThinking(item) !== undefined;
}

/** The item as a client is given it: without the Anthropic thinking it keeps (its other fields as they are). */
export function withoutThinkingSignature(item: StateItem): StateItem {
  if (item.type !== "reasoning" || !keepsAnthropicThinking(item)) return item;
  const { encrypted_content: _kept, ...rest } = item;
  return rest as StateItem;
}

/**
 * A whole answer's reasoning items as stored, by their index in the output, each with the Anthropic
 * thinking it shows (or a Responses upstream's sealed reasoning): each of the answer's reasoning blocks
 * is a reasoning item, in order, wherever it came in the answer (outputItems), so block k is the k-th
 * reasoning item. A block with neither a signature, redacted data nor sealed content keeps nothing.
 */
export function signedWholeReasoning(
  blocks: readonly ReasoningPart[] | undefined,
  output: readonly StateItem[],
  target: string,
): Map<number, { item: StateItem; origin: string }> | undefined {
  const kept = new Map<number, { item: StateItem; origin: string }>();
  const reasoningAt = [...output.keys()].filter((index) => output[index]?.type === "reasoning");
  for (const [k, block] of (blocks ?? []).entries()) {
    const index = reasoningAt[k];
    const item = index === undefined ? undefined : output[index];
    if (index === undefined || item === undefined) break;
    if (block.redactedData !== undefined && block.redactedData !== "")
      kept.set(index, { item: redactedReasoningItem(item, block.redactedData), origin: target });
    else if (block.signature !== undefined && block.signature !== "")
      kept.set(index, { item: signedReasoningItem(item, block.signature), origin: target });
    // A Responses upstream's own sealed reasoning, kept as it sent it, with the upstream that sealed it.
    else if (block.encryptedContent !== undefined && block.producer !== undefined)
      kept.set(index, { item: { ...item, encrypted_content: block.encryptedContent }, origin: block.producer });
  }
  return kept.size === 0 ? undefined : kept;
}

/**
 * The output as a client that asked for `include: ["reasoning.encrypted_content"]` is shown it: each
 * reasoning item a Responses upstream sealed with that content (a stateless client sends it back
 * itself); Anthropic's thinking, which tandem keeps in the same field, never.
 */
export function withSealedReasoningShown(
  output: StateItem[],
  kept: ReadonlyMap<number, { item: StateItem; origin: string }> | undefined,
): StateItem[] {
  if (kept === undefined) return output;
  return output.map((item, index) => {
    const sealed = kept.get(index)?.item;
    return sealed === undefined || keepsAnthropicThinking(sealed) ? item : sealed;
  });
}
