/**
 * Prompt-cache usage crosses dialects in each one's own fields: an Anthropic answer's cache reads and
 * writes are read into the canonical usage and rendered back as Anthropic's counters (with
 * input_tokens excluding both, as Anthropic counts it), and as OpenAI's cached_tokens.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { StreamEvent, Usage } from "../../../src/core/index.js";
import { renderUsage } from "../../../src/dialects/anthropic/render-anthropic-usage.js";
import { renderOpenAIChatUsage } from "../../../src/dialects/openai/render-openai-usage.js";
import { readAnthropicMessage } from "../../../src/providers/anthropic/read-anthropic-message.js";

async function usageOf(events: AsyncIterable<StreamEvent> | Iterable<StreamEvent>): Promise<Partial<Usage>> {
  const usage: Partial<Usage> = {};
  for await (const event of events) if (event.type === "usage") Object.assign(usage, event.usage);
  return usage;
}

describe("cached-token usage across dialects", () => {
  it("an Anthropic answer's cache reads and writes round-trip to Anthropic's fields and reach OpenAI's", async () => {
    const usage = await usageOf(
      readAnthropicMessage(
        {
          id: "msg_1",
          type: "message",
          role: "assistant",
          model: "claude",
          content: [{ type: "text", text: "Hi" }],
          stop_reason: "end_turn",
          stop_sequence: null,
          usage: { input_tokens: 10, cache_creation_input_tokens: 300, cache_read_input_tokens: 2000, output_tokens: 7 },
        },
        "up/claude",
      ),
    );
    assert.deepEqual(usage, { inputTokens: 2310, cachedInputTokens: 2000, cacheWriteInputTokens: 300, outputTokens: 7 });
    assert.deepEqual(renderUsage(usage), {
      input_tokens: 10,
      cache_creation_input_tokens: 300,
      cache_read_input_tokens: 2000,
      cache_creation: { ephemeral_5m_input_tokens: 300, ephemeral_1h_input_tokens: 0 },
      output_tokens: 7,
      inference_geo: "not_available",
      output_tokens_details: { thinking_tokens: 0 },
      server_tool_use: null,
      service_tier: "standard",
      speed: "standard",
    });
    const openai = renderOpenAIChatUsage(usage as Usage);
    assert.equal(openai.prompt_tokens, 2310);
    assert.equal(openai.prompt_tokens_details.cached_tokens, 2000);
  });

  it("reasoning tokens reach OpenAI's completion_tokens_details; none reported, none rendered", () => {
    const base = { inputTokens: 5, outputTokens: 40 };
    assert.deepEqual(renderOpenAIChatUsage({ ...base, reasoningTokens: 32 }).completion_tokens_details, { reasoning_tokens: 32 });
    assert.equal(renderOpenAIChatUsage(base).completion_tokens_details, undefined);
  });
});
