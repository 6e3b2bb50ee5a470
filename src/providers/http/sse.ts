import { StringDecoder } from "node:string_decoder";
import { createParser, type EventSourceMessage } from "eventsource-parser";
import type { StreamEvent } from "../../core/index.js";
import { answerLimitError, DEFAULT_ANSWER_LIMITS } from "./answer-limits.js";
import { withoutByteOrderMark } from "./byte-order-mark.js";

export interface LineReaderOptions {
  /** The target named in errors (`provider/model`). */
  target: string;
  /** The longest line (SSE: event, its data lines together) held, in characters. Default 8 MiB. */
  maxLineBytes?: number | undefined;
}

/**
 * Server-Sent Events from a body as they arrive, one batch per network chunk (no buffering beyond
 * one partial line): a provider's parser loops over a batch without awaiting each event, and one
 * upstream packet often carries many. Every SSE upstream stream (OpenAI chat, Responses, Anthropic)
 * is read here, and only here. A StringDecoder keeps a character split across two network chunks
 * whole (and costs a fraction of a TextDecoder per answer). A line or event longer than
 * `maxLineBytes` (an upstream that never ends its line) throws an upstream_error naming
 * `limits.maxLineBytes`, so it is never buffered whole.
 *
 * As the WHATWG parser does (HTML §9.2.6), one byte order mark before the first line is skipped
 * (eventsource-parser looks for it only as three undecoded bytes in its first feed, which never
 * holds it here): read as part of the first line, it would make that line an unknown field and lose
 * the first event. At the end of the body, the line and the event still open are ended: a last event
 * without its blank line (or whose line ends in a lone CR, which the parser holds back in case an LF
 * follows) is dispatched, as the end of an NDJSON stream ends its last line.
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
  // Until the first character came (the decoder holds a character's first bytes until it is whole).
  let first = true;
  for await (const chunk of body) {
    let text = typeof chunk === "string" ? chunk : decoder.write(chunk);
    if (first && text !== "") {
      first = false;
      text = withoutByteOrderMark(text);
    }
    parser.feed(text);
    if (overflow) throw answerLimitError(options.target, "maxLineBytes", maxLineBytes);
    if (queue.length === 0) continue;
    const ready = queue;
    queue = [];
    yield ready;
  }
  const rest = decoder.end();
  // A blank line after whatever is left: an LF completes a held CR (as CRLF), or ends the last line,
  // and the next empty line dispatches the event still open, if any.
  parser.feed(`${first ? withoutByteOrderMark(rest) : rest}\n\n`);
  if (overflow) throw answerLimitError(options.target, "maxLineBytes", maxLineBytes);
  parser.reset();
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

/**
 * Messages already at hand (a whole answer retold as the stream it stands for), as readSseBatches
 * gives a stream's: one batch, read by the same readers.
 */
export async function* sseBatchOf(messages: EventSourceMessage[]): AsyncGenerator<EventSourceMessage[]> {
  yield messages;
}
