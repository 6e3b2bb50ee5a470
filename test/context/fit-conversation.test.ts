import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadTokenCounter } from "../../src/context/estimate-input-tokens.js";
import { fitConversation, fitConversationByModelCount } from "../../src/context/fit-conversation.js";
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

  it("returns the request as it is when even the newest turn does not fit, saying why", () => {
    const request: ChatRequest = { model: "x", stream: false, maxTokens: 10, messages: [user(long("huge", 500))] };
    const fit = fitConversation(request, 100, count);
    assert.equal(fit.dropped, 0);
    assert.equal(fit.request, request);
    assert.match(fit.unfit ?? "", /needs about \d+ tokens .*its window is 100/);
  });

  it("cuts all it can for an output limit, and says no cut fits when the newest turn leaves less room than the limit", () => {
    const messages = [...[0, 1, 2, 3, 4, 5].flatMap((i) => [user(`q${i} ${long("w", 40)}`), assistant(`a${i}`)]), user("newest")];
    const ask = (maxTokens: number) => fitConversation({ model: "x", stream: false, maxTokens, messages }, 600, count);
    assert.equal(ask(100).dropped, 0, "room for 100 with the whole history");
    assert.equal(ask(585).request.messages.length, 1, "room for 585 only with the newest turn");
    // More than the newest turn leaves: no cut makes room, whatever the limit beyond it.
    for (const maxTokens of [595, 599, 700]) {
      const fit = ask(maxTokens);
      assert.equal(fit.dropped, 0);
      assert.match(fit.unfit ?? "", new RegExp(`less than the ${maxTokens} output tokens asked`));
    }
  });

  it("for a target that ends answers at its window, takes a limit no cut can make room for as none", () => {
    const messages = [...[0, 1, 2, 3, 4, 5].flatMap((i) => [user(`q${i} ${long("w", 40)}`), assistant(`a${i}`)]), user("newest")];
    const room = { maxTokens: 32_000, endsAtWindow: true };
    const fit = fitConversation({ model: "x", stream: false, maxTokens: 32_000, messages }, 200, count, room);
    assert.equal(fit.unfit, undefined);
    assert.ok(fit.dropped > 0 && fit.dropped < messages.length - 1, `older turns cut, some kept: ${fit.dropped}`);
    assert.ok(fit.tokens <= 200 - 50, `room kept as without a limit (a quarter of the window): ${fit.tokens}`);
    // A conversation that fits the window is not cut for such a limit.
    const short = fitConversation(
      { model: "x", stream: false, maxTokens: 32_000, messages: messages.slice(-3) },
      200,
      count,
      room,
    );
    assert.equal(short.dropped, 0);
    assert.equal(short.unfit, undefined);
    // A limit a cut can make room for is kept whole, as for any target.
    const kept = fitConversation({ model: "x", stream: false, maxTokens: 180, messages }, 200, count, {
      maxTokens: 180,
      endsAtWindow: true,
    });
    assert.equal(kept.request.messages.length, 1);
  });

  it("keeps room for the output limit the target is really sent, not the client's own", () => {
    const messages = [...[0, 1, 2, 3].flatMap((i) => [user(`q${i} ${long("w", 40)}`), assistant(`a${i}`)]), user("newest")];
    const request: ChatRequest = { model: "x", stream: false, maxTokens: 100, messages };
    assert.equal(fitConversation(request, 600, count).dropped, 0);
    const sent = fitConversation(request, 600, count, { maxTokens: 400 });
    assert.ok(sent.dropped > 0);
    assert.ok(sent.tokens <= 200, `${sent.tokens}`);
  });
});

