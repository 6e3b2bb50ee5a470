import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { JsonText, type ResponseMeta } from "../../../src/core/index.js";
import type { MessageStreamRenderer } from "../../../src/dialects/anthropic/message-stream-renderer.js";
import {
  AnthropicNativeStream,
  anthropicLost,
  nativeAnthropicMessage,
  nativeAnthropicRequest,
} from "../../../src/dialects/anthropic/native-anthropic.js";
import { parseAnthropicStream } from "../../../src/providers/anthropic/parse-anthropic-stream.js";
import { tapAnthropicMessage } from "../../../src/providers/anthropic/read-anthropic-message.js";
import { deepFreeze, framesOf } from "../../support/frames.js";

const META: ResponseMeta = { route: undefined, target: "up/claude", attempts: 1, degraded: undefined };

/** The message as its client reads it: a JsonText (a message with tool_use blocks) parsed. */
function messageOf(frames: Parameters<typeof nativeAnthropicMessage>[0]): unknown {
  const message = nativeAnthropicMessage(frames, META);
  return message instanceof JsonText ? JSON.parse(message.text) : message;
}

describe("the Anthropic client's own request", () => {
  it("is kept as sent, with the beta and version headers only", () => {
    const body = { model: "m", max_tokens: 5, messages: [{ role: "user", content: "Hi" }], thinking: { type: "enabled" } };
    const native = nativeAnthropicRequest(body, {
      "anthropic-beta": "a,b",
      "anthropic-version": "2023-06-01",
      "x-api-key": "client",
    });
    assert.equal(native.body, body);
    assert.deepEqual(native.headers, { "anthropic-beta": "a,b", "anthropic-version": "2023-06-01" });
  });

  it("loses thinking blocks no Anthropic upstream signed (Anthropic refuses them), named; signed ones stay", () => {
    const signed = { type: "thinking", thinking: "a", signature: "S" };
    const body = {
      model: "m",
      max_tokens: 5,
      messages: [
        { role: "user", content: "Hi" },
        {
          role: "assistant",
          content: [{ type: "thinking", thinking: "b", signature: "" }, signed, { type: "text", text: "Yo" }],
        },
        { role: "user", content: "Again" },
      ],
    };
    const native = nativeAnthropicRequest(body, {});
    assert.deepEqual((native.body.messages as Array<{ content: unknown }>)[1]?.content, [signed, { type: "text", text: "Yo" }]);
    assert.deepEqual(native.dropped, ["earlier reasoning"]);
    assert.equal((body.messages[1]?.content as unknown[]).length, 3, "the client's body is not modified");
    const clean = { model: "m", max_tokens: 5, messages: [{ role: "assistant", content: [signed] }] };
    assert.equal(nativeAnthropicRequest(clean, {}).body, clean);
    assert.equal(nativeAnthropicRequest(clean, {}).dropped, undefined);
  });

  it("keeps its system turns in messages where they stand, as sent (the Messages API takes them there)", () => {
    const cached = { type: "text", text: "Reminder.", cache_control: { type: "ephemeral" } };
    const native = nativeAnthropicRequest(
      {
        model: "m",
        system: "Be terse.",
        messages: [
          { role: "user", content: "Hi" },
          { role: "system", content: [cached] },
          { role: "user", content: "Again" },
          { role: "system", content: "Last." },
        ],
      },
      {},
    );
    assert.equal(native.body.system, "Be terse.");
    assert.deepEqual(native.body.messages, [
      { role: "user", content: "Hi" },
      { role: "system", content: [cached] },
      { role: "user", content: "Again" },
      { role: "system", content: "Last." },
    ]);
  });

  it("names what cannot cross to another wire: unknown and uncarried fields, effort, cache_control anywhere (thinking crosses as reasoning)", () => {
    const lost = anthropicLost({
      model: "m",
      max_tokens: 5,
      system: [{ type: "text", text: "S" }],
      messages: [
        { role: "assistant", content: [{ type: "thinking", thinking: "t", signature: "s" }] },
        { role: "user", content: [{ type: "text", text: "x", cache_control: { type: "ephemeral" } }] },
      ],
      thinking: { type: "enabled", budget_tokens: 1024 },
      output_config: { effort: "low", format: { type: "json_schema", schema: {} } },
      service_tier: "auto",
      brand_new: 1,
    });
    assert.deepEqual(lost.sort(), ["brand_new", "cache_control", "output_config.effort", "service_tier"]);
    assert.deepEqual(anthropicLost({ model: "m", max_tokens: 5, messages: [{ role: "user", content: "Hi" }] }), []);
  });

  it("names the effort beside enabled thinking even when thinking goes no further for a tool loop", () => {
    const native = nativeAnthropicRequest(
      {
        model: "m",
        max_tokens: 4000,
        thinking: { type: "enabled", budget_tokens: 2048 },
        output_config: { effort: "low" },
        messages: [
          { role: "user", content: "Weather?" },
          { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "w", input: {} }] },
          { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "sunny" }] },
        ],
      },
      {},
    );
    assert.equal("thinking" in native.body, false, "the same-wire body goes without thinking");
    assert.deepEqual(native.dropped, ["thinking"]);
    // The canonical form keeps the enabled budget as its control, so the effort does not cross.
    assert.deepEqual(native.lost(), ["output_config.effort"]);
  });
});

