import { GatewayError, type StreamEvent } from "../../core/index.js";
import { AnthropicAnswer } from "./parse-anthropic-stream.js";

/**
 * A whole (non-streamed) Messages answer -> the same canonical events as its stream would give. The
 * message is retold as the events Anthropic would have streamed for it (message_start, a
 * start and stop per content block, message_delta, message_stop) and read by the stream's reader, so
 * both ways share one mapping: a tool_use block's input arrives in content_block_start, which the
 * reader already handles, and thinking blocks are read alike. The events are read as objects (they
 * are never written out and parsed again).
 */
export function readAnthropicMessage(json: unknown, target: string): StreamEvent[] {
  const answer = new AnthropicAnswer(target);
  const out: StreamEvent[] = [];
  for (const [name, data] of toEvents(json, target)) if (answer.event(name, data, out)) break;
  answer.end(out);
  return out;
}

/** As readAnthropicMessage, then the whole message as one `frame` (same-wire pass-through: every field). */
export function tapAnthropicMessage(json: unknown, target: string): StreamEvent[] {
  const events = readAnthropicMessage(json, target);
  events.push({ type: "frame", data: JSON.stringify(json), whole: true, json });
  return events;
}

function toEvents(json: unknown, target: string): Array<[string, unknown]> {
  const message = json as { type?: unknown; content?: unknown; stop_reason?: unknown; stop_sequence?: unknown; usage?: unknown };
  if (typeof json !== "object" || json === null) {
    throw new GatewayError("upstream_error", `${target}: the answer is not a message object`, { target });
  }
  if (message.type === "error") return [retold("error", json)];
  if (!Array.isArray(message.content)) {
    throw new GatewayError("upstream_error", `${target}: the answer has no content list`, { target });
  }
  const events = [
    retold("message_start", {
      type: "message_start",
      message: { ...message, content: [], stop_reason: null, stop_sequence: null },
    }),
  ];
  for (const [index, block] of message.content.entries()) {
    events.push(retold("content_block_start", { type: "content_block_start", index, content_block: block }));
    events.push(retold("content_block_stop", { type: "content_block_stop", index }));
  }
  events.push(
    retold("message_delta", {
      type: "message_delta",
      delta: { stop_reason: message.stop_reason ?? null, stop_sequence: message.stop_sequence ?? null },
      ...(message.usage !== undefined && { usage: message.usage }),
    }),
    retold("message_stop", { type: "message_stop" }),
  );
  return events;
}

function retold(event: string, data: unknown): [string, unknown] {
  return [event, data];
}
