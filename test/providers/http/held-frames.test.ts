/**
 * What the same-wire taps hold back until their answer ends (OpenAI chat: the finish chunk and all
 * after it; Anthropic: message_delta until message_stop; Responses: lifecycle events until the first
 * output) is counted against limits.maxAnswerBytes: an upstream that never gets to its end cannot
 * grow it for as long as it streams (gigabytes in seconds from a local one).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { EventSourceMessage } from "eventsource-parser";
import { GatewayError, type StreamEvent } from "../../../src/core/index.js";
import { parseAnthropicStream } from "../../../src/providers/anthropic/parse-anthropic-stream.js";
import { parseResponsesStream } from "../../../src/providers/openai/openai-responses-wire.js";
import { tapOpenAIChatStream } from "../../../src/providers/openai/tap-openai-chat.js";

const TARGET = "up/m";
const LIMIT = 64 * 1024;
const PAD = "p".repeat(1024);

/** A stream of `head`, then `repeat` for as long as it is read (the upstream never ends), one event per read. */
async function* endless(head: object[], repeat: (i: number) => object): AsyncGenerator<EventSourceMessage[]> {
  const message = (data: object) => ({ event: (data as { type?: string }).type, data: JSON.stringify(data), id: undefined });
  for (const data of head) yield [message(data)];
  for (let i = 0; ; i++) yield [message(repeat(i))];
}

/** Reads a stream until it fails, at most `max` events. */
async function failure(events: AsyncIterable<StreamEvent>, max = 100_000): Promise<unknown> {
  let n = 0;
  try {
    for await (const _event of events) if (++n > max) return `still going after ${max} events`;
  } catch (err) {
    return err;
  }
  return "ended";
}

function assertLimit(err: unknown): void {
  assert.ok(err instanceof GatewayError, String(err));
  assert.equal(err.code, "upstream_error");
  assert.match(err.message, /what is held back of the answer from up\/m exceeded limits\.maxAnswerBytes \(65536 bytes\)/);
}

const chunk = (delta: object, finish: string | null = null) => ({
  id: "c1",
  object: "chat.completion.chunk",
  model: "m",
  pad: PAD,
  choices: [{ index: 0, delta, finish_reason: finish }],
});

describe("frames held back until the answer ends", () => {
  it("OpenAI chat: chunks after the finish that never end", async () => {
    const stream = endless([chunk({ content: "Hi" }), chunk({}, "stop")], (i) => chunk({ content: `${i}` }));
    assertLimit(await failure(tapOpenAIChatStream(stream, TARGET, LIMIT)));
  });

  it("Anthropic: message_delta events that never come to message_stop", async () => {
    const start = { type: "message_start", message: { id: "msg", model: "m", usage: { input_tokens: 1 } } };
    const delta = (i: number) => ({
      type: "message_delta",
      delta: { stop_reason: "end_turn" },
      usage: { output_tokens: i },
      pad: PAD,
    });
    assertLimit(await failure(parseAnthropicStream(endless([start], delta), TARGET, true, LIMIT)));
  });

  it("Responses: lifecycle events that never come to an output", async () => {
    const lifecycle = (i: number) => ({
      type: "response.in_progress",
      response: { id: "r", status: "in_progress", pad: PAD },
      i,
    });
    assertLimit(await failure(parseResponsesStream(endless([], lifecycle), TARGET, LIMIT)));
  });

  it("Responses: what was held and went on no longer counts", async () => {
    const lifecycle = { type: "response.in_progress", response: { id: "r", status: "in_progress", pad: PAD } };
    const text = { type: "response.output_text.delta", item_id: "m", output_index: 0, content_index: 0, delta: "x" };
    // 40 KB held, then it goes on with the first output: 40 more is under the limit again.
    const events = (async function* () {
      for (const round of [0, 1]) {
        for (let i = 0; i < 40; i++)
          yield [{ event: lifecycle.type, data: JSON.stringify({ ...lifecycle, round }), id: undefined }];
        yield [{ event: text.type, data: JSON.stringify(text), id: undefined }];
      }
      const completed = { type: "response.completed", response: { id: "r", status: "completed", output: [] } };
      yield [{ event: completed.type, data: JSON.stringify(completed), id: undefined }];
    })();
    assert.equal(await failure(parseResponsesStream(events, TARGET, LIMIT)), "ended");
  });
});
