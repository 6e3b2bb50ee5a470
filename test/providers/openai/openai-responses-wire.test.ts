import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { EventSourceMessage } from "eventsource-parser";
import { GatewayError, type StreamEvent } from "../../../src/core/index.js";
import { openAIErrorObject } from "../../../src/dialects/openai/render-openai-error.js";
import { parseResponsesStream, tapResponsesObject } from "../../../src/providers/openai/openai-responses-wire.js";

const TARGET = "gpt/gpt-5-mini";

function sse(events: Record<string, unknown>[]): EventSourceMessage[][] {
  return [
    events.map((data, i) => ({ event: String(data.type), data: JSON.stringify({ ...data, sequence_number: i }), id: undefined })),
  ];
}

async function collect(events: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

const usage = {
  input_tokens: 30,
  input_tokens_details: { cached_tokens: 16, cache_write_tokens: 4 },
  output_tokens: 12,
  output_tokens_details: { reasoning_tokens: 7 },
  total_tokens: 42,
};

describe("the Responses wire, read", () => {
  it("streams: text, reasoning and calls as canonical events, each upstream event tapped after them, the end after the finish", async () => {
    const call = { id: "fc_1", type: "function_call", status: "in_progress", arguments: "", call_id: "call_1", name: "f" };
    const events = await collect(
      parseResponsesStream(
        sse([
          {
            type: "response.created",
            response: { id: "resp_up", object: "response", model: "gpt-5-mini", status: "in_progress" },
          },
          { type: "response.reasoning_summary_text.delta", item_id: "rs_1", output_index: 0, summary_index: 0, delta: "Hmm." },
          {
            type: "response.output_item.done",
            output_index: 0,
            item: {
              id: "rs_1",
              type: "reasoning",
              summary: [{ type: "summary_text", text: "Hmm." }],
              encrypted_content: "gAAAA",
            },
          },
          { type: "response.output_text.delta", item_id: "msg_1", output_index: 1, content_index: 0, delta: "Hi" },
          { type: "response.output_item.added", output_index: 2, item: call },
          { type: "response.function_call_arguments.delta", item_id: "fc_1", output_index: 2, delta: "{}" },
          { type: "response.output_item.done", output_index: 2, item: { ...call, status: "completed", arguments: "{}" } },
          { type: "response.completed", response: { id: "resp_up", object: "response", status: "completed", usage } },
        ]),
        TARGET,
      ),
    );
    const canonical = events.filter((e) => e.type !== "frame");
    assert.deepEqual(canonical, [
      { type: "start", id: "resp_up", model: "gpt-5-mini" },
      { type: "reasoning-delta", text: "Hmm." },
      { type: "reasoning-encrypted", data: "gAAAA", producer: TARGET },
      { type: "text-delta", text: "Hi" },
      { type: "tool-call-start", index: 0, id: "call_1", name: "f" },
      { type: "tool-call-delta", index: 0, argumentsDelta: "{}" },
      { type: "tool-call-end", index: 0 },
      {
        type: "usage",
        usage: { inputTokens: 30, outputTokens: 12, cachedInputTokens: 16, cacheWriteInputTokens: 4, reasoningTokens: 7 },
      },
      { type: "finish", reason: "tool_calls", raw: "completed" },
    ]);
    assert.equal(events.filter((e) => e.type === "frame").length, 8);
    for (const frame of events)
      if (frame.type === "frame") assert.deepEqual(frame.json, JSON.parse(frame.data), "each frame carries its parsed event");
    const last = events.at(-1);
    assert.equal(last?.type === "frame" && last.event, "response.completed");
    assert.equal(events.at(-2)?.type, "finish");
  });

  it("reads incomplete as length, and failures as errors with the upstream's code", async () => {
    const incomplete = await collect(
      parseResponsesStream(
        sse([
          { type: "response.created", response: { id: "r" } },
          {
            type: "response.incomplete",
            response: { status: "incomplete", incomplete_details: { reason: "max_output_tokens" } },
          },
        ]),
        TARGET,
      ),
    );
    assert.deepEqual(
      incomplete.find((e) => e.type === "finish"),
      { type: "finish", reason: "length", raw: "max_output_tokens" },
    );

    const failed = parseResponsesStream(
      sse([
        { type: "response.created", response: { id: "r" } },
        { type: "response.failed", response: { status: "failed", error: { code: "rate_limit_exceeded", message: "Slow down" } } },
      ]),
      TARGET,
    );
    await assert.rejects(collect(failed), (err: unknown) => err instanceof GatewayError && err.code === "rate_limited");
    const errored = parseResponsesStream(sse([{ type: "error", code: "server_error", message: "boom", param: null }]), TARGET);
    await assert.rejects(collect(errored), (err: unknown) => err instanceof GatewayError && err.code === "upstream_error");
    // The event's `type: "error"` names the event, not the error: a chat client is shown OpenAI's `server_error`.
    const midway = parseResponsesStream(
      sse([
        { type: "response.created", response: { id: "r" } },
        { type: "response.output_text.delta", item_id: "msg_1", output_index: 0, content_index: 0, delta: "Hi" },
        { type: "error", code: "server_error", message: "overload", param: null },
      ]),
      TARGET,
    );
    await assert.rejects(collect(midway), (err: unknown) => {
      assert.ok(err instanceof GatewayError);
      assert.deepEqual(openAIErrorObject(err), {
        message: `${TARGET}: overload`,
        type: "server_error",
        param: null,
        code: "server_error",
      });
      return true;
    });
    const cut = parseResponsesStream(sse([{ type: "response.created", response: { id: "r" } }]), TARGET);
    await assert.rejects(collect(cut), /ended before response.completed/);
  });

  it("a whole Response: the same events, then the object as one whole frame", async () => {
    const response = {
      id: "resp_up",
      object: "response",
      model: "gpt-5-mini",
      status: "completed",
      output: [
        { id: "rs_1", type: "reasoning", summary: [{ type: "summary_text", text: "Hmm." }], encrypted_content: "gAAAA" },
        { id: "msg_1", type: "message", role: "assistant", content: [{ type: "output_text", text: "Hi", annotations: [] }] },
      ],
      usage,
    };
    const events = await collect(tapResponsesObject(response, TARGET));
    assert.deepEqual(events.slice(0, 4), [
      { type: "start", id: "resp_up", model: "gpt-5-mini" },
      { type: "reasoning-delta", text: "Hmm." },
      // The sealed reasoning ends its block, with the target that sealed it.
      { type: "reasoning-encrypted", data: "gAAAA", producer: TARGET },
      { type: "text-delta", text: "Hi" },
    ]);
    assert.deepEqual(events.at(-1), { type: "frame", data: JSON.stringify(response), whole: true, json: response });
    // The object itself, not a copy: the dialect reads it rather than parsing the frame again.
    const whole = events.at(-1);
    assert.equal(whole?.type === "frame" && whole.json, response);
    assert.deepEqual(events.at(-2), { type: "finish", reason: "stop", raw: "completed" });
    await assert.rejects(collect(tapResponsesObject({ error: {} }, TARGET)), /not a Response object/);
  });

  it("names, once each, what the canonical events do not carry: annotations and hosted tools' items", async () => {
    const search = { id: "ws_1", type: "web_search_call", status: "completed", action: { type: "search", query: "q" } };
    const citation = { type: "url_citation", start_index: 0, end_index: 2, url: "https://example.com/", title: "Ex" };
    const streamed = await collect(
      parseResponsesStream(
        sse([
          { type: "response.created", response: { id: "r", object: "response", status: "in_progress" } },
          { type: "response.output_item.added", output_index: 0, item: search },
          { type: "response.output_item.done", output_index: 0, item: search },
          { type: "response.output_item.added", output_index: 1, item: { id: "msg_1", type: "message", content: [] } },
          { type: "response.output_text.delta", item_id: "msg_1", output_index: 1, content_index: 0, delta: "Hi" },
          { type: "response.output_text.annotation.added", item_id: "msg_1", annotation_index: 0, annotation: citation },
          { type: "response.output_text.annotation.added", item_id: "msg_1", annotation_index: 1, annotation: citation },
          { type: "response.completed", response: { id: "r", object: "response", status: "completed" } },
        ]),
        TARGET,
      ),
    );
    assert.deepEqual(
      streamed.filter((e) => e.type === "untranslated"),
      [
        { type: "untranslated", part: "web_search_call items" },
        { type: "untranslated", part: "annotations" },
      ],
    );
    const whole = await collect(
      tapResponsesObject(
        {
          id: "r",
          object: "response",
          status: "completed",
          output: [
            search,
            {
              id: "msg_1",
              type: "message",
              role: "assistant",
              content: [{ type: "output_text", text: "Hi", annotations: [citation] }],
            },
          ],
        },
        TARGET,
      ),
    );
    assert.deepEqual(
      whole.filter((e) => e.type === "untranslated"),
      [
        { type: "untranslated", part: "web_search_call items" },
        { type: "untranslated", part: "annotations" },
      ],
    );
    // Before the finish, as a stream's come: a dialect renders the answer once it has them all.
    assert.ok(whole.findIndex((e) => e.type === "untranslated") < whole.findIndex((e) => e.type === "finish"));
  });
});
