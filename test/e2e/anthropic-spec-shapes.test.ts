/**
 * Anthropic's Messages API as its reference and the @anthropic-ai/sdk types (1.12) describe it,
 * through a real tandem server, on every kind of target tandem translates for an Anthropic client:
 * an OpenAI chat upstream, an OpenAI Responses-only upstream, Ollama and the embedded engine (tiny
 * scripted GGUF models), with a native Anthropic upstream beside them. Each describe is one
 * mismatch a schema derived from the SDK's types (test/support/anthropic-shapes.ts) found, asserted
 * field by field; the last one runs the whole battery through that schema and the SDK's own stream
 * accumulation. Where the API's observed answers and the SDK's types differ, the SDK's types are
 * followed (a field the types declare required is sent, null when tandem has no value).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import {
  BetaMessageSchema,
  ERROR_TYPE_BY_STATUS,
  ErrorBodySchema,
  MessageSchema,
  ModelInfoSchema,
  ModelPageSchema,
  problems,
  type StreamEvent,
  sseEvents,
  streamProblems,
} from "../support/anthropic-shapes.js";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { type FakeOllamaUpstream, startFakeOllama } from "../support/fake-ollama-upstream.js";
import { type FakeResponsesUpstream, startFakeOpenAIResponses } from "../support/fake-openai-responses-upstream.js";
import { type FakeOpenAIUpstream, sseFrames, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { makeModelDir, writeChatModel, writeThinkingModel, writeToolCallModel } from "../support/gguf/index.js";
import { loadLocalModel, type RunningTandem, startTandem } from "../support/tandem.js";

let openai: FakeOpenAIUpstream;
let responses: FakeResponsesUpstream;
let ollama: FakeOllamaUpstream;
let anthropic: FakeAnthropic;
let tandem: RunningTandem;
let client: Anthropic;
let cleanup: () => Promise<void>;

/** One model of each translated target kind. */
const TARGETS = {
  openai: "openai/gpt-4o-mini",
  responses: "codex/gpt-5-codex",
  ollama: "ollama/llama3.2:latest",
  local: "local/chat",
} as const;
const LOCAL_TOOLS = "local/tools";
const NATIVE = "anthropic/claude-haiku-4-5";

const weather = {
  name: "get_weather",
  description: "Current weather for a city",
  input_schema: { type: "object" as const, properties: { city: { type: "string" } }, required: ["city"] },
};

before(async () => {
  [openai, responses, ollama, anthropic] = await Promise.all([
    startFakeOpenAI({ models: ["gpt-4o-mini"] }),
    startFakeOpenAIResponses({ models: ["gpt-5-codex"] }),
    startFakeOllama({ models: ["llama3.2:latest"] }),
    startFakeAnthropic({ models: ["claude-haiku-4-5"] }),
  ]);
  const made = await makeModelDir();
  cleanup = made.cleanup;
  await writeChatModel(join(made.dir, "chat.gguf"));
  await writeToolCallModel(join(made.dir, "tools.gguf"));
  await writeThinkingModel(join(made.dir, "think.gguf"));
  tandem = await startTandem(
    {
      providers: {
        openai: { kind: "openai", baseUrl: openai.url, apiKeys: ["env:UP"], local: false },
        codex: { kind: "openai", baseUrl: responses.url, apiKeys: ["env:UP"], responses: "only", local: false },
        ollama: { kind: "ollama", baseUrl: ollama.url },
        anthropic: { kind: "anthropic", baseUrl: anthropic.url, apiKeys: ["env:UP"], local: false },
        local: {
          kind: "llamacpp",
          threads: 1,
          models: {
            chat: { path: join(made.dir, "chat.gguf"), contextSize: 512 },
            tools: { path: join(made.dir, "tools.gguf"), contextSize: 1024 },
            think: { path: join(made.dir, "think.gguf"), contextSize: 1024 },
          },
        },
      },
      // Failures are the subject of some tests, not a reason to stop asking a target.
      breaker: { failureThreshold: 1000, cooldownMs: 1000 },
      routes: {
        once: { tiers: [TARGETS.openai], retry: { attempts: 1 } },
        // Two targets that both fail: the route is exhausted.
        both: { tiers: [[TARGETS.openai], [TARGETS.responses]], retry: { attempts: 1 } },
      },
    },
    { env: { UP: "sk-upstream" } },
  );
  client = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
  // Loaded here, so no test's first local answer waits for the engine's start.
  for (const model of ["local/chat", LOCAL_TOOLS, "local/think"]) await loadLocalModel(tandem, model);
});

after(async () => {
  await tandem?.close();
  await Promise.all([openai, responses, ollama, anthropic].map((fake) => fake?.close()));
  await cleanup?.();
});

function textScripts(): void {
  openai.script(() => ({ kind: "text", text: "Hello from openai", usage: { input: 10, output: 5 } }));
  responses.script(() => ({ kind: "answer", text: "Hello from responses" }));
  ollama.script(() => ({ kind: "text", text: "Hello from ollama", usage: { input: 12, output: 4 } }));
}

