/**
 * The provider contract (src/core/provider.ts), one shared suite every provider's own test file runs
 * against itself, after Hono's shared router suite: one set of cases, many implementations. A provider
 * declares which cases do not apply to it and why (`skip`), and which capabilities it does not have
 * (`without`: the suite then checks that the method is absent, not present and throwing).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { GatewayError, type Provider, type ProviderChatRequest, type StreamEvent } from "../../src/core/index.js";
import type { FakeUpstream } from "../support/fake-upstream.js";

/** The cases of the suite; a provider may skip any of them with a reason. */
export type ConformanceCase =
  | "text"
  | "length"
  | "tool-calls"
  | "whole"
  | "rate-limit"
  | "server-errors"
  | "broken-stream"
  | "abort"
  | "unreachable"
  | "models"
  | "embeddings"
  | "embedding-errors";

/** What a provider's test file gives the suite once its upstream is up. */
export interface ConformanceSubject {
  provider: Provider;
  /** A chat model the provider serves. */
  model: string;
  /** A model it embeds with (when it has embeddings). Default: `model`. */
  embeddingModel?: string;
  /**
   * The fake upstream behind it, for the cases that script the upstream's answer (tool calls, errors,
   * a broken stream). Absent for the local engine, which answers by itself: those cases are skipped there.
   */
  fake?: FakeUpstream;
  /** Builds a provider of the same kind whose upstream cannot be reached. */
  unreachable?: () => Provider;
}

export interface ConformanceOptions {
  /** Shown in the suite's name, e.g. `openai`. */
  name: string;
  /** Starts the upstream (or engine) and builds the provider; called once before the cases. */
  setup: () => Promise<ConformanceSubject>;
  /** Closes what setup started. */
  teardown: (subject: ConformanceSubject) => Promise<void>;
  /** Cases that do not apply to this provider, each with the reason. */
  skip?: Partial<Record<ConformanceCase, string>>;
  /** Capabilities it does not have, each with the reason; the suite checks the method is absent. */
  without?: { embeddings?: string };
}

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

function finishReason(events: StreamEvent[]): string | undefined {
  const last = events.at(-1);
  return last?.type === "finish" ? last.reason : undefined;
}

function usageOf(events: StreamEvent[]): { inputTokens?: number; outputTokens?: number } {
  return Object.assign({}, ...events.filter((e) => e.type === "usage").map((e) => e.usage));
}

/** Checks the shape every successful stream has: start first, one finish last, every tool call started and ended. */
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

function assertTwoWeatherCalls(events: StreamEvent[]): void {
  const starts = events.filter((e) => e.type === "tool-call-start");
  assert.deepEqual(
    starts.map((s) => [s.id, s.name]),
    [
      ["call_a1", "get_weather"],
      ["call_b2", "get_weather"],
    ],
  );
  const args = starts.map((s) =>
    JSON.parse(events.map((e) => (e.type === "tool-call-delta" && e.index === s.index ? e.argumentsDelta : "")).join("")),
  );
  assert.deepEqual(args, [{ city: "Paris" }, { city: "Oslo" }]);
  assert.equal(finishReason(events), "tool_calls");
}

const TWO_CALLS = {
  kind: "tool_calls" as const,
  calls: [
    { id: "call_a1", name: "get_weather", arguments: { city: "Paris" } },
    { id: "call_b2", name: "get_weather", arguments: { city: "Oslo" } },
  ],
};

