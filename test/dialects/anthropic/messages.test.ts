import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import { GatewayError, type StreamEvent } from "../../../src/core/index.js";
import { META, type StubApp, startStubApp } from "./stub-app.js";

let stub: StubApp;
let client: Anthropic;

before(async () => {
  stub = await startStubApp();
  client = new Anthropic({ baseURL: stub.url, apiKey: "test-key", maxRetries: 0 });
});

after(() => stub.close());

const fixture = (name: string) => new URL(`../../fixtures/anthropic/${name}`, import.meta.url);

function textEvents(text: string[], finish: StreamEvent = { type: "finish", reason: "stop", raw: "stop" }): StreamEvent[] {
  return [
    { type: "start", id: "chatcmpl-abc", model: "upstream-model" },
    { type: "usage", usage: { inputTokens: 12, cachedInputTokens: 2 } },
    ...text.map((t): StreamEvent => ({ type: "text-delta", text: t })),
    { type: "usage", usage: { outputTokens: 5 } },
    finish,
  ];
}

function toolEvents(args: string[], text?: string): StreamEvent[] {
  const out: StreamEvent[] = [{ type: "start" }, { type: "usage", usage: { inputTokens: 30 } }];
  if (text) out.push({ type: "text-delta", text });
  out.push({ type: "tool-call-start", index: 0, id: "call_123", name: "get_weather" });
  for (const a of args) out.push({ type: "tool-call-delta", index: 0, argumentsDelta: a });
  out.push({ type: "tool-call-end", index: 0 });
  out.push({ type: "usage", usage: { outputTokens: 9 } });
  out.push({ type: "finish", reason: "tool_calls", raw: "tool_calls" });
  return out;
}

/** A Message's whole usage object as Anthropic sends it (every counter, 0 when nothing was cached). */
function anthropicUsage(counts: { input: number; cacheRead?: number; output: number }): Record<string, unknown> {
  return {
    input_tokens: counts.input,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: counts.cacheRead ?? 0,
    cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
    output_tokens: counts.output,
    inference_geo: "not_available",
    output_tokens_details: { thinking_tokens: 0 },
    server_tool_use: null,
    service_tier: "standard",
    speed: "standard",
  };
}

/** The raw SSE of a streamed request, as (event name, parsed data) pairs. */
async function rawStream(body: Record<string, unknown>): Promise<{ event: string; data: Record<string, unknown> }[]> {
  const res = await fetch(`${stub.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", "x-api-key": "k" },
    body: JSON.stringify({ model: "m", max_tokens: 10, messages: [{ role: "user", content: "Hi" }], stream: true, ...body }),
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
  const text = await res.text();
  assert.ok(text.endsWith("\n\n"), "every frame ends with a blank line");
  return text
    .trim()
    .split("\n\n")
    .map((frame) => {
      const match = /^event: (\S+)\ndata: (.*)$/s.exec(frame);
      assert.ok(match, `frame in Anthropic's form: ${JSON.stringify(frame)}`);
      return { event: match[1]!, data: JSON.parse(match[2]!) as Record<string, unknown> };
    });
}

