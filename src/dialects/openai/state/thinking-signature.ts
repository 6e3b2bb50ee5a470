import type { ReasoningPart } from "../../../core/index.js";
import type { StateItem } from "../../../core/state.js";

/**
 * Anthropic's signature of a thinking block, kept in the stored reasoning item tandem rendered the
 * block as: in its `encrypted_content` (the Responses API's field for reasoning only its maker can
 * read back), marked, so that it is told apart from a Responses upstream's own encrypted reasoning,
 * and stored with its origin, so that it goes back only to the provider that signed it (an Anthropic
 * target refuses a thinking block without its signature). Never shown to the client: the Response
 * and the item lists give the item without it.
 */
const MARK = "tandem.thinking-signature:";

/** The reasoning item as stored, with the signature of the thinking block it shows. */
export function signedReasoningItem(item: StateItem, signature: string): StateItem {
  return { ...item, encrypted_content: MARK + signature };
}

/** The Anthropic signature a stored reasoning item keeps, if it keeps one. */
export function thinkingSignature(item: StateItem): string | undefined {
  const sealed = item.encrypted_content;
  return typeof sealed === "string" && sealed.startsWith(MARK) ? sealed.slice(MARK.length) : undefined;
}

/** The item as a client is given it: without a kept signature (its other fields as they are). */
export function withoutThinkingSignature(item: StateItem): StateItem {
  if (item.type !== "reasoning" || thinkingSignature(item) === undefined) return item;
  const { encrypted_content: _signature, ...rest } = item;
  return rest as StateItem;
}

/**
 * A whole answer's reasoning item, signed, by its index in the output, when the answer's reasoning
 * was one thinking block with a signature (rendered as the one reasoning item outputItems makes).
 * Several blocks are one item there, which cannot keep their signatures apart: they are left out.
 */
export function signedWholeReasoning(
  blocks: readonly ReasoningPart[] | undefined,
  output: readonly StateItem[],
  target: string,
): Map<number, { item: StateItem; origin: string }> | undefined {
  const first = output[0];
  const block = blocks?.length === 1 ? blocks[0] : undefined;
  if (first?.type !== "reasoning" || block?.signature === undefined || block.signature === "") return undefined;
  return new Map([[0, { item: signedReasoningItem(first, block.signature), origin: target }]]);
}