function toolScripts(): void {
  openai.script(() => ({ kind: "tool_calls", calls: [{ name: "get_weather", arguments: { city: "Paris" } }] }));
  responses.script(() => ({ kind: "answer", calls: [{ name: "get_weather", arguments: '{"city":"Paris"}' }] }));
  ollama.script(() => ({ kind: "tool_calls", calls: [{ name: "get_weather", arguments: { city: "Paris" } }] }));
}

const HEADERS = { "content-type": "application/json", "anthropic-version": "2023-06-01", "x-api-key": "unused" };

/** The raw answer of POST /v1/messages: the JSON of a whole one, the frames of a streamed one. */
async function post(body: Record<string, unknown>, path = "/v1/messages", headers: Record<string, string> = {}) {
  const res = await fetch(`${tandem.url}${path}`, {
    method: "POST",
    headers: { ...HEADERS, ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text };
}

async function whole(body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await post(body);
  assert.equal(res.status, 200, res.text);
  return JSON.parse(res.text) as Record<string, unknown>;
}

async function frames(body: Record<string, unknown>): Promise<StreamEvent[]> {
  const res = await post({ ...body, stream: true });
  assert.equal(res.status, 200, res.text);
  return sseEvents(res.text).map((frame) => frame.data as StreamEvent);
}

function hi(model: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model, max_tokens: 50, messages: [{ role: "user", content: "Hi" }], ...extra };
}

function ofType<T extends StreamEvent["type"]>(events: StreamEvent[], type: T): Extract<StreamEvent, { type: T }>[] {
  return events.filter((event): event is Extract<StreamEvent, { type: T }> => event.type === type);
}

/** The translated targets, and the text and tool-calling model of each. */
const KINDS = Object.entries(TARGETS).map(([kind, model]) => ({
  kind,
  model,
  toolModel: kind === "local" ? LOCAL_TOOLS : model,
}));

describe("Message.container and Message.diagnostics (required, nullable in the SDK's Message)", () => {
  it("are null on a whole message, in message_start, and message_delta's delta has container null, on every target", async () => {
    textScripts();
    for (const { kind, model } of KINDS) {
      const message = await whole(hi(model));
      assert.equal(message.container, null, `${kind}: container`);
      assert.equal(message.diagnostics, null, `${kind}: diagnostics`);
      const events = await frames(hi(model));
      const start = ofType(events, "message_start")[0]?.message as Record<string, unknown> | undefined;
      assert.ok(start && "container" in start && start.container === null, `${kind}: message_start container`);
      assert.ok("diagnostics" in start && start.diagnostics === null, `${kind}: message_start diagnostics`);
      const delta = ofType(events, "message_delta")[0]?.delta as Record<string, unknown> | undefined;
      assert.ok(delta && "container" in delta && delta.container === null, `${kind}: message_delta container`);
    }
  });
});

describe("Usage (every counter the SDK's Usage and MessageDeltaUsage declare)", () => {
  it("has inference_geo, output_tokens_details, server_tool_use and speed on a whole message and in message_start", async () => {
    textScripts();
    for (const { kind, model } of KINDS) {
      const streamed = ofType(await frames(hi(model)), "message_start")[0]?.message.usage as Record<string, unknown>;
      for (const usage of [(await whole(hi(model))).usage as Record<string, unknown>, streamed]) {
        // What the API sends when it names no region, and no web search or fetch ran.
        assert.equal(usage.inference_geo, "not_available", `${kind}: inference_geo`);
        assert.equal(usage.server_tool_use, null, `${kind}: server_tool_use`);
        assert.equal(usage.speed, "standard", `${kind}: speed`);
        assert.equal(usage.service_tier, "standard", `${kind}: service_tier`);
        // A stream's counts come at its end (message_delta) from every upstream but Anthropic.
        const thinking = kind === "responses" && usage !== streamed ? 4 : 0;
        assert.deepEqual(usage.output_tokens_details, { thinking_tokens: thinking }, kind);
      }
    }
  });

  it("message_delta's usage has output_tokens_details (the reasoning tokens) and server_tool_use", async () => {
    textScripts();
    for (const { kind, model } of KINDS) {
      const usage = ofType(await frames(hi(model)), "message_delta")[0]?.usage as Record<string, unknown>;
      assert.equal(usage.server_tool_use, null, `${kind}: server_tool_use`);
      assert.deepEqual(usage.output_tokens_details, { thinking_tokens: kind === "responses" ? 4 : 0 }, kind);
      assert.equal(typeof usage.input_tokens, "number", kind);
    }
  });
});

describe("TextBlock.citations (required, nullable in the SDK's TextBlock)", () => {
  it("is null on a whole message's text block and on a streamed one's content_block_start, so finalMessage() matches", async () => {
    textScripts();
    for (const { kind, model } of KINDS) {
      const content = (await whole(hi(model))).content as Record<string, unknown>[];
      assert.ok(content.length > 0 && content.every((block) => block.type === "text" && block.citations === null), kind);
      const started = ofType(await frames(hi(model)), "content_block_start").map((event) => event.content_block);
      assert.deepEqual(started, [{ type: "text", text: "", citations: null }], kind);
      const final = await client.messages.stream(hi(model) as never).finalMessage();
      assert.ok(
        final.content.every((block) => block.type === "text" && block.citations === null),
        `${kind}: ${JSON.stringify(final.content)}`,
      );
    }
  });
});

describe("ToolUseBlock (toolu_ ids, the required caller)", () => {
  it("has a toolu_ id and caller {type: direct} on every target, streamed and not, and the id comes back to the upstream as its own", async () => {
    toolScripts();
    const tools = [weather];
    for (const { kind, toolModel } of KINDS) {
      const body = { model: toolModel, max_tokens: 100, tools, messages: [{ role: "user", content: "Weather in Paris?" }] };
      const message = await whole(body);
      assert.equal(message.stop_reason, "tool_use", kind);
      const [call] = message.content as { type: string; id: string; caller?: unknown; input: unknown }[];
      assert.equal(call?.type, "tool_use", kind);
      assert.match(call.id, /^toolu_/, kind);
      assert.deepEqual(call.caller, { type: "direct" }, kind);
      assert.deepEqual(call.input, { city: "Paris" }, kind);
      const started = ofType(await frames(body), "content_block_start").map((event) => event.content_block);
      const streamed = started.find((block) => block.type === "tool_use");
      assert.ok(streamed?.type === "tool_use", kind);
      assert.match(streamed.id, /^toolu_/, kind);
      assert.deepEqual(streamed.caller, { type: "direct" }, kind);

      if (kind === "local") continue;
      // The client answers the call under the id it was given: the upstream gets back its own id.
      const upstream = { openai, responses, ollama }[kind as "openai" | "responses" | "ollama"];
      await whole({
        ...body,
        messages: [
          ...body.messages,
          { role: "assistant", content: message.content },
          { role: "user", content: [{ type: "tool_result", tool_use_id: call.id, content: "21C" }] },
        ],
      });
      const sent = JSON.stringify(upstream.requests.at(-1)?.body);
      const own = call.id.slice("toolu_".length);
      assert.ok(sent.includes(`"${own}"`) && !sent.includes(call.id), `${kind}: ${sent}`);
    }
  });
});

describe("ModelInfo (GET /v1/models and /v1/models/{id} with anthropic-version)", () => {
  it("every entry has the fields the SDK's ModelInfo declares, through models.list() and models.retrieve()", async () => {
    const listed = [];
    for await (const model of client.models.list({ limit: 3 })) listed.push(model);
    const ids = [...Object.values(TARGETS), LOCAL_TOOLS, NATIVE];
    for (const id of ids)
      assert.ok(
        listed.some((model) => model.id === id),
        id,
      );
    for (const model of listed) {
      assert.deepEqual(problems(ModelInfoSchema, model), [], model.id);
      assert.equal(model.lifecycle, "active", model.id);
      for (const field of ["capabilities", "deprecated_at", "retires_at", "line", "max_tokens"] as const) {
        assert.equal(model[field], null, `${model.id}: ${field}`);
      }
    }
    const local = await client.models.retrieve("local/chat");
    assert.deepEqual(problems(ModelInfoSchema, local), []);
    // The context window, where tandem knows it (the engine's contextSize).
    assert.equal(local.max_input_tokens, 512);
    const page = await client.models.list({ limit: 2 });
    const raw = await fetch(`${tandem.url}/v1/models?limit=2`, { headers: HEADERS });
    assert.deepEqual(problems(ModelPageSchema, await raw.json()), []);
    assert.equal(page.data.length, 2);
    assert.equal(page.has_more, true);
  });
});

describe("image blocks Anthropic refuses (a 400 before any target is asked)", () => {
  const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
  const image = (source: Record<string, unknown>) => ({
    model: TARGETS.openai,
    max_tokens: 20,
    messages: [
      {
        role: "user",
        content: [
          { type: "image", source: { type: "base64", ...source } },
          { type: "text", text: "What is it?" },
        ],
      },
    ],
  });
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["data that is not base64", { media_type: "image/png", data: "@@not base64!!" }, /base64/],
    ["empty data", { media_type: "image/png", data: "" }, /base64/],
    [
      "a media type Anthropic does not take",
      { media_type: "image/bmp", data: PNG },
      /image\/jpeg.*image\/png.*image\/gif.*image\/webp/,
    ],
    ["a PNG declared a JPEG", { media_type: "image/jpeg", data: PNG }, /image\/jpeg.*image\/png/],
  ];
  for (const [what, source, message] of cases) {
    it(`refuses ${what} with invalid_request_error, on every target kind`, async () => {
      for (const model of [TARGETS.openai, TARGETS.local, TARGETS.ollama]) {
        const asked = openai.requests.length + ollama.requests.length;
        const res = await post({ ...image(source), model });
        assert.equal(res.status, 400, `${model}: ${res.text}`);
        const body = JSON.parse(res.text) as { type: string; error: { type: string; message: string } };
        assert.equal(body.type, "error");
        assert.equal(body.error.type, "invalid_request_error");
        assert.match(body.error.message, message);
        assert.match(body.error.message, /messages\[0\]\.content\[0\]\.source/);
        assert.equal(openai.requests.length + ollama.requests.length, asked, "no upstream was asked");
      }
    });
  }

  it("takes a real PNG declared as one", async () => {
    openai.script(() => ({ kind: "text", text: "A pixel." }));
    // An image is private by default (privacy routing): this one may go to the cloud target.
    const res = await post(image({ media_type: "image/png", data: PNG }), "/v1/messages", { "x-tandem-sensitivity": "public" });
    assert.equal(res.status, 200, res.text);
  });
});