describe("the whole message for a client that did not stream", () => {
  it("is put together from the upstream's events with every field", () => {
    const frame = (data: unknown) => ({
      type: "frame" as const,
      event: (data as { type: string }).type,
      data: JSON.stringify(data),
    });
    const message = messageOf([
      frame({
        type: "message_start",
        message: { id: "m1", model: "c", content: [], usage: { input_tokens: 3, cache_read_input_tokens: 7 } },
      }),
      frame({ type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "" } }),
      frame({ type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: "Hm." } }),
      frame({ type: "content_block_delta", index: 0, delta: { type: "signature_delta", signature: "sig" } }),
      frame({ type: "content_block_stop", index: 0 }),
      frame({ type: "content_block_start", index: 1, content_block: { type: "tool_use", id: "t1", name: "f", input: {} } }),
      frame({ type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: '{"a":' } }),
      frame({ type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: "1}" } }),
      frame({ type: "content_block_stop", index: 1 }),
      frame({ type: "message_delta", delta: { stop_reason: "tool_use", stop_sequence: null }, usage: { output_tokens: 4 } }),
      frame({ type: "message_stop" }),
    ]);
    assert.deepEqual(message, {
      id: "m1",
      model: "up/claude",
      content: [
        { type: "thinking", thinking: "Hm.", signature: "sig" },
        { type: "tool_use", id: "t1", name: "f", input: { a: 1 } },
      ],
      usage: { input_tokens: 3, cache_read_input_tokens: 7, output_tokens: 4 },
      stop_reason: "tool_use",
      stop_sequence: null,
    });
  });
});

describe("a text block's citations for a client that did not stream", () => {
  it("are appended in order, the block's own list left as it came, not copied for every delta", () => {
    const frame = (data: unknown) => ({
      type: "frame" as const,
      event: (data as { type: string }).type,
      data: JSON.stringify(data),
    });
    // The block the upstream started with a list of its own, shared with the provider (frozen: a write throws).
    const start = deepFreeze({
      type: "content_block_start",
      index: 0,
      content_block: { type: "text", text: "", citations: [{ n: -1 }] },
    });
    const count = 50_000;
    const frames = [
      frame({ type: "message_start", message: { id: "m1", model: "c", content: [], usage: { input_tokens: 1 } } }),
      { ...frame(start), json: start },
    ];
    for (let n = 0; n < count; n++)
      frames.push(frame({ type: "content_block_delta", index: 0, delta: { type: "citations_delta", citation: { n } } }));
    frames.push(frame({ type: "content_block_stop", index: 0 }), frame({ type: "message_stop" }));
    // Copying the list for every delta is quadratic: 50,000 of them held the server's one thread for seconds.
    const started = performance.now();
    const message = nativeAnthropicMessage(frames, META) as { content: { citations: { n: number }[] }[] };
    const ms = performance.now() - started;
    assert.ok(ms < 5000, `put together in ${Math.round(ms)} ms`);
    const citations = message.content[0]?.citations ?? [];
    assert.equal(citations.length, count + 1);
    assert.deepEqual([citations[0], citations[1], citations.at(-1)], [{ n: -1 }, { n: 0 }, { n: count - 1 }]);
    assert.deepEqual(start.content_block.citations, [{ n: -1 }]);
  });
});

describe("the events the provider parsed, shared with the dialect", () => {
  const sse = (data: { type: string; [key: string]: unknown }) => ({
    event: data.type,
    data: JSON.stringify(data),
    id: undefined,
  });
  const events = [
    sse({
      type: "message_start",
      message: { id: "m1", type: "message", model: "c", content: [], stop_reason: null, usage: { input_tokens: 3 } },
    }),
    sse({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }),
    sse({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hel" } }),
    sse({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "lo" } }),
    sse({ type: "content_block_delta", index: 0, delta: { type: "citations_delta", citation: { n: 1 } } }),
    sse({ type: "content_block_stop", index: 0 }),
    sse({ type: "content_block_start", index: 1, content_block: { type: "tool_use", id: "t1", name: "f", input: {} } }),
    sse({ type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: '{"a":1}' } }),
    sse({ type: "content_block_stop", index: 1 }),
    sse({ type: "message_delta", delta: { stop_reason: "tool_use" }, usage: { output_tokens: 4 } }),
    sse({ type: "message_stop" }),
  ];

  it("are attached to the frames, read by the whole message and the stream, and never changed", async () => {
    const frames = await framesOf(parseAnthropicStream([events], "up/claude", true));
    assert.equal(frames.length, events.length);
    for (const frame of frames) {
      assert.deepEqual(frame.json, JSON.parse(frame.data), "the frame carries what its data says");
      deepFreeze(frame.json);
    }
    const expected = {
      id: "m1",
      type: "message",
      model: "up/claude",
      content: [
        { type: "text", text: "Hello", citations: [{ n: 1 }] },
        { type: "tool_use", id: "t1", name: "f", input: { a: 1 } },
      ],
      stop_reason: "tool_use",
      usage: { input_tokens: 3, output_tokens: 4 },
    };
    assert.deepEqual(messageOf(frames), expected);
    // Twice: nothing the first assembly did is seen by the second.
    assert.deepEqual(messageOf(frames), expected);
    const stream = new AnthropicNativeStream(META, { continueMessage() {} } as unknown as MessageStreamRenderer);
    const written = frames.map((frame) => stream.frame(frame)).join("");
    assert.match(written, /"model":"up\/claude"/);
    assert.equal(written.split("event: ").length - 1, events.length);
    for (const frame of frames) assert.deepEqual(frame.json, JSON.parse(frame.data), "the parsed event is unchanged");
  });

  it("a whole message is copied before its model is set", async () => {
    const json = deepFreeze({
      id: "m1",
      type: "message",
      model: "c",
      content: [{ type: "text", text: "Hi" }],
      stop_reason: "end_turn",
    });
    const frames = await framesOf(tapAnthropicMessage(json, "up/claude"));
    assert.equal(frames.length, 1);
    assert.equal(frames[0]?.json, json);
    assert.deepEqual(nativeAnthropicMessage(frames, META), { ...json, model: "up/claude" });
    assert.equal(json.model, "c");
  });
});
