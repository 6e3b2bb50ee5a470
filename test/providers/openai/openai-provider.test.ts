import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { collectChat, GatewayError, type ProviderChatRequest, type StreamEvent } from "../../../src/core/index.js";
import { OpenAIProvider } from "../../../src/providers/openai/index.js";
import { readOpenAIChatCompletion } from "../../../src/providers/openai/read-openai-chat-stream.js";
import {
  type FakeOpenAIUpstream,
  fakeEmbedding,
  fakeLogprobs,
  readChunkFixture,
  sseFrames,
  startFakeOpenAI,
} from "../../support/fake-openai-upstream.js";
import { providerConformance } from "../conformance.js";

const MODEL = "gpt-4o-mini";
let fake: FakeOpenAIUpstream;
let provider: OpenAIProvider;

before(async () => {
  fake = await startFakeOpenAI({ models: [MODEL, "text-embedding-3-small"] });
  provider = new OpenAIProvider({ id: "up", baseUrl: fake.url, apiKey: async () => "sk-upstream" });
});

after(async () => {
  await provider.close();
  await fake.close();
});

beforeEach(() => {
  fake.requests.length = 0;
  fake.script(() => ({ kind: "text", text: "Hello from openai" }));
});

function request(overrides: Partial<ProviderChatRequest> = {}): ProviderChatRequest {
  return {
    model: `up/${MODEL}`,
    upstreamModel: MODEL,
    messages: [{ role: "user", content: [{ type: "text", text: "Hi" }] }],
    stream: true,
    ...overrides,
  };
}

async function events(req = request(), signal = new AbortController().signal): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const event of provider.chat(req, signal)) out.push(event);
  return out;
}

async function chatError(req = request()): Promise<GatewayError> {
  try {
    await events(req);
  } catch (err) {
    assert.ok(err instanceof GatewayError, `expected a GatewayError, got ${String(err)}`);
    return err;
  }
  assert.fail("expected the chat to fail");
}

/** A raw answer made of fixture payload lines (`[DONE]` included when the fixture has it). */
function replay(lines: string[], end: "close" | "destroy" = "close"): void {
  fake.script(() => ({ kind: "raw", body: sseFrames(lines), end }));
}

const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
  JSON.stringify({
    id: "chatcmpl-x",
    object: "chat.completion.chunk",
    created: 1,
    model: MODEL,
    choices: [{ index: 0, delta, finish_reason: finish }],
  });