async function postRaw(
  body: unknown,
  path = "/v1/messages",
): Promise<{ status: number; body: { type: string; error: { type: string; message: string } } }> {
  const res = await fetch(`${stub.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { type: string; error: { type: string; message: string } } };
}

describe("POST /v1/messages, not streamed", () => {
  it("answers with Anthropic's Message object and maps the request", async () => {
    stub.script({ events: textEvents(["Hello", " world"]) });
    // Sampling settings are gone from the newest SDK's types but older clients still send them.
    const params = {
      model: "claude/claude-test",
      max_tokens: 100,
      system: [
        { type: "text", text: "Be brief.", cache_control: { type: "ephemeral" } },
        { type: "text", text: "Be kind." },
      ],
      messages: [{ role: "user", content: "Hi" }],
      temperature: 0.2,
      top_p: 0.9,
      top_k: 40,
      stop_sequences: ["END"],
      metadata: { user_id: "user-7" },
    } as Anthropic.MessageCreateParamsNonStreaming;
    const { data, response } = await client.messages.create(params).withResponse();
    assert.match(data.id, /^msg_/);
    assert.equal(data.type, "message");
    assert.equal(data.role, "assistant");
    assert.equal(data.model, META.target);
    assert.deepEqual(data.content, [{ type: "text", text: "Hello world", citations: null }]);
    assert.equal(data.stop_reason, "end_turn");
    assert.equal(data.stop_sequence, null);
    // Anthropic's input_tokens excludes cache reads; canonical input counts the whole prompt.
    assert.deepEqual(data.usage, anthropicUsage({ input: 10, cacheRead: 2, output: 5 }));
    assert.equal(response.headers.get("x-tandem-target"), META.target);

    const chat = stub.chats.at(-1)!;
    assert.equal(chat.model, "claude/claude-test");
    assert.equal(chat.stream, false);
    assert.equal(chat.maxTokens, 100);
    assert.deepEqual(chat.messages, [
      { role: "system", content: "Be brief.\n\nBe kind." },
      { role: "user", content: [{ type: "text", text: "Hi" }] },
    ]);
    assert.equal(chat.temperature, 0.2);
    assert.equal(chat.topP, 0.9);
    assert.equal(chat.topK, 40);
    assert.deepEqual(chat.stop, ["END"]);
    assert.equal(chat.user, "user-7");
  });

  it("has the same top-level fields as the API reference's Message", async () => {
    stub.script({ events: textEvents(["Hi"]) });
    const res = await fetch(`${stub.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "m", max_tokens: 5, messages: [{ role: "user", content: "Hi" }] }),
    });
    const body = (await res.json()) as Record<string, unknown>;
    const reference = JSON.parse(readFileSync(fixture("message.json"), "utf8")) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), Object.keys(reference).sort());
    const usageKeys = (message: Record<string, unknown>) => Object.keys(message.usage as object).sort();
    assert.deepEqual(usageKeys(body), usageKeys(reference));
  });

  it("renders tool calls as tool_use blocks with parsed input and stop_reason tool_use", async () => {
    stub.script({ events: toolEvents(['{"city"', ': "Paris"}'], "Let me check.") });
    const message = await client.messages.create({
      model: "m",
      max_tokens: 100,
      messages: [{ role: "user", content: "Weather in Paris?" }],
      tools: [{ name: "get_weather", input_schema: { type: "object", properties: { city: { type: "string" } } } }],
    });
    assert.deepEqual(message.content, [
      { type: "text", text: "Let me check.", citations: null },
      { type: "tool_use", id: "toolu_call_123", name: "get_weather", input: { city: "Paris" }, caller: { type: "direct" } },
    ]);
    assert.equal(message.stop_reason, "tool_use");
    assert.equal(message.usage.output_tokens, 9);
  });

  it("keeps interleaved reasoning in place: a whole message's blocks in the order the stream has them", async () => {
    // An OpenAI-compatible upstream's reasoning_content (DeepSeek, vLLM) between pieces of its answer.
    const events: StreamEvent[] = [
      { type: "start" },
      { type: "reasoning-delta", text: "First, " },
      { type: "reasoning-delta", text: "look." },
      { type: "text-delta", text: "Looking." },
      { type: "reasoning-delta", text: "Then answer." },
      { type: "text-delta", text: "Sunny." },
      { type: "tool-call-start", index: 0, id: "call_9", name: "get_weather" },
      { type: "tool-call-delta", index: 0, argumentsDelta: '{"city":"Paris"}' },
      { type: "tool-call-end", index: 0 },
      { type: "finish", reason: "tool_calls", raw: "tool_calls" },
    ];
    const plain = { model: "m", max_tokens: 2000, messages: [{ role: "user" as const, content: "Weather?" }] };
    const params = { ...plain, thinking: { type: "enabled" as const, budget_tokens: 1024 } };
    stub.script({ events });
    const whole = await client.messages.create(params);
    assert.deepEqual(whole.content, [
      { type: "thinking", thinking: "First, look.", signature: "" },
      { type: "text", text: "Looking.", citations: null },
      { type: "thinking", thinking: "Then answer.", signature: "" },
      { type: "text", text: "Sunny.", citations: null },
      { type: "tool_use", id: "toolu_call_9", name: "get_weather", input: { city: "Paris" }, caller: { type: "direct" } },
    ]);
    stub.script({ events });
    const streamed = await client.messages.stream(params).finalMessage();
    assert.deepEqual(streamed.content, whole.content);
    // Thinking not shown: the text on either side of it is one block, as streamed.
    stub.script({ events });
    const hidden = await client.messages.create(plain);
    assert.deepEqual(
      hidden.content.map((block) => (block.type === "text" ? block.text : block.type)),
      ["Looking.Sunny.", "tool_use"],
    );
  });

  it("turns tool arguments that are not a JSON object into input {}", async () => {
    for (const args of [['{"city": "Par'], ["[1, 2]"], [""]]) {
      stub.script({ events: toolEvents(args) });
      const message = await client.messages.create({ model: "m", max_tokens: 10, messages: [{ role: "user", content: "x" }] });
      const block = message.content[0];
      assert.ok(block?.type === "tool_use");
      assert.deepEqual(block.input, {}, `arguments ${JSON.stringify(args)}`);
    }
  });

  it("maps finish reasons to stop_reason and stop_sequence", async () => {
    const cases: [StreamEvent, string, string | null][] = [
      [{ type: "finish", reason: "stop", raw: "stop", stopSequence: "END" }, "stop_sequence", "END"],
      [{ type: "finish", reason: "stop", raw: "end_turn" }, "end_turn", null],
      [{ type: "finish", reason: "length", raw: "length" }, "max_tokens", null],
      [{ type: "finish", reason: "content_filter", raw: "content_filter" }, "refusal", null],
      [{ type: "finish", reason: "other", raw: "pause_turn" }, "pause_turn", null],
      [{ type: "finish", reason: "length", raw: "model_context_window_exceeded" }, "model_context_window_exceeded", null],
    ];
    for (const [finish, stopReason, stopSequence] of cases) {
      stub.script({ events: textEvents(["x"], finish) });
      const message = await client.messages.create({ model: "m", max_tokens: 10, messages: [{ role: "user", content: "x" }] });
      assert.equal(message.stop_reason, stopReason, JSON.stringify(finish));
      assert.equal(message.stop_sequence, stopSequence);
    }
  });
});

