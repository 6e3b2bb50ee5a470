import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, beforeEach, describe, it } from "node:test";
import { GatewayError, type ProviderChatRequest, type StreamEvent } from "../../../src/core/index.js";
import { OllamaProvider } from "../../../src/providers/ollama/index.js";
import {
  type FakeOllamaUpstream,
  fakeEmbedding,
  fakeOllamaTagsEntry,
  legacyEmbedding,
  startFakeOllama,
} from "../../support/fake-ollama-upstream.js";
import { providerConformance } from "../conformance.js";

const MODEL = "llama3.2:latest";
const PNG_BASE64 = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]).toString("base64");

function fixture(name: string): string {
  return readFileSync(new URL(`../../fixtures/ollama/${name}`, import.meta.url), "utf8");
}

function chatRequest(overrides: Partial<ProviderChatRequest> = {}): ProviderChatRequest {
  return {
    model: `local/${MODEL}`,
    upstreamModel: MODEL,
    messages: [{ role: "user", content: [{ type: "text", text: "Hi" }] }],
    stream: true,
    ...overrides,
  };
}

async function collect(iterable: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const events: StreamEvent[] = [];
  for await (const event of iterable) events.push(event);
  return events;
}

/** Collects events until the stream throws; returns both. */
async function collectUntilError(iterable: AsyncIterable<StreamEvent>): Promise<{ events: StreamEvent[]; error: unknown }> {
  const events: StreamEvent[] = [];
  try {
    for await (const event of iterable) events.push(event);
  } catch (error) {
    return { events, error };
  }
  return { events, error: undefined };
}

function textOfEvents(events: StreamEvent[]): string {
  return events.map((e) => (e.type === "text-delta" ? e.text : "")).join("");
}

function lastBody(fake: FakeOllamaUpstream): Record<string, unknown> {
  const last = fake.requests.at(-1);
  assert.ok(last, "the fake saw no request");
  return last.body as Record<string, unknown>;
}

let fake: FakeOllamaUpstream;
let provider: OllamaProvider;
const signal = () => AbortSignal.timeout(5000);

before(async () => {
  fake = await startFakeOllama({ models: [MODEL, "nomic-embed-text:latest"] });
  provider = new OllamaProvider({ id: "local", baseUrl: fake.url, apiKey: async () => undefined });
});

after(async () => {
  await provider.close();
  await fake.close();
});

beforeEach(() => {
  fake.requests.length = 0;
  fake.script(() => ({ kind: "text", text: "Hello from ollama", usage: { input: 12, output: 4 } }));
});