describe("OpenAIProvider.chat", () => {
  it("streams text with start, usage and finish", async () => {
    fake.script(() => ({ kind: "text", text: "Hello from openai", usage: { input: 12, output: 5 } }));
    const out = await events();
    const first = out[0];
    assert.equal(first?.type, "start");
    assert.ok(first?.type === "start" && first.id?.startsWith("chatcmpl-") && first.model === MODEL);
    assert.equal(
      out
        .filter((e) => e.type === "text-delta")
        .map((e) => (e.type === "text-delta" ? e.text : ""))
        .join(""),
      "Hello from openai",
    );
    assert.ok(out.filter((e) => e.type === "text-delta").length > 3);
    assert.deepEqual(out.slice(-2), [
      { type: "usage", usage: { inputTokens: 12, outputTokens: 5, cachedInputTokens: 0 } },
      { type: "finish", reason: "stop", raw: "stop" },
    ]);
  });

  it("sends a streaming request with usage, the key, and max_tokens to a compatible server", async () => {
    await events(request({ maxTokens: 33 }));
    const sent = fake.requests[0];
    assert.equal(sent?.method, "POST");
    assert.equal(sent?.path, "/v1/chat/completions");
    assert.equal(sent?.headers.authorization, "Bearer sk-upstream");
    assert.deepEqual(sent?.body, {
      model: MODEL,
      messages: [{ role: "user", content: "Hi" }],
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 33,
    });
  });

  it("sends max_completion_tokens when told to, and no Authorization without a key", async () => {
    const other = new OpenAIProvider({
      id: "up2",
      baseUrl: fake.url,
      apiKey: async () => undefined,
      maxTokensField: "max_completion_tokens",
      headers: { "x-extra": "1" },
    });
    try {
      for await (const _ of other.chat(request({ maxTokens: 33 }), new AbortController().signal)) {
        // drain
      }
    } finally {
      await other.close();
    }
    const sent = fake.requests[0];
    assert.ok(sent);
    assert.equal(sent.headers.authorization, undefined);
    assert.equal(sent.headers["x-extra"], "1");
    const body = sent.body as Record<string, unknown>;
    assert.equal(body.max_completion_tokens, 33);
    assert.equal("max_tokens" in body, false);
  });

  it("converts the whole canonical request", async () => {
    await events(
      request({
        messages: [
          { role: "system", content: "Be brief." },
          {
            role: "user",
            content: [
              { type: "text", text: "Look: " },
              { type: "image", source: { kind: "base64", mediaType: "image/png", data: "iVBORw0=" }, detail: "high" },
              { type: "image", source: { kind: "url", url: "https://example.com/a.jpg" } },
            ],
          },
          {
            role: "assistant",
            content: [],
            toolCalls: [
              { id: "call_a", name: "lookup", arguments: '{"q":1}' },
              { id: "call_b", name: "noargs", arguments: "" },
            ],
          },
          { role: "tool", toolCallId: "call_a", content: [{ type: "text", text: "found" }] },
          { role: "tool", toolCallId: "call_b", content: [{ type: "text", text: "boom" }], isError: true },
          { role: "assistant", content: [{ type: "text", text: "Done." }] },
        ],
        tools: [{ name: "lookup", description: "Search", parameters: { type: "object" }, strict: true }],
        toolChoice: { name: "lookup" },
        parallelToolCalls: false,
        responseFormat: { type: "json_schema", schema: { type: "object" }, name: "answer", strict: true },
        temperature: 0.3,
        topP: 0.8,
        topK: 40,
        stop: ["END"],
        seed: 9,
        user: "u-1",
      }),
    );
    assert.deepEqual(fake.requests[0]?.body, {
      model: MODEL,
      messages: [
        { role: "system", content: "Be brief." },
        {
          role: "user",
          content: [
            { type: "text", text: "Look: " },
            { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0=", detail: "high" } },
            { type: "image_url", image_url: { url: "https://example.com/a.jpg" } },
          ],
        },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            { id: "call_a", type: "function", function: { name: "lookup", arguments: '{"q":1}' } },
            { id: "call_b", type: "function", function: { name: "noargs", arguments: "{}" } },
          ],
        },
        { role: "tool", tool_call_id: "call_a", content: "found" },
        { role: "tool", tool_call_id: "call_b", content: "Error: boom" },
        { role: "assistant", content: "Done." },
      ],
      stream: true,
      stream_options: { include_usage: true },
      tools: [
        { type: "function", function: { name: "lookup", description: "Search", parameters: { type: "object" }, strict: true } },
      ],
      parallel_tool_calls: false,
      tool_choice: { type: "function", function: { name: "lookup" } },
      response_format: { type: "json_schema", json_schema: { name: "answer", schema: { type: "object" }, strict: true } },
      temperature: 0.3,
      top_p: 0.8,
      stop: ["END"],
      seed: 9,
      user: "u-1",
    });
  });

  it("streams tool calls split across chunks, each ended before finish", async () => {
    fake.script(() => ({
      kind: "tool_calls",
      text: "Let me check.",
      calls: [
        { id: "call_1", name: "get_weather", arguments: { city: "Paris", units: "metric" } },
        { name: "get_time", arguments: { tz: "Europe/Paris" } },
      ],
    }));
    const out = await events();
    const kinds = out.map((e) => e.type);
    const finishAt = kinds.indexOf("finish");
    assert.equal(finishAt, kinds.length - 1);
    const ends = out.flatMap((e, i) => (e.type === "tool-call-end" ? [[e.index, i]] : []));
    assert.deepEqual(
      ends.map(([index]) => index),
      [0, 1],
    );
    assert.ok(out.filter((e) => e.type === "tool-call-delta" && e.index === 0).length > 2, "arguments arrive in pieces");
    const result = await collectChat(
      (async function* () {
        yield* out;
      })(),
    );
    assert.equal(result.text, "Let me check.");
    assert.equal(result.finishReason, "tool_calls");
    assert.equal(result.rawFinishReason, "tool_calls");
    assert.equal(result.toolCalls[0]?.id, "call_1");
    assert.match(result.toolCalls[1]?.id ?? "", /^call_/);
    assert.deepEqual(
      result.toolCalls.map((c) => [c.name, JSON.parse(c.arguments)]),
      [
        ["get_weather", { city: "Paris", units: "metric" }],
        ["get_time", { tz: "Europe/Paris" }],
      ],
    );
  });

  it("replays a captured tool-call stream (fixture)", async () => {
    replay(readChunkFixture("chat-tool-calls.chunks.txt"));
    const result = await collectChat(provider.chat(request(), new AbortController().signal));
    assert.deepEqual(result.toolCalls, [
      { id: "call_DdmO9pD3xa9XTPNJ32zg2hcA", name: "get_weather", arguments: '{"city":"Paris"}' },
      { id: "call_Rt5mXq2LkP0aZ8vWnB3cYd7E", name: "get_time", arguments: '{"tz":"CET"}' },
    ]);
    assert.deepEqual(result.usage, { inputTokens: 81, outputTokens: 40, cachedInputTokens: 64 });
    assert.equal(result.finishReason, "tool_calls");
  });

  it("replays a captured text stream (fixture)", async () => {
    replay(readChunkFixture("chat-text.chunks.txt"));
    const result = await collectChat(provider.chat(request(), new AbortController().signal));
    assert.equal(result.text, "Holiday Name: Harmony Day");
    assert.equal(result.id, "chatcmpl-D8Z5oo6uDh67AD85p73ksdT1KxhE0");
    assert.deepEqual(result.usage, { inputTokens: 16, outputTokens: 6, cachedInputTokens: 0 });
  });

  it("reads DeepSeek's cache counter (prompt_cache_hit_tokens) where prompt_tokens_details is not sent", async () => {
    const usage = (fields: Record<string, unknown>) =>
      JSON.stringify({ id: "chatcmpl-x", object: "chat.completion.chunk", created: 1, model: MODEL, choices: [], usage: fields });
    replay([
      chunk({ role: "assistant", content: "ok" }),
      chunk({}, "stop"),
      usage({
        prompt_tokens: 1000,
        completion_tokens: 5,
        total_tokens: 1005,
        prompt_cache_hit_tokens: 960,
        prompt_cache_miss_tokens: 40,
      }),
      "[DONE]",
    ]);
    assert.deepEqual((await collectChat(provider.chat(request(), new AbortController().signal))).usage, {
      inputTokens: 1000,
      outputTokens: 5,
      cachedInputTokens: 960,
    });
    // OpenAI's own field, where a server sends both, is the one read.
    replay([
      chunk({ role: "assistant", content: "ok" }),
      chunk({}, "stop"),
      usage({
        prompt_tokens: 1000,
        completion_tokens: 5,
        prompt_tokens_details: { cached_tokens: 512 },
        prompt_cache_hit_tokens: 960,
      }),
      "[DONE]",
    ]);
    assert.equal((await collectChat(provider.chat(request(), new AbortController().signal))).usage?.cachedInputTokens, 512);
  });

  it("accepts a server that sends finish_reason and closes without [DONE]", async () => {
    replay([chunk({ role: "assistant", content: "ok" }), chunk({}, "length")]);
    const out = await events();
    assert.deepEqual(out.at(-1), { type: "finish", reason: "length", raw: "length" });
  });

  it("handles compatible servers' tool calls: no index, no id, finish 'stop'", async () => {
    replay([
      chunk({
        role: "assistant",
        tool_calls: [{ function: { name: "a", arguments: '{"x":1}' } }, { function: { name: "b", arguments: "{}" } }],
      }),
      chunk({}, "stop"),
      "[DONE]",
    ]);
    const result = await collectChat(provider.chat(request(), new AbortController().signal));
    assert.deepEqual(
      result.toolCalls.map((c) => [c.name, c.arguments]),
      [
        ["a", '{"x":1}'],
        ["b", "{}"],
      ],
    );
    assert.ok(result.toolCalls.every((c) => c.id.startsWith("call_")));
    assert.equal(result.finishReason, "tool_calls");
    assert.equal(result.rawFinishReason, "stop");
  });

  it("keeps apart parallel calls streamed without index, each in its own chunks (Gemini's compatible endpoint)", async () => {
    replay([
      chunk({
        role: "assistant",
        tool_calls: [{ id: "call_N1", type: "function", function: { name: "get_weather", arguments: "" } }],
      }),
      chunk({ tool_calls: [{ function: { arguments: '{"city": "Oslo"}' } }] }),
      chunk({ tool_calls: [{ id: "call_N2", type: "function", function: { name: "get_time", arguments: '{"tz": "UTC"}' } }] }),
      chunk({ tool_calls: [{ function: { name: "get_date", arguments: "{}" } }] }),
      chunk({}, "tool_calls"),
      "[DONE]",
    ]);
    const result = await collectChat(provider.chat(request(), new AbortController().signal));
    assert.deepEqual(
      result.toolCalls.map((c) => [c.name, c.arguments]),
      [
        ["get_weather", '{"city": "Oslo"}'],
        ["get_time", '{"tz": "UTC"}'],
        ["get_date", "{}"],
      ],
    );
    assert.deepEqual(
      result.toolCalls.slice(0, 2).map((c) => c.id),
      ["call_N1", "call_N2"],
    );
  });

  it("keeps apart parallel calls that all stream index 0, each with its own id (Ollama's /v1, Gemini through proxies)", async () => {
    replay([
      chunk({
        role: "assistant",
        tool_calls: [{ index: 0, id: "call_A", type: "function", function: { name: "get_weather", arguments: "" } }],
      }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city": "Oslo"}' } }] }),
      chunk({ tool_calls: [{ index: 0, id: "call_B", type: "function", function: { name: "get_time", arguments: '{"tz":' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: ' "UTC"}' } }] }),
      // A server that repeats a call's own id on each piece continues that call.
      chunk({ tool_calls: [{ index: 1, id: "call_C", type: "function", function: { name: "get_date", arguments: '{"d":' } }] }),
      chunk({ tool_calls: [{ index: 1, id: "call_C", function: { arguments: "1}" } }] }),
      chunk({}, "tool_calls"),
      "[DONE]",
    ]);
    const result = await collectChat(provider.chat(request(), new AbortController().signal));
    assert.deepEqual(
      result.toolCalls.map((c) => [c.id, c.name, c.arguments]),
      [
        ["call_A", "get_weather", '{"city": "Oslo"}'],
        ["call_B", "get_time", '{"tz": "UTC"}'],
        ["call_C", "get_date", '{"d":1}'],
      ],
    );
  });
});

