/**
 * The provider contract (src/providers/provider.ts), checked the same way for every remote provider
 * against its fake upstream, after Hono's shared router suite: one set of cases, many implementations.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { GatewayError, type ProviderChatRequest, type StreamEvent } from "../../src/core/index.js";
import { AnthropicProvider } from "../../src/providers/anthropic/index.js";
import { OllamaProvider } from "../../src/providers/ollama/index.js";
import { OpenAIProvider } from "../../src/providers/openai/index.js";
import type { Provider, RemoteProviderOptions } from "../../src/providers/provider.js";
import { startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { startFakeOllama } from "../support/fake-ollama-upstream.js";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeUpstream } from "../support/fake-upstream.js";

interface Implementation {
  name: string;
  model: string;
  start: (models: string[]) => Promise<FakeUpstream>;
  create: (options: RemoteProviderOptions) => Provider;
}

const IMPLEMENTATIONS: Implementation[] = [
  { name: "openai", model: "gpt-4o-mini", start: (models) => startFakeOpenAI({ models }), create: (o) => new OpenAIProvider(o) },
  {
    name: "anthropic",
    model: "claude-haiku-4-5",
    start: (models) => startFakeAnthropic({ models }),
    create: (o) => new AnthropicProvider(o),
  },
  {
    name: "ollama",
    model: "llama3.2:latest",
    start: (models) => startFakeOllama({ models }),
    create: (o) => new OllamaProvider(o),
  },
];

const tools = [
  { name: "get_weather", description: "Weather", parameters: { type: "object", properties: { city: { type: "string" } } } },
];

async function drain(iterable: AsyncIterable<StreamEvent>): Promise<{ events: StreamEvent[]; error?: GatewayError }> {
  const events: StreamEvent[] = [];
  try {
    for await (const event of iterable) events.push(event);
    return { events };
  } catch (err) {
    assert.ok(err instanceof GatewayError, `providers throw GatewayErrors, got ${String(err)}`);
    return { events, error: err };
  }
}

function text(events: StreamEvent[]): string {
  return events.map((e) => (e.type === "text-delta" ? e.text : "")).join("");
}

/** Checks the shape every successful stream has: start first, one finish last, usage before it. */
function assertWellFormed(events: StreamEvent[]): void {
  assert.equal(events[0]?.type, "start", "the first event is start");
  assert.equal(events.at(-1)?.type, "finish", "the last event is finish");
  assert.equal(events.filter((e) => e.type === "finish").length, 1, "exactly one finish");
  assert.equal(events.filter((e) => e.type === "start").length, 1, "exactly one start");
  const open = new Set<number>();
  for (const e of events) {
    if (e.type === "tool-call-start") {
      assert.ok(!open.has(e.index), `call ${e.index} started twice`);
      assert.ok(e.id.length > 0 && e.name.length > 0, "a call has an id and a name");
      open.add(e.index);
    }
    if (e.type === "tool-call-delta") assert.ok(open.has(e.index), `delta for call ${e.index} outside its start/end`);
    if (e.type === "tool-call-end") {
      assert.ok(open.has(e.index), `end for call ${e.index} without a start`);
      open.delete(e.index);
    }
  }
  assert.equal(open.size, 0, "every call that started also ended");
}