describe("OllamaProvider.chat", () => {
  it("streams text as start, deltas, usage and finish", async () => {
    const events = await collect(provider.chat(chatRequest(), signal()));
    assert.deepEqual(events[0], { type: "start", model: MODEL });
    assert.equal(textOfEvents(events), "Hello from ollama");
    assert.ok(events.filter((e) => e.type === "text-delta").length > 1, "expected several deltas");
    assert.deepEqual(events.at(-2), { type: "usage", usage: { inputTokens: 12, outputTokens: 4 } });
    assert.deepEqual(events.at(-1), { type: "finish", reason: "stop", raw: "stop" });
    const body = lastBody(fake);
    assert.equal(body.model, MODEL);
    assert.equal(body.stream, true);
    assert.equal(fake.requests.at(-1)?.path, "/api/chat");
  });

  it("converts messages, tools, format and options to Ollama's wire", async () => {
    await collect(
      provider.chat(
        chatRequest({
          messages: [
            { role: "system", content: "Be brief." },
            {
              role: "user",
              content: [
                { type: "text", text: "What is this? " },
                { type: "image", source: { kind: "base64", mediaType: "image/png", data: PNG_BASE64 } },
                { type: "image", source: { kind: "url", url: `data:image/png;base64,${PNG_BASE64}` } },
              ],
            },
            {
              role: "assistant",
              content: [],
              toolCalls: [
                { id: "call_a", name: "get_weather", arguments: '{"city":"Paris"}' },
                { id: "call_b", name: "get_time", arguments: "not json" },
              ],
            },
            { role: "tool", toolCallId: "call_a", content: [{ type: "text", text: "21C" }] },
            { role: "tool", toolCallId: "call_b", name: "get_time", content: [{ type: "text", text: "noon" }] },
          ],
          tools: [{ name: "get_weather", description: "Weather", parameters: { type: "object", properties: {} } }],
          responseFormat: { type: "json_schema", schema: { type: "object" } },
          temperature: 0.2,
          topP: 0.9,
          topK: 40,
          maxTokens: 100,
          stop: ["\n\n"],
          seed: 7,
        }),
        signal(),
      ),
    );
    const body = lastBody(fake);
    assert.deepEqual(body.messages, [
      { role: "system", content: "Be brief." },
      { role: "user", content: "What is this? ", images: [PNG_BASE64, PNG_BASE64] },
      {
        role: "assistant",
        content: "",
        tool_calls: [
          { id: "call_a", function: { name: "get_weather", arguments: { city: "Paris" } } },
          { id: "call_b", function: { name: "get_time", arguments: { _raw_arguments: "not json" } } },
        ],
      },
      { role: "tool", content: "21C", tool_call_id: "call_a", tool_name: "get_weather" },
      { role: "tool", content: "noon", tool_call_id: "call_b", tool_name: "get_time" },
    ]);
    assert.deepEqual(body.tools, [
      {
        type: "function",
        function: { name: "get_weather", description: "Weather", parameters: { type: "object", properties: {} } },
      },
    ]);
    assert.deepEqual(body.format, { type: "object" });
    assert.deepEqual(body.options, { temperature: 0.2, top_p: 0.9, top_k: 40, num_predict: 100, stop: ["\n\n"], seed: 7 });
  });

  it('sends format "json", and no tools when tool choice is "none"', async () => {
    await collect(
      provider.chat(
        chatRequest({
          tools: [{ name: "t", parameters: { type: "object" } }],
          toolChoice: "none",
          responseFormat: { type: "json" },
        }),
        signal(),
      ),
    );
    const body = lastBody(fake);
    assert.equal(body.format, "json");
    assert.equal(body.tools, undefined);
    assert.equal(body.options, undefined);
  });

  it("refuses image URLs with a 400 before calling the upstream", async () => {
    const request = chatRequest({
      messages: [{ role: "user", content: [{ type: "image", source: { kind: "url", url: "https://example.com/cat.png" } }] }],
    });
    const { error } = await collectUntilError(provider.chat(request, signal()));
    assert.ok(error instanceof GatewayError);
    assert.equal(error.code, "invalid_request");
    assert.equal(error.status, 400);
    assert.match(error.message, /base64/);
    assert.equal(fake.requests.length, 0);
  });

  it("turns whole tool calls into start, one delta and end, finishing with tool_calls", async () => {
    fake.script(() => ({
      kind: "tool_calls",
      text: "Let me check.",
      calls: [
        { name: "get_weather", arguments: { city: "Paris" } },
        { id: "call_given", name: "get_weather", arguments: { city: "Oslo" } },
      ],
      usage: { input: 20, output: 9 },
    }));
    const events = await collect(provider.chat(chatRequest(), signal()));
    assert.equal(textOfEvents(events), "Let me check.");
    const calls = events.filter((e) => e.type.startsWith("tool-call"));
    assert.equal(calls.length, 6);
    const [start0, delta0, end0, start1, delta1, end1] = calls;
    assert.ok(start0?.type === "tool-call-start" && start1?.type === "tool-call-start");
    assert.equal(start0.index, 0);
    assert.equal(start0.name, "get_weather");
    assert.match(start0.id, /^call_/);
    assert.deepEqual(delta0, { type: "tool-call-delta", index: 0, argumentsDelta: '{"city":"Paris"}' });
    assert.deepEqual(end0, { type: "tool-call-end", index: 0 });
    assert.equal(start1.index, 1);
    assert.equal(start1.id, "call_given");
    assert.deepEqual(delta1, { type: "tool-call-delta", index: 1, argumentsDelta: '{"city":"Oslo"}' });
    assert.deepEqual(end1, { type: "tool-call-end", index: 1 });
    assert.deepEqual(events.at(-1), { type: "finish", reason: "tool_calls", raw: "stop" });
  });

  it("replays a recorded text stream", async () => {
    fake.script(() => ({ kind: "raw", body: fixture("chat-stream.ndjson") }));
    const events = await collect(provider.chat(chatRequest(), signal()));
    assert.deepEqual(events[0], { type: "start", model: "llama3.2" });
    assert.equal(textOfEvents(events), "The sky is blue.");
    assert.deepEqual(events.at(-2), { type: "usage", usage: { inputTokens: 26, outputTokens: 282 } });
    assert.deepEqual(events.at(-1), { type: "finish", reason: "stop", raw: "stop" });
  });

  it("keeps the ids of recorded tool calls and synthesizes them where the server sent none", async () => {
    fake.script(() => ({ kind: "raw", body: fixture("chat-tool-calls.ndjson") }));
    const withIds = await collect(provider.chat(chatRequest(), signal()));
    const starts = withIds.filter((e) => e.type === "tool-call-start");
    assert.deepEqual(
      starts.map((e) => [e.index, e.id, e.name]),
      [
        [0, "call_lyywui55", "get_weather"],
        [1, "call_0scw2dos", "get_weather"],
      ],
    );

    fake.script(() => ({ kind: "raw", body: fixture("chat-tool-calls-without-ids.ndjson") }));
    const withoutIds = await collect(provider.chat(chatRequest(), signal()));
    const start = withoutIds.find((e) => e.type === "tool-call-start");
    assert.ok(start?.type === "tool-call-start");
    assert.match(start.id, /^call_[A-Za-z0-9]{8,}$/);
    const delta = withoutIds.find((e) => e.type === "tool-call-delta");
    assert.ok(delta?.type === "tool-call-delta");
    assert.deepEqual(JSON.parse(delta.argumentsDelta), { format: "celsius", location: "Paris, FR" });
    assert.deepEqual(withoutIds.at(-1), { type: "finish", reason: "tool_calls", raw: "stop" });
  });

  it("maps done_reason length", async () => {
    fake.script(() => ({ kind: "text", text: "Truncated answ", finish: "length", usage: { input: 3, output: 5 } }));
    const events = await collect(provider.chat(chatRequest(), signal()));
    assert.deepEqual(events.at(-1), { type: "finish", reason: "length", raw: "length" });
  });

  it("sends the API key as a bearer token, with configured headers, and no Authorization without a key", async () => {
    const keyed = new OllamaProvider({
      id: "cloud",
      baseUrl: fake.url,
      apiKey: async () => "ollama-key-123",
      headers: { "x-extra": "yes" },
    });
    try {
      await collect(keyed.chat(chatRequest(), signal()));
      assert.equal(fake.requests.at(-1)?.headers.authorization, "Bearer ollama-key-123");
      assert.equal(fake.requests.at(-1)?.headers["x-extra"], "yes");
    } finally {
      await keyed.close();
    }
    await collect(provider.chat(chatRequest(), signal()));
    assert.equal(fake.requests.at(-1)?.headers.authorization, undefined);
  });
});

