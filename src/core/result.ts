import { GatewayError } from "./errors.js";
import { forEachItem } from "./forwarding.js";
import type { HostedToolItem } from "./hosted-tools.js";
import type { TokenLogprob } from "./logprobs.js";
import type { ReasoningPart, ToolCall } from "./messages.js";
import { ReasoningBlocks } from "./reasoning.js";
import type { FinishReason, StreamEvent, Usage } from "./stream.js";

/** A whole answer, gathered from a stream, for clients that did not ask to stream. */
export interface ChatResult {
  id: string | undefined;
  model: string | undefined;
  text: string;
  /** The model's readable reasoning (reasoning-delta events), where the upstream showed it. */
  reasoning?: string;
  /** The same reasoning as the blocks the upstream made (with Anthropic's signatures and redacted blocks), where there was any. */
  reasoningBlocks?: ReasoningPart[];
  /**
   * Where the model refused (text-delta events marked `refusal`): its refusal, and the rest of its
   * text without it. `text` holds both, in order, for APIs that have no place for a refusal.
   */
  refusal?: { refusal: string; text: string };
  /** The log probabilities of the answer's tokens (not its refusal's), in order, where the text-delta events carried any. */
  logprobs?: TokenLogprob[];
  /** How long the request waited for the model to be loaded (the `start` event's `loadMs`), where known. */
  loadMs?: number;
  /** The prompt as the target read it (a `prompt` event), where the client asked for it echoed and the target reported it. */
  prompt?: Omit<Extract<StreamEvent, { type: "prompt" }>, "type">;
  toolCalls: ToolCall[];
  /**
   * Tools tandem ran for the model between its turns (`hosted-tool` events), each as it ended, with
   * where it came in `text` (the length of the text before it). Unset when there were none.
   */
  hosted?: Array<{ item: HostedToolItem; textAt: number }>;
  /** Parts of the answer the canonical events do not carry (`untranslated` events), each once; unset when there were none. */
  untranslated?: string[];
  finishReason: FinishReason;
  rawFinishReason: string | undefined;
  stopSequence: string | undefined;
  usage: Usage;
}

/** Merges a usage update into the running total; later values win per field. */
export function mergeUsage(into: Usage, update: Partial<Usage>): void {
  if (update.inputTokens !== undefined) into.inputTokens = update.inputTokens;
  if (update.outputTokens !== undefined) into.outputTokens = update.outputTokens;
  if (update.cachedInputTokens !== undefined) into.cachedInputTokens = update.cachedInputTokens;
  if (update.cacheWriteInputTokens !== undefined) into.cacheWriteInputTokens = update.cacheWriteInputTokens;
  if (update.reasoningTokens !== undefined) into.reasoningTokens = update.reasoningTokens;
}

/**
 * Two requests' usage added up (a tool loop's turns, chat's choices fanned out as requests of their
 * own): every counter summed, an optional one present when either side reported it.
 */
export function addUsage(a: Usage, b: Usage): Usage {
  const out: Usage = { inputTokens: a.inputTokens + b.inputTokens, outputTokens: a.outputTokens + b.outputTokens };
  for (const key of ["cachedInputTokens", "cacheWriteInputTokens", "reasoningTokens"] as const) {
    if (a[key] !== undefined || b[key] !== undefined) out[key] = (a[key] ?? 0) + (b[key] ?? 0);
  }
  return out;
}

/**
 * Gathers a canonical stream into one result. A stream that ends without `finish` is an error.
 * With `frames`, the target's own frames (the same-wire path) are gathered into it too; a switch
 * starts them over, so they are only ever one target's whole answer.
 */
export async function collectChat(
  events: AsyncIterable<StreamEvent>,
  frames?: Extract<StreamEvent, { type: "frame" }>[],
): Promise<ChatResult> {
  const result: ChatResult = {
    id: undefined,
    model: undefined,
    text: "",
    toolCalls: [],
    finishReason: "other",
    rawFinishReason: undefined,
    stopSequence: undefined,
    usage: { inputTokens: 0, outputTokens: 0 },
  };
  const calls = new Map<number, ToolCall>();
  const reasoning = new ReasoningBlocks();
  let finished = false;
  /** The text without any refusal, and the refusal, for `refusal`. */
  let answerText = "";
  let refusal: string | undefined;
  let logprobs: TokenLogprob[] = [];
  await forEachItem(events, (ev) => {
    reasoning.push(ev);
    switch (ev.type) {
      case "start":
        result.id = ev.id;
        result.model = ev.model;
        if (ev.loadMs !== undefined) result.loadMs = ev.loadMs;
        break;
      case "text-delta":
        result.text += ev.text;
        if (ev.refusal) refusal = (refusal ?? "") + ev.text;
        else {
          answerText += ev.text;
          if (ev.logprobs) for (const token of ev.logprobs) logprobs.push(token);
        }
        break;
      case "prompt": {
        // Pieces run on (see the event).
        const prompt = result.prompt ?? { text: "" };
        prompt.text += ev.text;
        if (ev.logprobs) prompt.logprobs = [...(prompt.logprobs ?? []), ...ev.logprobs];
        result.prompt = prompt;
        break;
      }
      case "reasoning-delta":
        result.reasoning = (result.reasoning ?? "") + ev.text;
        break;
      case "tool-call-start":
        calls.set(ev.index, { id: ev.id, name: ev.name, arguments: "" });
        break;
      case "tool-call-delta": {
        const call = calls.get(ev.index);
        if (call) call.arguments += ev.argumentsDelta;
        break;
      }
      case "tool-call-end":
        break;
      case "frame":
        frames?.push(ev);
        break;
      case "untranslated":
        result.untranslated ??= [];
        if (!result.untranslated.includes(ev.part)) result.untranslated.push(ev.part);
        break;
      case "hosted-tool": {
        result.hosted ??= [];
        const known = result.hosted.find((entry) => entry.item.id === ev.item.id);
        if (known) known.item = ev.item;
        else result.hosted.push({ item: ev.item, textAt: result.text.length });
        break;
      }
      case "switch":
        if (frames) frames.length = 0;
        if (ev.restart) {
          result.text = "";
          answerText = "";
          refusal = undefined;
          logprobs = [];
          result.prompt = undefined;
          result.reasoning = undefined;
          result.untranslated = undefined;
          result.usage = { inputTokens: 0, outputTokens: 0 };
          calls.clear();
        }
        break;
      case "usage":
        mergeUsage(result.usage, ev.usage);
        break;
      case "finish":
        result.finishReason = ev.reason;
        result.rawFinishReason = ev.raw;
        result.stopSequence = ev.stopSequence;
        finished = true;
        break;
    }
  });
  if (!finished) throw new GatewayError("upstream_error", "The upstream stream ended before it finished");
  if (refusal !== undefined) result.refusal = { refusal, text: answerText };
  if (logprobs.length > 0) result.logprobs = logprobs;
  const blocks = reasoning.blocks();
  if (blocks.length > 0) result.reasoningBlocks = blocks;
  result.toolCalls = [...calls.entries()].sort((a, b) => a[0] - b[0]).map(([, c]) => c);
  return result;
}
