import { StringDecoder } from "node:string_decoder";
import { createParser, type EventSourceMessage } from "eventsource-parser";

/**
 * Yields Server-Sent Events from a body as they arrive (no buffering beyond one partial line).
 * Used by providers for OpenAI and Anthropic upstream streams. A StringDecoder keeps a character
 * split across two network chunks whole (and costs a fraction of a TextDecoder per answer).
 */
export async function* readSse(body: AsyncIterable<Buffer | string>): AsyncGenerator<EventSourceMessage> {
  let queue: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (event) => queue.push(event) });
  const decoder = new StringDecoder("utf8");
  for await (const chunk of body) {
    parser.feed(typeof chunk === "string" ? chunk : decoder.write(chunk));
    if (queue.length === 0) continue;
    const ready = queue;
    queue = [];
    yield* ready;
  }
  parser.feed(decoder.end());
  parser.reset({ consume: true });
  yield* queue;
}