describe("OpenAIProvider.chat logprobs", () => {
  /** The fake's wire logprobs as canonical ones. */
  const canonical = (pieces: string[], top: number, from = 0) =>
    fakeLogprobs(pieces, top, from).map(({ top_logprobs, bytes, ...token }) => ({
      ...token,
      bytes,
      topLogprobs: top_logprobs.map((alternative) => ({ ...alternative })),
    }));
  const pieces = ["Hell", "o fr", "om o", "penai"];

  it("asks for logprobs and top_logprobs only when the request does", async () => {
    await events(request({ logprobs: { topLogprobs: 3 } }));
    await events(request({ logprobs: {} }));
    await events(request());
    const sent = fake.requests.map((r) => r.body as Record<string, unknown>);
    assert.deepEqual([sent[0]?.logprobs, sent[0]?.top_logprobs], [true, 3]);
    assert.deepEqual([sent[1]?.logprobs, "top_logprobs" in (sent[1] ?? {})], [true, false]);
    assert.deepEqual(["logprobs" in (sent[2] ?? {}), "top_logprobs" in (sent[2] ?? {})], [false, false]);
  });

  it("carries each chunk's token logprobs on its text-delta, streamed and whole", async () => {
    fake.script(() => ({ kind: "text", text: "Hello from openai", chunks: pieces }));
    const streamed = await events(request({ logprobs: { topLogprobs: 2 } }));
    const deltas = streamed.filter((e) => e.type === "text-delta");
    assert.deepEqual(
      deltas.map((e) => e.logprobs),
      pieces.map((piece, i) => canonical([piece], 2, i)),
    );
    for (const whole of [false, true]) {
      const result = await collectChat(
        provider.chat(request({ logprobs: { topLogprobs: 2 }, whole }), new AbortController().signal),
      );
      assert.equal(result.text, "Hello from openai");
      assert.equal(result.logprobs?.length, 4);
      assert.deepEqual(
        result.logprobs?.map((t) => [t.token, t.logprob, t.topLogprobs.map((a) => a.token)]),
        [
          ["Hell", -0.25, ["Hell", "alt1"]],
          ["o fr", -0.5, ["o fr", "alt1"]],
          ["om o", -0.75, ["om o", "alt1"]],
          ["penai", -1, ["penai", "alt1"]],
        ],
      );
      assert.deepEqual(result.logprobs?.[0]?.bytes, [72, 101, 108, 108]);
    }
    // Not asked for: no logprobs anywhere.
    const plain = await events(request());
    assert.ok(plain.every((e) => e.type !== "text-delta" || e.logprobs === undefined));
  });

  it("reads compatible servers' logprobs leniently, and keeps tokens that came before their text", async () => {
    const scored = (delta: Record<string, unknown>, content: unknown, finish: string | null = null) =>
      JSON.stringify({
        id: "chatcmpl-x",
        object: "chat.completion.chunk",
        model: MODEL,
        choices: [{ index: 0, delta, logprobs: { content, refusal: null }, finish_reason: finish }],
      });
    replay([
      scored({ role: "assistant", content: "" }, []),
      // A character split across two tokens: the first comes without text (bytes null, as OpenAI sends for no byte form).
      scored({ content: "" }, [{ token: "\\xf0", logprob: -1, bytes: null, top_logprobs: null }]),
      scored({ content: "🙂" }, [{ token: "\\x9f\\x99\\x82", logprob: -2, bytes: [159, 153, 130], top_logprobs: [] }]),
      // Entries without a string token or number logprob are left out, not the chunk.
      scored({ content: "!" }, [
        { token: 1, logprob: -1 },
        { token: "!", logprob: -0.5, top_logprobs: [{ token: "!" }] },
      ]),
      scored({}, null, "stop"),
      "[DONE]",
    ]);
    const deltas = (await events(request({ logprobs: {} }))).filter((e) => e.type === "text-delta");
    assert.deepEqual(deltas, [
      {
        type: "text-delta",
        text: "🙂",
        logprobs: [
          { token: "\\xf0", logprob: -1, topLogprobs: [] },
          { token: "\\x9f\\x99\\x82", logprob: -2, bytes: [159, 153, 130], topLogprobs: [] },
        ],
      },
      { type: "text-delta", text: "!", logprobs: [{ token: "!", logprob: -0.5, topLogprobs: [] }] },
    ]);
  });
});

