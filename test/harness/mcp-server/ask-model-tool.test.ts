/**
 * ask_model's reading of a gateway's answer: a restarted answer keeps only the new target's text and
 * names that target, a failure mid-answer is a tool error, and an internal error says nothing of its cause.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type ChatRequest, type ChatStream, type Gateway, GatewayError, type StreamEvent } from "../../../src/core/index.js";
import { askModel } from "../../../src/harness/mcp-server/ask-model-tool.js";

function gatewayOf(events: () => AsyncIterable<StreamEvent>, seen: ChatRequest[] = []): Gateway {
  return {
    chat: async (request: ChatRequest): Promise<ChatStream> => {
      seen.push(request);
      return { meta: { route: "auto", target: "cloud/a", attempts: 1, degraded: undefined }, events: events() };
    },
  } as unknown as Gateway;
}

const textOf = (result: { content: { type: string; text?: string }[] }) => result.content.map((c) => c.text ?? "").join("\n");

describe("ask_model", () => {
  it("after a restart, answers with the new target's text and names it", async () => {
    const seen: ChatRequest[] = [];
    const gateway = gatewayOf(async function* () {
      yield { type: "start" };
      yield { type: "text-delta", text: "half an ans" };
      yield { type: "switch", from: "cloud/a", to: "local/b", reason: "cloud/a broke mid-answer", restart: true };
      yield { type: "text-delta", text: "Whole " };
      yield { type: "text-delta", text: "answer" };
      yield { type: "usage", usage: { inputTokens: 3, outputTokens: 2 } };
      yield { type: "finish", reason: "stop" };
    }, seen);
    let told: unknown;
    const result = await askModel(
      gateway,
      { model: "auto", prompt: "hi", system: "be brief", max_tokens: 9 },
      new AbortController().signal,
      (a) => {
        told = a;
      },
    );
    assert.notEqual(result.isError, true);
    assert.deepEqual(result.structuredContent, {
      answer: "Whole answer",
      target: "local/b",
      route: "auto",
      attempts: 1,
      degraded: "cloud/a broke mid-answer",
      finish_reason: "stop",
    });
    assert.equal(seen[0]?.maxTokens, 9);
    assert.deepEqual(seen[0]?.messages[0], { role: "system", content: "be brief" });
    assert.deepEqual((told as { usage: unknown }).usage, { inputTokens: 3, outputTokens: 2 });
  });

  it("a failure mid-answer is a tool error with the gateway's message", async () => {
    const gateway = gatewayOf(async function* () {
      yield { type: "text-delta", text: "so far" };
      throw new GatewayError("timeout", "cloud/a went quiet for 15000 ms");
    });
    const result = await askModel(gateway, { model: "auto", prompt: "hi" }, new AbortController().signal);
    assert.equal(result.isError, true);
    assert.match(textOf(result), /went quiet.*\(timeout\)/);
  });

  it("an internal error says only that, never its cause", async () => {
    const gateway = {
      chat: async () => {
        throw new Error("ENOENT: /home/someone/.secret/file");
      },
    } as unknown as Gateway;
    const result = await askModel(gateway, { model: "auto", prompt: "hi" }, new AbortController().signal);
    assert.equal(result.isError, true);
    assert.doesNotMatch(textOf(result), /secret|ENOENT/);
  });
});
