/**
 * Chat completions' deprecated functions API (`functions`, `function_call`, a `role: "function"`
 * message, an assistant's `function_call`), which OpenAI still takes and openai-node still types,
 * through a real tandem server and the openai SDK. To an OpenAI-compatible upstream on the client's
 * wire the body goes as it came and the answer comes back as the upstream sent it (the router still
 * reads its `function_call` as a call: a broken one fails over). To Anthropic, Ollama and a
 * Responses-only upstream the request is translated (functions as tools, function_call as the tool
 * choice, the legacy turns as calls and results with ids of tandem's, one call asked for) and the
 * answer rendered in the legacy shape: `message.function_call` and `finish_reason: "function_call"`,
 * streamed as `delta.function_call` pieces, never `tool_calls`; a second call is named in
 * `x-tandem-warnings`. Privacy reads and redacts a function message as it does a tool result.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import OpenAI from "openai";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { type FakeOllamaUpstream, startFakeOllama } from "../support/fake-ollama-upstream.js";
import { type FakeResponsesUpstream, startFakeOpenAIResponses } from "../support/fake-openai-responses-upstream.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { RecordedRequest } from "../support/fake-upstream.js";
import { ChatCompletionChunkSchema, ChatCompletionSchema } from "../support/openai-shapes.js";
import { type ReceivedRequest, type ScriptedUpstream, startScriptedUpstream } from "../support/scripted-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const FUNCTIONS: OpenAI.ChatCompletionCreateParams.Function[] = [
  {
    name: "get_weather",
    description: "The weather in a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
  { name: "get_time", parameters: { type: "object", properties: {} } },
];

/** A legacy round: the call of get_weather and its result, as an older LangChain or runFunctions client sends them. */
const ROUND: OpenAI.ChatCompletionMessageParam[] = [
  { role: "user", content: "What is the weather in Paris?" },
  { role: "assistant", content: null, function_call: { name: "get_weather", arguments: '{"city":"Paris"}' } },
  { role: "function", name: "get_weather", content: "sunny, 24C" },
];

let anthropic: FakeAnthropic;
let ollama: FakeOllamaUpstream;
let responses: FakeResponsesUpstream;
/** An OpenAI-compatible upstream with a small window: a long conversation is fitted to it, so sent canonical, not as it came. */
let openai: FakeOpenAIUpstream;
/** An OpenAI-compatible upstream on the client's own wire, answering exactly the bytes a test writes. */
let sameWire: ScriptedUpstream;
let tandem: RunningTandem;
let client: OpenAI;

before(async () => {
  [anthropic, ollama, responses, openai] = await Promise.all([
    startFakeAnthropic({ models: ["claude-haiku-4-5"] }),
    startFakeOllama({ models: ["llama3.2:latest"] }),
    startFakeOpenAIResponses({ models: ["gpt-5-codex"] }),
    startFakeOpenAI({ models: ["gpt-4o-mini"] }),
  ]);
  sameWire = await startScriptedUpstream();
  tandem = await startTandem(
    {
      providers: {
        sw: {
          kind: "openai",
          baseUrl: `${sameWire.url}/v1`,
          apiKeys: ["env:UP"],
          local: false,
          models: { gpt: { id: "gpt-up" } },
        },
        an: { kind: "anthropic", baseUrl: anthropic.url, apiKeys: ["env:UP"], local: false },
        ol: { kind: "ollama", baseUrl: ollama.url, local: false, models: { llama: { id: "llama3.2:latest" } } },
        rs: { kind: "openai", baseUrl: responses.url, apiKeys: ["env:UP"], responses: "only", local: false },
        oa: {
          kind: "openai",
          baseUrl: openai.url,
          apiKeys: ["env:UP"],
          local: false,
          models: { gpt: { id: "gpt-4o-mini", contextWindow: 600 } },
        },
      },
      routes: {
        "sw-then-an": { tiers: [["sw/gpt"], ["an/claude-haiku-4-5"]], retry: { attempts: 1 } },
        "redact-an": { tiers: ["an/claude-haiku-4-5"], privacy: "redact" },
        "redact-sw": { tiers: ["sw/gpt"], privacy: "redact" },
      },
    },
    { env: { UP: "sk-upstream" } },
  );
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
  // The canonical path: a fitted conversation is now the client's own body with older messages cut
  // out (same-wire), so this target is told it speaks no wire of a client's, to be sent the rebuilt request.
  const oa = tandem.server.catalog.slots.get("oa")?.provider as { capabilities?: Record<string, unknown> } | undefined;
  assert.ok(oa?.capabilities);
  oa.capabilities = { ...oa.capabilities, wires: [] };
});