describe("OllamaProvider.chat failures", () => {
  it("mirrors an unknown model as not_found 404 with Ollama's message", async () => {
    const { events, error } = await collectUntilError(provider.chat(chatRequest({ upstreamModel: "nope:7b" }), signal()));
    assert.equal(events.length, 0);
    assert.ok(error instanceof GatewayError);
    assert.equal(error.code, "not_found");
    assert.equal(error.status, 404);
    assert.match(error.message, /model "nope:7b" not found/);
    assert.equal(error.retryable, false);
  });

  it("mirrors a 500 with Ollama's message, a full queue's 503 as overloaded and another 503 as unavailable, all retryable", async () => {
    fake.script(() => ({ kind: "error", status: 500 }));
    let { error } = await collectUntilError(provider.chat(chatRequest(), signal()));
    assert.ok(error instanceof GatewayError);
    assert.equal(error.code, "upstream_error");
    assert.match(error.message, /an error was encountered while running the model/);
    assert.equal(error.retryable, true);

    // The fake's 503 is Ollama's own: "server busy, please try again.  maximum pending requests exceeded".
    fake.script(() => ({ kind: "error", status: 503 }));
    ({ error } = await collectUntilError(provider.chat(chatRequest(), signal())));
    assert.ok(error instanceof GatewayError);
    assert.equal(error.code, "overloaded");
    assert.equal(error.retryable, true);

    fake.script(() => ({ kind: "error", status: 503, message: "no runner is available" }));
    ({ error } = await collectUntilError(provider.chat(chatRequest(), signal())));
    assert.ok(error instanceof GatewayError);
    assert.equal(error.code, "unavailable");
    assert.equal(error.retryable, true);
  });

  it("throws on an error line inside a 200 stream, after the text before it", async () => {
    fake.script(() => ({ kind: "stream_error", chunks: ["Once", " upon"], message: "model runner has unexpectedly stopped" }));
    const { events, error } = await collectUntilError(provider.chat(chatRequest(), signal()));
    assert.equal(textOfEvents(events), "Once upon");
    assert.ok(error instanceof GatewayError);
    assert.equal(error.code, "upstream_error");
    assert.equal(error.retryable, true);
    assert.match(error.message, /model runner has unexpectedly stopped/);
    assert.ok(!events.some((e) => e.type === "finish"));
  });

  it("classifies a recorded mid-stream error, and a context overflow as not retryable", async () => {
    fake.script(() => ({ kind: "raw", body: fixture("chat-midstream-error.ndjson") }));
    let { error } = await collectUntilError(provider.chat(chatRequest(), signal()));
    assert.ok(error instanceof GatewayError);
    assert.equal(error.code, "upstream_error");
    assert.match(error.message, /unexpected EOF/);

    fake.script(() => ({ kind: "stream_error", chunks: [], message: "input length exceeds maximum context length" }));
    ({ error } = await collectUntilError(provider.chat(chatRequest(), signal())));
    assert.ok(error instanceof GatewayError);
    assert.equal(error.code, "context_length_exceeded");
    assert.equal(error.retryable, false);
  });

  it("throws upstream_error on malformed NDJSON and on a stream that ends without done", async () => {
    fake.script(() => ({ kind: "raw", body: '{"model":"m","message":{"content":"a"},"done":false}\n{not json\n' }));
    let { error } = await collectUntilError(provider.chat(chatRequest(), signal()));
    assert.ok(error instanceof GatewayError);
    assert.equal(error.code, "upstream_error");
    assert.match(error.message, /malformed stream/);

    fake.script(() => ({ kind: "raw", body: '{"model":"m","message":{"content":"a"},"done":"maybe"}\n' }));
    ({ error } = await collectUntilError(provider.chat(chatRequest(), signal())));
    assert.ok(error instanceof GatewayError);
    assert.equal(error.code, "upstream_error");

    fake.script(() => ({ kind: "raw", body: '{"model":"m","message":{"role":"assistant","content":"a"},"done":false}\n' }));
    const ended = await collectUntilError(provider.chat(chatRequest(), signal()));
    assert.equal(textOfEvents(ended.events), "a");
    assert.ok(ended.error instanceof GatewayError);
    assert.equal(ended.error.code, "upstream_error");
    assert.match(ended.error.message, /ended before it was done/);
  });

  it("is canceled without a request when the signal is already aborted", async () => {
    const { error } = await collectUntilError(provider.chat(chatRequest(), AbortSignal.abort()));
    assert.ok(error instanceof GatewayError);
    assert.equal(error.code, "canceled");
  });
});

