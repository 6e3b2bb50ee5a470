import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Message, ProviderChatRequest } from "../../../src/core/index.js";
import { convertToAnthropicMessages, convertToAnthropicRequest } from "../../../src/providers/anthropic/index.js";

const text = (t: string) => ({ type: "text" as const, text: t });

describe("convertToAnthropicMessages", () => {
  it("lifts system messages out and joins them", () => {
    const out = convertToAnthropicMessages([
      { role: "system", content: "You are terse." },
      { role: "user", content: [text("Hi")] },
      { role: "system", content: "Answer in French." },
    ]);
    assert.equal(out.system, "You are terse.\n\nAnswer in French.");
    assert.deepEqual(out.messages, [{ role: "user", content: [text("Hi")] }]);
    assert.equal(convertToAnthropicMessages([{ role: "user", content: [text("x")] }]).system, undefined);
  });

  it("turns tool calls into tool_use and tool results into one user turn, merged", () => {
    const messages: Message[] = [
      { role: "user", content: [text("Weather in Paris and Rome?")] },
      {
        role: "assistant",
        content: [text("Checking.")],
        toolCalls: [
          { id: "call_1", name: "get_weather", arguments: '{"city":"Paris"}' },
          { id: "call_2", name: "get_weather", arguments: '{"city": "Ro' },
        ],
      },
      { role: "tool", toolCallId: "call_1", content: [text("21C")] },
      { role: "tool", toolCallId: "call_2", content: [text("boom")], isError: true },
      { role: "user", content: [text("Thanks, and tomorrow?")] },
    ];
    assert.deepEqual(convertToAnthropicMessages(messages).messages, [
      { role: "user", content: [text("Weather in Paris and Rome?")] },
      {
        role: "assistant",
        content: [
          text("Checking."),
          { type: "tool_use", id: "call_1", name: "get_weather", input: { city: "Paris" } },
          // Arguments that do not parse go as their text in an object, so the conversation can
          // continue and the model reads what the call was.
          { type: "tool_use", id: "call_2", name: "get_weather", input: { _raw_arguments: '{"city": "Ro' } },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "call_1", content: [text("21C")] },
          { type: "tool_result", tool_use_id: "call_2", content: [text("boom")], is_error: true },
          text("Thanks, and tomorrow?"),
        ],
      },
    ]);
  });

  it("merges consecutive turns of one role and puts tool results first", () => {
    const out = convertToAnthropicMessages([
      { role: "user", content: [text("one")] },
      { role: "user", content: [text("two")] },
      { role: "assistant", content: [], toolCalls: [{ id: "t1", name: "f", arguments: "{}" }] },
      { role: "user", content: [text("interjection")] },
      { role: "tool", toolCallId: "t1", content: [] },
      { role: "assistant", content: [text("a")] },
      { role: "assistant", content: [text("b")] },
      { role: "user", content: [text("end")] },
    ]);
    assert.deepEqual(out.messages, [
      { role: "user", content: [text("one"), text("two")] },
      { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "f", input: {} }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "t1" }, text("interjection")] },
      { role: "assistant", content: [text("a"), text("b")] },
      { role: "user", content: [text("end")] },
    ]);
  });

  it("converts images: url, base64 and data: URLs", () => {
    const out = convertToAnthropicMessages([
      {
        role: "user",
        content: [
          { type: "image", source: { kind: "url", url: "https://example.com/cat.png" } },
          { type: "image", source: { kind: "base64", mediaType: "image/jpeg", data: "/9j/4AAQ" } },
          { type: "image", source: { kind: "url", url: "data:image/png;base64,iVBORw0KGgo=" } },
          text("What are these?"),
        ],
      },
    ]);
    assert.deepEqual(out.messages[0]?.content, [
      { type: "image", source: { type: "url", url: "https://example.com/cat.png" } },
      { type: "image", source: { type: "base64", media_type: "image/jpeg", data: "/9j/4AAQ" } },
      { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
      text("What are these?"),
    ]);
  });

  it("drops what Anthropic rejects: empty text, empty turns, trailing whitespace on a final assistant turn", () => {
    const out = convertToAnthropicMessages([
      { role: "user", content: [text(""), text("Hi")] },
      { role: "assistant", content: [text("")] },
      { role: "user", content: [text("again")] },
      { role: "assistant", content: [text("Sure, ")] },
    ]);
    assert.deepEqual(out.messages, [
      { role: "user", content: [text("Hi"), text("again")] },
      { role: "assistant", content: [text("Sure,")] },
    ]);
  });

  it("makes tool ids acceptable to Anthropic, the same way on both sides", () => {
    const out = convertToAnthropicMessages([
      { role: "user", content: [text("x")] },
      { role: "assistant", content: [], toolCalls: [{ id: "call:1/a", name: "f", arguments: "{}" }] },
      { role: "tool", toolCallId: "call:1/a", content: [text("ok")] },
    ]);
    const use = out.messages[1]?.content[0];
    const result = out.messages[2]?.content[0];
    assert.ok(use?.type === "tool_use" && result?.type === "tool_result");
    assert.equal(use.id, "call_1_a");
    assert.equal(result.tool_use_id, use.id);
  });

  it("never gives two tool ids one, whichever comes first: each result still answers its own call", () => {
    const out = convertToAnthropicMessages([
      { role: "user", content: [text("x")] },
      {
        role: "assistant",
        content: [],
        toolCalls: [
          { id: "c.1", name: "f", arguments: "{}" },
          { id: "c_1", name: "g", arguments: "{}" },
          { id: "functions.get_weather:0", name: "get_weather", arguments: "{}" },
          { id: "functions_get_weather_0", name: "get_weather", arguments: "{}" },
        ],
      },
      { role: "tool", toolCallId: "c.1", content: [text("from f")] },
      { role: "tool", toolCallId: "c_1", content: [text("from g")] },
      { role: "tool", toolCallId: "functions.get_weather:0", content: [text("first")] },
      { role: "tool", toolCallId: "functions_get_weather_0", content: [text("second")] },
    ]);
    const uses = out.messages[1]?.content.map((block) => (block.type === "tool_use" ? block.id : undefined));
    // The ids Anthropic takes go as they are; the others, once cleaned, are told apart.
    assert.deepEqual(uses, ["c_1_2", "c_1", "functions_get_weather_0_2", "functions_get_weather_0"]);
    const results = out.messages[2]?.content.map((block) => (block.type === "tool_result" ? block.tool_use_id : undefined));
    assert.deepEqual(results, uses);
  });
});

