/**
 * toolLoopWithoutThinking: a tool loop whose assistant turn carries no thinking an Anthropic upstream
 * can check (with thinking on, Anthropic refuses it), and every case that is not one.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Message } from "../../../src/core/index.js";
import { toolLoopWithoutThinking } from "../../../src/providers/anthropic/tool-loop-thinking.js";

const user: Message = { role: "user", content: [{ type: "text", text: "Weather?" }] };
const call = { id: "call_1", name: "get_weather", arguments: "{}" };
const result: Message = { role: "tool", toolCallId: "call_1", content: [{ type: "text", text: "sunny" }] };
const calling = (reasoning?: NonNullable<Extract<Message, { role: "assistant" }>["reasoning"]>): Message => ({
  role: "assistant",
  content: [],
  toolCalls: [call],
  ...(reasoning && { reasoning }),
});

describe("toolLoopWithoutThinking", () => {
  it("is true for tool results after a calling turn with no reasoning, or reasoning Anthropic did not sign", () => {
    assert.equal(toolLoopWithoutThinking([user, calling(), result]), true);
    assert.equal(toolLoopWithoutThinking([user, calling([{ type: "reasoning", text: "hmm" }]), result]), true);
    assert.equal(toolLoopWithoutThinking([user, calling([{ type: "reasoning", text: "hmm", signature: "" }]), result]), true);
  });

  it("is false when the turn starts with a signed or redacted block", () => {
    assert.equal(toolLoopWithoutThinking([user, calling([{ type: "reasoning", text: "hmm", signature: "sig" }]), result]), false);
    assert.equal(toolLoopWithoutThinking([user, calling([{ type: "reasoning", text: "", redactedData: "xyz" }]), result]), false);
  });

  it("is false outside a tool loop: no results yet, a turn that called nothing, a new user turn, no assistant at all", () => {
    assert.equal(toolLoopWithoutThinking([user, calling()]), false);
    assert.equal(toolLoopWithoutThinking([user, { role: "assistant", content: [{ type: "text", text: "hi" }] }, user]), false);
    assert.equal(toolLoopWithoutThinking([user]), false);
    assert.equal(toolLoopWithoutThinking([]), false);
  });
});