describe("OllamaProvider embed, listModels, probe", () => {
  it("embeds through /api/embed", async () => {
    const result = await provider.embed(
      { model: "local/nomic-embed-text", upstreamModel: "nomic-embed-text", input: ["hello world", "bye"] },
      signal(),
    );
    assert.deepEqual(result.embeddings, [fakeEmbedding("hello world"), fakeEmbedding("bye")]);
    assert.equal(result.usage.inputTokens, 3);
    assert.deepEqual(lastBody(fake), { model: "nomic-embed-text", input: ["hello world", "bye"] });

    const sized = await provider.embed(
      { model: "local/nomic-embed-text", upstreamModel: "nomic-embed-text", input: ["x"], dimensions: 4 },
      signal(),
    );
    assert.equal(sized.embeddings[0]?.length, 4);
    assert.equal(lastBody(fake).dimensions, 4);
  });

  it("asks the legacy /api/embeddings for the model's own vector (raw), an input at a time", async () => {
    const result = await provider.embed(
      { model: "local/nomic-embed-text", upstreamModel: "nomic-embed-text", input: ["a", "b"], raw: true, keepAliveMs: 60000 },
      signal(),
    );
    assert.deepEqual(result.embeddings, [legacyEmbedding("a"), legacyEmbedding("b")]);
    assert.deepEqual(
      fake.requests.map((r) => [r.path, r.body]),
      [
        ["/api/embeddings", { model: "nomic-embed-text", prompt: "a", keep_alive: "60000ms" }],
        ["/api/embeddings", { model: "nomic-embed-text", prompt: "b", keep_alive: "60000ms" }],
      ],
    );
  });

  it("sends a client's own embedding body as written, and answers the upstream's whole", async () => {
    const text = '{"model":"local/nomic-embed-text","input":"x",  "keep_alive":"1m"}';
    const result = await provider.embed(
      {
        model: "local/nomic-embed-text",
        upstreamModel: "nomic-embed-text",
        input: ["x"],
        keepAliveMs: 60000,
        truncate: true,
        native: { wire: "ollama-embed", body: JSON.parse(text), text },
      },
      signal(),
    );
    assert.deepEqual(lastBody(fake), { model: "nomic-embed-text", input: "x", keep_alive: "1m" });
    assert.equal(result.native?.total_duration, 14143917);
    assert.deepEqual(result.embeddings, [fakeEmbedding("x")]);
  });

  it("mirrors embed errors", async () => {
    await assert.rejects(
      provider.embed({ model: "local/x", upstreamModel: "missing-embedder", input: ["a"] }, signal()),
      (err: unknown) => err instanceof GatewayError && err.code === "not_found" && err.status === 404,
    );
  });

  it("lists the upstream's models with their dates", async () => {
    const models = await provider.listModels(signal());
    assert.deepEqual(
      models.map((m) => m.id),
      [MODEL, "nomic-embed-text:latest"],
    );
    assert.equal(models[0]?.created, Math.floor(Date.parse("2025-10-17T23:14:07.414671Z") / 1000));
    assert.equal(fake.requests.at(-1)?.path, "/api/tags");
  });

  it("keeps what the upstream's list says of each model's file, and leaves out what it does not say", async () => {
    assert.deepEqual((await provider.listModels(signal()))[0]?.upstreamFile, {
      bytes: 2019393189,
      digest: fakeOllamaTagsEntry(MODEL).digest,
      modifiedAt: "2025-10-17T23:14:07.414671Z",
      parentModel: "",
      format: "gguf",
      family: "llama",
      families: ["llama"],
      parameterSize: "3.2B",
      quantization: "Q4_K_M",
    });
    // An older server's `families: null`, a date that is none, a size or digest written oddly: the rest is kept.
    const odd = await startFakeOllama({
      tags: [
        { name: "old:latest", modified_at: "yesterday", size: 42, details: { family: "qwen2", families: null } },
        { name: "bare:latest" },
        { name: "strings:latest", size: "42", digest: 7 },
      ],
    });
    try {
      const oddProvider = new OllamaProvider({ id: "odd", baseUrl: odd.url, apiKey: async () => undefined });
      assert.deepEqual(await oddProvider.listModels(signal()), [
        { id: "old:latest", upstreamFile: { bytes: 42, family: "qwen2" } },
        { id: "bare:latest" },
        { id: "strings:latest" },
      ]);
      await oddProvider.close();
    } finally {
      await odd.close();
    }
  });

  it("probes through the model list, and fails as unavailable when nothing listens", async () => {
    await provider.probe(signal());
    const closed = await startFakeOllama();
    const url = closed.url;
    await closed.close();
    const dead = new OllamaProvider({ id: "dead", baseUrl: url, apiKey: async () => undefined });
    try {
      await assert.rejects(dead.probe(signal()), (err: unknown) => err instanceof GatewayError && err.code === "unavailable");
    } finally {
      await dead.close();
    }
  });
});

providerConformance({
  name: "ollama",
  setup: async () => {
    const upstream = await startFakeOllama({ models: [MODEL, "nomic-embed-text:latest"] });
    return {
      fake: upstream,
      model: MODEL,
      embeddingModel: "nomic-embed-text",
      provider: new OllamaProvider({ id: "ollama", baseUrl: upstream.url, apiKey: async () => "key-1" }),
      unreachable: () => new OllamaProvider({ id: "gone", baseUrl: "http://127.0.0.1:9", apiKey: async () => undefined }),
    };
  },
  teardown: async ({ provider, fake }) => {
    await provider.close();
    await fake?.close();
  },
});
