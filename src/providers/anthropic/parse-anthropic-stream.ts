import type { EventSourceMessage } from "eventsource-parser";
import type { z } from "zod";
import { GatewayError, type StreamEvent, type Usage } from "../../core/index.js";
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
  | { kind: "tool"; toolIndex: number; sawDelta: boolean; initialInput: unknown }
  | { kind: "skip" };

/**
 * Anthropic's Messages SSE stream (batches of events, as readSseBatches gives them) as canonical
 * events. Text and tool_use blocks become text and tool-call events (a tool call's index is its
 * order among the tool calls, its id is kept); thinking blocks' text is reasoning, their
 * `signature_delta` a reasoning-signature, and a redacted_thinking block a reasoning-redacted
 * (server-tool blocks are skipped: they reach an Anthropic client on the same-wire path); ping and unknown events are
 * ignored. An `event: error` throws the matching GatewayError; a stream that ends without
 * message_stop throws upstream_error.
 */
export async function* parseAnthropicStream(
  batches: AsyncIterable<EventSourceMessage[]> | Iterable<EventSourceMessage[]>,
  target: string,
  /** Same-wire pass-through: also yield each upstream event as a `frame`, after what was read from it. */
  tap = false,
): AsyncGenerator<StreamEvent> {
  const blocks = new Map<number, Block>();
  let started = false;
  let toolCount = 0;
  let stopReason: string | null | undefined;
  let stopSequence: string | null | undefined;
  const raw: RawInput = {};
  /** Tapped message_delta frames, held until the finish (see message_delta). */
  const ending: StreamEvent[] = [];

  for await (const batch of batches) {
    for (const message of batch) {
      let data: unknown;
      try {
        data = JSON.parse(message.data);
      } catch {
        throw new GatewayError("upstream_error", `${target}: the stream sent an event that is not JSON`, { target });
      }
      const type = (data as { type?: unknown } | null)?.type ?? message.event;

      if (type === "error" || message.event === "error") {
        const parsed = ErrorEventSchema.safeParse(data);
        const error = parsed.success ? parsed.data.error : undefined;
        throw anthropicStreamError(error?.type, error?.message, target);
      }
      if (!started && type !== "message_start" && type !== "ping") {
        // Content before message_start breaks Anthropic's own order; still yield `start` first.
        started = true;
        yield { type: "start" };
      }

      switch (type) {
        case "message_start": {
          const event = parse(MessageStartSchema, data, target);
          if (started) break;
          started = true;
          yield {
            type: "start",
            ...(event.message.id ? { id: event.message.id } : {}),
            ...(event.message.model ? { model: event.message.model } : {}),
          };
          const usage = inputUsage(raw, event.message.usage);
          if (usage) yield { type: "usage", usage };
          break;
        }
        case "content_block_start": {
          const event = parse(ContentBlockStartSchema, data, target);
          const block = event.content_block;
          if (block.type === "text") {
            blocks.set(event.index, { kind: "text" });
            if (block.text) yield { type: "text-delta", text: block.text };
          } else if (block.type === "thinking") {
            // A whole message's block has its signature here; a stream's comes in a signature_delta.
            blocks.set(event.index, { kind: "thinking", signature: block.signature || undefined });
            if (block.thinking) yield { type: "reasoning-delta", text: block.thinking };
          } else if (block.type === "redacted_thinking") {
            blocks.set(event.index, { kind: "redacted" });
            if (typeof block.data === "string") yield { type: "reasoning-redacted", data: block.data };
          } else if (block.type === "tool_use") {
            const toolIndex = toolCount++;
            blocks.set(event.index, { kind: "tool", toolIndex, sawDelta: false, initialInput: block.input });
            yield { type: "tool-call-start", index: toolIndex, id: block.id ?? "", name: block.name ?? "" };
          } else {
            blocks.set(event.index, { kind: "skip" });
          }
          break;
        }
        case "content_block_delta": {
          const event = parse(ContentBlockDeltaSchema, data, target);
          const block = blocks.get(event.index);
          if (event.delta.type === "text_delta" && block?.kind === "text" && event.delta.text) {
            yield { type: "text-delta", text: event.delta.text };
          } else if (event.delta.type === "thinking_delta" && block?.kind === "thinking" && event.delta.thinking) {
            yield { type: "reasoning-delta", text: event.delta.thinking };
          } else if (event.delta.type === "signature_delta" && block?.kind === "thinking" && event.delta.signature) {
            block.signature = undefined;
            yield { type: "reasoning-signature", signature: event.delta.signature };
          } else if (event.delta.type === "input_json_delta" && block?.kind === "tool") {
            block.sawDelta = true;
            if (event.delta.partial_json) {
              yield { type: "tool-call-delta", index: block.toolIndex, argumentsDelta: event.delta.partial_json };
            }
          }
          break;
        }
        case "content_block_stop": {
          const event = parse(ContentBlockStopSchema, data, target);
          const block = blocks.get(event.index);
          if (block?.kind === "tool") {
            // A block that carried its whole input in content_block_start (no deltas) still has arguments.
            if (!block.sawDelta && isNonEmptyObject(block.initialInput)) {
              yield { type: "tool-call-delta", index: block.toolIndex, argumentsDelta: JSON.stringify(block.initialInput) };
            }
            yield { type: "tool-call-end", index: block.toolIndex };
          }
          if (block?.kind === "thinking" && block.signature !== undefined)
            yield { type: "reasoning-signature", signature: block.signature };
          blocks.delete(event.index);
          break;
        }
        case "message_delta": {
          const event = parse(MessageDeltaSchema, data, target);
          if (event.delta.stop_reason != null) stopReason = event.delta.stop_reason;
          if (event.delta.stop_sequence != null) stopSequence = event.delta.stop_sequence;
          const usage: Partial<Usage> = { ...inputUsage(raw, event.usage) };
          if (event.usage?.output_tokens != null) usage.outputTokens = event.usage.output_tokens;
          if (Object.keys(usage).length > 0) yield { type: "usage", usage };
          // The stop reason reaches the client only with the finish, after the checks on it have passed.
          if (tap) ending.push(frameOf(message, data));
          continue;
        }
        case "message_stop": {
          const reason = mapAnthropicStopReason(stopReason);
          yield {
            type: "finish",
            reason,
            ...(stopReason ? { raw: stopReason } : {}),
            ...(stopSequence ? { stopSequence } : {}),
          };
          if (tap) {
            yield* ending;
            yield frameOf(message, data);
          }
          return;
        }
        default:
          // ping, and event types Anthropic may add later.
          break;
      }
      if (tap) yield frameOf(message, data);
    }
  }
  throw new GatewayError("upstream_error", `${target}: the stream ended before message_stop`, { target });
}

/** A tapped event, with the JSON it was parsed into (shared with the dialect, which only reads it). */
function frameOf(message: EventSourceMessage, json: unknown): StreamEvent {
  return message.event === undefined
    ? { type: "frame", data: message.data, json }
    : { type: "frame", event: message.event, data: message.data, json };
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

function isNonEmptyObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length > 0;
}
