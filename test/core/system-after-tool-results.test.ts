import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Message } from "../../src/core/messages.js";
import { systemAfterToolResults } from "../../src/core/system-after-tool-results.js";

const call = (id: string): Message => ({
  role: "assistant",
  content: [],
  toolCalls: [{ id, name: "f", arguments: "{}" }],
});
const result = (id: string): Message => ({ role: "tool", toolCallId: id, content: [{ type: "text", text: "ok" }] });
const system = (text: string): Message => ({ role: "system", content: text });
const user = (text: string): Message => ({ role: "user", content: [{ type: "text", text }] });

describe("systemAfterToolResults", () => {
  it("moves a system message between tool calls and their results after the results, in order", () => {
    const messages = [user("q"), call("a"), system("one"), result("a"), system("two"), user("next")];
    assert.deepEqual(systemAfterToolResults(messages), [
      user("q"),
      call("a"),
      result("a"),
      system("one"),
      system("two"),
      user("next"),
    ]);
  });

  it("handles several results and several runs", () => {
    const messages = [call("a"), system("s1"), result("a"), user("u"), call("b"), result("b"), system("s2"), result("b2")];
    assert.deepEqual(systemAfterToolResults(messages), [
      call("a"),
      result("a"),
      system("s1"),
      user("u"),
      call("b"),
      result("b"),
      result("b2"),
      system("s2"),
    ]);
  });

  it("leaves a conversation with nothing to move as it is (the same array)", () => {
    const messages = [system("s"), user("q"), call("a"), result("a"), system("after"), user("u")];
    assert.equal(systemAfterToolResults(messages), messages);
    const trailing = [user("q"), call("a"), system("no result yet")];
    assert.equal(systemAfterToolResults(trailing), trailing);
  });
});