after(async () => {
  await tandem?.close();
  await Promise.all([anthropic?.close(), ollama?.close(), responses?.close(), openai?.close(), sameWire?.close()]);
});

/** Whether the last message of a chat-shaped (Ollama) or Anthropic body, or a Responses input, is a tool result. */
function endsWithToolResult(request: RecordedRequest): boolean {
  const body = request.body as { messages?: Array<{ role: string; content?: unknown }>; input?: Array<{ type?: string }> };
  const last = body.messages?.at(-1);
  if (last?.role === "tool") return true;
  if (Array.isArray(last?.content) && (last.content as Array<{ type?: string }>).some((p) => p.type === "tool_result"))
    return true;
  return body.input?.at(-1)?.type === "function_call_output";
}

beforeEach(() => {
  // Each target answers a question with two calls (which the legacy shape cannot hold both of), a result with text.
  for (const fake of [anthropic, ollama, openai]) {
    fake.requests.length = 0;
    fake.script((request) =>
      endsWithToolResult(request)
        ? { kind: "text", text: "It is sunny." }
        : {
            kind: "tool_calls",
            calls: [
              { name: "get_weather", arguments: { city: "Paris" } },
              { name: "get_time", arguments: {} },
            ],
          },
    );
  }
  responses.requests.length = 0;
  responses.responseBodies.length = 0;
  responses.script((request) =>
    endsWithToolResult(request)
      ? { kind: "answer", text: "It is sunny." }
      : {
          kind: "answer",
          calls: [
            { name: "get_weather", arguments: '{"city":"Paris"}' },
            { name: "get_time", arguments: "{}" },
          ],
        },
  );
  sameWire.clear();
});

interface Target {
  model: string;
  /** The body the upstream got for the test's one request. */
  sent(): Record<string, unknown>;
}

const TARGETS: Record<string, Target> = {
  Anthropic: {
    model: "an/claude-haiku-4-5",
    sent: () => anthropic.requests.filter((r) => r.method === "POST")[0]?.body as Record<string, unknown>,
  },
  Ollama: {
    model: "ol/llama",
    sent: () => ollama.requests.filter((r) => r.method === "POST")[0]?.body as Record<string, unknown>,
  },
  "a Responses-only upstream": {
    model: "rs/gpt-5-codex",
    sent: () => responses.responseBodies[0] as Record<string, unknown>,
  },
};

/** The names of the tools a body offers, in any wire's shape. */
function offered(body: Record<string, unknown>): string[] {
  return (body.tools as Array<{ name?: string; function?: { name: string } }>).map((t) => t.name ?? t.function?.name ?? "");
}

