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
  /**
   * The answer's pieces in the order its events came (reasoning, text, tools run, calls), so a whole
   * answer keeps what a streamed one shows: reasoning after text (interleaved thinking) after it, not
   * before. Unset on a result made by hand: answerOrder gives the usual order then.
   */
  order?: AnswerPiece[];
  /** Parts of the answer the canonical events do not carry (`untranslated` events), each once; unset when there were none. */
  untranslated?: string[];
  finishReason: FinishReason;
  rawFinishReason: string | undefined;
  stopSequence: string | undefined;
  usage: Usage;
}

/**
 * One piece of a whole answer, by where it is kept in the ChatResult: a reasoning block
 * (`reasoningBlocks[block]`), a run of text (`text.slice(from, to)`), a tool tandem ran
 * (`hosted[item]`), a call (`toolCalls[call]`).
 */
export type AnswerPiece =
  | { type: "reasoning"; block: number }
  | { type: "text"; from: number; to: number }
  | { type: "hosted"; item: number }
  | { type: "tool-call"; call: number };

/**
 * A whole answer's pieces in order: as its events came (ChatResult.order), else reasoning first, then
 * the text (cut where each tool tandem ran came in it), then the calls.
 */
export function answerOrder(result: ChatResult): AnswerPiece[] {
  if (result.order !== undefined) return result.order;
  const pieces: AnswerPiece[] = (result.reasoningBlocks ?? []).map((_, block) => ({ type: "reasoning", block }));
  let at = 0;
  for (const [item, { textAt }] of (result.hosted ?? []).entries()) {
    if (textAt > at) pieces.push({ type: "text", from: at, to: textAt });
    at = Math.max(at, textAt);
    pieces.push({ type: "hosted", item });
  }
  if (at < result.text.length) pieces.push({ type: "text", from: at, to: result.text.length });
  for (const call of result.toolCalls.keys()) pieces.push({ type: "tool-call", call });
  return pieces;
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
  /** The answer's pieces as they came; a call by its event index until the calls are sorted. */
  let order: AnswerPiece[] = [];
  await forEachItem(events, (ev) => {
    const blocks = reasoning.blocks().length;
    reasoning.push(ev);
    if (reasoning.blocks().length > blocks) order.push({ type: "reasoning", block: blocks });
    switch (ev.type) {
      case "start":
        result.id = ev.id;
        result.model = ev.model;
        if (ev.loadMs !== undefined) result.loadMs = ev.loadMs;
        break;
      case "text-delta": {
        const last = order.at(-1);
        if (ev.text === "") {
          // Only tokens (see the event): no text to place.
        } else if (last?.type === "text") last.to += ev.text.length;
        else order.push({ type: "text", from: result.text.length, to: result.text.length + ev.text.length });
        result.text += ev.text;
        if (ev.refusal) refusal = (refusal ?? "") + ev.text;
        else {
          answerText += ev.text;
          if (ev.logprobs) for (const token of ev.logprobs) logprobs.push(token);
        }
        break;
      }
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
        if (!calls.has(ev.index)) order.push({ type: "tool-call", call: ev.index });
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
        else {
          result.hosted.push({ item: ev.item, textAt: result.text.length });
          order.push({ type: "hosted", item: result.hosted.length - 1 });
        }
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
          // The tools tandem ran stay (as `hosted` does); what the target said starts over.
          order = order.filter((piece) => piece.type === "hosted");
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
  const sorted = [...calls.keys()].sort((a, b) => a - b);
  result.toolCalls = sorted.map((index) => calls.get(index) as ToolCall);
  result.order = order.map((piece) => (piece.type === "tool-call" ? { ...piece, call: sorted.indexOf(piece.call) } : piece));
  return result;
}
