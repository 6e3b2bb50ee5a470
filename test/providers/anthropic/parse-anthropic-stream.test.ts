/**
 * The Anthropic stream reader serves a network read's events from one queue: events keep their
 * order across batches, nothing after message_stop is read (the batches are closed), an error
 * event fails the stream after what came before it, and tapped frames follow the events read from
 * them, the message_delta frame held until the finish.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { EventSourceMessage } from "eventsource-parser";
import type { StreamEvent } from "../../../src/core/index.js";
import { parseAnthropicStream } from "../../../src/providers/anthropic/parse-anthropic-stream.js";

const TARGET = "claude/c";

function sse(data: { type: string; [key: string]: unknown }): EventSourceMessage {
  return { event: data.type, data: JSON.stringify(data), id: undefined };
}

const start = sse({ type: "message_start", message: { id: "m1", model: "c", usage: { input_tokens: 3 } } });
const blockStart = sse({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } });
const delta = (text: string) => sse({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text } });
const blockStop = sse({ type: "content_block_stop", index: 0 });
const messageDelta = sse({ type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 2 } });
const stop = sse({ type: "message_stop" });

/** The batches, and what the reader did with them. */
function source(batches: EventSourceMessage[][]) {
  const log: string[] = [];
  let at = 0;
  const iterator: AsyncIterableIterator<EventSourceMessage[]> = {
    [Symbol.asyncIterator]: () => iterator,
    async next() {
      log.push("next");
      const value = batches[at++];
      return value === undefined ? { done: true, value: undefined } : { done: false, value };
    },
    async return() {
      log.push("return");
      return { done: true, value: undefined };
    },
  };
  return { iterator, log };
}

async function all(events: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

const label = (event: StreamEvent) =>
  event.type === "frame" ? `frame:${event.event}` : event.type === "text-delta" ? `text:${event.text}` : event.type;

describe("the Anthropic stream, a batch at a time", () => {
  it("keeps the order across batches; frames after their events, message_delta's held until the finish", async () => {
    const { iterator, log } = source([
      [start, blockStart, delta("Hel")],
      [delta("lo"), blockStop],
      [messageDelta, stop],
    ]);
    const events = await all(parseAnthropicStream(iterator, TARGET, true));
    assert.deepEqual(events.map(label), [
      "start",
      "usage",
      "frame:message_start",
      "frame:content_block_start",
      "text:Hel",
      "frame:content_block_delta",
      "text:lo",
      "frame:content_block_delta",
      "frame:content_block_stop",
      "usage",
      "finish",
      "frame:message_delta",
      "frame:message_stop",
    ]);
    // message_stop ended it: the batches were closed, not read to their end.
    assert.deepEqual(log, ["next", "next", "next", "return"]);
  });

  it("reads nothing after message_stop, even in the same batch", async () => {
    const { iterator, log } = source([
      [start, blockStart, delta("Hi"), blockStop, messageDelta, stop, delta("late")],
      [delta("later")],
    ]);
    const events = await all(parseAnthropicStream(iterator, TARGET));
    assert.deepEqual(events.map(label), ["start", "usage", "text:Hi", "usage", "finish"]);
    assert.deepEqual(log, ["next", "return"]);
  });

  it("an error event: the events before it, then the error, and the batches are closed", async () => {
    const error = sse({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } });
    const { iterator, log } = source([
      [start, blockStart, delta("Hi")],
      [error, delta("never")],
    ]);
    const seen: string[] = [];
    await assert.rejects(async () => {
      for await (const event of parseAnthropicStream(iterator, TARGET)) seen.push(label(event));
    }, /Overloaded/);
    assert.deepEqual(seen, ["start", "usage", "text:Hi"]);
    assert.deepEqual(log, ["next", "next", "return"]);
  });

  it("a stream cut off after its finish (message_delta's stop reason, no message_stop) ends as if message_stop had come", async () => {
    const { iterator } = source([[start, blockStart, delta("Hi"), blockStop], [messageDelta]]);
    const events = await all(parseAnthropicStream(iterator, TARGET, true));
    assert.deepEqual(events.map(label), [
      "start",
      "usage",
      "frame:message_start",
      "frame:content_block_start",
      "text:Hi",
      "frame:content_block_delta",
      "frame:content_block_stop",
      "usage",
      "finish",
      "frame:message_delta",
      // Of tandem's own, so that a client on the same wire gets the end it expects.
      "frame:message_stop",
    ]);
    assert.deepEqual(events.at(-1), {
      type: "frame",
      event: "message_stop",
      data: '{"type":"message_stop"}',
      json: { type: "message_stop" },
    });
    assert.deepEqual(
      events.find((e) => e.type === "finish"),
      { type: "finish", reason: "stop", raw: "end_turn" },
    );
  });

  it("a stream that ends after a stop reason but with a block still open is broken all the same", async () => {
    const { iterator } = source([[start, blockStart, delta("Hi"), messageDelta]]);
    await assert.rejects(all(parseAnthropicStream(iterator, TARGET)), /ended before message_stop/);
  });

  it("a stream that ends without message_stop fails after the events it gave", async () => {
    const { iterator } = source([[start, blockStart, delta("Hi")]]);
    const seen: string[] = [];
    await assert.rejects(async () => {
      for await (const event of parseAnthropicStream(iterator, TARGET)) seen.push(label(event));
    }, /ended before message_stop/);
    assert.deepEqual(seen, ["start", "usage", "text:Hi"]);
  });
});

describe("the Anthropic stream's usage", () => {
  it("carries message_delta's output_tokens_details.thinking_tokens as the reasoning tokens", async () => {
    const thinkingDelta = sse({
      type: "message_delta",
      delta: { stop_reason: "end_turn" },
      usage: { output_tokens: 20, output_tokens_details: { thinking_tokens: 9 } },
    });
    const { iterator } = source([[start, blockStart, delta("Hi"), blockStop, thinkingDelta, stop]]);
    const events = await all(parseAnthropicStream(iterator, TARGET));
    const usage = events.filter((e) => e.type === "usage").at(-1);
    assert.deepEqual(usage, { type: "usage", usage: { outputTokens: 20, reasoningTokens: 9 } });
  });
});