for (const [kind, target] of Object.entries(TARGETS)) {
  describe(`legacy functions to ${kind}`, () => {
    it("offers the functions as tools, asks for one call, and answers the first as message.function_call, naming the other", async () => {
      const { data, response } = await client.chat.completions
        .create({ model: target.model, messages: [ROUND[0]!], functions: FUNCTIONS })
        .withResponse();
      const sent = target.sent();
      assert.deepEqual(offered(sent), ["get_weather", "get_time"]);
      if (kind === "Anthropic") assert.deepEqual(sent.tool_choice, { type: "auto", disable_parallel_tool_use: true });
      if (kind === "a Responses-only upstream") assert.equal(sent.parallel_tool_calls, false);
      if (kind === "Ollama") assert.match(response.headers.get("x-tandem-warnings") ?? "", /parallel_tool_calls not sent/);

      ChatCompletionSchema.parse(data);
      const choice = data.choices[0];
      assert.equal(choice?.finish_reason, "function_call");
      assert.equal(choice?.message.content, null);
      assert.deepEqual(choice?.message.function_call, { name: "get_weather", arguments: '{"city":"Paris"}' });
      assert.equal(choice?.message.tool_calls, undefined);
      assert.match(
        response.headers.get("x-tandem-warnings") ?? "",
        /function calls after the first of the answer from .* not carried \(the legacy function_call holds one\): get_time/,
      );
    });

    it("streams the call as delta.function_call pieces, never tool_calls, which the SDK's stream helper joins", async () => {
      const stream = await client.chat.completions.create({
        model: target.model,
        messages: [ROUND[0]!],
        functions: FUNCTIONS,
        stream: true,
      });
      let name = "";
      let args = "";
      let finish: string | null = null;
      for await (const chunk of stream) {
        ChatCompletionChunkSchema.parse(chunk);
        const delta = chunk.choices[0]?.delta;
        assert.equal(delta?.tool_calls, undefined, JSON.stringify(chunk));
        name += delta?.function_call?.name ?? "";
        args += delta?.function_call?.arguments ?? "";
        finish = chunk.choices[0]?.finish_reason ?? finish;
      }
      assert.equal(name, "get_weather");
      assert.deepEqual(JSON.parse(args), { city: "Paris" });
      assert.equal(finish, "function_call");

      const final = await client.chat.completions
        .stream({ model: target.model, messages: [ROUND[0]!], functions: FUNCTIONS })
        .finalChatCompletion();
      assert.equal(final.choices[0]?.message.function_call?.name, "get_weather");
      assert.equal(final.choices[0]?.finish_reason, "function_call");
    });

    it("sends the legacy turns as a call and its result, paired, and a named function_call as the forced tool", async () => {
      const data = await client.chat.completions.create({
        model: target.model,
        messages: ROUND,
        functions: FUNCTIONS,
        function_call: { name: "get_weather" },
      });
      assert.equal(data.choices[0]?.message.content, "It is sunny.");
      assert.equal(data.choices[0]?.finish_reason, "stop");
      const sent = target.sent();
      const text = JSON.stringify(sent);
      assert.ok(text.includes("sunny, 24C"), text);
      if (kind === "Anthropic") {
        const messages = sent.messages as Array<{ role: string; content: Array<Record<string, unknown>> }>;
        const use = messages[1]?.content.find((b) => b.type === "tool_use");
        const result = messages[2]?.content.find((b) => b.type === "tool_result");
        assert.deepEqual(use?.input, { city: "Paris" });
        assert.equal(use?.name, "get_weather");
        assert.ok(use?.id);
        assert.equal(result?.tool_use_id, use?.id);
        assert.deepEqual(sent.tool_choice, { type: "tool", name: "get_weather", disable_parallel_tool_use: true });
      } else if (kind === "Ollama") {
        const messages = sent.messages as Array<{ role: string; tool_calls?: unknown[]; tool_name?: string; content: string }>;
        assert.equal(messages[1]?.tool_calls?.length, 1);
        assert.equal(messages[2]?.role, "tool");
        assert.equal(messages[2]?.tool_name, "get_weather");
        assert.equal(messages[2]?.content, "sunny, 24C");
        // Ollama has no tool choice: only the forced function is offered.
        assert.deepEqual(offered(sent), ["get_weather"]);
      } else {
        const input = sent.input as Array<{ type?: string; call_id?: string; name?: string; output?: unknown }>;
        const call = input.find((item) => item.type === "function_call");
        const output = input.find((item) => item.type === "function_call_output");
        assert.equal(call?.name, "get_weather");
        assert.ok(call?.call_id);
        assert.equal(output?.call_id, call?.call_id);
        assert.deepEqual(sent.tool_choice, { type: "function", name: "get_weather" });
      }
    });
  });
}

describe("legacy functions to an OpenAI-compatible upstream sent a fitted conversation (canonical path)", () => {
  /** Older turns that do not fit the target's window. */
  const FILLER: OpenAI.ChatCompletionMessageParam[] = [
    { role: "user", content: `Remember this: ${"lorem ipsum dolor sit amet ".repeat(200)}` },
    { role: "assistant", content: "Noted." },
  ];

  it("is sent tools and tool calls, and answers the legacy shape", async () => {
    const { data, response } = await client.chat.completions
      .create({ model: "oa/gpt", messages: [...FILLER, ...ROUND, { role: "user", content: "And now?" }], functions: FUNCTIONS })
      .withResponse();
    assert.match(response.headers.get("x-tandem-degraded") ?? "", /fitted/);
    const sent = openai.requests.filter((r) => r.method === "POST")[0]?.body as {
      tools: unknown[];
      parallel_tool_calls?: boolean;
      messages: Array<{ role: string; tool_calls?: Array<{ id: string }>; tool_call_id?: string }>;
      functions?: unknown;
    };
    assert.equal(sent.functions, undefined);
    assert.deepEqual(offered(sent as unknown as Record<string, unknown>), ["get_weather", "get_time"]);
    assert.equal(sent.parallel_tool_calls, false);
    const call = sent.messages.find((m) => m.tool_calls !== undefined);
    const result = sent.messages.find((m) => m.role === "tool");
    assert.ok(call?.tool_calls?.[0]?.id, JSON.stringify(sent.messages));
    assert.equal(result?.tool_call_id, call?.tool_calls?.[0]?.id);
    assert.equal(data.choices[0]?.finish_reason, "function_call");
    assert.equal(data.choices[0]?.message.function_call?.name, "get_weather");
    assert.equal(data.choices[0]?.message.tool_calls, undefined);
  });
});

