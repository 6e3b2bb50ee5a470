import {
  answerOrder,
  type ChatResult,
  JsonSplice,
  type JsonText,
  type ReasoningPart,
  type ResponseMeta,
  toolUseId,
} from "../../core/index.js";
import {
  type AnthropicRefusalDetails,
  type AnthropicStopReason,
  toAnthropicStopDetails,
  toAnthropicStopReason,
  withRefusal,
} from "./map-to-anthropic-stop-reason.js";
import { messageId } from "./message-id.js";
import { type AnthropicBetaUsage, type AnthropicUsage, betaUsage, renderUsage } from "./render-anthropic-usage.js";
import { sealedSignature } from "./sealed-signature.js";
import type { ThinkingDisplay } from "./thinking-display.js";
import { toolInputJson } from "./tool-input.js";

export type AnthropicContentBlock =
  | { type: "thinking"; thinking: string; signature: string }
  | { type: "redacted_thinking"; data: string }
  /** `citations`: tandem renders none (the SDK's TextBlock declares the field, null without citations). */
  | { type: "text"; text: string; citations: null }
  /**
   * `caller`: the model called the tool itself (the SDK's ToolUseBlock declares it; the API sends it).
   * `input`: a JsonSplice stand-in for the arguments' text, until the message is written out.
   */
  | { type: "tool_use"; id: string; name: string; input: string; caller: { type: "direct" } };

/**
 * The Message object of a non-streamed POST /v1/messages. `container` (a code-execution container)
 * and `diagnostics` (prompt-cache diagnostics a request asks for) are always null: tandem runs no
 * container and keeps no cache fingerprints. The SDK's Message declares both required, and the API
 * sends them as null.
 */
export interface AnthropicMessage {
  id: string;
  type: "message";
  role: "assistant";
  model: string;
  content: AnthropicContentBlock[];
  container: null;
  diagnostics: null;
  stop_reason: AnthropicStopReason;
  stop_sequence: string | null;
  stop_details: AnthropicRefusalDetails | null;
  usage: AnthropicUsage | (AnthropicUsage & AnthropicBetaUsage);
  /** A `?beta=true` answer's (BetaMessage): no context management ran. */
  context_management?: null;
}

/**
 * `thinking`: how the client asked for thinking to be shown (see ThinkingDisplay). Default `shown`.
 * `beta`: the request was `?beta=true` (the SDK's beta.messages), whose BetaMessage declares
 * `context_management` and more usage counters. With tool calls, the message's JSON text: each input
 * is the call's arguments as the model wrote them (an integer past 2^53 or `1.10` as written, never
 * through a JavaScript number), spliced in (see core/json-splice.ts).
 */
export function renderMessage(
  result: ChatResult,
  meta: ResponseMeta,
  thinking: ThinkingDisplay = "shown",
  beta = false,
): AnthropicMessage | JsonText {
  const splice = result.toolCalls.length > 0 ? new JsonSplice() : undefined;
  const content: AnthropicContentBlock[] = [];
  // In the order the answer came, as the stream has it (reasoning after text, interleaved thinking,
  // is a block after it). A thinking block no Anthropic upstream signed has signature "", or, sealed
  // by its maker, the sealed content it carries back (sealed-signature.ts). With its text omitted,
  // only the blocks that carry something back, with empty text (see ThinkingDisplay); text on either
  // side of a block not shown is one text block, as streamed.
  for (const piece of answerOrder(result)) {
    switch (piece.type) {
      case "reasoning": {
        const block = result.reasoningBlocks?.[piece.block];
        if (block === undefined || thinking === "off") break;
        if (block.redactedData !== undefined) {
          content.push({ type: "redacted_thinking", data: block.redactedData });
          break;
        }
        const signature = signatureOf(block);
        if (thinking === "shown") content.push({ type: "thinking", thinking: block.text, signature });
        else if (signature !== "") content.push({ type: "thinking", thinking: "", signature });
        break;
      }
      case "text": {
        const text = result.text.slice(piece.from, piece.to);
        const last = content.at(-1);
        if (last?.type === "text") last.text += text;
        else if (text !== "") content.push({ type: "text", text, citations: null });
        break;
      }
      case "tool-call": {
        const call = result.toolCalls[piece.call];
        if (call === undefined) break;
        content.push({
          type: "tool_use",
          id: toolUseId(call.id),
          name: call.name,
          input: (splice as JsonSplice).hold(toolInputJson(call.arguments)),
          caller: { type: "direct" },
        });
        break;
      }
      // Tools tandem ran between the model's turns: the Messages API has no block for them.
      case "hosted":
        break;
    }
  }
  const stopReason = withRefusal(
    toAnthropicStopReason(result.finishReason, result.rawFinishReason, result.stopSequence, result.toolCalls.length > 0),
    (result.refusal?.refusal ?? "") !== "",
  );
  const message: AnthropicMessage = {
    id: messageId(result.id),
    type: "message",
    role: "assistant",
    model: meta.target,
    content,
    container: null,
    diagnostics: null,
    stop_reason: stopReason,
    stop_sequence: stopReason === "stop_sequence" ? (result.stopSequence ?? null) : null,
    stop_details: toAnthropicStopDetails(stopReason),
    usage: { ...renderUsage(result.usage), ...betaUsage(beta) },
    ...(beta && { context_management: null }),
  };
  return splice === undefined ? message : splice.body(message);
}

/** A thinking block's signature: Anthropic's, another provider's sealed reasoning, or "" (neither). */
function signatureOf(block: ReasoningPart): string {
  if (block.signature !== undefined) return block.signature;
  return block.encryptedContent !== undefined && block.producer !== undefined
    ? sealedSignature(block.producer, block.encryptedContent)
    : "";
}
