/**
 * A Responses target's own events, as the provider parsed them, are shared with the dialect: the
 * stream it writes (its own sequence numbers, tandem's id and model, the final event after saving)
 * and the whole Response it keeps are made from copies, so the parsed events stay as they came.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ResponseMeta, StreamEvent } from "../../../../src/core/index.js";
import { nativeResponse, ResponsesNativeStream } from "../../../../src/dialects/openai/responses/native-responses.js";
import type { ParsedResponsesRequest } from "../../../../src/dialects/openai/responses/parse-responses-request.js";
import { PendingResponse } from "../../../../src/dialects/openai/responses/pending-response.js";
import type { ResponseStreamRenderer } from "../../../../src/dialects/openai/responses/response-stream-renderer.js";
import { MemoryStateStore } from "../../../../src/harness/state/memory-state-store.js";
import { parseResponsesStream, tapResponsesObject } from "../../../../src/providers/openai/openai-responses-wire.js";
import { deepFreeze, type Frame, framesOf } from "../../../support/frames.js";

const META: ResponseMeta = { route: undefined, target: "gpt/gpt-5-mini", attempts: 1, degraded: undefined };

/** The frames, frozen: the dialect must not change what the provider parsed. */
async function tapped(events: AsyncIterable<StreamEvent>): Promise<Frame[]> {
  return (await framesOf(events)).map(deepFreeze);
}

function pending(): PendingResponse {
  const request = { echo: { store: true }, store: true } as unknown as ParsedResponsesRequest;
  return new PendingResponse(request, { input: [] }, new MemoryStateStore(), undefined);
}

const reasoning = { id: "rs_1", type: "reasoning", summary: [], encrypted_content: "gAAAA" };
const message = {
  id: "msg_1",
  type: "message",
  role: "assistant",
  content: [{ type: "output_text", text: "Hi", annotations: [] }],
};
const upstream = { id: "resp_up", object: "response", model: "gpt-5-mini", status: "completed", output: [reasoning, message] };
const events = [
  { type: "response.created", response: { ...upstream, status: "in_progress", output: [] } },
  { type: "response.output_item.added", output_index: 0, item: reasoning },
  { type: "response.output_item.done", output_index: 0, item: reasoning },
  { type: "response.output_item.added", output_index: 1, item: { ...message, content: [] } },
  { type: "response.output_text.delta", item_id: "msg_1", output_index: 1, content_index: 0, delta: "Hi" },
  { type: "response.output_item.done", output_index: 1, item: message },
  { type: "response.completed", response: upstream },
].map((data, i) => ({ event: data.type, data: JSON.stringify({ ...data, sequence_number: 100 + i }), id: undefined }));

describe("the events the provider parsed, shared with the Responses dialect", () => {
  it("the stream is written from copies: renumbered, tandem's id and model, no encrypted reasoning, events unchanged", async () => {
    const frames = await tapped(parseResponsesStream([events], META.target));
    assert.equal(frames.length, events.length);
    const response = pending();
    const renderer = {
      progress: { sequence: 0, started: false, output: [], sealed: new Map() },
    } as unknown as ResponseStreamRenderer;
    const stream = new ResponsesNativeStream(response, META, renderer, false);
    const written = frames.map((frame) => stream.frame(frame)).join("") + (await stream.end());
    const sent = written
      .split("\n\n")
      .filter((block) => block !== "")
      .map((block) => JSON.parse(block.slice(block.indexOf("data: ") + 6)) as Record<string, unknown>);
    assert.deepEqual(
      sent.map((event) => event.sequence_number),
      [0, 1, 2, 3, 4, 5, 6],
    );
    const created = sent[0]?.response as Record<string, unknown>;
    assert.equal(created.id, response.id);
    assert.equal(created.model, META.target);
    assert.ok(!written.includes("gAAAA"), "the encrypted reasoning the client did not ask for is left out");
    for (const [i, frame] of frames.entries()) assert.equal(frame.data, events[i]?.data);
    for (const frame of frames) assert.deepEqual(frame.json, JSON.parse(frame.data), "the parsed event is unchanged");
  });

  it("the whole Response, from a stream's final event or a whole answer, leaves what was parsed as it came", async () => {
    for (const frames of [
      await tapped(parseResponsesStream([events], META.target)),
      await tapped(tapResponsesObject(deepFreeze(structuredClone(upstream)), META.target)),
    ]) {
      const response = pending();
      const answer = await nativeResponse(frames, META, response, false);
      assert.equal(answer?.id, response.id);
      assert.equal(answer?.model, META.target);
      assert.deepEqual(answer?.output, [{ id: "rs_1", type: "reasoning", summary: [] }, message]);
      const last = frames.at(-1) as Frame;
      assert.deepEqual(last.json, JSON.parse(last.data));
    }
  });
});

describe("a background turn answered by a Responses target", () => {
  it("echoes the request's background: true in every Response, whatever the upstream (sent none) says", async () => {
    const request = { echo: { store: true, background: true }, store: true } as unknown as ParsedResponsesRequest;
    const response = new PendingResponse(request, { input: [] }, new MemoryStateStore(), undefined);
    const renderer = {
      progress: { sequence: 0, started: false, output: [], sealed: new Map() },
    } as unknown as ResponseStreamRenderer;
    // As api.openai.com answers a request without `background`: false in every Response object.
    const said = events.map((frame) => {
      const data = JSON.parse(frame.data) as Record<string, unknown>;
      const inner = data.response as Record<string, unknown> | undefined;
      return inner === undefined
        ? frame
        : { ...frame, data: JSON.stringify({ ...data, response: { ...inner, background: false } }) };
    });
    const stream = new ResponsesNativeStream(response, META, renderer, false);
    const frames = await tapped(parseResponsesStream([said], META.target));
    const written = frames.map((frame) => stream.frame(frame)).join("") + (await stream.end());
    const responses = written
      .split("\n\n")
      .filter((block) => block !== "")
      .map((block) => (JSON.parse(block.slice(block.indexOf("data: ") + 6)) as { response?: { background?: unknown } }).response)
      .filter((inner) => inner !== undefined);
    assert.equal(responses.length, 2);
    for (const inner of responses) assert.equal(inner.background, true);
    // An upstream that leaves the field out: still the request's.
    const whole = await nativeResponse(
      await tapped(tapResponsesObject(deepFreeze(structuredClone(upstream)), META.target)),
      META,
      new PendingResponse(request, { input: [] }, new MemoryStateStore(), undefined),
      false,
    );
    assert.equal(whole?.background, true);
  });
});
