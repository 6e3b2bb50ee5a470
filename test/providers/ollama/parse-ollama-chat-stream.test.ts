/**
 * The Ollama line readers serve a network read's lines' events from one queue: events keep their order, nothing
 * after the `done` line is read (the body is closed), an error line fails the stream after what came
 * before it, and each tapped line's frame follows the events read from it.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { StreamEvent } from "../../../src/core/index.js";
import { parseOllamaChatStream } from "../../../src/providers/ollama/parse-ollama-chat-stream.js";
import { tapOllamaLines } from "../../../src/providers/ollama/tap-ollama.js";

const TARGET = "ollama/q";
const line = (content: string, done = false) =>
  `${JSON.stringify({ model: "q", message: { role: "assistant", content }, done, ...(done && { done_reason: "stop", eval_count: 2 }) })}\n`;

/** The body's network reads, and what the reader did with them. */
function body(reads: string[]) {
  const log: string[] = [];
  let at = 0;
  const iterator: AsyncIterableIterator<string> = {
    [Symbol.asyncIterator]: () => iterator,
    async next() {
      log.push("next");
      const value = reads[at++];
      return value === undefined ? { done: true, value: undefined } : { done: false, value };
    },
    async return() {
      log.push("return");
      return { done: true, value: undefined };
    },
  };
  return { iterator, log };
}

async function labels(events: AsyncIterable<StreamEvent>, seen: string[] = []): Promise<string[]> {
  for await (const event of events)
    seen.push(event.type === "text-delta" ? `text:${event.text}` : event.type === "frame" ? "frame" : event.type);
  return seen;
}

describe("the Ollama stream, a line at a time", () => {
  it("keeps the order, and reads nothing after the done line", async () => {
    const { iterator, log } = body([line("Hel") + line("lo"), line("", true) + line("late"), line("later")]);
    assert.deepEqual(await labels(parseOllamaChatStream(iterator, TARGET)), ["start", "text:Hel", "text:lo", "usage", "finish"]);
    assert.deepEqual(log, ["next", "next", "return"]);
  });

  it("tapped: each line's frame after its events, the done line's after the finish", async () => {
    // Two network reads' lines: the second read's line after `done` is not read.
    const lines = (async function* () {
      yield [line("Hi").trim()];
      yield [line("", true).trim(), line("late").trim()];
      yield [line("later").trim()];
    })();
    assert.deepEqual(await labels(tapOllamaLines(lines, TARGET, "ollama-chat")), [
      "start",
      "text:Hi",
      "frame",
      "usage",
      "finish",
      "frame",
    ]);
  });

  it("an error line: the events before it, then the error, and the body is closed", async () => {
    const { iterator, log } = body([line("Hi"), `${JSON.stringify({ error: "model crashed" })}\n${line("never")}`]);
    const seen: string[] = [];
    await assert.rejects(labels(parseOllamaChatStream(iterator, TARGET), seen), /model crashed/);
    assert.deepEqual(seen, ["start", "text:Hi"]);
    assert.deepEqual(log, ["next", "next", "return"]);
  });
});

describe("a tool call's arguments", () => {
  // No JavaScript number holds either value as written: parsed and serialised again, they would be
  // 1234567890123456800 and 1.1.
  const args = '{"user_id":1234567890123456789,"amount":1.10,"s":"}"}';
  const calls = `{"model":"q","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"f","arguments":${args}}},{"function":{"name":"g","arguments":{}}}]},"done":false}\n`;

  async function argumentDeltas(events: AsyncIterable<StreamEvent>): Promise<string[]> {
    const deltas: string[] = [];
    for await (const event of events) if (event.type === "tool-call-delta") deltas.push(event.argumentsDelta);
    return deltas;
  }

  it("are the object's text as the line has it, on the canonical path and the same-wire tap", async () => {
    const reads = [calls, line("", true)];
    assert.deepEqual(await argumentDeltas(parseOllamaChatStream(body(reads).iterator, TARGET)), [args, "{}"]);
    const batches = (async function* () {
      yield reads.map((text) => text.trimEnd());
    })();
    assert.deepEqual(await argumentDeltas(tapOllamaLines(batches, TARGET, "ollama-chat")), [args, "{}"]);
  });
});
