import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadTokenCounter } from "../../src/context/estimate-input-tokens.js";
import { fitConversation } from "../../src/context/fit-conversation.js";
import type { ChatRequest, Message } from "../../src/core/index.js";

const user = (text: string): Message => ({ role: "user", content: [{ type: "text", text }] });
const assistant = (text: string): Message => ({ role: "assistant", content: [{ type: "text", text }] });
const long = (word: string, n: number) => `${word} `.repeat(n).trim();

describe("fitConversation", async () => {
  const count = await loadTokenCounter();

  it("leaves a conversation that fits alone", () => {
    const request: ChatRequest = { model: "x", stream: false, messages: [user("Hi"), assistant("Hello"), user("How are you?")] };
    const fit = fitConversation(request, 8192, count);
    assert.equal(fit.dropped, 0);
    assert.equal(fit.request, request);
  });

  it("drops the oldest turns first, keeping system prompts, tool calls with their results, and the newest turn", () => {
    const messages: Message[] = [
      { role: "system", content: "You are terse." },
      user(long("ancient", 400)),
      assistant(long("reply", 400)),
      user("What is the weather?"),
      { role: "assistant", content: [], toolCalls: [{ id: "call_1", name: "weather", arguments: '{"city":"Paris"}' }] },
      { role: "tool", toolCallId: "call_1", content: [{ type: "text", text: "21C" }] },
      assistant("It is 21C."),
      user("And tomorrow?"),
    ];
    const fit = fitConversation({ model: "x", stream: false, maxTokens: 50, messages }, 300, count);
    assert.equal(fit.dropped, 2);
    assert.deepEqual(
      fit.request.messages.map((m) => m.role),
      ["system", "user", "assistant", "tool", "assistant", "user"],
    );
    assert.ok(fit.tokens <= 250, `fits the budget: ${fit.tokens}`);
  });

  it("never keeps a tool result without its call", () => {
    const messages: Message[] = [
      { role: "assistant", content: [], toolCalls: [{ id: "c", name: "search", arguments: `{"q":"${long("x", 300)}"}` }] },
      { role: "tool", toolCallId: "c", content: [{ type: "text", text: "result" }] },
      user("Thanks. Next?"),
    ];
    const fit = fitConversation({ model: "x", stream: false, maxTokens: 20, messages }, 120, count);
    assert.deepEqual(
      fit.request.messages.map((m) => m.role),
      ["user"],
    );
  });

  it("counts a file's text, not a flat allowance: an old turn carrying a long file is dropped to fit", () => {
    const file = (text: string): Message => ({
      role: "user",
      content: [
        { type: "text", text: "Read this." },
        { type: "file", mediaType: "text/plain", data: "", filename: "notes.txt", text },
      ],
    });
    const messages: Message[] = [file(long("ancient", 2000)), assistant("Read."), user("What now?")];
    const fit = fitConversation({ model: "x", stream: false, maxTokens: 50, messages }, 1000, count);
    assert.equal(fit.dropped, 2, `the file's turn and its answer left out (${fit.tokens} tokens)`);
    assert.deepEqual(fit.request.messages, [user("What now?")]);
  });

  it("returns the request as it is when even the newest turn does not fit", () => {
    const request: ChatRequest = { model: "x", stream: false, maxTokens: 10, messages: [user(long("huge", 500))] };
    const fit = fitConversation(request, 100, count);
    assert.equal(fit.dropped, 0);
    assert.equal(fit.request, request);
  });
});