describe("convertToAnthropicRequest: a history with tool calls, a request without tools", () => {
  const history: Message[] = [
    { role: "user", content: [text("Weather in Paris?")] },
    { role: "assistant", content: [], toolCalls: [{ id: "call_1", name: "get_weather", arguments: '{"city":"Paris"}' }] },
    { role: "tool", toolCallId: "call_1", content: [text("21C")] },
    { role: "assistant", content: [text("21C in Paris.")] },
    { role: "user", content: [text("And tomorrow?")] },
  ];
  const request = (extra: Partial<ProviderChatRequest> = {}): ProviderChatRequest => ({
    model: "claude/c",
    upstreamModel: "c",
    messages: history,
    stream: true,
    ...extra,
  });

  it("declares the tools the history used, not callable: Anthropic refuses tool blocks in a request without tools", () => {
    const body = convertToAnthropicRequest(request(), { defaultMaxTokens: 1024 });
    assert.deepEqual(body.tools, [
      {
        name: "get_weather",
        description: "A tool used earlier in this conversation; it cannot be called now.",
        input_schema: { type: "object" },
      },
    ]);
    assert.deepEqual(body.tool_choice, { type: "none" });
    // The calls and results stay the tool blocks they were.
    assert.ok(body.messages.some((m) => m.content.some((b) => b.type === "tool_use")));
    // parallelToolCalls has no place beside `none`; thinking (none is allowed with it) leaves the choice.
    const thinking = convertToAnthropicRequest(
      request({ parallelToolCalls: false, reasoning: { enabled: true, budgetTokens: 2048 } }),
      {
        defaultMaxTokens: 1024,
      },
    );
    assert.deepEqual(thinking.tool_choice, { type: "none" });
  });

  it("sends the request's own tools and choice when it has tools, and none at all for a history without tool blocks", () => {
    const own = convertToAnthropicRequest(
      request({ tools: [{ name: "lookup", parameters: { type: "object" } }], toolChoice: "auto" }),
      {
        defaultMaxTokens: 1024,
      },
    );
    assert.deepEqual(
      own.tools?.map((t) => t.name),
      ["lookup"],
    );
    assert.deepEqual(own.tool_choice, { type: "auto" });
    const plain = convertToAnthropicRequest(request({ messages: [{ role: "user", content: [text("Hi")] }] }), {
      defaultMaxTokens: 1024,
    });
    assert.equal(plain.tools, undefined);
    assert.equal(plain.tool_choice, undefined);
  });
});
