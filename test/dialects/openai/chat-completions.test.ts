import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import OpenAI from "openai";
import { GatewayError } from "../../../src/core/index.js";
import {
  type DialectApp,
  type ScriptedEvent,
  StubGateway,
  ssePayloads,
  startDialectApp,
  TARGET,
  textEvents,
} from "./stub-gateway.js";

/** The first bytes of a PNG file: what the parser reads an image's type from. */
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

let app: DialectApp;
let client: OpenAI;

before(async () => {
  app = await startDialectApp();
  client = new OpenAI({ baseURL: `${app.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
});

after(() => app.close());

beforeEach(() => {
  const fresh = new StubGateway();
  app.gateway.chatRequests.length = 0;
  app.gateway.chatScript = fresh.chatScript;
  app.gateway.meta = fresh.meta;
});

const toolEvents: ScriptedEvent[] = [
  { type: "start" },
  { type: "tool-call-start", index: 0, id: "call_weather1", name: "get_weather" },
  { type: "tool-call-delta", index: 0, argumentsDelta: '{"city":' },
  { type: "tool-call-delta", index: 0, argumentsDelta: '"Paris"}' },
  { type: "tool-call-end", index: 0 },
  { type: "tool-call-start", index: 1, id: "call_time2", name: "get_time" },
  { type: "tool-call-delta", index: 1, argumentsDelta: "{}" },
  { type: "tool-call-end", index: 1 },
  { type: "usage", usage: { inputTokens: 50, outputTokens: 20, cachedInputTokens: 32 } },
  // Some upstreams (Ollama) say "stop" for a tool-calling turn; OpenAI clients need "tool_calls".
  { type: "finish", reason: "stop", raw: "stop" },
];

async function post(path: string, body: unknown): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(app.url + path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    // A string is sent as written (digits JSON.stringify would not write).
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

describe("POST /v1/chat/completions, not streamed", () => {
  it("answers an exact chat.completion object", async () => {
    const { data, response } = await client.chat.completions
      .create({ model: "auto", messages: [{ role: "user", content: "Hi" }] })
      .withResponse();
    assert.match(data.id, /^chatcmpl-/);
    assert.equal(data.object, "chat.completion");
    assert.equal(typeof data.created, "number");
    assert.equal(data.model, TARGET);
    assert.deepEqual(data.choices, [
      {
        index: 0,
        message: { role: "assistant", content: "Hello there!", refusal: null, annotations: [] },
        logprobs: null,
        finish_reason: "stop",
      },
    ]);
    assert.deepEqual(data.usage, {
      prompt_tokens: 11,
      completion_tokens: 4,
      total_tokens: 15,
      prompt_tokens_details: { cached_tokens: 0 },
    });
    assert.equal(response.headers.get("x-tandem-target"), TARGET);
    assert.equal(response.headers.get("x-tandem-attempts"), "1");
  });

  it("maps every request field to the canonical request", async () => {
    const png = Buffer.concat([PNG_SIGNATURE, Buffer.from("fake png bytes")]).toString("base64");
    await client.chat.completions.create({
      model: "auto",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "developer", content: [{ type: "text", text: "Use metric units." }] },
        {
          role: "user",
          name: "alice",
          content: [
            { type: "text", text: "What is this?" },
            { type: "image_url", image_url: { url: `data:image/png;base64,${png}`, detail: "low" } },
            { type: "image_url", image_url: { url: "https://example.com/cat.jpg" } },
          ],
        },
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "call_1", type: "function", function: { name: "lookup", arguments: '{"q":"x"}' } }],
        },
        {
          role: "tool",
          tool_call_id: "call_1",
          content: [
            { type: "text", text: "found " },
            { type: "text", text: "it" },
          ],
        },
        { role: "assistant", content: "It is a cat." },
      ],
      tools: [
        { type: "function", function: { name: "lookup", description: "Search", parameters: { type: "object" }, strict: true } },
        { type: "function", function: { name: "noargs" } },
      ],
      tool_choice: { type: "function", function: { name: "lookup" } },
      parallel_tool_calls: false,
      response_format: { type: "json_schema", json_schema: { name: "answer", schema: { type: "object" }, strict: true } },
      temperature: 0.5,
      top_p: 0.9,
      max_tokens: 50,
      max_completion_tokens: 40,
      stop: "END",
      seed: 7,
      user: "user-42",
      n: 1,
      // @ts-expect-error unknown fields are ignored
      not_a_field: true,
    });
    const sent = app.gateway.chatRequests[0];
    assert.ok(sent);
    // The client's own body rides along (for a same-wire target, and to name what cannot cross).
    const { native, ...request } = sent;
    assert.equal(native?.wire, "openai-chat");
    // A speaker's name has no canonical place: a target on another wire is told of it as left out.
    assert.deepEqual(native?.lost(), ["not_a_field", "messages[].name"]);
    assert.deepEqual(request, {
      model: "auto",
      stream: false,
      messages: [
        { role: "system", content: "Be brief." },
        { role: "system", content: "Use metric units." },
        {
          role: "user",
          content: [
            { type: "text", text: "What is this?" },
            { type: "image", source: { kind: "base64", mediaType: "image/png", data: png }, detail: "low" },
            { type: "image", source: { kind: "url", url: "https://example.com/cat.jpg" } },
          ],
        },
        { role: "assistant", content: [], toolCalls: [{ id: "call_1", name: "lookup", arguments: '{"q":"x"}' }] },
        // Each part a part: a wire whose tool result is one string joins them by a blank line.
        {
          role: "tool",
          toolCallId: "call_1",
          content: [
            { type: "text", text: "found " },
            { type: "text", text: "it" },
          ],
        },
        { role: "assistant", content: [{ type: "text", text: "It is a cat." }] },
      ],
      tools: [
        { name: "lookup", description: "Search", parameters: { type: "object" }, strict: true },
        { name: "noargs", parameters: { type: "object", properties: {} } },
      ],
      toolChoice: { name: "lookup" },
      parallelToolCalls: false,
      responseFormat: { type: "json_schema", schema: { type: "object" }, name: "answer", strict: true, param: "response_format" },
      temperature: 0.5,
      topP: 0.9,
      maxTokens: 40,
      stop: ["END"],
      seed: 7,
      user: "user-42",
    });
  });

  it("answers tool calls with content null and finish_reason tool_calls", async () => {
    app.gateway.chatScript = () => toolEvents;
    const data = await client.chat.completions.create({ model: "auto", messages: [{ role: "user", content: "Weather?" }] });
    const choice = data.choices[0];
    assert.ok(choice);
    assert.equal(choice.finish_reason, "tool_calls");
    assert.equal(choice.message.content, null);
    assert.deepEqual(choice.message.tool_calls, [
      { id: "call_weather1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
      { id: "call_time2", type: "function", function: { name: "get_time", arguments: "{}" } },
    ]);
    assert.equal(data.usage?.prompt_tokens_details?.cached_tokens, 32);
  });

  it("maps length and content_filter finishes", async () => {
    for (const reason of ["length", "content_filter"] as const) {
      app.gateway.chatScript = () => [{ type: "start" }, { type: "text-delta", text: "x" }, { type: "finish", reason }];
      const data = await client.chat.completions.create({ model: "auto", messages: [{ role: "user", content: "Hi" }] });
      assert.equal(data.choices[0]?.finish_reason, reason);
    }
  });
});

describe("POST /v1/chat/completions, streamed", () => {
  it("writes OpenAI's exact chunk sequence with include_usage", async () => {
    app.gateway.chatScript = () => textEvents("Hello world");
    const res = await post("/v1/chat/completions", {
      model: "auto",
      messages: [{ role: "user", content: "Hi" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
    assert.equal(res.headers.get("x-tandem-target"), TARGET);
    const payloads = ssePayloads(res.text);
    assert.equal(payloads.at(-1), "[DONE]");
    const chunks = payloads.slice(0, -1).map((p) => JSON.parse(p));
    const ids = new Set(chunks.map((c) => c.id));
    assert.equal(ids.size, 1);
    assert.match([...ids][0], /^chatcmpl-/);
    for (const chunk of chunks) {
      assert.equal(chunk.object, "chat.completion.chunk");
      assert.equal(chunk.model, TARGET);
    }
    assert.deepEqual(
      chunks.map((c) => [c.choices, c.usage]),
      [
        [[{ index: 0, delta: { role: "assistant", content: "", refusal: null }, logprobs: null, finish_reason: null }], null],
        [[{ index: 0, delta: { content: "Hell" }, logprobs: null, finish_reason: null }], null],
        [[{ index: 0, delta: { content: "o wo" }, logprobs: null, finish_reason: null }], null],
        [[{ index: 0, delta: { content: "rld" }, logprobs: null, finish_reason: null }], null],
        [[{ index: 0, delta: {}, logprobs: null, finish_reason: "stop" }], null],
        [[], { prompt_tokens: 11, completion_tokens: 4, total_tokens: 15, prompt_tokens_details: { cached_tokens: 0 } }],
      ],
    );
  });

  it("has no usage field at all without include_usage", async () => {
    const res = await post("/v1/chat/completions", { model: "auto", messages: [{ role: "user", content: "Hi" }], stream: true });
    const chunks = ssePayloads(res.text)
      .slice(0, -1)
      .map((p) => JSON.parse(p));
    assert.ok(chunks.length >= 3);
    for (const chunk of chunks) assert.equal("usage" in chunk, false);
    assert.equal(chunks.at(-1).choices[0].finish_reason, "stop");
  });

  it("streams text through the SDK", async () => {
    app.gateway.chatScript = () => textEvents("The quick brown fox.");
    const stream = await client.chat.completions.create({
      model: "auto",
      messages: [{ role: "user", content: "Hi" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let usage: OpenAI.CompletionUsage | null | undefined;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(text, "The quick brown fox.");
    assert.equal(finish, "stop");
    assert.equal(usage?.total_tokens, 15);
  });

  it("streams tool calls that the SDK's stream helper assembles", async () => {
    app.gateway.chatScript = () => toolEvents;
    const stream = client.chat.completions.stream({
      model: "auto",
      messages: [{ role: "user", content: "Weather?" }],
      tools: [{ type: "function", function: { name: "get_weather", parameters: { type: "object" } } }],
    });
    const final = await stream.finalChatCompletion();
    const choice = final.choices[0];
    assert.equal(choice?.finish_reason, "tool_calls");
    assert.deepEqual(
      choice?.message.tool_calls?.map((c) => (c.type === "function" ? [c.id, c.function.name, c.function.arguments] : [])),
      [
        ["call_weather1", "get_weather", '{"city":"Paris"}'],
        ["call_time2", "get_time", "{}"],
      ],
    );
  });

  it("puts the role and content null on the first tool-call chunk, like OpenAI", async () => {
    app.gateway.chatScript = () => toolEvents;
    const res = await post("/v1/chat/completions", { model: "auto", messages: [{ role: "user", content: "Hi" }], stream: true });
    const chunks = ssePayloads(res.text)
      .slice(0, -1)
      .map((p) => JSON.parse(p));
    assert.deepEqual(chunks[0].choices[0].delta, {
      role: "assistant",
      content: null,
      tool_calls: [{ index: 0, id: "call_weather1", type: "function", function: { name: "get_weather", arguments: "" } }],
      refusal: null,
    });
    assert.deepEqual(chunks[1].choices[0].delta, { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] });
    assert.deepEqual(chunks.at(-1).choices[0], { index: 0, delta: {}, logprobs: null, finish_reason: "tool_calls" });
  });

  it("ends a failed stream with an error chunk and no [DONE]; the SDK throws APIError", async () => {
    app.gateway.chatScript = () => [
      { type: "start" },
      { type: "text-delta", text: "partial" },
      { type: "throw", error: new GatewayError("upstream_error", "upstream broke off") },
    ];
    const res = await post("/v1/chat/completions", { model: "auto", messages: [{ role: "user", content: "Hi" }], stream: true });
    const payloads = ssePayloads(res.text);
    assert.notEqual(payloads.at(-1), "[DONE]");
    assert.deepEqual(JSON.parse(payloads.at(-1) ?? ""), {
      error: { message: "upstream broke off", type: "server_error", param: null, code: "upstream_error" },
    });

    const stream = await client.chat.completions.create({
      model: "auto",
      messages: [{ role: "user", content: "Hi" }],
      stream: true,
    });
    let text = "";
    await assert.rejects(
      async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
      },
      (err: unknown) => err instanceof OpenAI.APIError && err.message.includes("upstream broke off"),
    );
    assert.equal(text, "partial");
  });
});

describe("errors before the answer starts", () => {
  const cases: [GatewayError, new (...args: never[]) => InstanceType<typeof OpenAI.APIError>, number, string | null][] = [
    [new GatewayError("not_found", "The model 'nope' does not exist"), OpenAI.NotFoundError, 404, "model_not_found"],
    [new GatewayError("authentication", "Invalid API key"), OpenAI.AuthenticationError, 401, "invalid_api_key"],
    [new GatewayError("rate_limited", "Slow down", { retryAfterMs: 2500 }), OpenAI.RateLimitError, 429, "rate_limit_exceeded"],
    [new GatewayError("overloaded", "Busy", { status: 529 }), OpenAI.InternalServerError, 503, "server_is_overloaded"],
    [new GatewayError("timeout", "All tiers timed out"), OpenAI.InternalServerError, 504, "timeout"],
    [new GatewayError("internal", "Oops"), OpenAI.InternalServerError, 500, null],
  ];
  for (const [error, ErrorClass, status, code] of cases) {
    it(`${error.code} -> ${status} ${ErrorClass.name}`, async () => {
      app.gateway.chatScript = () => error;
      await assert.rejects(
        client.chat.completions.create({ model: "auto", messages: [{ role: "user", content: "Hi" }] }),
        (err: unknown) => {
          assert.ok(err instanceof ErrorClass, String(err));
          assert.equal(err.status, status);
          assert.equal(err.code, code);
          assert.equal((err.error as { message?: string }).message, error.message);
          return true;
        },
      );
    });
  }

  it("passes Retry-After on a 429", async () => {
    app.gateway.chatScript = () => new GatewayError("rate_limited", "Slow down", { retryAfterMs: 2500 });
    const res = await post("/v1/chat/completions", { model: "auto", messages: [{ role: "user", content: "Hi" }] });
    assert.equal(res.status, 429);
    assert.equal(res.headers.get("retry-after"), "3");
    assert.equal(res.headers.get("retry-after-ms"), "2500");
    assert.deepEqual(JSON.parse(res.text), {
      error: { message: "Slow down", type: "requests", param: null, code: "rate_limit_exceeded" },
    });
  });
});

describe("bad input -> 400 naming the field", () => {
  const base = { model: "auto", messages: [{ role: "user", content: "Hi" }] };
  const cases: [string, Record<string, unknown>, string][] = [
    ["temperature above 2", { ...base, temperature: 2.5 }, "temperature"],
    ["temperature below 0", { ...base, temperature: -0.1 }, "temperature"],
    ["top_p above 1", { ...base, top_p: 1.5 }, "top_p"],
    ["n not an integer", { ...base, n: 1.5 }, "n"],
    ["max_tokens not an integer", { ...base, max_tokens: 1.5 }, "max_tokens"],
    ["missing model", { messages: base.messages }, "model"],
    ["empty messages", { ...base, messages: [] }, "messages"],
    ["unknown role", { ...base, messages: [{ role: "wizard", content: "x" }] }, "messages[0].role"],
    ["user content a number", { ...base, messages: [{ role: "user", content: 7 }] }, "messages[0].content"],
    [
      "audio part without its audio",
      { ...base, messages: [{ role: "user", content: [{ type: "input_audio" }] }] },
      "messages[0].content[0].input_audio",
    ],
    [
      "image not a URL",
      { ...base, messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "file:///etc/passwd" } }] }] },
      "messages[0].content[0].image_url.url",
    ],
    // The deprecated functions API is taken, but mixed with tools as OpenAI refuses it (see "legacy functions" below).
    [
      "legacy functions beside tools",
      { ...base, functions: [{ name: "f" }], tools: [{ type: "function", function: { name: "g" } }] },
      "functions",
    ],
    ["a named legacy function_call without functions", { ...base, function_call: { name: "f" } }, "function_call"],
    [
      "a legacy function_call naming no function given",
      { ...base, functions: [{ name: "g" }], function_call: { name: "f" } },
      "function_call.name",
    ],
    ["a legacy function without a name", { ...base, functions: [{ parameters: {} }] }, "functions[0].name"],
    ["a function message without its name", { ...base, messages: [{ role: "function", content: "x" }] }, "messages[0].name"],
    ["tool without function", { ...base, tools: [{ type: "function" }] }, "tools[0].function"],
    ["bad tool_choice", { ...base, tool_choice: "sometimes" }, "tool_choice"],
    ["tool_choice required with no tools", { ...base, tool_choice: "required" }, "tool_choice"],
    ["a named tool_choice with no tools", { ...base, tool_choice: { type: "function", function: { name: "f" } } }, "tool_choice"],
    [
      "a named tool_choice that is not in tools",
      {
        ...base,
        tools: [{ type: "function", function: { name: "g" } }],
        tool_choice: { type: "function", function: { name: "f" } },
      },
      "tool_choice.function.name",
    ],
    ["custom tool without a name", { ...base, tools: [{ type: "custom", custom: {} }] }, "tools[0].custom.name"],
    ["reasoning_effort unknown", { ...base, reasoning_effort: "extreme" }, "reasoning_effort"],
    ["bad response_format", { ...base, response_format: { type: "xml" } }, "response_format.type"],
    ["too many stop sequences", { ...base, stop: ["a", "b", "c", "d", "e"] }, "stop"],
    [
      "a response format's name OpenAI refuses",
      { ...base, response_format: { type: "json_schema", json_schema: { name: "Outputs v4.1", schema: {} } } },
      "response_format.json_schema.name",
    ],
    [
      "a response format's name over 64 characters",
      { ...base, response_format: { type: "json_schema", json_schema: { name: "n".repeat(65), schema: {} } } },
      "response_format.json_schema.name",
    ],
    ["stream not a boolean", { ...base, stream: "yes" }, "stream"],
    ["seed not whole", { ...base, seed: 1.5 }, "seed"],
  ];
  for (const [label, body, param] of cases) {
    it(label, async () => {
      const res = await post("/v1/chat/completions", body);
      assert.equal(res.status, 400, res.text);
      const error = JSON.parse(res.text).error;
      assert.equal(error.type, "invalid_request_error");
      assert.equal(error.param, param, res.text);
      assert.ok(error.message.includes(param.split(".")[0]?.split("[")[0] ?? ""), error.message);
    });
  }

  it("takes a seed past 2^53, as OpenAI types it (int64) and Python and Go clients send it", async () => {
    const res = await post(
      "/v1/chat/completions",
      `{"model":"auto","messages":[{"role":"user","content":"hi"}],"seed":12345678901234567890}`,
    );
    assert.equal(res.status, 200, res.text);
    // JavaScript holds it to the nearest double.
    assert.equal(app.gateway.chatRequests.at(-1)?.seed, Number("12345678901234567890"));
    const negative = await post(
      "/v1/chat/completions",
      `{"model":"auto","messages":[{"role":"user","content":"hi"}],"seed":-9007199254740993}`,
    );
    assert.equal(negative.status, 200, negative.text);
  });

  it("takes tool_choice auto or none with no tools: they ask nothing a target could fail", async () => {
    for (const choice of ["auto", "none"]) {
      const res = await post("/v1/chat/completions", { ...base, tool_choice: choice });
      assert.equal(res.status, 200, res.text);
    }
  });

  it("reaches the SDK as BadRequestError with the param", async () => {
    await assert.rejects(
      client.chat.completions.create({ model: "auto", messages: [{ role: "user", content: "Hi" }], temperature: 3 }),
      (err: unknown) => err instanceof OpenAI.BadRequestError && err.status === 400 && err.param === "temperature",
    );
    assert.equal(app.gateway.chatRequests.length, 0);
  });
});

describe("legacy functions (the deprecated functions API, as OpenAI still takes it)", () => {
  const FUNCTIONS = [
    { name: "get_weather", description: "Weather", parameters: { type: "object", properties: { city: { type: "string" } } } },
    { name: "get_time" },
  ];
  /** A conversation with two legacy rounds: a call of get_weather and its result, then one of get_time and its result. */
  const HISTORY: OpenAI.ChatCompletionMessageParam[] = [
    { role: "user", content: "Weather and time in Paris?" },
    { role: "assistant", content: null, function_call: { name: "get_weather", arguments: '{"city":"Paris"}' } },
    { role: "function", name: "get_weather", content: "sunny, 24C" },
    { role: "assistant", content: "Now the time.", function_call: { name: "get_time", arguments: "{}" } },
    { role: "function", name: "get_time", content: "15:00" },
  ];

  it("reads functions, function_call and the legacy turns as canonical tools, choice, calls and results", async () => {
    await client.chat.completions.create({
      model: "auto",
      messages: HISTORY,
      functions: FUNCTIONS,
      function_call: { name: "get_weather" },
    });
    const sent = app.gateway.chatRequests[0];
    assert.ok(sent);
    assert.deepEqual(sent.tools, [
      { name: "get_weather", description: "Weather", parameters: FUNCTIONS[0]?.parameters },
      { name: "get_time", parameters: { type: "object", properties: {} } },
    ]);
    assert.deepEqual(sent.toolChoice, { name: "get_weather" });
    // The legacy answer holds one call: targets are asked for one.
    assert.equal(sent.parallelToolCalls, false);
    assert.deepEqual(sent.messages.slice(1), [
      {
        role: "assistant",
        content: [],
        toolCalls: [{ id: "call_fn_1", name: "get_weather", arguments: '{"city":"Paris"}' }],
      },
      { role: "tool", toolCallId: "call_fn_1", name: "get_weather", content: [{ type: "text", text: "sunny, 24C" }] },
      {
        role: "assistant",
        content: [{ type: "text", text: "Now the time." }],
        toolCalls: [{ id: "call_fn_3", name: "get_time", arguments: "{}" }],
      },
      { role: "tool", toolCallId: "call_fn_3", name: "get_time", content: [{ type: "text", text: "15:00" }] },
    ]);
    // Carried: nothing for x-tandem-warnings.
    assert.deepEqual(sent.native?.lost(), []);

    for (const [choice, expected] of [
      ["auto", "auto"],
      ["none", "none"],
    ] as const) {
      await client.chat.completions.create({ model: "auto", messages: HISTORY, functions: FUNCTIONS, function_call: choice });
      assert.equal(app.gateway.chatRequests.at(-1)?.toolChoice, expected);
    }
  });

  it("pairs a function message with the unanswered call of its name, and a result of no call gets an id of its own", async () => {
    await client.chat.completions.create({
      model: "auto",
      functions: FUNCTIONS,
      messages: [
        { role: "user", content: "hi" },
        { role: "function", name: "get_time", content: "no call made this" },
        { role: "assistant", content: null, function_call: { name: "get_weather", arguments: "{}" } },
        { role: "assistant", content: null, function_call: { name: "get_time", arguments: "{}" } },
        { role: "function", name: "get_time", content: "15:00" },
        { role: "function", name: "get_weather", content: null },
      ],
    });
    const ids = app.gateway.chatRequests[0]?.messages.map((m) =>
      m.role === "tool" ? `result ${m.toolCallId}` : m.role === "assistant" ? `call ${m.toolCalls?.[0]?.id}` : m.role,
    );
    assert.deepEqual(ids, [
      "user",
      "result call_fn_1",
      "call call_fn_2",
      "call call_fn_3",
      "result call_fn_3",
      "result call_fn_2",
    ]);
  });

  it("refuses, as OpenAI does, functions beside tools and tool_calls in the history of a request with functions", async () => {
    const mixed = await post("/v1/chat/completions", {
      model: "auto",
      messages: [{ role: "user", content: "hi" }],
      functions: FUNCTIONS,
      tools: [{ type: "function", function: { name: "get_time" } }],
    });
    assert.equal(mixed.status, 400);
    assert.match(JSON.parse(mixed.text).error.message, /'functions' and 'tools' cannot both be provided/);
    const history = await post("/v1/chat/completions", {
      model: "auto",
      functions: FUNCTIONS,
      messages: [
        { role: "user", content: "hi" },
        { role: "assistant", tool_calls: [{ id: "call_1", type: "function", function: { name: "get_time", arguments: "{}" } }] },
        { role: "tool", tool_call_id: "call_1", content: "15:00" },
      ],
    });
    assert.equal(history.status, 400);
    const error = JSON.parse(history.text).error;
    assert.equal(error.param, "messages[1].tool_calls");
    assert.match(error.message, /'tool_calls' cannot be used when 'functions' are present/);
    assert.equal(app.gateway.chatRequests.length, 0);
  });

  it("answers the first call as message.function_call with finish_reason function_call, naming the others", async () => {
    app.gateway.chatScript = () => toolEvents;
    const { data, response } = await client.chat.completions
      .create({ model: "auto", messages: [{ role: "user", content: "Weather?" }], functions: FUNCTIONS })
      .withResponse();
    assert.deepEqual(data.choices[0], {
      index: 0,
      message: {
        role: "assistant",
        content: null,
        refusal: null,
        annotations: [],
        function_call: { name: "get_weather", arguments: '{"city":"Paris"}' },
      },
      logprobs: null,
      finish_reason: "function_call",
    });
    assert.match(response.headers.get("x-tandem-warnings") ?? "", /function calls after the first .*not carried.*: get_time/);
  });

  it("streams the first call as delta.function_call pieces, never tool_calls, and names the others in the closing comment", async () => {
    app.gateway.chatScript = () => toolEvents;
    const res = await fetch(`${app.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "auto",
        messages: [{ role: "user", content: "Weather?" }],
        functions: FUNCTIONS,
        stream: true,
      }),
    });
    const text = await res.text();
    assert.equal(text.includes("tool_calls"), false, text);
    assert.match(text, /: .*function calls after the first .*: get_time/);
    // The closing comment is no data frame.
    const frames = text.split("\n\n").filter((frame) => !frame.startsWith(":"));
    const chunks = ssePayloads(frames.join("\n\n"))
      .filter((p) => p !== "[DONE]")
      .map((p) => JSON.parse(p) as OpenAI.ChatCompletionChunk);
    const deltas = chunks.map((c) => c.choices[0]?.delta);
    assert.deepEqual(deltas[0], {
      role: "assistant",
      content: null,
      function_call: { name: "get_weather", arguments: "" },
      refusal: null,
    });
    assert.equal(deltas.map((d) => d?.function_call?.arguments ?? "").join(""), '{"city":"Paris"}');
    assert.equal(chunks.at(-1)?.choices[0]?.finish_reason, "function_call");

    // The SDK's stream helper puts it together as a legacy call.
    app.gateway.chatScript = () => toolEvents;
    const final = await client.chat.completions
      .stream({ model: "auto", messages: [{ role: "user", content: "Weather?" }], functions: FUNCTIONS })
      .finalChatCompletion();
    assert.deepEqual(final.choices[0]?.message.function_call, { name: "get_weather", arguments: '{"city":"Paris"}' });
    assert.equal(final.choices[0]?.finish_reason, "function_call");
  });
});
