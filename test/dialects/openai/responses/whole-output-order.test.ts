/**
 * A whole Response's output items come in the order the answer came, as the streamed Response's do:
 * reasoning that follows text (interleaved thinking, or an OpenAI-compatible upstream's
 * reasoning_content between pieces of its answer) is an item after that text's message, and the
 * Anthropic thinking kept for the next turn stays with the item that shows its block.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { collectChat, type ResponseMeta, type StreamEvent } from "../../../../src/core/index.js";
import type { ParsedResponsesRequest } from "../../../../src/dialects/openai/responses/parse-responses-request.js";
import { PendingResponse } from "../../../../src/dialects/openai/responses/pending-response.js";
import { outputItems } from "../../../../src/dialects/openai/responses/render-response.js";
import { ResponseStreamRenderer } from "../../../../src/dialects/openai/responses/response-stream-renderer.js";
import { signedWholeReasoning, thinkingSignature } from "../../../../src/dialects/openai/state/index.js";
import { MemoryStateStore } from "../../../../src/harness/state/memory-state-store.js";

const META: ResponseMeta = { route: undefined, target: "claude/claude-test", attempts: 1, degraded: undefined };

const events: StreamEvent[] = [
  { type: "start" },
  { type: "reasoning-delta", text: "First, look." },
  { type: "text-delta", text: "Looking." },
  { type: "reasoning-delta", text: "Then answer." },
  { type: "reasoning-signature", signature: "SIG2" },
  { type: "text-delta", text: "Sunny." },
  { type: "tool-call-start", index: 0, id: "call_9", name: "get_weather" },
  { type: "tool-call-delta", index: 0, argumentsDelta: '{"city":"Paris"}' },
  { type: "tool-call-end", index: 0 },
  { type: "finish", reason: "tool_calls" },
];

async function* replay(): AsyncGenerator<StreamEvent> {
  yield* events;
}

describe("a whole Response's output order", () => {
  it("interleaved reasoning: reasoning, message, reasoning, message, call, as streamed", async () => {
    const output = outputItems(await collectChat(replay()), "completed");
    const shown = output.map((item) =>
      item.type === "message"
        ? (item.content as Array<{ text: string }>)[0]?.text
        : item.type === "reasoning"
          ? `reasoning: ${(item.summary as Array<{ text: string }>)[0]?.text}`
          : item.type,
    );
    assert.deepEqual(shown, ["reasoning: First, look.", "Looking.", "reasoning: Then answer.", "Sunny.", "function_call"]);
    // The message that reasoning follows is done; the streamed Response has the same items.
    assert.equal(output[1]?.status, "completed");
    const request = {
      echo: { store: true },
      store: true,
      custom: new Set(),
      namespaced: new Map(),
    } as unknown as ParsedResponsesRequest;
    const renderer = new ResponseStreamRenderer(
      new PendingResponse(request, { input: [] }, new MemoryStateStore(), undefined),
      META,
    );
    for (const event of events) renderer.event(event);
    assert.deepEqual(
      renderer.progress.output.map((item) => item.type),
      output.map((item) => item.type),
    );
  });

  it("the second block's signature is kept with the second reasoning item, wherever it stands", async () => {
    const result = await collectChat(replay());
    const output = outputItems(result, "completed");
    const kept = signedWholeReasoning(result.reasoningBlocks, output, META.target);
    assert.deepEqual([...(kept?.keys() ?? [])], [2]);
    const item = kept?.get(2)?.item;
    assert.ok(item !== undefined);
    assert.equal(thinkingSignature(item), "SIG2");
  });
});