describe("OpenAIProvider.chat failures", () => {
  it("404 -> not_found for an unknown model", async () => {
    const err = await chatError(request({ upstreamModel: "gpt-9" }));
    assert.equal(err.code, "not_found");
    assert.match(err.message, /does not exist/);
  });

  it("429 honours retry-after-ms", async () => {
    fake.script(() => ({ kind: "error", status: 429, headers: { "retry-after-ms": "250" } }));
    assert.equal((await chatError()).retryAfterMs, 250);
  });

  it("500 and 503 are retryable", async () => {
    for (const [status, code] of [
      [500, "upstream_error"],
      // OpenAI's 503 body says `code: server_is_overloaded`: the code, not the status, decides.
      [503, "overloaded"],
    ] as const) {
      fake.script(() => ({ kind: "error", status }));
      const err = await chatError();
      assert.equal(err.code, code);
      assert.equal(err.status, status);
      assert.equal(err.retryable, true);
    }
  });

  it("409 (a conflict on the upstream, OpenAI's lock timeout) is retryable, its status kept", async () => {
    fake.script(() => ({ kind: "error", status: 409, message: "Request timed out waiting for a lock." }));
    const err = await chatError();
    assert.equal(err.status, 409);
    assert.equal(err.retryable, true);
  });

  it("reads the stop sequence that ended the answer where the server names it (vLLM's stop_reason), streamed and whole", async () => {
    const finishing = (extra: Record<string, unknown>) =>
      JSON.stringify({
        id: "chatcmpl-x",
        object: "chat.completion.chunk",
        created: 1,
        model: MODEL,
        choices: [{ index: 0, delta: {}, finish_reason: "stop", ...extra }],
      });
    replay([chunk({ role: "assistant", content: "Hal" }), finishing({ stop_reason: "END" }), "[DONE]"]);
    assert.deepEqual((await events(request({ stop: ["END"] }))).at(-1), {
      type: "finish",
      reason: "stop",
      raw: "stop",
      stopSequence: "END",
    });
    // OpenAI's own answers have no such field; vLLM sends null (EOS) or a token id (a stop token).
    for (const extra of [{}, { stop_reason: null }, { stop_reason: 128001 }]) {
      replay([chunk({ role: "assistant", content: "Hal" }), finishing(extra), "[DONE]"]);
      assert.deepEqual((await events()).at(-1), { type: "finish", reason: "stop", raw: "stop" }, JSON.stringify(extra));
    }
    const whole = readOpenAIChatCompletion(
      {
        id: "chatcmpl-x",
        object: "chat.completion",
        model: MODEL,
        choices: [{ index: 0, message: { role: "assistant", content: "Hal" }, finish_reason: "stop", stop_reason: "END" }],
      },
      "up/m",
    );
    assert.equal((whole.at(-1) as { stopSequence?: string }).stopSequence, "END");
  });

  it("names a search model's annotations, once, as what the canonical events do not carry", () => {
    const citation = {
      type: "url_citation",
      url_citation: { start_index: 0, end_index: 3, url: "https://example.com/", title: "Ex" },
    };
    const whole = readOpenAIChatCompletion(
      {
        id: "chatcmpl-x",
        object: "chat.completion",
        model: MODEL,
        choices: [
          { index: 0, message: { role: "assistant", content: "Hal", annotations: [citation, citation] }, finish_reason: "stop" },
        ],
      },
      "up/m",
    );
    assert.deepEqual(
      whole.filter((event) => event.type === "untranslated"),
      [{ type: "untranslated", part: "annotations" }],
    );
    const plain = readOpenAIChatCompletion(
      {
        id: "chatcmpl-x",
        object: "chat.completion",
        model: MODEL,
        choices: [{ index: 0, message: { role: "assistant", content: "Hal", annotations: [] }, finish_reason: "stop" }],
      },
      "up/m",
    );
    assert.equal(plain.filter((event) => event.type === "untranslated").length, 0);
  });

  it("an error chunk inside a 200 stream throws, retryable for server errors", async () => {
    replay([
      chunk({ role: "assistant", content: "" }),
      chunk({ content: "Hal" }),
      JSON.stringify({
        error: {
          message: "The server had an error while processing your request.",
          type: "server_error",
          param: null,
          code: null,
        },
      }),
    ]);
    const out: StreamEvent[] = [];
    const err = await (async () => {
      try {
        for await (const e of provider.chat(request(), new AbortController().signal)) out.push(e);
      } catch (e) {
        return e;
      }
    })();
    assert.ok(err instanceof GatewayError);
    assert.equal(err.code, "upstream_error");
    assert.equal(err.retryable, true);
    assert.match(err.message, /server had an error/);
    assert.deepEqual(
      out.map((e) => e.type),
      ["start", "text-delta"],
    );
  });

  it("an in-stream rate limit or bad request keeps its meaning", async () => {
    replay([
      JSON.stringify({ error: { message: "Rate limit reached", type: "tokens", param: null, code: "rate_limit_exceeded" } }),
    ]);
    assert.equal((await chatError()).code, "rate_limited");
    replay([
      JSON.stringify({
        error: { message: "Too long", type: "invalid_request_error", param: "messages", code: "context_length_exceeded" },
      }),
    ]);
    assert.equal((await chatError()).code, "context_length_exceeded");
    // vLLM / OpenRouter style: the HTTP status as a numeric code.
    replay([JSON.stringify({ error: { message: "Upstream overloaded", code: 502 } })]);
    const err = await chatError();
    assert.equal(err.status, 502);
    assert.equal(err.retryable, true);
  });

  it("a stream that closes cleanly without finish_reason or [DONE] throws upstream_error", async () => {
    replay([chunk({ role: "assistant", content: "Hel" }), chunk({ content: "lo" })]);
    const err = await chatError();
    assert.equal(err.code, "upstream_error");
    assert.match(err.message, /ended before it finished/);
  });

  it("malformed JSON in a chunk throws upstream_error", async () => {
    replay([chunk({ role: "assistant", content: "Hel" }), '{"id":"x","choices":[{"delta":{"content":"lo"']);
    const err = await chatError();
    assert.equal(err.code, "upstream_error");
    assert.match(err.message, /not JSON/);
  });

  it("a chunk whose fields have the wrong types throws upstream_error, never a garbled event", async () => {
    const wrong = [
      '{"id":"x","choices":[{"index":0,"delta":{"content":5},"finish_reason":null}]}',
      '{"id":"x","choices":{"index":0}}',
      '{"id":7,"choices":[]}',
      '{"id":"x","choices":[{"index":0,"delta":{"tool_calls":[{"index":"0","function":{"name":"f"}}]}}]}',
      '{"id":"x","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":{}}}]}}]}',
      '{"id":"x","choices":[],"usage":{"prompt_tokens":"many"}}',
      "[1,2]",
    ];
    for (const line of wrong) {
      replay([chunk({ role: "assistant", content: "Hel" }), line, "[DONE]"]);
      const err = await chatError();
      assert.equal(err.code, "upstream_error", line);
      assert.match(err.message, /unexpected shape/, line);
    }
  });

  it("an HTML page with status 200 throws upstream_error", async () => {
    fake.script(() => ({
      kind: "raw",
      headers: { "content-type": "text/html" },
      body: ["<html><body>Welcome to nginx</body></html>"],
    }));
    const err = await chatError();
    assert.equal(err.code, "upstream_error");
    assert.match(err.message, /text\/html/);
  });

  it("an already aborted signal never reaches the upstream", async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(
      events(request(), controller.signal),
      (err: unknown) => err instanceof GatewayError && err.code === "canceled",
    );
    assert.equal(fake.requests.length, 0);
  });
});

