import type { ChatResult, ResponseMeta } from "../../core/index.js";
import { addNotice } from "./meta-headers.js";

/**
 * Names, in the answer's notices (`x-tandem-warnings`, a stream's closing comment, Ollama's final
 * `tandem_warnings`), a part of the target's answer the client's wire has no place for, once, as
 * `<part> of the answer from <target> not carried`; the request's log line has it too (respond.ts):
 * nothing is dropped silently.
 */
export function noteUncarriedPart(meta: Pick<ResponseMeta, "notices" | "target">, part: string): void {
  addNotice(meta, `${part} of the answer from ${meta.target} not carried`);
}

/**
 * An Anthropic answer's `redacted_thinking` blocks (the canonical `reasoning-redacted`): data only an
 * Anthropic upstream reads back, nothing readable, and no field for it in chat completions or Ollama.
 */
export const REDACTED_THINKING = "redacted_thinking blocks";

/** Whether a whole answer had any such block (with data: an empty one carries nothing to name). */
export function hasRedactedThinking(result: ChatResult): boolean {
  return result.reasoningBlocks?.some((block) => (block.redactedData ?? "") !== "") === true;
}
