import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { lacksTurns, type Message, mendTurns, NO_RESULT_TEXT } from "../../src/core/index.js";

const ANTHROPIC = { needsTurn: true, refusesEmpty: true };
const OPENAI = { needsTurn: false, refusesEmpty: false };

const user = (text: string): Message => ({ role: "user", content: [{ type: "text", text }] });
const calls = (...ids: string[]): Message => ({
  role: "assistant",
  content: [],
  toolCalls: ids.map((id) => ({ id, name: `tool_${id}`, arguments: "{}" })),
});
const result = (id: string, text: string): Message => ({ role: "tool", toolCallId: id, content: [{ type: "text", text }] });

describe("mendTurns", () => {
  it("gives back the same array, and names nothing, when the turns pair up", () => {
    const messages = [
      { role: "system", content: "Be brief." } as Message,
      user("Hi"),
      calls("a", "b"),
      result("a", "1"),
      result("b", "2"),
      { role: "assistant", content: [{ type: "text", text: "Done." }] } as Message,
    ];
    const mended = mendTurns(messages, ANTHROPIC);
    assert.equal(mended.messages, messages);
    assert.deepEqual(mended.mends, []);
  });

  it("answers each unanswered call with an error result right after its turn, before what followed", () => {
    const messages = [user("Hi"), calls("a", "b"), result("b", "2"), user("never mind")];
    const mended = mendTurns(messages, ANTHROPIC);
    assert.deepEqual(mended.messages, [
      user("Hi"),
      calls("a", "b"),
      result("b", "2"),
      { role: "tool", toolCallId: "a", name: "tool_a", content: [{ type: "text", text: NO_RESULT_TEXT }], isError: true },
      user("never mind"),
    ]);
    assert.deepEqual(mended.mends, [
      "tool call tool_a (a) without a result (an error result saying none was given sent instead)",
    ]);
  });

  it("counts several unanswered calls in one entry", () => {
    const mended = mendTurns([user("Hi"), calls("a", "b")], ANTHROPIC);
    assert.equal(mended.messages.length, 4);
    assert.deepEqual(mended.mends, ["2 tool calls without a result (a, b: error results saying none was given sent instead)"]);
  });

  it("moves a result that came after the user's text up to its call; the user's and system text keep their order", () => {
    const system: Message = { role: "system", content: "Reminder." };
    const mended = mendTurns([user("Hi"), calls("a"), user("quick"), system, result("a", "1")], ANTHROPIC);
    assert.deepEqual(mended.messages, [user("Hi"), calls("a"), result("a", "1"), user("quick"), system]);
    assert.deepEqual(mended.mends, []);
  });

  it("turns a result without its call, and a second result for one call, into user text where it stood", () => {
    const orphan: Message = { role: "tool", toolCallId: "x", name: "weather", content: [{ type: "text", text: "sunny" }] };
    const mended = mendTurns([user("x"), orphan, calls("a"), result("a", "1"), result("a", "again")], ANTHROPIC);
    assert.deepEqual(mended.messages, [
      user("x"),
      user("The output of the tool weather, whose call is not in this conversation:\nsunny"),
      calls("a"),
      result("a", "1"),
      user("The output of a tool, whose call is not in this conversation:\nagain"),
    ]);
    assert.deepEqual(mended.mends, ["2 tool results without their call (sent as user text instead)"]);
  });

  it("keeps a result's images when it goes as user text, and says an error was one", () => {
    const image = { type: "image" as const, source: { kind: "url" as const, url: "https://example.com/a.png" } };
    const mended = mendTurns([user("x"), { role: "tool", toolCallId: "x", content: [image], isError: true }], ANTHROPIC);
    assert.deepEqual(mended.messages[1], {
      role: "user",
      content: [{ type: "text", text: "An error from a tool, whose call is not in this conversation:" }, image],
    });
  });

  it("leaves out empty messages (whitespace only, no tool call or reasoning), and keeps an empty tool result", () => {
    const messages: Message[] = [
      { role: "system", content: "  " },
      user(""),
      user("Hi"),
      { role: "assistant", content: [{ type: "text", text: "\n\n" }] },
      { role: "assistant", content: [], reasoning: [{ type: "reasoning", text: "hm", signature: "sig" }] },
      calls("a"),
      { role: "tool", toolCallId: "a", content: [] },
    ];
    const mended = mendTurns(messages, ANTHROPIC);
    assert.deepEqual(mended.messages, messages.slice(2, 3).concat(messages.slice(4)));
    assert.deepEqual(mended.mends, ["3 empty messages"]);
    // OpenAI takes them as they are.
    assert.deepEqual(mendTurns(messages, OPENAI).mends, []);
  });
});

describe("lacksTurns", () => {
  const system: Message = { role: "system", content: "only system" };
  it("a system prompt alone: lacking for a target that needs a user or assistant message, not for one that takes it", () => {
    assert.equal(lacksTurns([system], ANTHROPIC), true);
    assert.equal(lacksTurns([system], OPENAI), false);
  });

  it("only empty messages: lacking for Anthropic, not for OpenAI (which takes an empty message)", () => {
    assert.equal(lacksTurns([user(" ")], ANTHROPIC), true);
    // OpenAI takes an empty message: only no message at all lacks one.
    assert.equal(lacksTurns([user(""), { role: "system", content: "" }], OPENAI), false);
    assert.equal(lacksTurns([], OPENAI), true);
  });

  it("a tool message is kept (as a result or as user text): not lacking", () => {
    assert.equal(lacksTurns([system, result("a", "1")], ANTHROPIC), false);
  });
});
