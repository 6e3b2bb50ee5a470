import { createParser, type EventSourceMessage } from "eventsource-parser";

/**
 * Yields Server-Sent Events from a body as they arrive (no buffering beyond one partial line).
 * Used by providers for OpenAI and Anthropic upstream streams.
 */
export async function* readSse(body: AsyncIterable<Buffer | string>): AsyncGenerator<EventSourceMessage> {
  const queue: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (event) => queue.push(event) });
  const decoder = new TextDecoder();
  for await (const chunk of body) {
    parser.feed(typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true }));
    while (queue.length > 0) yield queue.shift() as EventSourceMessage;
  }
  parser.feed(decoder.decode());
  parser.reset({ consume: true });
  while (queue.length > 0) yield queue.shift() as EventSourceMessage;
}