describe("errors: Anthropic's status for each error type, and x-should-retry", () => {
  /** The status, type and retry header of an Anthropic client's error. */
  async function failure(model: string): Promise<{ status: number; type: string; retry: string | null; body: unknown }> {
    const res = await post(hi(model));
    const body = JSON.parse(res.text) as { error: { type: string } };
    return { status: res.status, type: body.error.type, retry: res.headers.get("x-should-retry"), body };
  }

  const upstreamStatuses: [number, number, string][] = [
    // An upstream's status Anthropic never sends becomes the one it sends for that error type.
    [408, 504, "timeout_error"],
    [415, 400, "invalid_request_error"],
    [422, 400, "invalid_request_error"],
    [500, 500, "api_error"],
    [502, 500, "api_error"],
    [504, 504, "timeout_error"],
    [529, 529, "overloaded_error"],
  ];
  for (const [upstream, status, type] of upstreamStatuses) {
    it(`an upstream's ${upstream} is a ${status} ${type}`, async () => {
      openai.script(() => ({ kind: "error", status: upstream }));
      const got = await failure("once");
      assert.deepEqual(problems(ErrorBodySchema, got.body), []);
      assert.deepEqual([got.status, got.type], [status, type]);
      assert.equal(ERROR_TYPE_BY_STATUS[got.status], got.type);
    });
  }

  it("a route whose every target failed is DESIGN's 503, an overloaded_error the SDK retries (x-should-retry: true)", async () => {
    openai.script(() => ({ kind: "error", status: 500 }));
    responses.script(() => ({ kind: "error", status: 500 }));
    const got = await failure("both");
    assert.deepEqual(problems(ErrorBodySchema, got.body), []);
    assert.deepEqual([got.status, got.type, got.retry], [503, "overloaded_error", "true"]);
  });

  it("says whether to retry: false for a bad request, true for a rate limit", async () => {
    const bad = await post({ model: TARGETS.openai, messages: [{ role: "user", content: "Hi" }] });
    assert.deepEqual([bad.status, bad.headers.get("x-should-retry")], [400, "false"]);
    openai.script(() => ({ kind: "error", status: 429, headers: { "retry-after": "2" } }));
    const limited = await post(hi("once"));
    assert.deepEqual(
      [limited.status, limited.headers.get("x-should-retry"), limited.headers.get("retry-after")],
      [429, "true", "2"],
    );
  });

  it("a path tandem does not serve is a 404 not_found_error that says x-should-retry, as any other error", async () => {
    const unknown = await fetch(`${tandem.url}/v1/messages/nowhere`, { headers: HEADERS });
    const body = await unknown.json();
    assert.deepEqual(problems(ErrorBodySchema, body), []);
    assert.deepEqual([unknown.status, unknown.headers.get("x-should-retry")], [404, "false"]);
  });
});