/** A chat.completion.chunk of the same-wire upstream's, as an SSE frame. */
function chunk(delta: object, finish: string | null = null): string {
  return `data: ${JSON.stringify({ id: "chatcmpl-up", object: "chat.completion.chunk", created: 1764790000, model: "gpt-up", choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
}

/** The upstream's legacy answer, streamed or whole as it was asked, with these arguments. */
function legacyAnswer(args: string) {
  return (request: ReceivedRequest) =>
    request.body.stream === true
      ? {
          kind: "stream" as const,
          contentType: "text/event-stream",
          writes: [
            chunk({ role: "assistant", content: null, function_call: { name: "get_weather", arguments: "" } }),
            chunk({ function_call: { arguments: args.slice(0, 5) } }),
            chunk({ function_call: { arguments: args.slice(5) } }),
            chunk({}, "function_call"),
            `data: ${JSON.stringify({ id: "chatcmpl-up", object: "chat.completion.chunk", created: 1764790000, model: "gpt-up", choices: [], usage: { prompt_tokens: 9, completion_tokens: 5, total_tokens: 14 } })}\n\n`,
            "data: [DONE]\n\n",
          ],
        }
      : {
          kind: "json" as const,
          body: {
            id: "chatcmpl-up",
            object: "chat.completion",
            created: 1764790000,
            model: "gpt-up",
            choices: [
              {
                index: 0,
                message: {
                  role: "assistant",
                  content: null,
                  function_call: { name: "get_weather", arguments: args },
                  refusal: null,
                },
                logprobs: null,
                finish_reason: "function_call",
              },
            ],
            usage: { prompt_tokens: 9, completion_tokens: 5, total_tokens: 14 },
          },
        };
}

describe("legacy functions to an OpenAI-compatible upstream on the same wire", () => {
  it("sends the body as it came but its model and stream, and answers the upstream's function_call as it sent it", async () => {
    sameWire.script(legacyAnswer('{"city":"Paris"}'));
    const body = `{"model":"sw/gpt","messages":${JSON.stringify(ROUND)},"functions":${JSON.stringify(FUNCTIONS)},"function_call":{"name":"get_weather"}}`;
    const res = await fetch(`${tandem.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    const answer = (await res.json()) as OpenAI.ChatCompletion;
    assert.equal(res.status, 200, JSON.stringify(answer));
    assert.equal(sameWire.requests.length, 1);
    const raw = sameWire.requests[0]?.raw ?? "";
    // The client's bytes, but the upstream's model and the stream fields tandem sets.
    const { model: _m, stream: _s, stream_options: _o, ...rest } = JSON.parse(raw) as Record<string, unknown>;
    assert.deepEqual(rest, { messages: ROUND, functions: FUNCTIONS, function_call: { name: "get_weather" } });
    assert.ok(raw.includes(`"messages":${JSON.stringify(ROUND)},"functions":${JSON.stringify(FUNCTIONS)}`), raw);
    assert.equal(res.headers.get("x-tandem-warnings"), null);
    assert.deepEqual(answer.choices[0]?.message.function_call, { name: "get_weather", arguments: '{"city":"Paris"}' });
    assert.equal(answer.choices[0]?.finish_reason, "function_call");
    assert.equal(answer.choices[0]?.message.tool_calls, undefined);
  });

  it("streams the upstream's function_call chunks through as they came", async () => {
    sameWire.script(legacyAnswer('{"city":"Paris"}'));
    const res = await fetch(`${tandem.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "sw/gpt", messages: [ROUND[0]], functions: FUNCTIONS, stream: true }),
    });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    const expected = legacyAnswer('{"city":"Paris"}')({ body: { stream: true } } as unknown as ReceivedRequest);
    assert.ok(expected.kind === "stream");
    // Byte for byte but the model (tandem's name for the target) and the usage chunk the client did not ask for.
    const frames = (expected.writes as string[]).slice(0, 4).map((w) => w.replace('"model":"gpt-up"', '"model":"sw/gpt"'));
    assert.equal(text, `${frames.join("")}data: [DONE]\n\n`);
  });

  it("reads the upstream's function_call as a call for the router's checks: broken arguments fail over, and the next target's call comes back legacy", async () => {
    sameWire.script(legacyAnswer('{"city": Par'));
    const { data, response } = await client.chat.completions
      .create({ model: "sw-then-an", messages: [ROUND[0]!], functions: FUNCTIONS })
      .withResponse();
    assert.equal(sameWire.requests.length, 1);
    assert.equal(response.headers.get("x-tandem-target"), "an/claude-haiku-4-5");
    assert.deepEqual(data.choices[0]?.message.function_call, { name: "get_weather", arguments: '{"city":"Paris"}' });
    assert.equal(data.choices[0]?.finish_reason, "function_call");

    // A sound call is an answer (not an empty one): no failover.
    sameWire.clear();
    anthropic.requests.length = 0;
    sameWire.script(legacyAnswer('{"city":"Paris"}'));
    const again = await client.chat.completions
      .create({ model: "sw-then-an", messages: [ROUND[0]!], functions: FUNCTIONS })
      .withResponse();
    assert.equal(again.response.headers.get("x-tandem-target"), "sw/gpt");
    assert.equal(anthropic.requests.length, 0);
    assert.equal(again.data.choices[0]?.message.function_call?.name, "get_weather");
  });
});

describe("legacy functions in a stream continued on another target", () => {
  it("a same-wire stream broken mid-answer goes on on Anthropic, whose first call comes back as delta.function_call", async () => {
    sameWire.script(() => ({
      kind: "stream",
      contentType: "text/event-stream",
      writes: [chunk({ role: "assistant", content: "" }), chunk({ content: "Let me look. " })],
      breakOff: true,
    }));
    const res = await fetch(`${tandem.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "sw-then-an", messages: [ROUND[0]], functions: FUNCTIONS, stream: true }),
    });
    const text = await res.text();
    assert.equal(sameWire.requests.length, 1);
    assert.equal(text.includes("tool_calls"), false, text);
    const deltas = text
      .split("\n\n")
      .filter((frame) => frame.startsWith("data: {"))
      .map((frame) => JSON.parse(frame.slice(6)) as OpenAI.ChatCompletionChunk)
      .map((c) => c.choices[0]);
    assert.match(deltas.map((d) => d?.delta.content ?? "").join(""), /^Let me look\. /);
    assert.equal(deltas.map((d) => d?.delta.function_call?.name ?? "").join(""), "get_weather");
    assert.equal(deltas.at(-1)?.finish_reason, "function_call");
    assert.match(text, /: tandem warning: function calls after the first .*: get_time/);
  });
});

