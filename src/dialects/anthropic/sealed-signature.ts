import type { ReasoningPart } from "../../core/index.js";

/**
 * Reasoning another provider sealed (a Responses upstream's `encrypted_content`), carried to an
 * Anthropic client in the signature of the thinking block that shows it. Clients keep a signature
 * as they got it and send the block back with the next turn (Claude Code's tool loop does), so the
 * model that made the reasoning reads it again, as OpenAI asks for a reasoning model in the middle of
 * a tool loop. The signature is marked with the target that sealed it (`provider/model`), so tandem
 * tells it from Anthropic's own and sends it only back to that provider; an Anthropic upstream, which
 * would refuse it, never gets it (native-anthropic.ts leaves such a block out, with a warning).
 */
const MARK = "tandem.sealed-reasoning:";

/** The signature of a thinking block showing reasoning `producer` sealed as `data`. */
export function sealedSignature(producer: string, data: string): string {
  // encodeURIComponent leaves no ":" in the name: the first one after the mark ends it.
  return `${MARK}${encodeURIComponent(producer)}:${data}`;
}

/** Whether a signature is one tandem made (sealedSignature), whatever its shape: never Anthropic's. */
export function isSealedSignature(signature: string): boolean {
  return signature.startsWith(MARK);
}

/**
 * A thinking block with a sealed signature as the reasoning it stands for: the text, the sealed
 * content and who sealed it. A marked signature that does not read back (a client changed it) is
 * the text alone, as a block without a signature is.
 */
export function sealedReasoning(text: string, signature: string): ReasoningPart {
  const rest = signature.slice(MARK.length);
  const colon = rest.indexOf(":");
  const data = rest.slice(colon + 1);
  let producer: string | undefined;
  try {
    producer = colon > 0 ? decodeURIComponent(rest.slice(0, colon)) : undefined;
  } catch {
    producer = undefined;
  }
  return producer === undefined || data === ""
    ? { type: "reasoning", text }
    : { type: "reasoning", text, encryptedContent: data, producer };
}