describe("the whole battery, checked against the SDK's types", () => {
  /** Every answer a client can get for `body` from `model`: whole, streamed (raw frames), and the SDK's finalMessage(). */
  async function check(
    label: string,
    body: Record<string, unknown>,
    headers: Record<string, string> = {},
    path = "/v1/messages",
  ) {
    const res = await post(body, path, headers);
    assert.equal(res.status, 200, `${label}: ${res.text}`);
    const message = JSON.parse(res.text) as Anthropic.Message;
    assert.deepEqual(problems(MessageSchema, message), [], `${label} whole: ${res.text}`);
    const streamed = await post({ ...body, stream: true }, path, headers);
    assert.equal(streamed.status, 200, `${label}: ${streamed.text}`);
    assert.match(streamed.headers.get("content-type") ?? "", /^text\/event-stream/);
    assert.match(streamed.headers.get("request-id") ?? "", /^req_/);
    assert.deepEqual(streamProblems(sseEvents(streamed.text)), [], `${label} streamed: ${streamed.text}`);
    const { parsed_output: _, ...final } = await client.messages.stream(body as never).finalMessage();
    assert.deepEqual(problems(MessageSchema, final), [], `${label} finalMessage: ${JSON.stringify(final)}`);
    // The same message, whichever way it came: the same fields, blocks and stop.
    assert.deepEqual(Object.keys(final).sort(), Object.keys(message).sort(), label);
    assert.deepEqual(Object.keys(final.usage).sort(), Object.keys(message.usage).sort(), label);
    assert.deepEqual(
      final.content.map((block) => Object.keys(block).sort()),
      message.content.map((block) => Object.keys(block).sort()),
      label,
    );
    assert.equal(final.stop_reason, message.stop_reason, label);
    return message;
  }

  it("text answers, on every target kind", async () => {
    textScripts();
    for (const { kind, model } of KINDS) {
      const message = await check(kind, hi(model, { system: "Be brief." }));
      assert.equal(message.stop_reason, "end_turn", kind);
    }
  });

  it("tool calls, on every target kind", async () => {
    toolScripts();
    for (const { kind, toolModel } of KINDS) {
      const body = {
        model: toolModel,
        max_tokens: 100,
        tools: [weather],
        messages: [{ role: "user", content: "Weather in Paris?" }],
      };
      const message = await check(kind, body);
      assert.equal(message.stop_reason, "tool_use", kind);
    }
  });

  it("a tool call with no arguments: input {} whole, and partial_json that joins into {}", async () => {
    openai.script(() => ({ kind: "tool_calls", calls: [{ name: "now", arguments: {} }] }));
    const body = {
      model: TARGETS.openai,
      max_tokens: 50,
      tools: [{ name: "now", input_schema: { type: "object", properties: {} } }],
      messages: [{ role: "user", content: "Time?" }],
    };
    const message = await check("no arguments", body);
    assert.deepEqual(message.content[0]?.type === "tool_use" && message.content[0].input, {});
    const json = ofType(await frames(body), "content_block_delta")
      .map((event) => (event.delta.type === "input_json_delta" ? event.delta.partial_json : ""))
      .join("");
    assert.deepEqual(JSON.parse(json), {});
  });

  it("thinking blocks, with a signature, when thinking is enabled (the embedded engine, a Responses upstream)", async () => {
    responses.script(() => ({ kind: "answer", reasoning: "Thinking it over.", text: "Hello from responses" }));
    for (const model of ["local/think", TARGETS.responses]) {
      const message = await check(model, {
        model,
        max_tokens: 2048,
        thinking: { type: "enabled", budget_tokens: 1024 },
        messages: [{ role: "user", content: "The number?" }],
      });
      assert.deepEqual(
        message.content.map((block) => block.type),
        ["thinking", "text"],
        model,
      );
    }
  });

  it("max_tokens, on every target kind", async () => {
    openai.script(() => ({ kind: "text", text: "One two three", finish: "length" }));
    ollama.script(() => ({ kind: "text", text: "One two three", finish: "length" }));
    for (const model of [TARGETS.openai, TARGETS.ollama, TARGETS.local]) {
      const message = await check(model, hi(model, { max_tokens: model === TARGETS.local ? 2 : 50 }));
      assert.equal(message.stop_reason, "max_tokens", model);
    }
  });

  it("Claude Code's requests: ?beta=true, Authorization: Bearer, anthropic-beta, on every target kind", async () => {
    textScripts();
    const headers = {
      "x-api-key": "",
      authorization: "Bearer unused",
      "anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14",
    };
    for (const { kind, model } of [...KINDS, { kind: "native", model: NATIVE }]) {
      const res = await post(hi(model, { metadata: { user_id: "user_abc" } }), "/v1/messages?beta=true", headers);
      assert.equal(res.status, 200, `${kind}: ${res.text}`);
      const counted = await post(
        { model, messages: [{ role: "user", content: "Hi" }] },
        "/v1/messages/count_tokens?beta=true",
        headers,
      );
      assert.equal(counted.status, 200, `${kind}: ${counted.text}`);
    }
  });

  it("count_tokens with a system prompt and tools is {input_tokens}, on every target kind", async () => {
    for (const { kind, model } of [...KINDS, { kind: "native", model: NATIVE }]) {
      const counted = await client.messages.countTokens({
        model,
        system: "Be brief.",
        tools: [weather],
        messages: [{ role: "user", content: "Weather in Paris?" }],
      });
      assert.deepEqual(Object.keys(counted), ["input_tokens"], kind);
      assert.ok(Number.isInteger(counted.input_tokens) && counted.input_tokens > 0, `${kind}: ${counted.input_tokens}`);
    }
  });

  it("an error mid-stream is Anthropic's error event, which the SDK throws as an APIError", async () => {
    openai.script(() => ({ kind: "broken_stream", chunks: ["Hel", "lo"] }));
    const res = await post(hi("once", { stream: true }));
    const events = sseEvents(res.text);
    const last = events.at(-1);
    assert.equal(last?.event, "error");
    assert.deepEqual(problems(ErrorBodySchema, last?.data), []);
    assert.equal(
      events.some((frame) => frame.data.type === "message_stop"),
      false,
    );
    openai.script(() => ({ kind: "broken_stream", chunks: ["Hel", "lo"] }));
    await assert.rejects(client.messages.stream(hi("once") as never).finalMessage(), Anthropic.APIError);
  });
});

