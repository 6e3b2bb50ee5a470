import type { EventSourceMessage } from "eventsource-parser";
import { GatewayError, type StreamEvent } from "../../core/index.js";
import { AnthropicAnswer } from "./parse-anthropic-stream.js";

/**
 * A whole (non-streamed) Messages answer -> the same canonical events as its stream would give. The
 * message is retold as the events Anthropic would have streamed for it (message_start, a start and
 * stop per content block, message_delta, message_stop) and read by the stream's reader, so both ways
 * share one mapping: each block comes whole in its content_block_start, which the reader handles (a
 * tool_use block's input is not written out as text to be parsed again). The events are read as
 * objects (they are never written out and parsed again).
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

/**
 * A whole message retold as the events Anthropic streams for one (see readAnthropicMessage), as SSE
 * messages: what a server that answered a streamed request with a whole message stands for, read
 * by the stream's reader and, on the same wire, passed to a streaming client as the events it
 * expects (a text block's text in a text_delta, a tool_use block's input in an input_json_delta, a
 * thinking block's text and signature in their deltas; other blocks whole in their
 * content_block_start, as Anthropic streams a redacted_thinking or a server tool's result).
 */
export function anthropicMessageAsEvents(json: unknown, target: string): EventSourceMessage[] {
  return toEvents(json, target, blockAsStream).map(([event, data]) => ({ id: undefined, event, data: JSON.stringify(data) }));
}

function toEvents(json: unknown, target: string, tellBlock: BlockTelling = wholeBlock): Array<[string, unknown]> {
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
    const [start, deltas] = tellBlock(block);
    events.push(retold("content_block_start", { type: "content_block_start", index, content_block: start }));
    for (const delta of deltas) events.push(retold("content_block_delta", { type: "content_block_delta", index, delta }));
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

/** How a content block is told: the block content_block_start opens, and the deltas that fill it. */
type BlockTelling = (block: unknown) => [start: unknown, deltas: unknown[]];

/** A block whole in its content_block_start, with no deltas: what the reader of a whole message needs. */
function wholeBlock(block: unknown): [start: unknown, deltas: unknown[]] {
  return [block, []];
}

/** A content block as Anthropic's stream tells it: the block content_block_start opens, and the deltas that fill it. */
function blockAsStream(block: unknown): [start: unknown, deltas: unknown[]] {
  if (typeof block !== "object" || block === null) return [block, []];
  const fields = block as Record<string, unknown>;
  if (fields.type === "text" && typeof fields.text === "string") {
    return [{ ...fields, text: "" }, fields.text === "" ? [] : [{ type: "text_delta", text: fields.text }]];
  }
  if (fields.type === "tool_use") {
    const input = JSON.stringify(fields.input ?? {});
    return [{ ...fields, input: {} }, [{ type: "input_json_delta", partial_json: input }]];
  }
  if (fields.type === "thinking" && typeof fields.thinking === "string") {
    const deltas: unknown[] = fields.thinking === "" ? [] : [{ type: "thinking_delta", thinking: fields.thinking }];
    if (typeof fields.signature === "string" && fields.signature !== "")
      deltas.push({ type: "signature_delta", signature: fields.signature });
    return [{ ...fields, thinking: "", signature: "" }, deltas];
  }
  return [block, []];
}

function retold(event: string, data: unknown): [string, unknown] {
  return [event, data];
}
