import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { type Message, Ollama } from "ollama";
import { GatewayError, type StreamEvent } from "../../../src/core/index.js";
import { textOnlyRefusal } from "../../../src/providers/llamacpp/text-only.js";
import { type StubApp, StubGateway, startStubApp, textEvents } from "./stub-gateway.js";

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52]);
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46, 0, 1]);
/** The base64 of `bytes` zero-filled to whole 3-byte groups: no padding at its end. */
const whole = (bytes: Buffer) => Buffer.concat([bytes, Buffer.alloc((3 - (bytes.length % 3)) % 3)]).toString("base64");

const weatherTool = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Current weather for a city",
    parameters: { type: "object", required: ["city"], properties: { city: { type: "string", description: "City" } } },
  },
};

/** Two tool calls whose arguments arrive in pieces, as a streaming upstream sends them. */
const toolCallEvents: StreamEvent[] = [
  { type: "start" },
  { type: "text-delta", text: "Checking." },
  { type: "tool-call-start", index: 0, id: "call_one", name: "get_weather" },
  { type: "tool-call-delta", index: 0, argumentsDelta: '{"ci' },
  { type: "tool-call-start", index: 1, id: "toolu_two", name: "get_weather" },
  { type: "tool-call-delta", index: 1, argumentsDelta: '{"city":"Oslo"}' },
  { type: "tool-call-delta", index: 0, argumentsDelta: 'ty":"Paris"}' },
  { type: "tool-call-end", index: 0 },
  { type: "tool-call-end", index: 1 },
  { type: "usage", usage: { inputTokens: 40, outputTokens: 12 } },
  { type: "finish", reason: "tool_calls" },
];

let gateway: StubGateway;
let stub: StubApp;
let ollama: Ollama;

before(async () => {
  gateway = new StubGateway();
  stub = await startStubApp(gateway);
  ollama = new Ollama({ host: stub.url });
});

after(async () => {
  await stub.close();
});

beforeEach(() => {
  gateway.chats.length = 0;
  gateway.embeds.length = 0;
  gateway.meta = { route: undefined, target: "fake/model-1", attempts: 1, degraded: undefined };
  gateway.answer = () => textEvents("Hello there, friend!");
});

function lastChat() {
  const chat = gateway.chats.at(-1);
  assert.ok(chat, "the gateway saw no chat");
  return chat;
}