for (const impl of IMPLEMENTATIONS) {
  describe(`provider conformance: ${impl.name}`, () => {
    let fake: FakeUpstream;
    let provider: Provider;
    const request = (overrides: Partial<ProviderChatRequest> = {}): ProviderChatRequest => ({
      model: `up/${impl.model}`,
      upstreamModel: impl.model,
      messages: [{ role: "user", content: [{ type: "text", text: "Hi" }] }],
      maxTokens: 50,
      stream: false,
      ...overrides,
    });
    const signal = () => new AbortController().signal;

    before(async () => {
      fake = await impl.start([impl.model]);
      provider = impl.create({ id: "up", baseUrl: fake.url, apiKey: async () => "key-1" });
    });
    after(async () => {
      await provider.close();
      await fake.close();
    });

    it("streams text: start, deltas, usage, one finish; from a streamed upstream request either way", async () => {
      fake.script(() => ({
        kind: "text",
        text: "Once upon a time",
        chunks: ["Once ", "upon ", "a time"],
        usage: { input: 7, output: 4 },
      }));
      for (const stream of [false, true]) {
        const { events, error } = await drain(provider.chat(request({ stream }), signal()));
        assert.equal(error, undefined);
        assertWellFormed(events);
        assert.equal(text(events), "Once upon a time");
        assert.ok(events.filter((e) => e.type === "text-delta").length >= 3, "text arrives in pieces");
        const finish = events.at(-1);
        assert.equal(finish?.type === "finish" && finish.reason, "stop");
        const usage = Object.assign({}, ...events.filter((e) => e.type === "usage").map((e) => e.usage));
        assert.deepEqual([usage.inputTokens, usage.outputTokens], [7, 4]);
        assert.equal((fake.requests.at(-1)?.body as { stream?: boolean }).stream, true);
      }
    });

    it("reports a length stop as length", async () => {
      fake.script(() => ({ kind: "text", text: "Once upon", finish: "length" }));
      const { events } = await drain(provider.chat(request(), signal()));
      const finish = events.at(-1);
      assert.equal(finish?.type === "finish" && finish.reason, "length");
    });

    it("streams tool calls with ids, names and parseable arguments, ended before finish", async () => {
      fake.script(() => ({
        kind: "tool_calls",
        calls: [
          { id: "call_a1", name: "get_weather", arguments: { city: "Paris" } },
          { id: "call_b2", name: "get_weather", arguments: { city: "Oslo" } },
        ],
      }));
      const { events, error } = await drain(provider.chat(request({ tools }), signal()));
      assert.equal(error, undefined);
      assertWellFormed(events);
      const starts = events.filter((e) => e.type === "tool-call-start");
      assert.deepEqual(
        starts.map((s) => s.id),
        ["call_a1", "call_b2"],
      );
      const args = starts.map((s) =>
        JSON.parse(
          events
            .filter((e) => e.type === "tool-call-delta" && e.index === s.index)
            .map((e) => (e.type === "tool-call-delta" ? e.argumentsDelta : ""))
            .join(""),
        ),
      );
      assert.deepEqual(args, [{ city: "Paris" }, { city: "Oslo" }]);
      const finish = events.at(-1);
      assert.equal(finish?.type === "finish" && finish.reason, "tool_calls");
    });

    it("answers whole when asked: the same events from one non-streamed upstream answer", async () => {
      assert.equal(provider.answersWhole, true);
      fake.script(() => ({ kind: "text", text: "Once upon a time", usage: { input: 7, output: 4 } }));
      const whole = await drain(provider.chat(request({ whole: true }), signal()));
      assert.equal(whole.error, undefined);
      assertWellFormed(whole.events);
      assert.equal(text(whole.events), "Once upon a time");
      const usage = Object.assign({}, ...whole.events.filter((e) => e.type === "usage").map((e) => e.usage));
      assert.deepEqual([usage.inputTokens, usage.outputTokens], [7, 4]);
      assert.equal(whole.events.at(-1)?.type === "finish" && (whole.events.at(-1) as { reason: string }).reason, "stop");
      assert.equal((fake.requests.at(-1)?.body as { stream?: boolean }).stream, false);

      fake.script(() => ({ kind: "text", text: "Once upon", finish: "length" }));
      const cut = await drain(provider.chat(request({ whole: true }), signal()));
      assert.equal(cut.events.at(-1)?.type === "finish" && (cut.events.at(-1) as { reason: string }).reason, "length");

      fake.script(() => ({
        kind: "tool_calls",
        calls: [
          { id: "call_a1", name: "get_weather", arguments: { city: "Paris" } },
          { id: "call_b2", name: "get_weather", arguments: { city: "Oslo" } },
        ],
      }));
      const calls = await drain(provider.chat(request({ tools, whole: true }), signal()));
      assert.equal(calls.error, undefined);
      assertWellFormed(calls.events);
      const starts = calls.events.filter((e) => e.type === "tool-call-start");
      assert.deepEqual(
        starts.map((s) => [s.id, s.name]),
        [
          ["call_a1", "get_weather"],
          ["call_b2", "get_weather"],
        ],
      );
      const args = starts.map((s) =>
        JSON.parse(
          calls.events.map((e) => (e.type === "tool-call-delta" && e.index === s.index ? e.argumentsDelta : "")).join(""),
        ),
      );
      assert.deepEqual(args, [{ city: "Paris" }, { city: "Oslo" }]);
      assert.equal(calls.events.at(-1)?.type === "finish" && (calls.events.at(-1) as { reason: string }).reason, "tool_calls");

      fake.script(() => ({ kind: "error", status: 429, message: "slow down", headers: { "retry-after": "3" } }));
      const limited = await drain(provider.chat(request({ whole: true }), signal()));
      assert.equal(limited.events.length, 0);
      assert.equal(limited.error?.code, "rate_limited");
      assert.equal(limited.error?.retryAfterMs, 3000);
    });

    it("mirrors an upstream 429 with its Retry-After, retryable", async () => {
      fake.script(() => ({ kind: "error", status: 429, message: "slow down", headers: { "retry-after": "7" } }));
      const { events, error } = await drain(provider.chat(request(), signal()));
      assert.equal(events.length, 0);
      assert.equal(error?.code, "rate_limited");
      assert.equal(error?.status, 429);
      assert.equal(error?.retryAfterMs, 7000);
      assert.equal(error?.retryable, true);
    });

    it("treats a 500 as retryable and a 401 as not", async () => {
      fake.script(() => ({ kind: "error", status: 500, message: "boom" }));
      const server = await drain(provider.chat(request(), signal()));
      assert.equal(server.error?.retryable, true);
      assert.equal(server.error?.status, 500);
      fake.script(() => ({ kind: "error", status: 401, message: "bad key" }));
      const auth = await drain(provider.chat(request(), signal()));
      assert.equal(auth.error?.code, "authentication");
      assert.equal(auth.error?.retryable, false);
    });

    it("fails a stream that breaks off after some text with upstream_error, never a finish", async () => {
      fake.script(() => ({ kind: "broken_stream", chunks: ["Once ", "upon "] }));
      const { events, error } = await drain(provider.chat(request(), signal()));
      assert.equal(text(events), "Once upon ");
      assert.ok(!events.some((e) => e.type === "finish"));
      assert.equal(error?.code, "upstream_error");
      assert.equal(error?.retryable, true);
    });

    it("stops at once when the signal aborts mid-stream, with canceled", async () => {
      fake.script(() => ({ kind: "stall", chunks: ["Once "] }));
      const controller = new AbortController();
      const seen: StreamEvent[] = [];
      let abortedAt = 0;
      const outcome = await drain(
        (async function* () {
          for await (const event of provider.chat(request(), controller.signal)) {
            seen.push(event);
            if (event.type === "text-delta") {
              abortedAt = Date.now();
              controller.abort();
            }
            yield event;
          }
        })(),
      );
      assert.equal(text(seen), "Once ");
      assert.equal(outcome.error?.code, "canceled");
      assert.ok(Date.now() - abortedAt < 1000, "cancellation took too long");
    });

    it("reports an unreachable upstream as unavailable and retryable", async () => {
      const gone = impl.create({
        id: "gone",
        baseUrl: impl.name === "openai" ? "http://127.0.0.1:9/v1" : "http://127.0.0.1:9",
        apiKey: async () => undefined,
      });
      const { error } = await drain(gone.chat(request(), signal()));
      assert.equal(error?.code, "unavailable");
      assert.equal(error?.retryable, true);
      await gone.close();
    });

    it("lists the upstream's models and probes with them", async () => {
      const models = await provider.listModels(signal());
      assert.ok(
        models.some((m) => m.id === impl.model),
        JSON.stringify(models),
      );
      await provider.probe(signal());
    });
  });
}
