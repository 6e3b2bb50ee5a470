import type { EventSourceMessage } from "eventsource-parser";
import type { z } from "zod";
import { expandBatches, GatewayError, type StreamEvent, type Usage, untranslatedParts } from "../../core/index.js";
import { HeldFrames, sseFrame } from "../http/index.js";
import {
  type AnthropicUsage,
  ContentBlockDeltaSchema,
  ContentBlockStartSchema,
  ContentBlockStopSchema,
  ErrorEventSchema,
  MessageDeltaSchema,
  MessageStartSchema,
} from "./anthropic-api.js";
import { anthropicStreamError } from "./anthropic-error.js";
import { mapAnthropicStopReason } from "./map-anthropic-stop-reason.js";

type Block =
  | { kind: "text" }
  | { kind: "thinking"; signature: string | undefined }
  | { kind: "redacted" }
  /** `sent`: a piece of the call's arguments was passed on. */
  | { kind: "tool"; toolIndex: number; sent: boolean; initialInput: unknown }
  | { kind: "skip" };

type Frame = Extract<StreamEvent, { type: "frame" }>;

/**
 * Anthropic's Messages SSE stream (batches of events, as readSseBatches gives them) as canonical
 * events. Text and tool_use blocks become text and tool-call events (a tool call's index is its
 * order among the tool calls, its id is kept); thinking blocks' text is reasoning, their
 * `signature_delta` a reasoning-signature, and a redacted_thinking block a reasoning-redacted
 * (server-tool blocks are skipped: they reach an Anthropic client on the same-wire path); ping and unknown events are
 * ignored. An `event: error` throws the matching GatewayError; a stream that ends without
 * message_stop throws upstream_error, unless its finish came (see AnthropicAnswer.end). A network read's events are read at once and served from one
 * queue (expandBatches), which costs each event less than an async generator's yield would.
 */
export function parseAnthropicStream(
  batches: AsyncIterable<EventSourceMessage[]> | Iterable<EventSourceMessage[]>,
  target: string,
  /** Same-wire pass-through: also yield each upstream event as a `frame`, after what was read from it. */
  tap = false,
  /** The most the held message_delta frames may come to (limits.maxAnswerBytes). Default 32 MiB. */
  maxHeldBytes?: number,
): AsyncIterableIterator<StreamEvent> {
  const answer = new AnthropicAnswer(target, maxHeldBytes);
  return expandBatches<EventSourceMessage[], StreamEvent>(
    Symbol.asyncIterator in batches ? batches : fromIterable(batches),
    (batch, out) => {
      for (const message of batch) {
        let data: unknown;
        try {
          data = JSON.parse(message.data);
        } catch {
          throw new GatewayError("upstream_error", `${target}: the stream sent an event that is not JSON`, { target });
        }
        if (answer.event(message.event, data, out, tap ? sseFrame(message, data) : undefined)) return true;
      }
      return undefined;
    },
    (out) => answer.end(out, tap),
    // A connection reset after message_delta's stop reason loses only message_stop, which says
    // nothing more: the answer ends as one that lacks message_stop does, not as a broken one.
    () => answer.finished,
  );
}

/** Batches given whole (a test's, a whole message's), read as a stream's. */
async function* fromIterable<T>(items: Iterable<T>): AsyncGenerator<T> {
  yield* items;
}

/**
 * What one Anthropic answer has said so far, event by event, as canonical events (also read for a
 * whole message, retold as its events: see read-anthropic-message.ts).
 */
export class AnthropicAnswer {
  readonly #target: string;
  readonly #blocks = new Map<number, Block>();
  #started = false;
  #toolCount = 0;
  #stopReason: string | null | undefined;
  #stopSequence: string | null | undefined;
  readonly #raw: RawInput = {};
  /** Tapped message_delta frames, held until the finish (see message_delta). */
  readonly #ending: Frame[] = [];
  #done = false;
  /** Names the parts of the answer the canonical events do not carry, each once. */
  readonly #untranslatedPart = untranslatedParts();

  readonly #held: HeldFrames;

  constructor(target: string, maxHeldBytes?: number) {
    this.#target = target;
    this.#held = new HeldFrames(target, maxHeldBytes);
  }