describe("OpenAIProvider.embed, listModels, probe", () => {
  it("embeds with float encoding and keeps the order", async () => {
    const result = await provider.embed(
      {
        model: "up/text-embedding-3-small",
        upstreamModel: "text-embedding-3-small",
        input: ["alpha", "beta"],
        dimensions: 4,
        user: "u",
      },
      new AbortController().signal,
    );
    assert.deepEqual(result.embeddings, [fakeEmbedding("alpha", 4), fakeEmbedding("beta", 4)]);
    assert.equal(result.usage.inputTokens, 3);
    assert.deepEqual(fake.requests[0]?.body, {
      model: "text-embedding-3-small",
      input: ["alpha", "beta"],
      encoding_format: "float",
      dimensions: 4,
      user: "u",
    });
    assert.equal(fake.requests[0]?.path, "/v1/embeddings");
  });

  it("embedding errors mirror the upstream", async () => {
    fake.script(() => ({ kind: "error", status: 429 }));
    await assert.rejects(
      provider.embed({ model: "m", upstreamModel: "text-embedding-3-small", input: ["x"] }, new AbortController().signal),
      (err: unknown) => err instanceof GatewayError && err.code === "rate_limited" && err.retryAfterMs === 1000,
    );
  });

  it("lists models and probes with them", async () => {
    const models = await provider.listModels(new AbortController().signal);
    assert.deepEqual(models, [
      { id: MODEL, ownedBy: "openai", created: 1686935002 },
      { id: "text-embedding-3-small", ownedBy: "openai", created: 1686935002 },
    ]);
    await provider.probe(new AbortController().signal);
    assert.equal(fake.requests.at(-1)?.path, "/v1/models");
    assert.equal(fake.requests.at(-1)?.headers.authorization, "Bearer sk-upstream");
  });

  it("probe fails with the upstream's 401 on a wrong key", async () => {
    const locked = await startFakeOpenAI({ apiKey: "sk-right" });
    const wrong = new OpenAIProvider({ id: "locked", baseUrl: locked.url, apiKey: async () => "sk-wrong" });
    try {
      await assert.rejects(wrong.probe(new AbortController().signal), (err: unknown) => {
        return err instanceof GatewayError && err.code === "authentication" && err.status === 401;
      });
    } finally {
      await wrong.close();
      await locked.close();
    }
  });

  it("probe fails as unavailable when nothing listens", async () => {
    const dead = new OpenAIProvider({ id: "dead", baseUrl: "http://127.0.0.1:1/v1", apiKey: async () => undefined });
    try {
      await assert.rejects(
        dead.probe(new AbortController().signal),
        (err: unknown) => err instanceof GatewayError && err.code === "unavailable",
      );
    } finally {
      await dead.close();
    }
  });
});

