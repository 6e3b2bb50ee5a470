import type { EventSourceMessage } from "eventsource-parser";
import type { NativeRequest, StreamEvent } from "../../core/index.js";
import { editedNativeBody, type JsonText } from "../http/index.js";
import { readOpenAIChatCompletion, readOpenAIChatStream } from "./read-openai-chat-stream.js";

/**
 * The client's own chat completions body for a same-wire upstream (see core/native.ts): every field
 * as it came, but for `model` (the upstream's id) and `stream` (the router decides whether the
 * upstream streams). A streamed answer asks for `stream_options.include_usage` (the client's other
 * stream options kept), so tandem can count usage; OpenAI refuses stream options on a whole answer,
 * so they are left out there.
 */
export function nativeOpenAIChatBody(
  native: NativeRequest,
  upstreamModel: string,
  whole: boolean,
): Record<string, unknown> | JsonText {
  const { stream_options: options, ...body } = native.body;
  if (whole) {
    // The client's text, edited, unless it has stream options to leave out.
    const text =
      options === undefined
        ? editedNativeBody(native, [
            ["model", upstreamModel],
            ["stream", false],
          ])
        : undefined;
    return text ?? { ...body, model: upstreamModel, stream: false };
  }
  const kept = typeof options === "object" && options !== null ? (options as Record<string, unknown>) : {};
  const streamOptions = { ...kept, include_usage: true };
  return (
    editedNativeBody(native, [
      ["model", upstreamModel],
      ["stream", true],
      ["stream_options", streamOptions],
    ]) ?? { ...body, model: upstreamModel, stream: true, stream_options: streamOptions }
  );
}

/**
 * As readOpenAIChatStream, and each upstream SSE message also as a `frame`, after the events read
 * from it (so the router's checks on those run before the frame can reach the client). The chunk
 * that carries choice 0's finish reason, and everything after it (the usage chunk, `[DONE]`) but the
 * other choices' own chunks (`n` > 1: they flow as they come), is held until the canonical `finish`,
 * as the Anthropic tap holds message_delta: a finish that fails a quality check never reaches the
 * client. An upstream that omits `[DONE]` (some compatible servers finish
 * and close) gets one, so the client's stream ends as OpenAI's does.
 */
export function tapOpenAIChatStream(
  batches: AsyncIterable<EventSourceMessage[]>,
  target: string,
  /** The most the held frames may come to (limits.maxAnswerBytes). */
  maxHeldBytes?: number,
): AsyncIterableIterator<StreamEvent> {
  return readOpenAIChatStream(batches, target, { frames: true, maxHeldBytes });
}

/** As readOpenAIChatCompletion, then the whole completion as one `frame` (every field, for the same-wire client). */
export function tapOpenAIChatCompletion(json: unknown, target: string): StreamEvent[] {
  return [...readOpenAIChatCompletion(json, target), { type: "frame", data: JSON.stringify(json), whole: true, json }];
}