  /**
   * Adds the events one upstream event (`name`, its parsed `data`) carries to `out`, and its `frame`
   * when tapped, after them. True once message_stop came: the answer is complete, nothing after it is read.
   */
  event(name: string | undefined, data: unknown, out: StreamEvent[], frame?: Frame): boolean {
    const target = this.#target;
    const type = (data as { type?: unknown } | null)?.type ?? name;

    if (type === "error" || name === "error") {
      const parsed = ErrorEventSchema.safeParse(data);
      const error = parsed.success ? parsed.data.error : undefined;
      throw anthropicStreamError(error?.type, error?.message, target);
    }
    if (!this.#started && type !== "message_start" && type !== "ping") {
      // Content before message_start breaks Anthropic's own order; still yield `start` first.
      this.#started = true;
      out.push({ type: "start" });
    }

    switch (type) {
      case "message_start": {
        const event = parse(MessageStartSchema, data, target);
        if (this.#started) break;
        this.#started = true;
        out.push({
          type: "start",
          ...(event.message.id ? { id: event.message.id } : {}),
          ...(event.message.model ? { model: event.message.model } : {}),
        });
        const usage = inputUsage(this.#raw, event.message.usage);
        if (usage) out.push({ type: "usage", usage });
        break;
      }
      case "content_block_start": {
        const event = parse(ContentBlockStartSchema, data, target);
        const block = event.content_block;
        if (block.type === "text") {
          this.#blocks.set(event.index, { kind: "text" });
          if (block.text) out.push({ type: "text-delta", text: block.text });
          // A whole message's citations are on its block; a stream's come in citations_delta events.
          if (Array.isArray(block.citations) && block.citations.length > 0) this.#untranslatedPart("citations", out);
        } else if (block.type === "thinking") {
          // A whole message's block has its signature here; a stream's comes in a signature_delta.
          this.#blocks.set(event.index, { kind: "thinking", signature: block.signature || undefined });
          if (block.thinking) out.push({ type: "reasoning-delta", text: block.thinking });
        } else if (block.type === "redacted_thinking") {
          this.#blocks.set(event.index, { kind: "redacted" });
          if (typeof block.data === "string") out.push({ type: "reasoning-redacted", data: block.data });
        } else if (block.type === "tool_use") {
          const toolIndex = this.#toolCount++;
          this.#blocks.set(event.index, { kind: "tool", toolIndex, sent: false, initialInput: block.input });
          out.push({ type: "tool-call-start", index: toolIndex, id: block.id ?? "", name: block.name ?? "" });
        } else {
          // A server tool's call or result, a container upload, a block type newer than tandem.
          this.#blocks.set(event.index, { kind: "skip" });
          this.#untranslatedPart(`${block.type} blocks`, out);
        }
        break;
      }
      case "content_block_delta": {
        const event = parse(ContentBlockDeltaSchema, data, target);
        const block = this.#blocks.get(event.index);
        if (event.delta.type === "text_delta" && block?.kind === "text" && event.delta.text) {
          out.push({ type: "text-delta", text: event.delta.text });
        } else if (event.delta.type === "thinking_delta" && block?.kind === "thinking" && event.delta.thinking) {
          out.push({ type: "reasoning-delta", text: event.delta.thinking });
        } else if (event.delta.type === "signature_delta" && block?.kind === "thinking" && event.delta.signature) {
          block.signature = undefined;
          out.push({ type: "reasoning-signature", signature: event.delta.signature });
        } else if (event.delta.type === "input_json_delta" && block?.kind === "tool") {
          if (event.delta.partial_json) {
            block.sent = true;
            out.push({ type: "tool-call-delta", index: block.toolIndex, argumentsDelta: event.delta.partial_json });
          }
        } else if (event.delta.type === "citations_delta") {
          this.#untranslatedPart("citations", out);
        }
        break;
      }
      case "content_block_stop": {
        const event = parse(ContentBlockStopSchema, data, target);
        const block = this.#blocks.get(event.index);
        if (block?.kind === "tool") {
          // A block that carried its whole input in content_block_start (a whole message's) still has
          // arguments, and so has a tool without parameters, whose only delta is "" (its input is {}):
          // `{}`, as OpenAI sends it, never "" (which no client can parse as JSON).
          if (!block.sent) {
            const input = isObject(block.initialInput) ? block.initialInput : {};
            out.push({ type: "tool-call-delta", index: block.toolIndex, argumentsDelta: JSON.stringify(input) });
          }
          out.push({ type: "tool-call-end", index: block.toolIndex });
        }
        if (block?.kind === "thinking" && block.signature !== undefined)
          out.push({ type: "reasoning-signature", signature: block.signature });
        this.#blocks.delete(event.index);
        break;
      }
      case "message_delta": {
        const event = parse(MessageDeltaSchema, data, target);
        if (event.delta.stop_reason != null) this.#stopReason = event.delta.stop_reason;
        if (event.delta.stop_sequence != null) this.#stopSequence = event.delta.stop_sequence;
        const usage: Partial<Usage> = { ...inputUsage(this.#raw, event.usage) };
        if (event.usage?.output_tokens != null) usage.outputTokens = event.usage.output_tokens;
        // Reported with the output count (cumulative, like it), so the latest one is the answer's.
        const thinking = event.usage?.output_tokens_details?.thinking_tokens;
        if (thinking != null && thinking > 0) usage.reasoningTokens = thinking;
        if (Object.keys(usage).length > 0) out.push({ type: "usage", usage });
        // The stop reason reaches the client only with the finish, after the checks on it have passed.
        if (frame) {
          this.#held.add(frame);
          this.#ending.push(frame);
        }
        return false;
      }
      case "message_stop": {
        const stopReason = this.#stopReason;
        const stopSequence = this.#stopSequence;
        out.push({
          type: "finish",
          reason: mapAnthropicStopReason(stopReason),
          ...(stopReason ? { raw: stopReason } : {}),
          ...(stopSequence ? { stopSequence } : {}),
        });
        if (frame) {
          for (const held of this.#ending) out.push(held);
          out.push(frame);
        }
        this.#done = true;
        return true;
      }
      default:
        // ping, and event types Anthropic may add later.
        break;
    }
    if (frame) out.push(frame);
    return false;
  }

  /** The answer is complete: message_stop came, or message_delta's stop reason with every block closed. */
  get finished(): boolean {
    return this.#done || (this.#stopReason != null && this.#blocks.size === 0);
  }

  /**
   * The answer is over: it must have come to message_stop, or at least to its finish. A stream that
   * ends after message_delta carried the stop reason, every block closed, lacks only message_stop,
   * which says nothing more: it is complete (as the SDKs' MessageStream takes it, and as an OpenAI
   * stream with its finish_reason but no [DONE] is), and ends as message_stop would have ended it,
   * with a message_stop frame of its own for a same-wire client (`tapped`). Anything short of that is
   * a broken stream.
   */
  end(out: StreamEvent[], tapped = false): void {
    if (this.#done) return;
    if (!this.finished) {
      throw new GatewayError("upstream_error", `${this.#target}: the stream ended before message_stop`, { target: this.#target });
    }
    const stop = { type: "message_stop" };
    this.event(
      "message_stop",
      stop,
      out,
      tapped ? { type: "frame", event: "message_stop", data: JSON.stringify(stop), json: stop } : undefined,
    );
  }
}

type RawInput = { input?: number; cacheRead?: number; cacheCreation?: number };

/**
 * Canonical input tokens count the whole prompt (like OpenAI's prompt_tokens): Anthropic's
 * input_tokens excludes cache reads and writes, which it reports apart. message_delta may repeat
 * some of these counters (cumulative, omitted when they do not apply), so the latest value of each
 * is kept and the total recomputed.
 */
function inputUsage(raw: RawInput, usage: AnthropicUsage | null | undefined): Partial<Usage> | undefined {
  if (!usage) return undefined;
  const before = { ...raw };
  if (usage.input_tokens != null) raw.input = usage.input_tokens;
  if (usage.cache_read_input_tokens != null) raw.cacheRead = usage.cache_read_input_tokens;
  if (usage.cache_creation_input_tokens != null) raw.cacheCreation = usage.cache_creation_input_tokens;
  if (raw.input === undefined) return undefined;
  if (before.input === raw.input && before.cacheRead === raw.cacheRead && before.cacheCreation === raw.cacheCreation) {
    return undefined;
  }
  const out: Partial<Usage> = { inputTokens: raw.input + (raw.cacheRead ?? 0) + (raw.cacheCreation ?? 0) };
  if (raw.cacheRead !== undefined) out.cachedInputTokens = raw.cacheRead;
  if (raw.cacheCreation) out.cacheWriteInputTokens = raw.cacheCreation;
  return out;
}

function parse<S extends z.ZodType>(schema: S, data: unknown, target: string): z.output<S> {
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  const type = (data as { type?: unknown } | null)?.type;
  throw new GatewayError("upstream_error", `${target}: malformed ${String(type)} event in the stream`, { target });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
