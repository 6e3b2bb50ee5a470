import { StringDecoder } from "node:string_decoder";
import { createParser, type EventSourceMessage } from "eventsource-parser";
import type { StreamEvent } from "../../core/index.js";
import { answerLimitError, DEFAULT_ANSWER_LIMITS } from "./answer-limits.js";

export interface LineReaderOptions {
  /** The target named in errors (`provider/model`). */
  target: string;
  /** The longest line (SSE: event, its data lines together) held, in characters. Default 8 MiB. */
  maxLineBytes?: number | undefined;
}

/**
 * Server-Sent Events from a body as they arrive, one batch per network chunk (no buffering beyond
 * one partial line): a provider's parser loops over a batch without awaiting each event, and one
 * upstream packet often carries many. Used by providers for OpenAI and Anthropic upstream streams.
 * A StringDecoder keeps a character split across two network chunks whole (and costs a fraction of
 * a TextDecoder per answer). A line or event longer than `maxLineBytes` (an upstream that never ends
 * its line) throws an upstream_error naming `limits.maxLineBytes`, so it is never buffered whole.
 */
export async function* readSseBatches(
  body: AsyncIterable<Buffer | string>,
  options: LineReaderOptions = { target: "the upstream" },
): AsyncGenerator<EventSourceMessage[]> {
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_ANSWER_LIMITS.maxLineBytes;
  let queue: EventSourceMessage[] = [];
  let overflow = false;
  // The parser counts what it holds (the partial line and the event's data so far) on each feed.
  const parser = createParser({
    onEvent: (event) => queue.push(event),
    onError: (error) => {
      if (error.type === "max-buffer-size-exceeded") overflow = true;
    },
    maxBufferSize: maxLineBytes,
  });
  const decoder = new StringDecoder("utf8");
  for await (const chunk of body) {
    parser.feed(typeof chunk === "string" ? chunk : decoder.write(chunk));
    if (overflow) throw answerLimitError(options.target, "maxLineBytes", maxLineBytes);
    if (queue.length === 0) continue;
    const ready = queue;
    queue = [];
    yield ready;
  }
  parser.feed(decoder.end());
  if (overflow) throw answerLimitError(options.target, "maxLineBytes", maxLineBytes);
  parser.reset({ consume: true });
  if (queue.length > 0) yield queue;
}

/** Server-Sent Events from a body, one by one, as they arrive (see readSseBatches). */
export async function* readSse(
  body: AsyncIterable<Buffer | string>,
  options?: LineReaderOptions,
): AsyncGenerator<EventSourceMessage> {
  for await (const batch of readSseBatches(body, options)) yield* batch;
}

/**
 * An upstream SSE message as the same-wire path's `frame` (see core's StreamEvent), with the JSON the
 * provider parsed from it, when it did (shared with the dialect, which only reads it).
 */
export function sseFrame(message: EventSourceMessage, json?: unknown): Extract<StreamEvent, { type: "frame" }> {
  return message.event === undefined
    ? { type: "frame", data: message.data, json }
    : { type: "frame", event: message.event, data: message.data, json };
}
