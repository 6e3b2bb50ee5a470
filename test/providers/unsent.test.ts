/**
 * What each provider's converter leaves out of a canonical request, named for x-tandem-warnings
 * (ChatProvider.unsent): nothing dropped silently.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ChatRequest } from "../../src/core/index.js";
import { anthropicUnsent } from "../../src/providers/anthropic/convert-to-anthropic-request.js";
import { ollamaUnsent } from "../../src/providers/ollama/convert-to-ollama-chat-request.js";
import { OpenAIProvider } from "../../src/providers/openai/openai-provider.js";

const base: ChatRequest = { model: "m", messages: [{ role: "user", content: [{ type: "text", text: "x" }] }], stream: false };
const tools = [{ name: "f", parameters: { type: "object" } }];

describe("what a target is not sent", () => {
  it("Anthropic: seed; with thinking, temperature, top_k and a forced tool", () => {
    assert.deepEqual(anthropicUnsent({ ...base, temperature: 0.2, topK: 3, toolChoice: "required", tools }), []);
    assert.deepEqual(anthropicUnsent({ ...base, seed: 7 }), ["seed"]);
    const thinking = { ...base, reasoning: { enabled: true, effort: "high" as const } };
    assert.deepEqual(anthropicUnsent({ ...thinking, temperature: 0.2, topK: 3, toolChoice: { name: "f" }, tools }), [
      "temperature",
      "top_k",
      "tool_choice",
    ]);
    assert.deepEqual(anthropicUnsent({ ...thinking, temperature: 1, toolChoice: "auto", tools }), []);
  });

  it("token logprobs: named by Anthropic (OpenAI-compatible and Ollama targets are asked for them)", () => {
    const provider = new OpenAIProvider({ id: "o", baseUrl: "http://127.0.0.1:9/v1" } as ConstructorParameters<
      typeof OpenAIProvider
    >[0]);
    assert.deepEqual(provider.unsent({ ...base, logprobs: { topLogprobs: 3 } }), []);
    assert.deepEqual(ollamaUnsent({ ...base, logprobs: { topLogprobs: 3 } }), []);
    for (const unsent of [anthropicUnsent]) {
      assert.deepEqual(unsent({ ...base, logprobs: {} }), ["logprobs"]);
      assert.deepEqual(unsent({ ...base, logprobs: { topLogprobs: 0 } }), ["logprobs"]);
      assert.deepEqual(unsent({ ...base, logprobs: { topLogprobs: 3 } }), ["logprobs", "top_logprobs"]);
      // By the client's own fields where they are not chat completions' (legacy completions' `logprobs: 3`).
      assert.deepEqual(unsent({ ...base, logprobs: { topLogprobs: 3, fields: ["logprobs"] } }), ["logprobs"]);
    }
  });

  it("OpenAI-compatible: top_k", () => {
    const provider = new OpenAIProvider({ id: "o", baseUrl: "http://127.0.0.1:9/v1" } as ConstructorParameters<
      typeof OpenAIProvider
    >[0]);
    assert.deepEqual(provider.unsent({ ...base, topK: 5 }), ["top_k"]);
    assert.deepEqual(provider.unsent({ ...base, seed: 1, temperature: 2 }), []);
  });

  it("Ollama: a required or named tool choice (neither can be enforced), parallel_tool_calls false, user", () => {
    assert.deepEqual(ollamaUnsent({ ...base, toolChoice: "required", tools, parallelToolCalls: false, user: "u" }), [
      "tool_choice",
      "parallel_tool_calls",
      "user",
    ]);
    assert.deepEqual(ollamaUnsent({ ...base, toolChoice: { name: "f" }, tools, seed: 3, topK: 2 }), [
      "tool_choice (only the named tool offered instead)",
    ]);
    // Parallel calls are what Ollama allows anyway; a choice without tools forces nothing.
    assert.deepEqual(ollamaUnsent({ ...base, toolChoice: "auto", tools, parallelToolCalls: true }), []);
    assert.deepEqual(ollamaUnsent({ ...base, toolChoice: { name: "f" } }), []);
  });
});