describe("POST /v1/messages, streamed", () => {
  it("streams text the SDK assembles into the final message", async () => {
    stub.script({ events: textEvents(["Hel", "lo", " there"]) });
    const stream = client.messages.stream({ model: "m", max_tokens: 50, messages: [{ role: "user", content: "Hi" }] });
    const deltas: string[] = [];
    stream.on("text", (t) => deltas.push(t));
    let startUsage: number | undefined;
    stream.on("streamEvent", (event) => {
      if (event.type === "message_start") startUsage = event.message.usage.input_tokens;
    });
    const final = await stream.finalMessage();
    assert.deepEqual(deltas, ["Hel", "lo", " there"]);
    assert.equal(startUsage, 10, "message_start carries the input tokens known so far");
    assert.deepEqual(final.content, [{ type: "text", text: "Hello there", citations: null }]);
    assert.equal(final.model, META.target);
    assert.equal(final.stop_reason, "end_turn");
    assert.equal(final.usage.output_tokens, 5);
    assert.equal(final.usage.input_tokens, 10);
    assert.equal(stub.chats.at(-1)?.stream, true);
  });

  it("writes Anthropic's exact event sequence and framing", async () => {
    stub.script({ events: toolEvents(['{"city":', '"Paris"}'], "Checking.") });
    const frames = await rawStream({});
    assert.deepEqual(
      frames.map((f) => f.event),
      [
        "message_start",
        "ping",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
      ],
    );
    for (const f of frames) assert.equal(f.data.type, f.event, "data.type repeats the event name");
    const start = frames[0]!.data.message as Record<string, unknown>;
    assert.deepEqual(start.content, []);
    assert.equal(start.stop_reason, null);
    assert.equal(start.model, META.target);
    assert.equal(start.stop_details, null);
    assert.equal(start.container, null);
    assert.equal(start.diagnostics, null);
    assert.deepEqual(start.usage, anthropicUsage({ input: 30, output: 0 }));
    assert.deepEqual(frames[2]!.data, {
      type: "content_block_start",
      index: 0,
      content_block: { type: "text", text: "", citations: null },
    });
    assert.deepEqual(frames[3]!.data, {
      type: "content_block_delta",
      index: 0,
      delta: { type: "text_delta", text: "Checking." },
    });
    assert.deepEqual(frames[5]!.data, {
      type: "content_block_start",
      index: 1,
      content_block: { type: "tool_use", id: "toolu_call_123", name: "get_weather", input: {}, caller: { type: "direct" } },
    });
    assert.deepEqual(frames[6]!.data, {
      type: "content_block_delta",
      index: 1,
      delta: { type: "input_json_delta", partial_json: '{"city":"Paris"}' },
    });
    assert.deepEqual(frames[8]!.data, {
      type: "message_delta",
      delta: { stop_reason: "tool_use", stop_sequence: null, stop_details: null, container: null },
      usage: {
        input_tokens: 30,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        output_tokens: 9,
        output_tokens_details: { thinking_tokens: 0 },
        server_tool_use: null,
      },
    });
  });

  it("streams with create({stream: true}) and tool_use blocks parse in finalMessage", async () => {
    stub.script({ events: toolEvents(['{"ci', 'ty": "Pa', 'ris"}']) });
    const stream = await client.messages.create({
      model: "m",
      max_tokens: 50,
      messages: [{ role: "user", content: "Weather?" }],
      stream: true,
    });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    assert.equal(types[0], "message_start");
    assert.equal(types.at(-1), "message_stop");

    stub.script({ events: toolEvents(['{"ci', 'ty": "Pa', 'ris"}']) });
    const final = await client.messages
      .stream({ model: "m", max_tokens: 50, messages: [{ role: "user", content: "W?" }] })
      .finalMessage();
    assert.deepEqual(final.content, [
      { type: "tool_use", id: "toolu_call_123", name: "get_weather", input: { city: "Paris" }, caller: { type: "direct" } },
    ]);
    assert.equal(final.stop_reason, "tool_use");
  });

  it("sends broken tool arguments as {} so the SDK does not throw", async () => {
    stub.script({ events: toolEvents(['{"city": "Par']) });
    const final = await client.messages
      .stream({ model: "m", max_tokens: 50, messages: [{ role: "user", content: "W?" }] })
      .finalMessage();
    const block = final.content[0];
    assert.ok(block?.type === "tool_use");
    assert.deepEqual(block.input, {});
  });

  it("closes the open block when a second tool call starts", async () => {
    stub.script({
      events: [
        { type: "start" },
        { type: "tool-call-start", index: 0, id: "call_a", name: "a" },
        { type: "tool-call-delta", index: 0, argumentsDelta: '{"x":1}' },
        { type: "tool-call-start", index: 1, id: "call_b", name: "b" },
        { type: "tool-call-delta", index: 1, argumentsDelta: '{"y":2}' },
        { type: "tool-call-end", index: 0 },
        { type: "tool-call-end", index: 1 },
        { type: "finish", reason: "tool_calls" },
      ],
    });
    const final = await client.messages
      .stream({ model: "m", max_tokens: 50, messages: [{ role: "user", content: "W?" }] })
      .finalMessage();
    assert.deepEqual(final.content, [
      { type: "tool_use", id: "toolu_call_a", name: "a", input: { x: 1 }, caller: { type: "direct" } },
      { type: "tool_use", id: "toolu_call_b", name: "b", input: { y: 2 }, caller: { type: "direct" } },
    ]);
  });

  it("reports a failure after the first event as an error event, without message_stop", async () => {
    stub.script({
      events: [{ type: "start" }, { type: "text-delta", text: "Part" }],
      failAfter: new GatewayError("overloaded", "Every target is overloaded"),
    });
    const frames = await rawStream({});
    const last = frames.at(-1)!;
    assert.equal(last.event, "error");
    // With the request's id, as Anthropic's stream errors carry theirs.
    assert.deepEqual(last.data, {
      type: "error",
      error: { type: "overloaded_error", message: "Every target is overloaded" },
      request_id: last.data.request_id,
    });
    assert.equal(typeof last.data.request_id, "string");
    assert.ok(!frames.some((f) => f.event === "message_stop"));

    stub.script({
      events: [{ type: "start" }, { type: "text-delta", text: "Part" }],
      failAfter: new GatewayError("overloaded", "Every target is overloaded"),
    });
    const stream = client.messages.stream({ model: "m", max_tokens: 50, messages: [{ role: "user", content: "Hi" }] });
    await assert.rejects(stream.finalMessage(), (err: unknown) => {
      assert.ok(err instanceof Anthropic.APIError);
      assert.equal(err.type, "overloaded_error");
      return true;
    });
  });

  it("never ends silently: a stream without finish ends in an error event", async () => {
    stub.script({ events: [{ type: "start" }, { type: "text-delta", text: "cut" }] });
    const frames = await rawStream({});
    assert.equal(frames.at(-1)?.event, "error");
    assert.ok(!frames.some((f) => f.event === "message_stop"));
  });
});

