import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { collectChat, GatewayError, type Message, type ProviderChatRequest, type StreamEvent } from "../../../src/core/index.js";
import { AnthropicProvider } from "../../../src/providers/anthropic/index.js";
import { type FakeAnthropic, startFakeAnthropic } from "../../support/fake-anthropic-upstream.js";
import { providerConformance } from "../conformance.js";

let fake: FakeAnthropic;
let provider: AnthropicProvider;

before(async () => {
  fake = await startFakeAnthropic({ models: ["claude-sonnet-4-5", "claude-haiku-4-5"] });
  provider = new AnthropicProvider({ id: "claude", baseUrl: fake.url, apiKey: async () => "sk-ant-test" });
});

after(async () => {
  await provider.close();
  await fake.close();
});

function request(extra: Partial<ProviderChatRequest> = {}): ProviderChatRequest {
  return {
    model: "claude/claude-haiku-4-5",
    upstreamModel: "claude-haiku-4-5",
    messages: [{ role: "user", content: [{ type: "text", text: "Hi" }] }],
    stream: true,
    ...extra,
  };
}

async function events(req = request(), signal = new AbortController().signal): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const event of provider.chat(req, signal)) out.push(event);
  return out;
}

function lastBody(): Record<string, unknown> {
  const last = fake.requests.filter((r) => r.method === "POST").at(-1);
  assert.ok(last, "the fake saw a request");
  return last.body as Record<string, unknown>;
}

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/anthropic/${name}`, import.meta.url), "utf8");

async function rejectsWith(promise: Promise<unknown>, check: (err: GatewayError) => void): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof GatewayError, `expected a GatewayError, got ${String(err)}`);
    check(err);
    return true;
  });
}

describe("AnthropicProvider chat", () => {
  it("streams text with start, usage and finish", async () => {
    fake.script(() => ({ kind: "text", text: "Hello there, friend", usage: { input: 12, output: 6 } }));
    const out = await events();
    assert.equal(out[0]?.type, "start");
    assert.match((out[0] as { id?: string }).id ?? "", /^msg_/);
    assert.equal(out.at(-1)?.type, "finish");
    const text = out.flatMap((e) => (e.type === "text-delta" ? [e.text] : []));
    assert.ok(text.length > 3, "several deltas");
    const result = await collectChat(
      (async function* () {
        yield* out;
      })(),
    );
    assert.equal(result.text, "Hello there, friend");
    assert.equal(result.finishReason, "stop");
    assert.equal(result.rawFinishReason, "end_turn");
    assert.deepEqual(result.usage, { inputTokens: 12, outputTokens: 6, cachedInputTokens: 0 });
  });

  it("sends the wire request with headers, stream: true and a default max_tokens", async () => {
    fake.script(() => ({ kind: "text", text: "ok" }));
    await events();
    const last = fake.requests.at(-1)!;
    assert.equal(last.path, "/v1/messages");
    assert.equal(last.headers["x-api-key"], "sk-ant-test");
    assert.equal(last.headers["anthropic-version"], "2023-06-01");
    assert.deepEqual(last.body, {
      model: "claude-haiku-4-5",
      max_tokens: 4096,
      messages: [{ role: "user", content: [{ type: "text", text: "Hi" }] }],
      stream: true,
    });
  });

  it("maps settings: temperature clamped, stops, top_p/top_k, user, tools and tool_choice", async () => {
    fake.script(() => ({ kind: "text", text: "ok" }));
    await events(
      request({
        maxTokens: 50,
        temperature: 1.7,
        topP: 0.9,
        topK: 20,
        stop: ["END", "\n"],
        seed: 7,
        user: "u-1",
        tools: [{ name: "get_weather", description: "Weather", parameters: { properties: { city: { type: "string" } } } }],
        toolChoice: "required",
        parallelToolCalls: false,
      }),
    );
    const body = lastBody();
    assert.equal(body.max_tokens, 50);
    assert.equal(body.temperature, 1);
    assert.equal(body.top_p, 0.9);
    assert.equal(body.top_k, 20);
    assert.deepEqual(body.stop_sequences, ["END"], "whitespace-only stop sequences are dropped");
    assert.equal(body.seed, undefined);
    assert.deepEqual(body.metadata, { user_id: "u-1" });
    assert.deepEqual(body.tools, [
      { name: "get_weather", description: "Weather", input_schema: { type: "object", properties: { city: { type: "string" } } } },
    ]);
    assert.deepEqual(body.tool_choice, { type: "any", disable_parallel_tool_use: true });

    const choices = [
      ["auto", { type: "auto" }],
      ["none", { type: "none" }],
      [{ name: "get_weather" }, { type: "tool", name: "get_weather" }],
    ] as const;
    for (const [choice, wire] of choices) {
      await events(request({ tools: [{ name: "get_weather", parameters: { type: "object" } }], toolChoice: choice }));
      assert.deepEqual(lastBody().tool_choice, wire);
    }
    await events(request({ toolChoice: "required" }));
    assert.equal(lastBody().tool_choice, undefined, "no tool_choice without tools");
  });

  it("sends an output schema as output_config.format, and one it cannot take or JSON mode in the system prompt", async () => {
    fake.script(() => ({ kind: "text", text: "{}" }));
    const messages: Message[] = [
      { role: "system", content: "Be brief." },
      { role: "user", content: [{ type: "text", text: "Hi" }] },
    ];
    const schema = { type: "object", properties: { a: { type: "number" } } };
    await events(request({ messages, responseFormat: { type: "json_schema", schema } }));
    assert.deepEqual(lastBody().output_config, {
      format: { type: "json_schema", schema: { ...schema, additionalProperties: false } },
    });
    assert.equal(lastBody().system, "Be brief.");
    // A numeric bound, which Anthropic's structured outputs do not take: the instruction, and the provider names it.
    const bounded = { type: "object", properties: { a: { type: "number", minimum: 0 } } };
    await events(request({ messages, responseFormat: { type: "json_schema", schema: bounded } }));
    const system = lastBody().system as string;
    assert.equal(lastBody().output_config, undefined);
    assert.ok(system.startsWith("Be brief.\n\n"));
    assert.match(system, /JSON Schema/);
    assert.ok(system.includes(JSON.stringify(bounded)));
    assert.match(provider.unsent(request({ responseFormat: { type: "json_schema", schema: bounded } })).join(), /'minimum'/);
    await events(request({ responseFormat: { type: "json" } }));
    assert.match(lastBody().system as string, /JSON/);
  });

  it("streams tool calls with ids preserved and arguments split across deltas", async () => {
    fake.script(() => ({
      kind: "tool_calls",
      text: "Let me look.",
      calls: [
        { id: "toolu_A", name: "get_weather", arguments: { city: "Paris", days: 3 } },
        { id: "toolu_B", name: "get_time", arguments: { tz: "Europe/Paris" } },
      ],
      usage: { input: 20, output: 9 },
    }));
    const out = await events();
    const starts = out.filter((e) => e.type === "tool-call-start");
    assert.deepEqual(starts, [
      { type: "tool-call-start", index: 0, id: "toolu_A", name: "get_weather" },
      { type: "tool-call-start", index: 1, id: "toolu_B", name: "get_time" },
    ]);
    const deltas = out.filter((e) => e.type === "tool-call-delta" && e.index === 0);
    assert.ok(deltas.length > 2, "arguments arrive in pieces");
    assert.deepEqual(
      out.filter((e) => e.type === "tool-call-end"),
      [
        { type: "tool-call-end", index: 0 },
        { type: "tool-call-end", index: 1 },
      ],
    );
    const result = await collectChat(
      (async function* () {
        yield* out;
      })(),
    );
    assert.equal(result.text, "Let me look.");
    assert.deepEqual(
      result.toolCalls.map((c) => ({ ...c, arguments: JSON.parse(c.arguments) })),
      [
        { id: "toolu_A", name: "get_weather", arguments: { city: "Paris", days: 3 } },
        { id: "toolu_B", name: "get_time", arguments: { tz: "Europe/Paris" } },
      ],
    );
    assert.equal(result.finishReason, "tool_calls");
    assert.equal(result.rawFinishReason, "tool_use");
    assert.equal(result.usage.outputTokens, 9);
  });

  it("hands the connection back to the pool after message_stop", async () => {
    fake.script(() => ({ kind: "text", text: "again and again" }));
    await events();
    const opened = fake.connections;
    for (let i = 0; i < 3; i++) await events();
    assert.equal(fake.connections, opened, "later requests reuse the kept-alive connection");
  });

  it("maps max_tokens to length", async () => {
    fake.script(() => ({ kind: "text", text: "trunc", finish: "length" }));
    const out = await events();
    assert.deepEqual(out.at(-1), { type: "finish", reason: "length", raw: "max_tokens" });
  });
});

describe("recorded streams from the API reference", () => {
  const replay = (name: string) => fake.script(() => ({ kind: "sse", body: fixture(name) }));

  it("text", async () => {
    replay("text.sse.txt");
    const out = await events();
    assert.deepEqual(out, [
      { type: "start", id: "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY", model: "claude-sonnet-4-5-20250929" },
      { type: "usage", usage: { inputTokens: 25 } },
      { type: "text-delta", text: "Hello" },
      { type: "text-delta", text: "!" },
      { type: "usage", usage: { outputTokens: 15 } },
      { type: "finish", reason: "stop", raw: "end_turn" },
    ]);
  });

  it("tool use", async () => {
    replay("tool-use.sse.txt");
    const result = await collectChat(provider.chat(request(), new AbortController().signal));
    assert.equal(result.text, "Okay, let's check the weather for San Francisco, CA:");
    assert.equal(result.toolCalls.length, 1);
    assert.equal(result.toolCalls[0]?.id, "toolu_01T1x1fJ34qAmk2tNTrN7Up6");
    assert.deepEqual(JSON.parse(result.toolCalls[0]!.arguments), { location: "San Francisco, CA", unit: "fahrenheit" });
    assert.equal(result.finishReason, "tool_calls");
    assert.deepEqual(result.usage, { inputTokens: 472, outputTokens: 89 });
  });

  it("thinking blocks are skipped and cache reads count as input", async () => {
    replay("thinking.sse.txt");
    const out = await events();
    assert.ok(!out.some((e) => e.type === "text-delta" && e.text.includes("step by step")));
    const result = await collectChat(
      (async function* () {
        yield* out;
      })(),
    );
    assert.equal(result.text, "27 * 453 = 12,231");
    assert.deepEqual(result.usage, { inputTokens: 12 + 2048, cachedInputTokens: 2048, outputTokens: 34 });
  });

  it("stop sequence", async () => {
    replay("stop-sequence.sse.txt");
    const out = await events();
    assert.deepEqual(out.at(-1), { type: "finish", reason: "stop", raw: "stop_sequence", stopSequence: ", 4" });
  });

  it("an overloaded_error event inside a 200 stream", async () => {
    replay("overloaded-in-stream.sse.txt");
    const seen: StreamEvent[] = [];
    await rejectsWith(
      (async () => {
        for await (const e of provider.chat(request(), new AbortController().signal)) seen.push(e);
      })(),
      (err) => {
        assert.equal(err.code, "overloaded");
        assert.equal(err.status, 529);
        assert.equal(err.retryable, true);
        assert.match(err.message, /Overloaded/);
      },
    );
    assert.ok(
      seen.some((e) => e.type === "text-delta" && e.text === "Partial"),
      "content before the error was yielded",
    );
  });
});

describe("AnthropicProvider failures", () => {
  it("529 overloaded_error -> overloaded, retryable, status kept", async () => {
    fake.script(() => ({ kind: "error", status: 529 }));
    await rejectsWith(events(), (err) => {
      assert.equal(err.code, "overloaded");
      assert.equal(err.status, 529);
      assert.equal(err.retryable, true);
      assert.equal(err.message, "Overloaded");
      assert.equal(err.target, "claude");
    });
  });

  it("409 conflict_error -> retryable, status kept (as Anthropic's SDK retries it)", async () => {
    fake.script(() => ({
      kind: "error",
      status: 409,
      body: { type: "error", error: { type: "conflict_error", message: "Conflict" } },
    }));
    await rejectsWith(events(), (err) => {
      assert.equal(err.status, 409);
      assert.equal(err.retryable, true);
    });
  });

  it("400 prompt too long -> context_length_exceeded", async () => {
    fake.script(() => ({ kind: "error", status: 400, message: "prompt is too long: 210000 tokens > 200000 maximum" }));
    await rejectsWith(events(), (err) => {
      assert.equal(err.code, "context_length_exceeded");
      assert.equal(err.retryable, false);
    });
  });

  it("in-stream error types map to codes", async () => {
    const cases = [
      ["rate_limit_error", "rate_limited", 429],
      ["api_error", "upstream_error", 500],
      ["invalid_request_error", "invalid_request", 400],
      ["timeout_error", "timeout", 504],
      ["something_new", "upstream_error", 502],
    ] as const;
    for (const [errorType, code, status] of cases) {
      fake.script(() => ({ kind: "stream_error", chunks: ["a"], errorType }));
      await rejectsWith(events(), (err) => {
        assert.equal(err.code, code, errorType);
        assert.equal(err.status, status);
      });
    }
  });

  it("a 200 JSON error body where a stream was asked for is that error, as an event: error would be", async () => {
    fake.script(() => ({
      kind: "raw",
      body: JSON.stringify({ type: "error", error: { type: "overloaded_error", message: "Overloaded right now" } }),
    }));
    await rejectsWith(events(), (err) => {
      assert.equal(err.code, "overloaded");
      assert.equal(err.retryable, true);
      assert.match(err.message, /Overloaded right now/);
    });
    // A whole message from a server that ignores `stream` is the answer, read as its stream would be.
    fake.script(() => ({
      kind: "raw",
      body: JSON.stringify({
        type: "message",
        id: "msg_1",
        role: "assistant",
        model: "m",
        content: [{ type: "text", text: "whole" }],
        stop_reason: "end_turn",
        usage: { input_tokens: 3, output_tokens: 1 },
      }),
    }));
    const whole = await events();
    assert.equal(whole.map((event) => (event.type === "text-delta" ? event.text : "")).join(""), "whole");
    assert.deepEqual(whole.at(-1), { type: "finish", reason: "stop", raw: "end_turn" });
    // text/plain is still read as SSE, as compatible servers send it.
    fake.script(() => ({ kind: "raw", contentType: "text/plain", body: fixture("text.sse.txt") }));
    assert.equal((await events()).at(-1)?.type, "finish");
  });

  it("a stream that ends cleanly before its finish (message_delta's stop reason) -> upstream_error", async () => {
    fake.script(() => ({ kind: "sse", body: fixture("text.sse.txt").split("event: message_delta")[0]! }));
    await rejectsWith(events(), (err) => {
      assert.equal(err.code, "upstream_error");
      assert.match(err.message, /message_stop/);
    });
  });

  it("a stream that ends after its finish, with only message_stop missing, is a complete answer", async () => {
    fake.script(() => ({ kind: "sse", body: fixture("text.sse.txt").split("event: message_stop")[0]! }));
    const out = await events();
    assert.equal(out.filter((e) => e.type === "text-delta").length, 2);
    assert.deepEqual(out.at(-1), { type: "finish", reason: "stop", raw: "end_turn" });
  });

  it("abort stops the upstream request at once", async () => {
    fake.script(() => ({ kind: "hang", chunks: ["waiting"] }));
    const controller = new AbortController();
    const before = fake.clientAborts;
    await rejectsWith(
      (async () => {
        for await (const e of provider.chat(request(), controller.signal)) {
          if (e.type === "text-delta") controller.abort();
        }
      })(),
      (err) => assert.equal(err.code, "canceled"),
    );
    // The upstream hangs for good: the rejection above is the abort, and the upstream sees it below.
    for (let i = 0; i < 50 && fake.clientAborts === before; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(fake.clientAborts, before + 1, "the upstream saw the connection close");
  });

  it("a consumer that stops early closes the upstream stream", async () => {
    fake.script(() => ({ kind: "hang", chunks: ["one", "two"] }));
    const before = fake.clientAborts;
    for await (const e of provider.chat(request(), new AbortController().signal)) {
      if (e.type === "text-delta") break;
    }
    for (let i = 0; i < 50 && fake.clientAborts === before; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(fake.clientAborts, before + 1);
  });

  it("no API key -> the upstream's 401 as authentication", async () => {
    const keyless = new AnthropicProvider({ id: "claude", baseUrl: fake.url, apiKey: async () => undefined });
    try {
      await rejectsWith(
        (async () => {
          for await (const _ of keyless.chat(request(), new AbortController().signal)) {
            // drain
          }
        })(),
        (err) => {
          assert.equal(err.code, "authentication");
          assert.equal(err.status, 401);
          assert.match(err.message, /x-api-key/);
        },
      );
    } finally {
      await keyless.close();
    }
  });
});

describe("AnthropicProvider models", () => {
  it("lists models following has_more / after_id", async () => {
    const many = Array.from({ length: 5 }, (_, i) => `claude-model-${i}`);
    const paged = await startFakeAnthropic({ models: many, maxPageSize: 2 });
    const p = new AnthropicProvider({
      id: "claude",
      baseUrl: paged.url,
      apiKey: async () => "k",
      anthropicVersion: "2099-01-01",
    });
    try {
      const models = await p.listModels(new AbortController().signal);
      assert.deepEqual(
        models.map((m) => m.id),
        many,
      );
      assert.equal(models[0]?.contextWindow, 200000);
      assert.equal(models[0]?.created, Date.UTC(2025, 0, 1) / 1000);
      const gets = paged.requests.filter((r) => r.method === "GET");
      assert.equal(gets.length, 3);
      assert.match(gets[1]!.path, /after_id=claude-model-1/);
      assert.equal(gets[0]!.headers["anthropic-version"], "2099-01-01");
      await p.probe(new AbortController().signal);
    } finally {
      await p.close();
      await paged.close();
    }
  });

  it("probe fails with the upstream's error", async () => {
    const keyless = new AnthropicProvider({ id: "claude", baseUrl: fake.url, apiKey: async () => undefined });
    try {
      await rejectsWith(keyless.probe(new AbortController().signal), (err) => assert.equal(err.code, "authentication"));
    } finally {
      await keyless.close();
    }
  });
});

providerConformance({
  name: "anthropic",
  setup: async () => {
    const upstream = await startFakeAnthropic({ models: ["claude-haiku-4-5"] });
    return {
      fake: upstream,
      model: "claude-haiku-4-5",
      provider: new AnthropicProvider({ id: "claude", baseUrl: upstream.url, apiKey: async () => "key-1" }),
      unreachable: () => new AnthropicProvider({ id: "gone", baseUrl: "http://127.0.0.1:9", apiKey: async () => undefined }),
    };
  },
  teardown: async ({ provider, fake }) => {
    await provider.close();
    await fake?.close();
  },
  without: { embeddings: "Anthropic has no embeddings API" },
});
