import { StringDecoder } from "node:string_decoder";
import { createParser, type EventSourceMessage } from "eventsource-parser";

/**
 * Server-Sent Events from a body as they arrive, one batch per network chunk (no buffering beyond
 * one partial line): a provider's parser loops over a batch without awaiting each event, and one
 * upstream packet often carries many. Used by providers for OpenAI and Anthropic upstream streams.
 * A StringDecoder keeps a character split across two network chunks whole (and costs a fraction of
 * a TextDecoder per answer).
 */
export async function* readSseBatches(body: AsyncIterable<Buffer | string>): AsyncGenerator<EventSourceMessage[]> {
  let queue: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (event) => queue.push(event) });
  const decoder = new StringDecoder("utf8");
  for await (const chunk of body) {
    parser.feed(typeof chunk === "string" ? chunk : decoder.write(chunk));
    if (queue.length === 0) continue;
    const ready = queue;
    queue = [];
    yield ready;
  }
  parser.feed(decoder.end());
  parser.reset({ consume: true });
  if (queue.length > 0) yield queue;
}

/** Server-Sent Events from a body, one by one, as they arrive (see readSseBatches). */
export async function* readSse(body: AsyncIterable<Buffer | string>): AsyncGenerator<EventSourceMessage> {
  for await (const batch of readSseBatches(body)) yield* batch;
}