async function postRaw(path: string, body: unknown): Promise<Response> {
  return fetch(stub.url + path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** Calls fn and returns the ollama client's ResponseError (status_code and error message). */
async function responseError(fn: () => Promise<unknown>): Promise<{ status: number; message: string }> {
  try {
    await fn();
  } catch (err) {
    const e = err as { name?: string; status_code?: number; error?: string };
    assert.equal(e.name, "ResponseError", String(err));
    return { status: e.status_code ?? 0, message: e.error ?? "" };
  }
  assert.fail("expected a ResponseError");
}

describe("POST /api/chat", () => {
  it("answers a non-streamed chat with the whole message and the final fields", async () => {
    const res = await ollama.chat({
      model: "fake/model-1",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Hi" },
      ],
      stream: false,
      options: { temperature: 0.3, top_p: 0.8, top_k: 20, num_predict: 64, stop: ["END"], seed: 42, num_ctx: 8192 },
      keep_alive: "10m",
      think: true,
    });
    assert.equal(res.model, "fake/model-1");
    assert.equal(res.message.role, "assistant");
    assert.equal(res.message.content, "Hello there, friend!");
    assert.equal(res.done, true);
    assert.equal(res.done_reason, "stop");
    assert.equal(res.prompt_eval_count, 11);
    assert.equal(res.eval_count, 7);
    for (const field of ["total_duration", "prompt_eval_duration", "eval_duration"] as const) {
      assert.ok(Number.isInteger(res[field]) && res[field] > 0, `${field} should be positive nanoseconds`);
    }
    assert.equal(res.load_duration, 0);
    assert.ok(!Number.isNaN(Date.parse(String(res.created_at))));

    const chat = lastChat();
    assert.equal(chat.model, "fake/model-1");
    assert.equal(chat.stream, false);
    assert.deepEqual(chat.messages, [
      { role: "system", content: "Be brief." },
      { role: "user", content: [{ type: "text", text: "Hi" }] },
    ]);
    assert.equal(chat.temperature, 0.3);
    assert.equal(chat.topP, 0.8);
    assert.equal(chat.topK, 20);
    assert.equal(chat.maxTokens, 64);
    assert.deepEqual(chat.stop, ["END"]);
    assert.equal(chat.seed, 42);
  });

  it("streams NDJSON chunks ending with a done object", async () => {
    const parts = await ollama.chat({ model: "fake/model-1", messages: [{ role: "user", content: "Hi" }], stream: true });
    let text = "";
    const seen: { done: boolean; done_reason?: string; eval_count?: number; model: string }[] = [];
    for await (const part of parts) {
      text += part.message.content;
      seen.push(part);
    }
    assert.equal(text, "Hello there, friend!");
    assert.ok(seen.length > 3, `expected several chunks, got ${seen.length}`);
    assert.ok(seen.slice(0, -1).every((p) => p.done === false));
    const last = seen.at(-1);
    assert.equal(last?.done, true);
    assert.equal(last?.done_reason, "stop");
    assert.equal(last?.eval_count, 7);
    assert.ok(seen.every((p) => p.model === "fake/model-1"));
    assert.equal(lastChat().stream, true);
  });

  it("streams by default, as Ollama does, with the NDJSON content type and tandem headers", async () => {
    const res = await postRaw("/api/chat", { model: "fake/model-1", messages: [{ role: "user", content: "Hi" }] });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/x-ndjson");
    assert.equal(res.headers.get("x-tandem-target"), "fake/model-1");
    const lines = (await res.text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.ok(lines.length > 3);
    assert.equal(lines.at(-1).done, true);
  });

  it("maps finish length to done_reason length, and format to the canonical response format", async () => {
    gateway.answer = () => textEvents("Cut sho", { inputTokens: 1, outputTokens: 2 }, "length");
    const res = await ollama.chat({ model: "fake/model-1", messages: [{ role: "user", content: "Hi" }], format: "json" });
    assert.equal(res.done_reason, "length");
    assert.deepEqual(lastChat().responseFormat, { type: "json" });

    const schema = { type: "object", properties: { age: { type: "integer" } }, required: ["age"] };
    await ollama.chat({ model: "fake/model-1", messages: [{ role: "user", content: "Hi" }], format: schema });
    assert.deepEqual(lastChat().responseFormat, { type: "json_schema", schema, strict: "where-possible", param: "format" });
  });

  it("treats num_predict -1 and -2 as no limit", async () => {
    for (const num_predict of [-1, -2]) {
      await ollama.chat({ model: "fake/model-1", messages: [{ role: "user", content: "Hi" }], options: { num_predict } });
      assert.equal(lastChat().maxTokens, undefined);
    }
  });

  it("treats seed -1, Ollama's default, as a random seed (none), and keeps any other seed", async () => {
    await ollama.chat({ model: "fake/model-1", messages: [{ role: "user", content: "Hi" }], options: { seed: -1 } });
    assert.equal(lastChat().seed, undefined);
    for (const seed of [-2, 0, 7]) {
      await ollama.chat({ model: "fake/model-1", messages: [{ role: "user", content: "Hi" }], options: { seed } });
      assert.equal(lastChat().seed, seed);
    }
  });

  it("sends each tool call whole, with object arguments and the canonical id, when streaming", async () => {
    gateway.answer = () => toolCallEvents;
    const parts = await ollama.chat({
      model: "fake/model-1",
      messages: [{ role: "user", content: "Weather in Paris and Oslo?" }],
      tools: [weatherTool],
      stream: true,
    });
    const calls: unknown[] = [];
    let text = "";
    let last: { done: boolean; done_reason?: string } | undefined;
    for await (const part of parts) {
      text += part.message.content;
      calls.push(...(part.message.tool_calls ?? []));
      last = part;
    }
    assert.equal(text, "Checking.");
    assert.deepEqual(calls, [
      { id: "call_one", function: { index: 0, name: "get_weather", arguments: { city: "Paris" } } },
      { id: "toolu_two", function: { index: 1, name: "get_weather", arguments: { city: "Oslo" } } },
    ]);
    assert.equal(last?.done_reason, "stop");

    const chat = lastChat();
    assert.deepEqual(chat.tools, [
      {
        name: "get_weather",
        description: "Current weather for a city",
        parameters: weatherTool.function.parameters,
      },
    ]);
  });

  it("puts tool calls on the whole message when not streaming", async () => {
    gateway.answer = () => toolCallEvents;
    const res = await ollama.chat({ model: "fake/model-1", messages: [{ role: "user", content: "?" }], tools: [weatherTool] });
    assert.equal(res.message.content, "Checking.");
    assert.deepEqual(res.message.tool_calls, [
      { id: "call_one", function: { index: 0, name: "get_weather", arguments: { city: "Paris" } } },
      { id: "toolu_two", function: { index: 1, name: "get_weather", arguments: { city: "Oslo" } } },
    ]);
    assert.equal(res.done_reason, "stop");
    assert.equal(res.eval_count, 12);
  });

  it("round-trips a tool call: the result gets the id of the call it answers", async () => {
    gateway.answer = () => toolCallEvents;
    const messages: { role: string; content: string; tool_name?: string }[] = [{ role: "user", content: "Weather?" }];
    const first = await ollama.chat({ model: "fake/model-1", messages, tools: [weatherTool] });
    messages.push(first.message);
    // Ollama clients name the tool, not the call; results come back in the calls' order.
    messages.push({ role: "tool", content: "21C", tool_name: "get_weather" });
    messages.push({ role: "tool", content: "5C", tool_name: "get_weather" });
    gateway.answer = () => textEvents("Paris is warmer.");
    const second = await ollama.chat({ model: "fake/model-1", messages, tools: [weatherTool] });
    assert.equal(second.message.content, "Paris is warmer.");

    const history = lastChat().messages;
    assert.deepEqual(history[1], {
      role: "assistant",
      content: [{ type: "text", text: "Checking." }],
      toolCalls: [
        { id: "call_one", name: "get_weather", arguments: '{"city":"Paris"}' },
        { id: "toolu_two", name: "get_weather", arguments: '{"city":"Oslo"}' },
      ],
    });
    assert.deepEqual(history[2], {
      role: "tool",
      toolCallId: "call_one",
      name: "get_weather",
      content: [{ type: "text", text: "21C" }],
    });
    assert.deepEqual(history[3], {
      role: "tool",
      toolCallId: "toolu_two",
      name: "get_weather",
      content: [{ type: "text", text: "5C" }],
    });
  });

  it("synthesizes ids for calls without one and pairs results by tool name, then by order", async () => {
    await ollama.chat({
      model: "fake/model-1",
      messages: [
        { role: "user", content: "Weather and time?" },
        {
          role: "assistant",
          content: "",
          tool_calls: [
            { function: { name: "get_weather", arguments: { city: "Paris" } } },
            { function: { name: "get_time", arguments: { zone: "CET" } } },
          ],
        },
        { role: "tool", content: "noon", tool_name: "get_time" },
        { role: "tool", content: "21C" },
        { role: "user", content: "Thanks" },
      ],
    });
    const [, assistant, time, weather] = lastChat().messages;
    assert.ok(assistant?.role === "assistant" && time?.role === "tool" && weather?.role === "tool");
    const [weatherCall, timeCall] = assistant.toolCalls ?? [];
    assert.match(weatherCall?.id ?? "", /^call_/);
    assert.match(timeCall?.id ?? "", /^call_/);
    assert.notEqual(weatherCall?.id, timeCall?.id);
    assert.equal(weatherCall?.arguments, '{"city":"Paris"}');
    assert.equal(time.toolCallId, timeCall?.id);
    assert.equal(time.name, "get_time");
    assert.equal(weather.toolCallId, weatherCall?.id);
    assert.equal(weather.name, "get_weather");
  });

  it("keeps an explicit tool_call_id and accepts string arguments", async () => {
    // ollama-js 0.6 does not declare tool-call ids or string arguments, but passes them through.
    const messages = [
      { role: "user", content: "?" },
      { role: "assistant", content: "", tool_calls: [{ id: "call_x", function: { name: "f", arguments: '{"a":1}' } }] },
      { role: "tool", content: "ok", tool_call_id: "call_x" },
    ] as unknown as Message[];
    await ollama.chat({ model: "fake/model-1", messages });
    const [, assistant, tool] = lastChat().messages;
    assert.ok(assistant?.role === "assistant" && tool?.role === "tool");
    assert.deepEqual(assistant.toolCalls, [{ id: "call_x", name: "f", arguments: '{"a":1}' }]);
    assert.equal(tool.toolCallId, "call_x");
    assert.equal(tool.name, "f");
  });

  it("turns base64 images into image parts, with the media type read from the bytes", async () => {
    await ollama.chat({
      model: "fake/model-1",
      messages: [{ role: "user", content: "What are these?", images: [PNG, JPEG] }],
    });
    const user = lastChat().messages[0];
    assert.ok(user?.role === "user");
    assert.deepEqual(user.content, [
      { type: "text", text: "What are these?" },
      { type: "image", source: { kind: "base64", mediaType: "image/png", data: PNG.toString("base64") } },
      { type: "image", source: { kind: "base64", mediaType: "image/jpeg", data: JPEG.toString("base64") } },
    ]);
  });

  it("keeps a tool message's images in its result, where a text-only target refuses them", async () => {
    await ollama.chat({
      model: "fake/model-1",
      messages: [
        { role: "user", content: "What is on the screen?" },
        { role: "assistant", content: "", tool_calls: [{ function: { name: "screenshot", arguments: {} } }] },
        { role: "tool", tool_name: "screenshot", content: "here", images: [PNG] } as Message,
      ],
    });
    const tool = lastChat().messages[2];
    assert.ok(tool?.role === "tool");
    assert.deepEqual(tool.content, [
      { type: "text", text: "here" },
      { type: "image", source: { kind: "base64", mediaType: "image/png", data: PNG.toString("base64") } },
    ]);
    assert.match(textOnlyRefusal(lastChat().messages, "local/stories")?.message ?? "", /reads text only/);
  });

  it("answers an empty message list with Ollama's load response", async () => {
    const res = await ollama.chat({ model: "fake/model-1", messages: [] });
    assert.equal(res.done, true);
    assert.equal(res.done_reason, "load");
    assert.equal(res.message.content, "");
    assert.equal(gateway.chats.length, 0);
    const missing = await responseError(() => ollama.chat({ model: "nope/x", messages: [] }));
    assert.equal(missing.status, 404);
    // No messages field at all (curl users, Ollama's docs) and no prompt field load the model too.
    for (const [path, body] of [
      ["/api/chat", { model: "fake/model-1", stream: false }],
      ["/api/generate", { model: "fake/model-1", stream: false }],
    ] as const) {
      const res = await postRaw(path, body);
      assert.equal(res.status, 200, path);
      assert.equal(((await res.json()) as { done_reason: string }).done_reason, "load", path);
    }
    assert.equal(gateway.chats.length, 0);
  });

  it("marks a degraded answer in the final chunk", async () => {
    gateway.meta = { route: "auto", target: "fake/model-2", attempts: 2, degraded: "tier 2 answered" };
    const res = await postRaw("/api/chat", { model: "fake/model-1", messages: [{ role: "user", content: "Hi" }] });
    const lines = (await res.text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.equal(lines.at(-1).tandem_degraded, "tier 2 answered");
    assert.equal(lines.at(-1).model, "fake/model-2");
    assert.ok(lines.slice(0, -1).every((l) => !("tandem_degraded" in l)));
  });
});

describe("POST /api/chat errors", () => {
  it("renders gateway errors as Ollama's {error} with the right status", async () => {
    const unknown = await responseError(() => ollama.chat({ model: "nope/x", messages: [{ role: "user", content: "Hi" }] }));
    assert.equal(unknown.status, 404);
    assert.match(unknown.message, /model 'nope\/x' not found/);

    gateway.answer = () => new GatewayError("rate_limited", "slow down", { retryAfterMs: 2000 });
    const limited = await responseError(() =>
      ollama.chat({ model: "fake/model-1", messages: [{ role: "user", content: "Hi" }] }),
    );
    assert.deepEqual(limited, { status: 429, message: "slow down" });

    gateway.answer = () => new GatewayError("overloaded", "upstream overloaded", { status: 529 });
    const overloaded = await responseError(() =>
      ollama.chat({ model: "fake/model-1", messages: [{ role: "user", content: "Hi" }], stream: true }),
    );
    assert.equal(overloaded.status, 503);

    gateway.answer = () => new GatewayError("timeout", "every tier timed out");
    const timedOut = await responseError(() =>
      ollama.chat({ model: "fake/model-1", messages: [{ role: "user", content: "Hi" }] }),
    );
    assert.equal(timedOut.status, 504);
  });

  it("ends a stream that fails mid-way with an error line the client throws", async () => {
    gateway.answer = () => ({
      events: textEvents("Partial answer").slice(0, 3),
      thenThrow: new GatewayError("upstream_error", "the upstream connection broke"),
    });
    const parts = await ollama.chat({ model: "fake/model-1", messages: [{ role: "user", content: "Hi" }], stream: true });
    let text = "";
    await assert.rejects(
      (async () => {
        for await (const part of parts) text += part.message.content;
      })(),
      /the upstream connection broke/,
    );
    assert.equal(text, "Parti" + "al an");
  });

  it("ends a stream that stops without finishing with an error line", async () => {
    gateway.answer = () => textEvents("Hello").slice(0, -1);
    const res = await postRaw("/api/chat", { model: "fake/model-1", messages: [{ role: "user", content: "Hi" }] });
    const lines = (await res.text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.equal(typeof lines.at(-1).error, "string");
    assert.ok(!lines.some((l) => l.done === true));
  });

  it("answers bad input with a 400 that names the field", async () => {
    const cases: [unknown, string][] = [
      [{ model: "fake/model-1", messages: "hi" }, "messages"],
      [{ model: "fake/model-1", messages: [{ role: "wizard", content: "x" }] }, "messages[0].role"],
      [{ model: "fake/model-1", messages: [{ role: "user", content: 5 }] }, "messages[0].content"],
      [{ model: "fake/model-1", messages: [{ role: "user", content: "x", images: ["not an image!"] }] }, "messages[0].images[0]"],
      // A PNG's base64 with padding where no group ends: not base64 (Node's decoder would guess at it).
      [
        { model: "fake/model-1", messages: [{ role: "user", content: "x", images: [`${whole(PNG)}AA=`] }] },
        "messages[0].images[0]",
      ],
      [
        { model: "fake/model-1", messages: [{ role: "user", content: "x", images: [Buffer.from("GIF12").toString("base64")] }] },
        "images[0]",
      ],
      [
        { model: "fake/model-1", messages: [{ role: "user", content: "x" }], options: { temperature: "hot" } },
        "options.temperature",
      ],
      [{ model: "fake/model-1", messages: [{ role: "user", content: "x" }], format: "xml" }, "format"],
      [{ model: "", messages: [] }, "model"],
    ];
    for (const [body, field] of cases) {
      const res = await postRaw("/api/chat", body);
      const answer = (await res.json()) as { error: string };
      assert.equal(res.status, 400, `${JSON.stringify(body)} -> ${res.status} ${JSON.stringify(answer)}`);
      assert.equal(typeof answer.error, "string");
      assert.ok(answer.error.includes(field), `'${answer.error}' should name '${field}'`);
    }
    assert.equal(gateway.chats.length, 0);
  });
});

describe("POST /api/generate", () => {
  it("maps system and prompt to a chat and answers with `response`", async () => {
    const res = await ollama.generate({
      model: "fake/model-1",
      prompt: "Why is the sky blue?",
      system: "Be terse.",
      stream: false,
    });
    assert.equal(res.response, "Hello there, friend!");
    assert.equal(res.done, true);
    assert.equal(res.done_reason, "stop");
    assert.equal(res.model, "fake/model-1");
    assert.equal(res.eval_count, 7);
    assert.equal((res as { context?: unknown }).context, undefined);
    assert.deepEqual(lastChat().messages, [
      { role: "system", content: "Be terse." },
      { role: "user", content: [{ type: "text", text: "Why is the sky blue?" }] },
    ]);
  });

  it("streams `response` chunks; raw makes the prompt a raw completion, template and context are accepted", async () => {
    const raw = await ollama.generate({ model: "fake/model-1", prompt: "Hi", raw: true, stream: false });
    assert.equal(raw.response, "Hello there, friend!");
    assert.deepEqual(lastChat().completion, { prompt: "Hi", rawParam: "raw" });
    const parts = await ollama.generate({
      model: "fake/model-1",
      prompt: "Hi",
      images: [PNG],
      template: "{{ .Prompt }}",
      context: [1, 2, 3],
      stream: true,
    });
    let text = "";
    let last: { done: boolean } | undefined;
    for await (const part of parts) {
      text += part.response;
      last = part;
    }
    assert.equal(text, "Hello there, friend!");
    assert.equal(last?.done, true);
    const user = lastChat().messages[0];
    assert.ok(user?.role === "user");
    assert.equal(user.content[1]?.type, "image");
  });

  it("passes a suffix on as fill-in-the-middle (the route decides who can insert) and answers an empty prompt with the load response", async () => {
    await ollama.generate({ model: "fake/model-1", prompt: "def f(", suffix: "return x" });
    assert.deepEqual(lastChat().completion, { prompt: "def f(", suffix: "return x" });
    assert.deepEqual(lastChat().messages, [{ role: "user", content: [{ type: "text", text: "def f(" }] }]);
    // An empty suffix is none, as Ollama reads it: a plain generate.
    await ollama.generate({ model: "fake/model-1", prompt: "Hi", suffix: "" });
    assert.equal(lastChat().completion, undefined);
    gateway.chats.length = 0;

    const load = await ollama.generate({ model: "fake/model-1", prompt: "" });
    assert.equal(load.done_reason, "load");
    assert.equal(load.response, "");
    assert.equal(gateway.chats.length, 0);
  });
});

describe("embeddings", () => {
  const unit = (v: number[]) => {
    const scale = 1 / Math.sqrt(v.reduce((sum, x) => sum + x * x, 0));
    return v.map((x) => x * scale);
  };

  it("POST /api/embed embeds a string or a list", async () => {
    const one = await ollama.embed({ model: "fake/nomic-embed-text", input: "hello", truncate: true, keep_alive: "5m" });
    // The gateway's vectors, scaled to unit length as Ollama's /api/embed answers them.
    assert.deepEqual(one.embeddings, [unit([5, 0.5, -0.25])]);
    assert.equal(one.model, "fake/model-1");
    assert.equal(one.prompt_eval_count, 3);
    assert.ok(one.total_duration > 0);
    // The canonical request, for any target; and the client's own body, for an Ollama upstream.
    const { native, ...canonical } = gateway.embeds.at(-1) ?? { model: "", input: [] };
    assert.deepEqual(canonical, {
      model: "fake/nomic-embed-text",
      input: ["hello"],
      truncate: true,
      keepAliveMs: 300_000,
    });
    assert.equal(native?.wire, "ollama-embed");
    assert.deepEqual(native?.body, { model: "fake/nomic-embed-text", input: "hello", truncate: true, keep_alive: "5m" });

    const many = await ollama.embed({ model: "fake/nomic-embed-text", input: ["a", "bb"], dimensions: 3 });
    assert.deepEqual(many.embeddings, [unit([1, 0.5, -0.25]), unit([2, 0.5, -0.25])]);
    // Ollama truncates unless the request says truncate: false.
    const { native: _native, ...manyCanonical } = gateway.embeds.at(-1) ?? { model: "", input: [] };
    assert.deepEqual(manyCanonical, {
      model: "fake/nomic-embed-text",
      input: ["a", "bb"],
      dimensions: 3,
      truncate: true,
    });
  });

  it("POST /api/embeddings (legacy) returns one embedding, as the model gave it", async () => {
    const res = await ollama.embeddings({ model: "fake/nomic-embed-text", prompt: "hey" });
    assert.deepEqual(res.embedding, [3, 0.5, -0.25]);
  });

  it("rejects bad input and unknown models", async () => {
    const bad = await postRaw("/api/embed", { model: "fake/nomic-embed-text", input: [1, 2] });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /input/);
    const missing = await responseError(() => ollama.embed({ model: "nope/x", input: "a" }));
    assert.equal(missing.status, 404);
  });
});

describe("model endpoints", () => {
  it("GET /api/tags lists targets and routes in Ollama's shape", async () => {
    const { models } = await ollama.list();
    assert.deepEqual(
      models.map((m) => m.name),
      ["fake/model-1", "fake/nomic-embed-text", "auto"],
    );
    const first = models[0];
    assert.ok(first);
    assert.equal(first.model, "fake/model-1");
    assert.equal(first.size, 0);
    assert.match(first.digest, /^[0-9a-f]{64}$/);
    assert.ok(!Number.isNaN(Date.parse(String(first.modified_at))));
    assert.deepEqual(first.details, {
      parent_model: "",
      format: "remote",
      family: "openai",
      families: ["openai"],
      parameter_size: "",
      quantization_level: "",
    });
    assert.equal(String(models[1]?.modified_at), new Date(1730000000 * 1000).toISOString());
    assert.equal(models[2]?.details.family, "route");
  });

  it("POST /api/show describes a model, accepts the legacy `name`, and 404s unknown ones", async () => {
    const show = await ollama.show({ model: "fake/model-1" });
    assert.deepEqual(show.capabilities, ["completion", "tools"]);
    assert.equal(show.details.family, "openai");
    assert.equal((show.model_info as unknown as Record<string, unknown>)["openai.context_length"], 128000);
    assert.match(show.modelfile, /FROM model-1/);

    const legacy = await postRaw("/api/show", { name: "fake/nomic-embed-text" });
    assert.equal(legacy.status, 200);
    assert.deepEqual(((await legacy.json()) as { capabilities: string[] }).capabilities, ["embedding"]);

    const missing = await responseError(() => ollama.show({ model: "nope/x" }));
    assert.equal(missing.status, 404);
    assert.match(missing.message, /nope\/x/);

    const empty = await postRaw("/api/show", {});
    assert.equal(empty.status, 400);
  });

  it("GET /api/ps is empty and GET /api/version reports a compatible version", async () => {
    assert.deepEqual((await ollama.ps()).models, []);
    const { version } = await ollama.version();
    assert.match(version, /^0\.\d+\.\d+$/);
  });
});