describe("malformed requests: a 400 invalid_request_error in Anthropic's shape, never a 500, on every target kind", () => {
  const user = [{ role: "user", content: "Hi" }];
  const cases: [string, unknown][] = [
    ["no model", { max_tokens: 10, messages: user }],
    ["a model that is not a string", { model: 7, max_tokens: 10, messages: user }],
    ["no max_tokens", { messages: user }],
    ["max_tokens 0", { max_tokens: 0, messages: user }],
    ["a negative max_tokens", { max_tokens: -1, messages: user }],
    ["a fractional max_tokens", { max_tokens: 1.5, messages: user }],
    ["max_tokens as a string", { max_tokens: "10", messages: user }],
    ["no messages", { max_tokens: 10 }],
    ["empty messages", { max_tokens: 10, messages: [] }],
    ["messages that are not a list", { max_tokens: 10, messages: "Hi" }],
    ["a role Anthropic has not", { max_tokens: 10, messages: [{ role: "tool", content: "Hi" }] }],
    ["a message without a role", { max_tokens: 10, messages: [{ content: "Hi" }] }],
    ["a message without content", { max_tokens: 10, messages: [{ role: "user" }] }],
    ["an empty user message", { max_tokens: 10, messages: [{ role: "user", content: [] }] }],
    ["an empty text block", { max_tokens: 10, messages: [{ role: "user", content: [{ type: "text", text: "" }] }] }],
    ["a content block of no known type", { max_tokens: 10, messages: [{ role: "user", content: [{ type: "video" }] }] }],
    [
      "a tool_result without its tool_use",
      {
        max_tokens: 10,
        messages: [{ role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_x", content: "21C" }] }],
      },
    ],
    [
      "a tool_use not answered",
      {
        max_tokens: 10,
        messages: [
          { role: "user", content: "Weather?" },
          { role: "assistant", content: [{ type: "tool_use", id: "toolu_x", name: "get_weather", input: {} }] },
          { role: "user", content: "Well?" },
        ],
      },
    ],
    [
      "a tool_use in a user message",
      { max_tokens: 10, messages: [{ role: "user", content: [{ type: "tool_use", id: "t", name: "n", input: {} }] }] },
    ],
    ["a system prompt that is a number", { max_tokens: 10, messages: user, system: 3 }],
    ["a temperature above 1", { max_tokens: 10, messages: user, temperature: 1.5 }],
    ["stream that is not a boolean", { max_tokens: 10, messages: user, stream: "yes" }],
    ["a tool without input_schema", { max_tokens: 10, messages: user, tools: [{ name: "t" }] }],
    ["a tool_choice of no known type", { max_tokens: 10, messages: user, tool_choice: { type: "sometimes" } }],
    ["stop_sequences that are not a list", { max_tokens: 10, messages: user, stop_sequences: "END" }],
    ["a thinking budget under 1024", { max_tokens: 2048, messages: user, thinking: { type: "enabled", budget_tokens: 10 } }],
    ["a body that is a list", []],
    ["a body that is not JSON", "{"],
  ];
  for (const [what, body] of cases) {
    it(`refuses ${what}`, async () => {
      // A block of a type tandem does not know goes on to an Anthropic target, which judges it
      // (anthropic-new-blocks.test.ts); the others cannot be sent it.
      const models =
        what === "a content block of no known type" ? [TARGETS.openai, TARGETS.local] : [TARGETS.openai, TARGETS.local, NATIVE];
      for (const model of models) {
        const text =
          typeof body === "string"
            ? body
            : JSON.stringify(
                Array.isArray(body) || what === "no model" || "model" in (body as object) ? body : { model, ...(body as object) },
              );
        const res = await fetch(`${tandem.url}/v1/messages`, { method: "POST", headers: HEADERS, body: text });
        const answer = await res.text();
        assert.equal(res.status, 400, `${model}: ${answer}`);
        const parsed = JSON.parse(answer) as { error: { type: string } };
        assert.deepEqual(problems(ErrorBodySchema, parsed), [], answer);
        assert.equal(parsed.error.type, "invalid_request_error");
        assert.equal(res.headers.get("request-id"), (parsed as { request_id?: string }).request_id);
      }
    });
  }
});

describe("thinking types the SDK's ThinkingConfigParam has: adaptive and between_tools show the model's thinking", () => {
  /** The block types of the whole answer and of the streamed one, for this thinking config. */
  async function blocks(thinking: Record<string, unknown> | undefined): Promise<string[][]> {
    const body = {
      model: "local/think",
      max_tokens: 2048,
      messages: [{ role: "user", content: "The number?" }],
      ...(thinking && { thinking }),
    };
    const res = await post(body);
    assert.equal(res.status, 200, res.text);
    const message = JSON.parse(res.text) as Anthropic.Message;
    assert.deepEqual(problems(MessageSchema, message), []);
    const started = ofType(await frames(body), "content_block_start").map((event) => event.content_block.type);
    return [message.content.map((block) => block.type), started];
  }

  it("adaptive: the model decides, and when it thought its thinking is shown, as with enabled", async () => {
    assert.deepEqual(await blocks({ type: "adaptive" }), [
      ["thinking", "text"],
      ["thinking", "text"],
    ]);
  });

  it("between_tools is taken (not a 400) and shows the thinking too", async () => {
    assert.deepEqual(await blocks({ type: "between_tools" }), [
      ["thinking", "text"],
      ["thinking", "text"],
    ]);
  });

  it("no thinking, thinking disabled, or display omitted: no thinking blocks", async () => {
    for (const thinking of [undefined, { type: "disabled" }, { type: "adaptive", display: "omitted" }]) {
      assert.deepEqual(await blocks(thinking), [["text"], ["text"]], JSON.stringify(thinking));
    }
  });
});

describe("a native Anthropic target's own answer (same-wire pass-through)", () => {
  /** A stream as Anthropic's API sends one today (message_start's container and diagnostics, a tool_use's caller). */
  const API_STREAM = [
    {
      type: "message_start",
      message: {
        id: "msg_01AbCdEfGhIjKlMnOpQrStUv",
        type: "message",
        role: "assistant",
        model: "claude-haiku-4-5",
        content: [],
        container: null,
        diagnostics: null,
        stop_reason: null,
        stop_sequence: null,
        stop_details: null,
        usage: {
          input_tokens: 588,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 0,
          cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
          inference_geo: "global",
          output_tokens: 8,
          output_tokens_details: null,
          server_tool_use: null,
          service_tier: "standard",
          speed: "standard",
        },
      },
    },
    { type: "content_block_start", index: 0, content_block: { type: "text", text: "", citations: null } },
    { type: "ping" },
    { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Checking." } },
    { type: "content_block_stop", index: 0 },
    {
      type: "content_block_start",
      index: 1,
      content_block: {
        type: "tool_use",
        id: "toolu_01GJB88Bxbn9Pvc7V6N2EnsB",
        name: "get_weather",
        input: {},
        caller: { type: "direct" },
      },
    },
    { type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: "" } },
    { type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: '{"city": ' } },
    { type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: '"Paris"}' } },
    { type: "content_block_stop", index: 1 },
    {
      type: "message_delta",
      delta: { stop_reason: "tool_use", stop_sequence: null, stop_details: null, container: null },
      usage: {
        input_tokens: 588,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        output_tokens: 51,
        output_tokens_details: { thinking_tokens: 0 },
        server_tool_use: null,
      },
    },
    { type: "message_stop" },
  ];
  const body = API_STREAM.map((event) => `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`).join("");

  it("reaches the client event for event (the model named as the target), and finalMessage() is the whole message", async () => {
    anthropic.script(() => ({ kind: "sse", body }));
    const request = {
      model: NATIVE,
      max_tokens: 100,
      tools: [weather],
      messages: [{ role: "user", content: "Weather in Paris?" }],
    };
    const events = await frames(request);
    assert.deepEqual(streamProblems(sseEvents((await post({ ...request, stream: true })).text)), []);
    const expected = structuredClone(API_STREAM) as { type: string; message?: { model: string } }[];
    (expected[0]?.message as { model: string }).model = NATIVE;
    assert.deepEqual(events, expected);

    const { parsed_output: _, ...final } = await client.messages.stream(request as never).finalMessage();
    assert.deepEqual(problems(MessageSchema, final), []);
    assert.deepEqual(final.content, [
      { type: "text", text: "Checking.", citations: null },
      {
        type: "tool_use",
        id: "toolu_01GJB88Bxbn9Pvc7V6N2EnsB",
        name: "get_weather",
        input: { city: "Paris" },
        caller: { type: "direct" },
      },
    ]);
    // A client that did not stream gets the stream put together, as Anthropic's SDKs do.
    const whole = await post(request);
    assert.deepEqual(problems(MessageSchema, JSON.parse(whole.text)), [], whole.text);
  });
});