describe("tool history in the request", () => {
  it("maps tools, tool_choice and tool_use/tool_result history to canonical", async () => {
    stub.script({ events: textEvents(["ok"]) });
    await client.messages.create({
      model: "m",
      max_tokens: 100,
      tools: [
        {
          name: "get_weather",
          description: "Weather",
          input_schema: { type: "object", properties: { city: { type: "string" } } },
        },
        { type: "custom", name: "noop", input_schema: { type: "object" } },
      ],
      tool_choice: { type: "tool", name: "get_weather", disable_parallel_tool_use: true },
      messages: [
        { role: "user", content: [{ type: "text", text: "Weather?" }] },
        {
          role: "assistant",
          content: [
            { type: "thinking", thinking: "hmm", signature: "sig" },
            { type: "text", text: "Checking." },
            { type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris" } },
            { type: "tool_use", id: "toolu_2", name: "get_weather", input: { city: "Rome" } },
          ],
        },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "toolu_1", content: "21C" },
            {
              type: "tool_result",
              tool_use_id: "toolu_2",
              is_error: true,
              content: [
                { type: "text", text: "failed" },
                { type: "image", source: { type: "url", url: "https://example.com/x.png" } },
              ],
            },
            { type: "text", text: "And tomorrow?" },
            { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
          ],
        },
      ],
    });
    const chat = stub.chats.at(-1)!;
    assert.deepEqual(chat.tools, [
      { name: "get_weather", description: "Weather", parameters: { type: "object", properties: { city: { type: "string" } } } },
      { name: "noop", parameters: { type: "object" } },
    ]);
    assert.deepEqual(chat.toolChoice, { name: "get_weather" });
    assert.equal(chat.parallelToolCalls, false);
    assert.deepEqual(chat.messages, [
      { role: "user", content: [{ type: "text", text: "Weather?" }] },
      {
        role: "assistant",
        content: [{ type: "text", text: "Checking." }],
        // Earlier thinking is reasoning, its signature kept (only an Anthropic target is sent it).
        reasoning: [{ type: "reasoning", text: "hmm", signature: "sig" }],
        toolCalls: [
          { id: "1", name: "get_weather", arguments: '{"city":"Paris"}' },
          { id: "2", name: "get_weather", arguments: '{"city":"Rome"}' },
        ],
      },
      { role: "tool", toolCallId: "1", content: [{ type: "text", text: "21C" }] },
      {
        role: "tool",
        toolCallId: "2",
        isError: true,
        content: [
          { type: "text", text: "failed" },
          { type: "image", source: { kind: "url", url: "https://example.com/x.png" } },
        ],
      },
      {
        role: "user",
        content: [
          { type: "text", text: "And tomorrow?" },
          { type: "image", source: { kind: "base64", mediaType: "image/png", data: "iVBORw0KGgo=" } },
        ],
      },
    ]);
  });

  it("maps each tool_choice type", async () => {
    const cases = [
      [{ type: "auto" }, "auto"],
      [{ type: "any" }, "required"],
      [{ type: "none" }, "none"],
    ] as const;
    for (const [choice, expected] of cases) {
      stub.script({ events: textEvents(["ok"]) });
      await client.messages.create({
        model: "m",
        max_tokens: 10,
        tools: [{ name: "t", input_schema: { type: "object" } }],
        tool_choice: choice,
        messages: [{ role: "user", content: "x" }],
      });
      assert.equal(stub.chats.at(-1)?.toolChoice, expected);
      assert.equal(stub.chats.at(-1)?.parallelToolCalls, undefined);
    }
  });
});