providerConformance({
  name: "openai",
  setup: async () => {
    const upstream = await startFakeOpenAI({ models: [MODEL, "text-embedding-3-small"] });
    return {
      fake: upstream,
      model: MODEL,
      embeddingModel: "text-embedding-3-small",
      provider: new OpenAIProvider({ id: "up", baseUrl: upstream.url, apiKey: async () => "key-1" }),
      unreachable: () => new OpenAIProvider({ id: "gone", baseUrl: "http://127.0.0.1:9/v1", apiKey: async () => undefined }),
    };
  },
  teardown: async ({ provider, fake }) => {
    await provider.close();
    await fake?.close();
  },
});

describe("earlier reasoning as reasoning_content", () => {
  const reasoningHistory = (baseUrl: string, reasoningContent?: boolean) =>
    new OpenAIProvider({
      id: "x",
      baseUrl,
      apiKey: async () => "k",
      ...(reasoningContent !== undefined && { reasoningContent }),
    }).capabilities.reasoningHistory;

  it("goes by default to DeepSeek's and Moonshot's APIs, whose thinking models want it in a tool loop, and to no other", () => {
    assert.equal(reasoningHistory("https://api.deepseek.com/v1"), "text");
    assert.equal(reasoningHistory("https://api.deepseek.com"), "text");
    assert.equal(reasoningHistory("https://api.moonshot.ai/v1"), "text");
    assert.equal(reasoningHistory("https://api.moonshot.cn/v1"), "text");
    assert.equal(reasoningHistory("https://api.openai.com/v1"), undefined);
    assert.equal(reasoningHistory("http://127.0.0.1:8000/v1"), undefined);
  });

  it("follows the config either way", () => {
    assert.equal(reasoningHistory("http://127.0.0.1:8000/v1", true), "text");
    assert.equal(reasoningHistory("https://api.deepseek.com/v1", false), undefined);
  });
});