describe("tool_use ids keep to Anthropic's id alphabet", () => {
  it("an upstream id with characters Anthropic refuses (Kimi's functions.get_weather:0) is a toolu_ id of [A-Za-z0-9_-], given back whole", async () => {
    openai.script(() => ({
      kind: "tool_calls",
      calls: [{ id: "functions.get_weather:0", name: "get_weather", arguments: { city: "Paris" } }],
    }));
    const body = {
      model: TARGETS.openai,
      max_tokens: 100,
      tools: [weather],
      messages: [{ role: "user", content: "Weather in Paris?" }],
    };
    const message = await whole(body);
    const [call] = message.content as { id: string }[];
    assert.match(call?.id ?? "", /^toolu_[A-Za-z0-9_-]+$/);
    const streamed = ofType(await frames(body), "content_block_start")[0]?.content_block as { id: string };
    assert.equal(streamed.id, call?.id);
    openai.script(() => ({ kind: "text", text: "21C." }));
    await whole({
      ...body,
      messages: [
        ...body.messages,
        { role: "assistant", content: message.content },
        { role: "user", content: [{ type: "tool_result", tool_use_id: call?.id, content: "21C" }] },
      ],
    });
    const sent = openai.requests.at(-1)?.body as { messages: { tool_call_id?: string; tool_calls?: { id: string }[] }[] };
    assert.equal(sent.messages.find((m) => m.tool_calls)?.tool_calls?.[0]?.id, "functions.get_weather:0");
    assert.equal(sent.messages.find((m) => m.tool_call_id)?.tool_call_id, "functions.get_weather:0");
  });
});