/** Private by the default detectors. Built from pieces so no file of the repo holds it whole. */
const EMAIL = ["alice.smith", "acme-corp.com"].join("@");

describe("legacy functions on a redact route: a function message is read and redacted as a tool result", () => {
  const history: OpenAI.ChatCompletionMessageParam[] = [
    { role: "user", content: "Who is on call?" },
    { role: "assistant", content: null, function_call: { name: "get_weather", arguments: "{}" } },
    { role: "function", name: "get_weather", content: `on call: ${EMAIL}` },
  ];

  it("to Anthropic (translated): the result is private and goes with a placeholder", async () => {
    const { response } = await client.chat.completions
      .create({ model: "redact-an", messages: history, functions: FUNCTIONS })
      .withResponse();
    assert.equal(response.headers.get("x-tandem-sensitivity"), "private");
    const sent = JSON.stringify(anthropic.requests.at(-1)?.body);
    assert.equal(sent.includes(EMAIL), false, sent);
    assert.ok(sent.includes("tool_result"), sent);
  });

  it("to the same wire: the body goes with a placeholder in the function message", async () => {
    sameWire.script(legacyAnswer('{"city":"Paris"}'));
    const { response } = await client.chat.completions
      .create({ model: "redact-sw", messages: history, functions: FUNCTIONS })
      .withResponse();
    assert.equal(response.headers.get("x-tandem-sensitivity"), "private");
    const sent = sameWire.requests[0]?.body as { messages: Array<{ role: string; content: string }> };
    assert.equal(sent.messages[2]?.role, "function");
    assert.equal(sent.messages[2]?.content.includes(EMAIL), false, JSON.stringify(sent));
    assert.match(sent.messages[2]?.content ?? "", /^on call: \[/);
  });
});