/** Runs the shared provider suite as one `describe` in the calling test file. */
export function providerConformance(options: ConformanceOptions): void {
  const skip = options.skip ?? {};
  describe(`provider conformance: ${options.name}`, () => {
    let subject: ConformanceSubject;
    const request = (overrides: Partial<ProviderChatRequest> = {}): ProviderChatRequest => ({
      model: `${subject.provider.id}/${subject.model}`,
      upstreamModel: subject.model,
      messages: [{ role: "user", content: [{ type: "text", text: "Once upon a time" }] }],
      maxTokens: 50,
      temperature: 0,
      stream: false,
      ...overrides,
    });
    const signal = () => new AbortController().signal;
    /** The fake upstream, for a case that scripts it; a provider without one must skip that case. */
    const fake = (): FakeUpstream => {
      assert.ok(subject.fake, `${options.name} has no fake upstream: skip this case with a reason`);
      return subject.fake;
    };
    /** A case, or a skipped one with its declared reason. */
    const test = (name: ConformanceCase, title: string, fn: () => Promise<void>) => {
      const reason = skip[name];
      it(`${title} [${name}]`, reason ? { skip: reason } : {}, fn);
    };

    before(async () => {
      subject = await options.setup();
    });
    after(async () => {
      if (subject) await options.teardown(subject);
    });

    test("text", "streams text: start, deltas, usage, one finish; from a streamed upstream request either way", async () => {
      subject.fake?.script(() => ({
        kind: "text",
        text: "Once upon a time",
        chunks: ["Once ", "upon ", "a time"],
        usage: { input: 7, output: 4 },
      }));
      for (const stream of [false, true]) {
        const { events, error } = await drain(subject.provider.chat(request({ stream }), signal()));
        assert.equal(error, undefined);
        assertWellFormed(events);
        assert.ok(events.filter((e) => e.type === "text-delta").length >= 3, "text arrives in pieces");
        const usage = usageOf(events);
        if (subject.fake) {
          assert.equal(text(events), "Once upon a time");
          assert.equal(finishReason(events), "stop");
          assert.deepEqual([usage.inputTokens, usage.outputTokens], [7, 4]);
          assert.equal((subject.fake.requests.at(-1)?.body as { stream?: boolean }).stream, true);
        } else {
          assert.ok(text(events).trim().length > 0, "some text");
          assert.ok((usage.inputTokens ?? 0) > 0 && (usage.outputTokens ?? 0) > 0, "usage counts both ways");
        }
      }
    });

    test("length", "reports a length stop as length", async () => {
      subject.fake?.script(() => ({ kind: "text", text: "Once upon", finish: "length" }));
      const { events, error } = await drain(subject.provider.chat(request({ maxTokens: 3 }), signal()));
      assert.equal(error, undefined);
      assert.equal(finishReason(events), "length");
    });

    test("tool-calls", "streams tool calls with ids, names and parseable arguments, ended before finish", async () => {
      fake().script(() => TWO_CALLS);
      const { events, error } = await drain(subject.provider.chat(request({ tools }), signal()));
      assert.equal(error, undefined);
      assertWellFormed(events);
      assertTwoWeatherCalls(events);
    });

    test("whole", "answers whole when asked: the same events from one non-streamed upstream answer", async () => {
      assert.equal(subject.provider.answersWhole, true);
      const upstream = fake();
      upstream.script(() => ({ kind: "text", text: "Once upon a time", usage: { input: 7, output: 4 } }));
      const whole = await drain(subject.provider.chat(request({ whole: true }), signal()));
      assert.equal(whole.error, undefined);
      assertWellFormed(whole.events);
      assert.equal(text(whole.events), "Once upon a time");
      const usage = usageOf(whole.events);
      assert.deepEqual([usage.inputTokens, usage.outputTokens], [7, 4]);
      assert.equal(finishReason(whole.events), "stop");
      assert.equal((upstream.requests.at(-1)?.body as { stream?: boolean }).stream, false);

      upstream.script(() => ({ kind: "text", text: "Once upon", finish: "length" }));
      const cut = await drain(subject.provider.chat(request({ whole: true }), signal()));
      assert.equal(finishReason(cut.events), "length");

      upstream.script(() => TWO_CALLS);
      const calls = await drain(subject.provider.chat(request({ tools, whole: true }), signal()));
      assert.equal(calls.error, undefined);
      assertWellFormed(calls.events);
      assertTwoWeatherCalls(calls.events);

      upstream.script(() => ({ kind: "error", status: 429, message: "slow down", headers: { "retry-after": "3" } }));
      const limited = await drain(subject.provider.chat(request({ whole: true }), signal()));
      assert.equal(limited.events.length, 0);
      assert.equal(limited.error?.code, "rate_limited");
      assert.equal(limited.error?.retryAfterMs, 3000);
    });

    test("rate-limit", "mirrors an upstream 429 with its Retry-After, retryable", async () => {
      fake().script(() => ({ kind: "error", status: 429, message: "slow down", headers: { "retry-after": "7" } }));
      const { events, error } = await drain(subject.provider.chat(request(), signal()));
      assert.equal(events.length, 0);
      assert.equal(error?.code, "rate_limited");
      assert.equal(error?.status, 429);
      assert.equal(error?.retryAfterMs, 7000);
      assert.equal(error?.retryable, true);
    });

    test("server-errors", "treats a 500 as retryable and a 401 as not; a redirect or a 499 is the target's failure", async () => {
      fake().script(() => ({ kind: "error", status: 500, message: "boom" }));
      const server = await drain(subject.provider.chat(request(), signal()));
      assert.equal(server.error?.retryable, true);
      assert.equal(server.error?.status, 500);
      fake().script(() => ({ kind: "error", status: 401, message: "bad key" }));
      const auth = await drain(subject.provider.chat(request(), signal()));
      assert.equal(auth.error?.code, "authentication");
      assert.equal(auth.error?.retryable, false);
      // A base URL on http:// for an https:// API answers with a redirect: the target's
      // misconfiguration (never followed, not retried), not the client's bad request.
      fake().script(() => ({
        kind: "error",
        status: 301,
        body: "",
        headers: { location: "https://api.example.com/v1/chat?key=sk-in-query" },
      }));
      const moved = await drain(subject.provider.chat(request(), signal()));
      assert.equal(moved.error?.code, "upstream_error");
      assert.equal(moved.error?.status, 502);
      assert.equal(moved.error?.retryable, false);
      assert.match(
        moved.error?.message ?? "",
        /redirects to https:\/\/api\.example\.com\/v1\/chat; check the provider's baseUrl/,
      );
      assert.doesNotMatch(moved.error?.message ?? "", /sk-in-query/);
      // A 499 (Google's APIs say CANCELLED so) is about the upstream's own side: tandem's client is still there.
      fake().script(() => ({
        kind: "error",
        status: 499,
        body: { error: { code: 499, message: "The operation was cancelled.", status: "CANCELLED" } },
      }));
      const proxy = await drain(subject.provider.chat(request(), signal()));
      assert.equal(proxy.error?.code, "upstream_error");
      assert.equal(proxy.error?.status, 502);
      assert.equal(proxy.error?.retryable, true);
    });

    test("broken-stream", "fails a stream that breaks off after some text with upstream_error, never a finish", async () => {
      fake().script(() => ({ kind: "broken_stream", chunks: ["Once ", "upon "] }));
      const { events, error } = await drain(subject.provider.chat(request(), signal()));
      assert.equal(text(events), "Once upon ");
      assert.ok(!events.some((e) => e.type === "finish"));
      assert.equal(error?.code, "upstream_error");
      assert.equal(error?.retryable, true);
    });

    test("abort", "stops when the signal aborts mid-stream, with canceled", async () => {
      // A fake upstream stalls after its first words, so only the abort can end this stream.
      subject.fake?.script(() => ({ kind: "stall", chunks: ["Once "] }));
      const controller = new AbortController();
      const seen: StreamEvent[] = [];
      const outcome = await drain(
        (async function* () {
          for await (const event of subject.provider.chat(request({ maxTokens: 400 }), controller.signal)) {
            seen.push(event);
            if (event.type === "text-delta") controller.abort();
            yield event;
          }
        })(),
      );
      assert.equal(outcome.error?.code, "canceled");
      assert.ok(!seen.some((e) => e.type === "finish"), "no finish after an abort");
      if (subject.fake) assert.equal(text(seen), "Once ");
    });

    test("unreachable", "reports an unreachable upstream as unavailable and retryable", async () => {
      assert.ok(subject.unreachable, `${options.name} gives no unreachable provider: skip this case with a reason`);
      const gone = subject.unreachable();
      try {
        const { error } = await drain(gone.chat(request(), signal()));
        assert.equal(error?.code, "unavailable");
        assert.equal(error?.retryable, true);
      } finally {
        await gone.close();
      }
    });

    test("models", "lists its models and probes", async () => {
      const models = await subject.provider.listModels(signal());
      assert.ok(
        models.some((m) => m.id === subject.model),
        JSON.stringify(models),
      );
      await subject.provider.probe(signal());
    });

    const noEmbeddings = options.without?.embeddings;
    if (noEmbeddings) {
      it(`has no embed method: ${noEmbeddings} [embeddings]`, () => {
        assert.equal(subject.provider.embed, undefined, "a provider without embeddings has no embed method");
      });
    } else {
      test("embeddings", "embeds each input into one vector of the same size, in order, with usage", async () => {
        const embed = subject.provider.embed;
        assert.ok(embed, `${options.name} has no embed method: declare it in 'without' with the reason`);
        const model = subject.embeddingModel ?? subject.model;
        const input = ["a cat", "a dog sat"];
        const result = await embed.call(
          subject.provider,
          { model: `${subject.provider.id}/${model}`, upstreamModel: model, input },
          signal(),
        );
        assert.equal(result.embeddings.length, input.length);
        const size = result.embeddings[0]?.length ?? 0;
        assert.ok(size > 0, "vectors have a size");
        assert.ok(
          result.embeddings.every((v) => v.length === size && v.every(Number.isFinite)),
          "every vector has that size, in numbers",
        );
        assert.notDeepEqual(result.embeddings[0], result.embeddings[1], "different texts, different vectors");
        assert.ok(result.usage.inputTokens >= 0);
      });
      test("embedding-errors", "refuses an unknown embedding model with not_found, as a GatewayError", async () => {
        await assert.rejects(
          subject.provider.embed?.({ model: "missing-embedder", upstreamModel: "missing-embedder", input: ["x"] }, signal()) ??
            Promise.reject(new Error("no embed method")),
          (err: unknown) => err instanceof GatewayError && err.code === "not_found",
        );
      });
    }
  });
}