describe("?beta=true answers (the SDK's beta.messages, Claude Code): the Beta types' required fields", () => {
  it("a BetaMessage has context_management, its usage fallback_credit and iterations, whole, in message_start and message_delta", async () => {
    textScripts();
    for (const { kind, model } of KINDS) {
      const res = await post(hi(model), "/v1/messages?beta=true");
      const message = JSON.parse(res.text) as Record<string, unknown>;
      assert.deepEqual(problems(BetaMessageSchema, message), [], `${kind}: ${res.text}`);
      assert.equal(message.context_management, null, kind);
      const streamed = sseEvents((await post(hi(model, { stream: true }), "/v1/messages?beta=true")).text).map((f) => f.data);
      const start = streamed.find((event) => event.type === "message_start")?.message as Record<string, unknown>;
      assert.equal(start.context_management, null, kind);
      assert.deepEqual(
        [(start.usage as Record<string, unknown>).fallback_credit, (start.usage as Record<string, unknown>).iterations],
        [null, null],
        kind,
      );
      const delta = streamed.find((event) => event.type === "message_delta") as Record<string, unknown>;
      assert.ok("context_management" in delta && delta.context_management === null, kind);
      const usage = delta.usage as Record<string, unknown>;
      assert.ok(
        "fallback_credit" in usage && usage.fallback_credit === null && "iterations" in usage && usage.iterations === null,
        kind,
      );
      // The SDK's beta.messages (1.12) puts no ?beta=true on its URL: its betas' anthropic-beta header says it.
      const { parsed_output: _, ...final } = await client.beta.messages
        .stream({ ...hi(model), betas: ["interleaved-thinking-2025-05-14"] } as never)
        .finalMessage();
      assert.deepEqual(problems(BetaMessageSchema, final), [], kind);
      assert.equal(final.context_management, null, kind);
    }
  });

  it("a request with neither ?beta=true nor anthropic-beta gets the Message the non-beta types declare, without the beta fields", async () => {
    textScripts();
    const message = await whole(hi(TARGETS.openai));
    assert.deepEqual(problems(MessageSchema, message), []);
    assert.ok(!("context_management" in message));
  });
});

