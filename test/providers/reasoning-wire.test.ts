/**
 * Each upstream's reasoning in its own wire format, read into canonical events: Anthropic thinking
 * with its signature_delta and redacted_thinking (streamed and whole), OpenAI-compatible
 * `reasoning_content` (DeepSeek, vLLM, llama-server) and `reasoning` (OpenRouter), Ollama's
 * `message.thinking`; and each provider's reasoning control on its wire.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { EventSourceMessage } from "eventsource-parser";
import type { ProviderChatRequest, StreamEvent } from "../../src/core/index.js";
import { convertToAnthropicRequest, parseAnthropicStream } from "../../src/providers/anthropic/index.js";
import { readAnthropicMessage } from "../../src/providers/anthropic/read-anthropic-message.js";
import { convertToOllamaChatRequest } from "../../src/providers/ollama/convert-to-ollama-chat-request.js";
import { parseOllamaChatLines } from "../../src/providers/ollama/parse-ollama-chat-stream.js";
import { convertToOpenAIChatRequest, readOpenAIChatStream } from "../../src/providers/openai/index.js";

async function all(events: AsyncIterable<StreamEvent> | Iterable<StreamEvent>): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const e of events) out.push(e);
  return out;
}

const reasoningOf = (events: StreamEvent[]) =>
  events.filter((e) => e.type.startsWith("reasoning")).map((e) => ({ ...e }) as Record<string, unknown>);

function sse(frames: Array<[string, unknown]>): EventSourceMessage[][] {
  return [frames.map(([event, data]) => ({ event, data: JSON.stringify(data), id: undefined }))];
}

async function* batches(data: unknown[]): AsyncGenerator<EventSourceMessage[]> {
  yield data.map((d) => ({ event: undefined, data: JSON.stringify(d), id: undefined }));
}

describe("Anthropic thinking", () => {
  it("streamed: thinking_delta, then signature_delta; redacted_thinking as reasoning-redacted", async () => {
    const events = await all(
      parseAnthropicStream(
        sse([
          ["message_start", { type: "message_start", message: { id: "msg_1", model: "c", usage: { input_tokens: 3 } } }],
          [
            "content_block_start",
            { type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "", signature: "" } },
          ],
          ["content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: "Hmm." } }],
          [
            "content_block_delta",
            { type: "content_block_delta", index: 0, delta: { type: "signature_delta", signature: "SIG" } },
          ],
          ["content_block_stop", { type: "content_block_stop", index: 0 }],
          [
            "content_block_start",
            { type: "content_block_start", index: 1, content_block: { type: "redacted_thinking", data: "ENC" } },
          ],
          ["content_block_stop", { type: "content_block_stop", index: 1 }],
          ["message_delta", { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 5 } }],
          ["message_stop", { type: "message_stop" }],
        ]),
        "claude/c",
      ),
    );
    assert.deepEqual(reasoningOf(events), [
      { type: "reasoning-delta", text: "Hmm." },
      { type: "reasoning-signature", signature: "SIG" },
      { type: "reasoning-redacted", data: "ENC" },
    ]);
  });

  it("whole: the block's signature", async () => {
    const events = await all(
      readAnthropicMessage(
        {
          id: "msg_1",
          type: "message",
          content: [
            { type: "thinking", thinking: "Hmm.", signature: "SIG" },
            { type: "text", text: "Hi" },
          ],
          stop_reason: "end_turn",
          usage: { input_tokens: 1, output_tokens: 1 },
        },
        "claude/c",
      ),
    );
    assert.deepEqual(reasoningOf(events), [
      { type: "reasoning-delta", text: "Hmm." },
      { type: "reasoning-signature", signature: "SIG" },
    ]);
  });
});

describe("OpenAI-compatible reasoning", () => {
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
    id: "c1",
    model: "m",
    choices: [{ index: 0, delta, finish_reason: finish }],
  });

  it("reasoning_content (DeepSeek, vLLM, llama-server) and reasoning (OpenRouter) are reasoning", async () => {
    const events = await all(
      readOpenAIChatStream(
        batches([
          chunk({ role: "assistant", content: null, reasoning_content: "One. " }),
          chunk({ content: null, reasoning: "Two." }),
          // OpenRouter's structured details are not read, and not refused.
          chunk({ content: "Answer", reasoning_details: [{ type: "reasoning.text", text: "x" }], reasoning: null }),
          chunk({}, "stop"),
        ]),
        "deepseek/r",
      ),
    );
    assert.deepEqual(reasoningOf(events), [
      { type: "reasoning-delta", text: "One. " },
      { type: "reasoning-delta", text: "Two." },
    ]);
    assert.deepEqual(
      events.filter((e) => e.type === "text-delta"),
      [{ type: "text-delta", text: "Answer" }],
    );
  });
});

describe("Ollama thinking", () => {
  it("message.thinking is reasoning", async () => {
    const events = await all(
      parseOllamaChatLines(
        [
          { model: "q", message: { role: "assistant", content: "", thinking: "Let me see." }, done: false },
          { model: "q", message: { role: "assistant", content: "Hi" }, done: false },
          { model: "q", message: { role: "assistant", content: "" }, done: true, done_reason: "stop" },
        ],
        "ollama/q",
      ),
    );
    assert.deepEqual(reasoningOf(events), [{ type: "reasoning-delta", text: "Let me see." }]);
  });
});

describe("the reasoning control on each wire", () => {
  const base: ProviderChatRequest = {
    model: "x/y",
    upstreamModel: "y",
    messages: [{ role: "user", content: [{ type: "text", text: "Hi" }] }],
    stream: true,
  };

  it("Anthropic: a budget as given, max_tokens raised above it, no forced tool; off is disabled", () => {
    const on = convertToAnthropicRequest(
      {
        ...base,
        maxTokens: 100,
        topK: 5,
        tools: [{ name: "f", parameters: {} }],
        toolChoice: "required",
        reasoning: { enabled: true, budgetTokens: 3000 },
      },
      { defaultMaxTokens: 4096 },
    );
    assert.deepEqual(on.thinking, { type: "enabled", budget_tokens: 3000 });
    assert.equal(on.max_tokens, 3100);
    assert.equal(on.top_k, undefined);
    assert.deepEqual(on.tool_choice, { type: "auto" });
    const off = convertToAnthropicRequest({ ...base, reasoning: { enabled: false } }, { defaultMaxTokens: 4096 });
    assert.deepEqual(off.thinking, { type: "disabled" });
  });

  it("Anthropic: earlier reasoning as thinking and redacted_thinking blocks before the text", () => {
    const body = convertToAnthropicRequest(
      {
        ...base,
        messages: [
          ...base.messages,
          {
            role: "assistant",
            content: [{ type: "text", text: "Hello" }],
            reasoning: [
              { type: "reasoning", text: "t", signature: "S" },
              { type: "reasoning", text: "", redactedData: "ENC" },
            ],
          },
          { role: "user", content: [{ type: "text", text: "Again" }] },
        ],
      },
      { defaultMaxTokens: 4096 },
    );
    assert.deepEqual(body.messages[1]?.content, [
      { type: "thinking", thinking: "t", signature: "S" },
      { type: "redacted_thinking", data: "ENC" },
      { type: "text", text: "Hello" },
    ]);
  });

  it("OpenAI: reasoning_effort (a budget as the nearest level); off sends nothing", () => {
    assert.equal(
      convertToOpenAIChatRequest({ ...base, reasoning: { enabled: true, effort: "high" } }, "max_tokens").reasoning_effort,
      "high",
    );
    assert.equal(
      convertToOpenAIChatRequest({ ...base, reasoning: { enabled: true, budgetTokens: 10000 } }, "max_tokens").reasoning_effort,
      "medium",
    );
    assert.equal(
      convertToOpenAIChatRequest({ ...base, reasoning: { enabled: false } }, "max_tokens").reasoning_effort,
      undefined,
    );
  });

  it("Ollama: think as a level, true, or false; earlier reasoning as thinking", () => {
    assert.equal(convertToOllamaChatRequest({ ...base, reasoning: { enabled: true, effort: "minimal" } }).think, "low");
    assert.equal(convertToOllamaChatRequest({ ...base, reasoning: { enabled: true, budgetTokens: 5000 } }).think, true);
    assert.equal(convertToOllamaChatRequest({ ...base, reasoning: { enabled: false } }).think, false);
    const body = convertToOllamaChatRequest({
      ...base,
      messages: [{ role: "assistant", content: [], reasoning: [{ type: "reasoning", text: "t" }] }],
    });
    assert.equal(body.messages[0]?.thinking, "t");
  });
});