describe("errors", () => {
  const cases: [GatewayError, number, string, new (...args: never[]) => Error][] = [
    [new GatewayError("invalid_request", "bad"), 400, "invalid_request_error", Anthropic.BadRequestError],
    [new GatewayError("authentication", "no key"), 401, "authentication_error", Anthropic.AuthenticationError],
    [new GatewayError("permission_denied", "no"), 403, "permission_error", Anthropic.PermissionDeniedError],
    [new GatewayError("not_found", "Unknown model 'x'; known: a, b"), 404, "not_found_error", Anthropic.NotFoundError],
    [new GatewayError("payload_too_large", "big"), 413, "request_too_large", Anthropic.APIError],
    [new GatewayError("rate_limited", "slow down", { retryAfterMs: 1000 }), 429, "rate_limit_error", Anthropic.RateLimitError],
    [new GatewayError("internal", "oops"), 500, "api_error", Anthropic.InternalServerError],
    // A route whose every target failed keeps DESIGN's 503; retryable, its type is Anthropic's "temporarily
    // overloaded"; lasting, an api_error.
    [new GatewayError("unavailable", "nothing left"), 503, "overloaded_error", Anthropic.InternalServerError],
    [new GatewayError("unavailable", "cannot load", { retryable: false }), 503, "api_error", Anthropic.InternalServerError],
    [new GatewayError("upstream_error", "garbled"), 500, "api_error", Anthropic.InternalServerError],
    [
      new GatewayError("invalid_request", "unprocessable", { status: 422 }),
      400,
      "invalid_request_error",
      Anthropic.BadRequestError,
    ],
    [new GatewayError("overloaded", "busy"), 529, "overloaded_error", Anthropic.InternalServerError],
    [new GatewayError("timeout", "too slow"), 504, "timeout_error", Anthropic.InternalServerError],
    [new GatewayError("invalid_request", "credit", { status: 402 }), 402, "billing_error", Anthropic.APIError],
  ];
  for (const [error, status, type, cls] of cases) {
    it(`${error.code} (${error.status}) -> ${status} ${type}`, async () => {
      stub.script({ fail: error });
      await assert.rejects(
        client.messages.create({ model: "m", max_tokens: 10, messages: [{ role: "user", content: "x" }] }),
        (err: unknown) => {
          assert.ok(err instanceof cls, `expected ${cls.name}, got ${String(err)}`);
          assert.ok(err instanceof Anthropic.APIError);
          assert.equal(err.status, status);
          assert.equal(err.type, type);
          assert.deepEqual(err.error, { type: "error", error: { type, message: error.message } });
          return true;
        },
      );
    });
  }

  it("matches the API reference's error body shape", () => {
    const reference = JSON.parse(readFileSync(fixture("overloaded-error.json"), "utf8")) as { type: string; error: object };
    assert.equal(reference.type, "error");
    assert.deepEqual(Object.keys(reference.error).sort(), ["message", "type"]);
  });

  it("errors of a streamed request before its first event get a real status", async () => {
    stub.script({ fail: new GatewayError("rate_limited", "slow down") });
    const stream = client.messages.stream({ model: "m", max_tokens: 10, messages: [{ role: "user", content: "x" }] });
    await assert.rejects(stream.finalMessage(), Anthropic.RateLimitError);
  });
});