describe("fitConversationByModelCount", async () => {
  const count = await loadTokenCounter();
  /** A model that reads every character as a token and frames each message in 10 more: far over the GPT estimate. */
  const charModel = () => {
    const counted: ChatRequest[] = [];
    const countRequest = async (request: ChatRequest) => {
      counted.push(request);
      return request.messages.reduce(
        (n, m) =>
          n +
          10 +
          (m.role === "system" ? m.content.length : m.content.reduce((k, p) => k + (p.type === "text" ? p.text.length : 0), 0)),
        0,
      );
    };
    return { counted, countRequest };
  };
  const turns = (n: number, size: number): Message[] =>
    Array.from({ length: n }, (_, i) => [user(`turn ${i} ${long("zz", size)}`), assistant("ok")]).flat();

  it("asks the model nothing for a conversation that fits by any tokenizer's bound", async () => {
    const model = charModel();
    const request: ChatRequest = { model: "x", stream: false, messages: [user("Hi"), assistant("Hello"), user("How are you?")] };
    const fit = await fitConversationByModelCount(request, 4096, count, model.countRequest);
    assert.equal(fit.dropped, 0);
    assert.equal(model.counted.length, 0);
  });

  it("leaves out the older turns the GPT estimate would keep, until the model's own count fits, in a few counts", async () => {
    const messages = [...turns(6, 60), user("hello")];
    const request: ChatRequest = { model: "x", stream: false, maxTokens: 16, messages };
    assert.equal(fitConversation(request, 512, count).dropped, 0, "the GPT estimate says it fits");
    const model = charModel();
    const fit = await fitConversationByModelCount(request, 512, count, model.countRequest);
    assert.ok(fit.dropped > 0);
    assert.ok(fit.tokens <= 512 - 16, `the model counts ${fit.tokens}`);
    // The whole, then the fit: the model's own count of what is sent.
    assert.equal(model.counted.length, 2);
    assert.equal(model.counted[1], fit.request);
    assert.equal(fit.request.messages.at(-1), messages.at(-1), "the newest turn stays");
    assert.equal(fit.request.messages[0]?.role, "user");
  });

  it("goes on scaling while the kept turns still weigh more on the model than scaled", async () => {
    // A model that reads bytes: the older turns (Chinese) are 6 bytes a GPT token, the newer (English
    // long words) 10, so the newest turns, the ones kept, are heavier than the whole's scale says.
    const chinese = "数据".repeat(40);
    const english = "internationalization ".repeat(8);
    const messages = [
      ...[0, 1, 2, 3].flatMap(() => [user(chinese), assistant("ok")]),
      ...[0, 1, 2].flatMap(() => [user(english), assistant("ok")]),
      user("hello"),
    ];
    const counts: number[] = [];
    const countRequest = async (request: ChatRequest) => {
      const bytes = request.messages.reduce(
        (n, m) =>
          n +
          4 +
          (m.role === "system" ? 0 : m.content.reduce((k, p) => k + (p.type === "text" ? Buffer.byteLength(p.text) : 0), 0)),
        0,
      );
      counts.push(bytes);
      return bytes;
    };
    const fit = await fitConversationByModelCount(
      { model: "x", stream: false, maxTokens: 16, messages },
      512,
      count,
      countRequest,
    );
    assert.equal(counts.length, 3, `the whole, a first fit still over, the fit scaled again: ${counts}`);
    assert.ok((counts[1] ?? 0) > 512 - 16);
    assert.ok(fit.dropped > 0);
    assert.equal(fit.tokens, counts[2]);
    assert.ok(fit.tokens <= 512 - 16, `the model counts ${fit.tokens}`);
  });

  it("returns the request as it is when even the newest turn is over the window, saying why", async () => {
    const request: ChatRequest = { model: "x", stream: false, maxTokens: 16, messages: [...turns(2, 30), user(long("zz", 400))] };
    const fit = await fitConversationByModelCount(request, 512, count, charModel().countRequest);
    assert.equal(fit.dropped, 0);
    assert.equal(fit.request, request);
    assert.ok(fit.tokens > 512);
    assert.ok(fit.unfit !== undefined);
  });

  it("cuts a long conversation by the model's count when the output limit is over the window and answers end there", async () => {
    const messages = [...turns(6, 60), user("hello")];
    const request: ChatRequest = { model: "x", stream: false, maxTokens: 32_000, messages };
    const fit = await fitConversationByModelCount(request, 512, count, charModel().countRequest, {
      maxTokens: 32_000,
      endsAtWindow: true,
    });
    assert.equal(fit.unfit, undefined);
    assert.ok(fit.dropped > 0);
    assert.ok(fit.tokens <= 512 - 128, `room kept as without a limit: the model counts ${fit.tokens}`);
    assert.equal(fit.request.messages.at(-1), messages.at(-1));
  });
});
