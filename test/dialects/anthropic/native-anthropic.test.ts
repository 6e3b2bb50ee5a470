import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ResponseMeta } from "../../../src/core/index.js";
import {
  anthropicLost,
  nativeAnthropicMessage,
  nativeAnthropicRequest,
} from "../../../src/dialects/anthropic/native-anthropic.js";

const META: ResponseMeta = { route: undefined, target: "up/claude", attempts: 1, degraded: undefined };

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

  it("has its mid-conversation system turns moved to the end of the system prompt, in order, blocks kept", () => {
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
    assert.deepEqual(native.body.system, [{ type: "text", text: "Be terse." }, cached, { type: "text", text: "Last." }]);
    assert.deepEqual(
      (native.body.messages as { role: string }[]).map((m) => m.role),
      ["user", "user"],
    );
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
      thinking: { type: "enabled", budget_tokens: 10 },
      output_config: { effort: "low", format: { type: "json_schema", schema: {} } },
      service_tier: "auto",
      brand_new: 1,
    });
    assert.deepEqual(lost.sort(), ["brand_new", "cache_control", "output_config.effort", "service_tier"]);
    assert.deepEqual(anthropicLost({ model: "m", max_tokens: 5, messages: [{ role: "user", content: "Hi" }] }), []);
  });
});

describe("the whole message for a client that did not stream", () => {
  it("is put together from the upstream's events with every field", () => {
    const frame = (data: unknown) => ({
      type: "frame" as const,
      event: (data as { type: string }).type,
      data: JSON.stringify(data),
    });
    const message = nativeAnthropicMessage(
      [
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
      ],
      META,
    );
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