describe("bad input", () => {
  const base = { model: "m", max_tokens: 10, messages: [{ role: "user", content: "Hi" }] };
  const cases: [string, unknown, string][] = [
    ["missing max_tokens", { model: "m", messages: base.messages }, "max_tokens"],
    ["missing model", { max_tokens: 5, messages: base.messages }, "model"],
    ["missing messages", { model: "m", max_tokens: 5 }, "messages"],
    ["temperature above 1", { ...base, temperature: 1.5 }, "temperature"],
    ["max_tokens not an integer", { ...base, max_tokens: 2.5 }, "max_tokens"],
    ["content not a string or blocks", { ...base, messages: [{ role: "user", content: 5 }] }, "messages[0].content"],
    ["bad role", { ...base, messages: [{ role: "robot", content: "x" }] }, "messages[0].role"],
    [
      "an image in a system turn",
      {
        ...base,
        messages: [{ role: "system", content: [{ type: "image", source: { type: "url", url: "https://example.com/a.png" } }] }],
      },
      "messages[0].content[0].type",
    ],
    [
      "document without its text",
      { ...base, messages: [{ role: "user", content: [{ type: "document", source: { type: "text" } }] }] },
      "messages[0].content[0].source.data",
    ],
    // A block of a type this build does not know goes on to an Anthropic target (anthropic-new-blocks.test.ts);
    // one whose type is not even a string is the client's mistake.
    ["block of no type", { ...base, messages: [{ role: "user", content: [{ type: 7 }] }] }, "messages[0].content[0].type"],
    [
      "unknown image source",
      { ...base, messages: [{ role: "user", content: [{ type: "image", source: { type: "ftp", url: "f" } }] }] },
      "messages[0].content[0].source.type",
    ],
    [
      "tool_use in a user message",
      { ...base, messages: [{ role: "user", content: [{ type: "tool_use", id: "t", name: "n", input: {} }] }] },
      "messages[0].content[0].type",
    ],
    [
      "tool_result in an assistant message",
      { ...base, messages: [{ role: "assistant", content: [{ type: "tool_result", tool_use_id: "t" }] }] },
      "messages[0].content[0].type",
    ],
    ["server tool of the wrong type", { ...base, tools: [{ type: 7, name: "web_search" }] }, "tools[0].type"],
    [
      "search_result without a title",
      { ...base, messages: [{ role: "user", content: [{ type: "search_result", source: "s", content: [] }] }] },
      "messages[0].content[0].title",
    ],
    ["custom tool without schema", { ...base, tools: [{ name: "t" }] }, "tools[0].input_schema"],
    ["unknown tool_choice", { ...base, tool_choice: { type: "maybe" } }, "tool_choice.type"],
    ["tool_choice tool without name", { ...base, tool_choice: { type: "tool" } }, "tool_choice.name"],
    ["system of the wrong type", { ...base, system: 5 }, "system"],
    [
      "output format without schema",
      { ...base, output_config: { format: { type: "json_schema" } } },
      "output_config.format.schema",
    ],
  ];
  for (const [name, body, field] of cases) {
    it(`${name} -> 400 naming ${field}`, async () => {
      const res = await postRaw(body);
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.type, "error");
      assert.equal(res.body.error.type, "invalid_request_error");
      assert.ok(res.body.error.message.includes(`'${field}'`), `${res.body.error.message} names ${field}`);
    });
  }

  it("the SDK sees BadRequestError naming the field", async () => {
    await assert.rejects(
      client.messages.create({
        model: "m",
        messages: [{ role: "user", content: "x" }],
      } as unknown as Anthropic.MessageCreateParamsNonStreaming),
      (err: unknown) => {
        assert.ok(err instanceof Anthropic.BadRequestError);
        assert.match(err.message, /max_tokens/);
        return true;
      },
    );
  });

  it("maps output_config.format to a JSON-schema response format", async () => {
    stub.script({ events: textEvents(["{}"]) });
    const schema = { type: "object", properties: { a: { type: "number" } } };
    await client.messages.create({
      ...base,
      messages: [{ role: "user", content: "x" }],
      output_config: { effort: "low", format: { type: "json_schema", schema } },
    });
    // Anthropic's structured outputs always hold the answer to the schema: strict wherever a target can be.
    assert.deepEqual(stub.chats.at(-1)?.responseFormat, {
      type: "json_schema",
      schema,
      strict: "where-possible",
      param: "output_config.format",
    });
  });

  it("ignores unknown fields, cache_control and thinking settings", async () => {
    stub.script({ events: textEvents(["ok"]) });
    const res = await postRaw({
      ...base,
      max_tokens: 2048,
      thinking: { type: "enabled", budget_tokens: 1024 },
      service_tier: "auto",
      mystery: { nested: true },
      messages: [
        { role: "user", content: [{ type: "text", text: "Hi", cache_control: { type: "ephemeral" }, citations: null }] },
      ],
    });
    assert.equal(res.status, 200);
  });
});

describe("POST /v1/messages/count_tokens", () => {
  it("counts through the gateway without max_tokens", async () => {
    stub.script({ events: [] });
    const result = await client.messages.countTokens({
      model: "claude/claude-test",
      system: "Be brief.",
      messages: [{ role: "user", content: "Hello" }],
      tools: [{ name: "t", input_schema: { type: "object" } }],
    });
    assert.deepEqual(result, { input_tokens: 42 });
    const counted = stub.counts.at(-1)!;
    assert.equal(counted.model, "claude/claude-test");
    assert.equal(counted.maxTokens, undefined);
    assert.equal(counted.tools?.length, 1);
    assert.deepEqual(counted.messages[0], { role: "system", content: "Be brief." });
  });

  it("answers 400 naming a bad field and the gateway's errors in Anthropic's shape", async () => {
    const bad = await postRaw({ model: "m", messages: "nope" }, "/v1/messages/count_tokens");
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /'messages'/);
    stub.script({ fail: new GatewayError("not_found", "Unknown model 'zzz'") });
    const missing = await postRaw({ model: "zzz", messages: [{ role: "user", content: "Hi" }] }, "/v1/messages/count_tokens");
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.type, "not_found_error");
  });
});
