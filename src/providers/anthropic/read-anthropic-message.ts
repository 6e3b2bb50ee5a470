import type { EventSourceMessage } from "eventsource-parser";
import { GatewayError, type StreamEvent } from "../../core/index.js";
import { parseAnthropicStream } from "./parse-anthropic-stream.js";

/**
 * A whole (non-streamed) Messages answer -> the same canonical events as its stream would give. The
 * message is retold as the events Anthropic would have streamed for it (message_start, a
 * start and stop per content block, message_delta, message_stop) and read by the stream parser, so
 * both ways share one mapping: a tool_use block's input arrives in content_block_start, which the
 * parser already handles, and thinking blocks are read alike.
 */
export function readAnthropicMessage(json: unknown, target: string): AsyncGenerator<StreamEvent> {
  return parseAnthropicStream([toEvents(json, target)], target);
}

/** As readAnthropicMessage, then the whole message as one `frame` (same-wire pass-through: every field). */
export async function* tapAnthropicMessage(json: unknown, target: string): AsyncGenerator<StreamEvent> {
  yield* readAnthropicMessage(json, target);
  yield { type: "frame", data: JSON.stringify(json), whole: true, json };
}

function toEvents(json: unknown, target: string): EventSourceMessage[] {
  const message = json as { type?: unknown; content?: unknown; stop_reason?: unknown; stop_sequence?: unknown; usage?: unknown };
  if (typeof json !== "object" || json === null) {
    throw new GatewayError("upstream_error", `${target}: the answer is not a message object`, { target });
  }
  if (message.type === "error") return [sse("error", json)];
  if (!Array.isArray(message.content)) {
    throw new GatewayError("upstream_error", `${target}: the answer has no content list`, { target });
  }
  const events = [
    sse("message_start", {
      type: "message_start",
      message: { ...message, content: [], stop_reason: null, stop_sequence: null },
    }),
  ];
  for (const [index, block] of message.content.entries()) {
    events.push(sse("content_block_start", { type: "content_block_start", index, content_block: block }));
    events.push(sse("content_block_stop", { type: "content_block_stop", index }));
  }
  events.push(
    sse("message_delta", {
      type: "message_delta",
      delta: { stop_reason: message.stop_reason ?? null, stop_sequence: message.stop_sequence ?? null },
      ...(message.usage !== undefined && { usage: message.usage }),
    }),
    sse("message_stop", { type: "message_stop" }),
  );
  return events;
}

function sse(event: string, data: unknown): EventSourceMessage {
  return { event, data: JSON.stringify(data), id: undefined };
}