describe("stop_reason refusal where the target says it refused", () => {
  const chunk = (delta: object, finish: string | null) =>
    JSON.stringify({
      id: "chatcmpl-1",
      object: "chat.completion.chunk",
      created: 1,
      model: "gpt-4o-mini",
      choices: [{ index: 0, delta, finish_reason: finish }],
    });

  it("an OpenAI model's refusal is stop_reason refusal with stop_details, its words the text, streamed and not", async () => {
    const refusal = "I can't help with that.";
    openai.script(() => ({
      kind: "raw",
      body: sseFrames([
        chunk({ role: "assistant", content: null, refusal: "" }, null),
        chunk({ refusal }, null),
        chunk({}, "stop"),
        "[DONE]",
      ]),
    }));
    const message = await whole(hi(TARGETS.openai));
    assert.deepEqual(problems(MessageSchema, message), []);
    assert.equal(message.stop_reason, "refusal");
    assert.deepEqual(message.stop_details, { type: "refusal", category: null, explanation: null });
    assert.deepEqual(message.content, [{ type: "text", text: refusal, citations: null }]);
    const delta = ofType(await frames(hi(TARGETS.openai)), "message_delta")[0]?.delta;
    assert.equal(delta?.stop_reason, "refusal");
    assert.deepEqual(delta?.stop_details, { type: "refusal", category: null, explanation: null });
  });
});
