/**
 * OpenAI's Chat Completions, Completions, Embeddings and Models APIs as the openai SDK's types (6.49)
 * and OpenAI's API reference describe them, through a real tandem server with the official openai
 * SDK and raw fetch, on every kind of target: an OpenAI-compatible upstream (same wire, passed
 * through), an Anthropic upstream, an Ollama upstream, a Responses-only upstream and the embedded
 * engine (tiny scripted GGUF models, one thread). Every answer of a battery is validated against a
 * schema derived from the SDK's types (test/support/openai-shapes.ts); the describes after it are
 * the mismatches that validation and a reading of the reference found, each asserted as OpenAI
 * answers it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { zodResponseFormat } from "openai/helpers/zod";
import { z } from "zod";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { type FakeOllamaUpstream, startFakeOllama } from "../support/fake-ollama-upstream.js";
import { type FakeResponsesUpstream, startFakeOpenAIResponses } from "../support/fake-openai-responses-upstream.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { makeModelDir, writeChatModel, writeToolCallModel } from "../support/gguf/index.js";
import {
  ChatCompletionChunkSchema,
  ChatCompletionSchema,
  CompletionChunkSchema,
  CompletionSchema,
  CreateEmbeddingResponseSchema,
  ErrorBodySchema,
  ModelListSchema,
  ModelSchema,
  problems,
  sseData,
  streamProblems,
} from "../support/openai-shapes.js";
import { loadLocalModel, type RunningTandem, startTandem } from "../support/tandem.js";

let openai: FakeOpenAIUpstream;
let responses: FakeResponsesUpstream;
let ollama: FakeOllamaUpstream;
let anthropic: FakeAnthropic;
let tandem: RunningTandem;
let client: OpenAI;
let cleanup: () => Promise<void>;

/** One model of each target kind; `openai` is the same wire (passed through). */
const TARGETS = {
  openai: "openai/gpt-4o-mini",
  anthropic: "anthropic/claude-haiku-4-5",
  ollama: "ollama/llama3.2:latest",
  responses: "codex/gpt-5-codex",
  local: "local/chat",
} as const;
const LOCAL_TOOLS = "local/tools";
type Kind = keyof typeof TARGETS;

const KINDS = (Object.entries(TARGETS) as [Kind, string][]).map(([kind, model]) => ({
  kind,
  model,
  toolModel: kind === "local" ? LOCAL_TOOLS : model,
}));

const weatherTool = {
  type: "function" as const,
  function: {
    name: "get_weather",
    description: "Current weather for a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
};

before(async () => {
  [openai, responses, ollama, anthropic] = await Promise.all([
    startFakeOpenAI({ models: ["gpt-4o-mini", "text-embedding-3-small"] }),
    startFakeOpenAIResponses({ models: ["gpt-5-codex"] }),
    startFakeOllama({ models: ["llama3.2:latest", "nomic-embed-text:latest"] }),
    startFakeAnthropic({ models: ["claude-haiku-4-5"] }),
  ]);
  const made = await makeModelDir();
  cleanup = made.cleanup;
  await writeChatModel(join(made.dir, "chat.gguf"));
  await writeToolCallModel(join(made.dir, "tools.gguf"));
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
          },
        },
      },
      breaker: { failureThreshold: 1000, cooldownMs: 1000 },
    },
    { env: { UP: "sk-upstream" } },
  );
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
  for (const model of [TARGETS.local, LOCAL_TOOLS]) await loadLocalModel(tandem, model);
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
  anthropic.script(() => ({ kind: "text", text: "Hello from anthropic", usage: { input: 9, output: 4 } }));
}

function toolScripts(): void {
  openai.script(() => ({ kind: "tool_calls", calls: [{ name: "get_weather", arguments: { city: "Paris" } }] }));
  responses.script(() => ({ kind: "answer", calls: [{ name: "get_weather", arguments: '{"city":"Paris"}' }] }));
  ollama.script(() => ({ kind: "tool_calls", calls: [{ name: "get_weather", arguments: { city: "Paris" } }] }));
  anthropic.script(() => ({ kind: "tool_calls", calls: [{ name: "get_weather", arguments: { city: "Paris" } }] }));
}

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${tandem.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

function hi(model: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model, messages: [{ role: "user", content: "Hi" }], max_completion_tokens: 40, ...extra };
}

describe("the whole battery, checked against the SDK's types, on every target kind", () => {
  for (const { kind, model, toolModel } of KINDS) {
    it(`chat completions on ${kind}: whole, streamed, with and without include_usage`, async () => {
      const cases: [string, Record<string, unknown>, () => void][] = [
        ["text", hi(model), textScripts],
        [
          "tools",
          hi(toolModel, { tools: [weatherTool], messages: [{ role: "user", content: "Weather in Paris?" }] }),
          toolScripts,
        ],
        ["two choices", hi(model, { n: 2 }), textScripts],
        ["logprobs", hi(model, { logprobs: true, top_logprobs: 2 }), textScripts],
        ["reasoning", hi(model, { reasoning_effort: "low" }), textScripts],
      ];
      for (const [label, body, script] of cases) {
        script();
        const whole = await post("/v1/chat/completions", body);
        assert.equal(whole.status, 200, `${label}: ${whole.text}`);
        assert.deepEqual(problems(ChatCompletionSchema, JSON.parse(whole.text)), [], `${label} whole: ${whole.text}`);
        for (const streamOptions of [undefined, { include_usage: true }]) {
          const streamed = await post("/v1/chat/completions", { ...body, stream: true, stream_options: streamOptions });
          assert.equal(streamed.status, 200, `${label}: ${streamed.text}`);
          assert.deepEqual(streamProblems(streamed.text, ChatCompletionChunkSchema), [], `${label} streamed: ${streamed.text}`);
        }
      }
    });

    it(`legacy completions on ${kind}: whole and streamed`, async () => {
      textScripts();
      const body = { model, prompt: "Say hi", max_tokens: 20 };
      const whole = await post("/v1/completions", body);
      assert.equal(whole.status, 200, whole.text);
      assert.deepEqual(problems(CompletionSchema, JSON.parse(whole.text)), [], whole.text);
      for (const streamOptions of [undefined, { include_usage: true }]) {
        const streamed = await post("/v1/completions", { ...body, stream: true, stream_options: streamOptions });
        assert.equal(streamed.status, 200, streamed.text);
        assert.deepEqual(streamProblems(streamed.text, CompletionChunkSchema), [], streamed.text);
      }
    });
  }

  it("embeddings on every target that embeds", async () => {
    for (const model of ["openai/text-embedding-3-small", "ollama/nomic-embed-text:latest", TARGETS.local]) {
      for (const encoding_format of ["float", "base64"]) {
        const res = await post("/v1/embeddings", { model, input: ["a cat", "a dog"], encoding_format });
        assert.equal(res.status, 200, `${model}: ${res.text}`);
        assert.deepEqual(problems(CreateEmbeddingResponseSchema, JSON.parse(res.text)), [], `${model}: ${res.text}`);
      }
    }
  });

  it("models: the list and each entry", async () => {
    const res = await fetch(`${tandem.url}/v1/models`);
    const list = (await res.json()) as { data: { id: string }[] };
    assert.deepEqual(problems(ModelListSchema, list), []);
    for (const entry of list.data) {
      const one = await fetch(`${tandem.url}/v1/models/${entry.id}`);
      assert.equal(one.status, 200, entry.id);
      assert.deepEqual(problems(ModelSchema, await one.json()), [], entry.id);
    }
  });
});

type Chunk = OpenAI.Chat.Completions.ChatCompletionChunk;

async function chunks(body: Record<string, unknown>): Promise<Chunk[]> {
  const res = await post("/v1/chat/completions", { ...body, stream: true });
  assert.equal(res.status, 200, res.text);
  const frames = sseData(res.text);
  assert.equal(frames.at(-1), "[DONE]");
  return frames.slice(0, -1) as Chunk[];
}

describe("ChatCompletionMessage.annotations (what OpenAI sends on every message)", () => {
  it("is an empty array on a whole answer from every target kind", async () => {
    textScripts();
    for (const { kind, model } of KINDS) {
      const completion = await client.chat.completions.create(hi(model) as never);
      assert.deepEqual(completion.choices[0]?.message.annotations, [], kind);
    }
  });
});

describe("stream_options.include_usage", () => {
  it("without it: no usage chunk and no usage field; with it: usage null on every chunk, then one with choices [] and the usage", async () => {
    textScripts();
    for (const { kind, model } of KINDS) {
      const plain = await chunks(hi(model));
      assert.ok(plain.length > 1, kind);
      for (const chunk of plain) {
        // As OpenAI: no `usage` member at all (tandem asks a same-wire upstream for usage, which puts a null on every chunk).
        assert.ok(!("usage" in chunk), `${kind}: ${JSON.stringify(chunk)}`);
        assert.equal(chunk.choices.length, 1, kind);
      }
      const counted = await chunks(hi(model, { stream_options: { include_usage: true } }));
      const last = counted.at(-1) as Chunk;
      assert.deepEqual(last.choices, [], kind);
      assert.ok(
        last.usage && last.usage.prompt_tokens > 0 && last.usage.completion_tokens > 0,
        `${kind}: ${JSON.stringify(last)}`,
      );
      assert.equal(last.usage.total_tokens, last.usage.prompt_tokens + last.usage.completion_tokens, kind);
      for (const chunk of counted.slice(0, -1)) assert.equal(chunk.usage, null, `${kind}: ${JSON.stringify(chunk)}`);
      // Every chunk of one stream shares its id and created.
      assert.equal(new Set(counted.map((chunk) => chunk.id)).size, 1, kind);
      assert.equal(new Set(counted.map((chunk) => chunk.created)).size, 1, kind);
      const finish = counted.filter((chunk) => chunk.choices[0]?.finish_reason != null);
      assert.deepEqual(
        finish.map((chunk) => chunk.choices[0]?.finish_reason),
        ["stop"],
        kind,
      );
    }
  });
});

describe("tool calls, whole and streamed", () => {
  it("a streamed call has index, id, type and name in its first delta only, then its arguments", async () => {
    toolScripts();
    for (const { kind, toolModel } of KINDS) {
      const body = hi(toolModel, { tools: [weatherTool], messages: [{ role: "user", content: "Weather in Paris?" }] });
      const deltas = (await chunks(body)).flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
      assert.ok(deltas.length > 0, kind);
      const [first, ...rest] = deltas;
      assert.equal(first?.index, 0, kind);
      assert.match(first?.id ?? "", /\S/, kind);
      assert.equal(first?.type, "function", kind);
      assert.equal(first?.function?.name, "get_weather", kind);
      for (const delta of rest) {
        assert.ok(!("id" in delta) && !("type" in delta), `${kind}: ${JSON.stringify(delta)}`);
        assert.ok(!("name" in (delta.function ?? {})), `${kind}: ${JSON.stringify(delta)}`);
      }
      const args = deltas.map((delta) => delta.function?.arguments ?? "").join("");
      assert.deepEqual(JSON.parse(args), { city: "Paris" }, kind);

      const whole = await client.chat.completions.create(body as never);
      const choice = whole.choices[0];
      assert.equal(choice?.finish_reason, "tool_calls", kind);
      assert.equal(choice?.message.content, null, kind);
      const call = choice?.message.tool_calls?.[0];
      assert.ok(call?.type === "function", kind);
      assert.deepEqual(JSON.parse(call.function.arguments), { city: "Paris" }, kind);
    }
  });

  it("the SDK's chat.completions.stream() helper and finalChatCompletion() put the same answer together", async () => {
    for (const { kind, model, toolModel } of KINDS) {
      textScripts();
      const text = await client.chat.completions.stream(hi(model) as never).finalChatCompletion();
      // The helper's own addition (`parsed`, from response_format) aside, a ChatCompletion as the types have it.
      const choices = text.choices.map(({ message: { parsed: _, ...message }, ...choice }) => ({ ...choice, message }));
      assert.deepEqual(problems(ChatCompletionSchema, { ...text, choices }), [], `${kind}: ${JSON.stringify(text)}`);
      assert.match(text.choices[0]?.message.content ?? "", /\S/, kind);
      assert.equal(text.choices[0]?.finish_reason, "stop", kind);
      toolScripts();
      const body = hi(toolModel, { tools: [weatherTool], messages: [{ role: "user", content: "Weather in Paris?" }] });
      const calls = await client.chat.completions.stream(body as never).finalChatCompletion();
      assert.equal(calls.choices[0]?.finish_reason, "tool_calls", kind);
      const call = calls.choices[0]?.message.tool_calls?.[0];
      assert.ok(call?.type === "function" && call.function.name === "get_weather", kind);
    }
  });
});

describe("embeddings", () => {
  it("client.embeddings.create (base64 on the wire, decoded by the SDK) returns the floats float format returns", async () => {
    for (const model of ["openai/text-embedding-3-small", "ollama/nomic-embed-text:latest", TARGETS.local]) {
      const decoded = await client.embeddings.create({ model, input: ["a cat", "a dog"] });
      const floats = await client.embeddings.create({ model, input: ["a cat", "a dog"], encoding_format: "float" });
      assert.equal(decoded.data.length, 2, model);
      for (const [i, item] of decoded.data.entries()) {
        const want = floats.data[i]?.embedding ?? [];
        assert.equal(item.embedding.length, want.length, model);
        // The SDK decodes float32: the same number, to a float32's precision.
        assert.deepEqual(
          item.embedding,
          want.map((value) => Math.fround(value)),
          `${model}[${i}]`,
        );
      }
    }
  });

  it("token ids (one input, or a list of them) are read as cl100k_base and embed as their text, on every target that embeds", async () => {
    // "a cat" and "a dog" in cl100k_base, as tiktoken (and LangChain's OpenAIEmbeddings) send them.
    const cat = [64, 8415];
    const dog = [64, 5679];
    for (const model of ["openai/text-embedding-3-small", "ollama/nomic-embed-text:latest", TARGETS.local]) {
      const text = await client.embeddings.create({ model, input: ["a cat", "a dog"], encoding_format: "float" });
      const lists = await client.embeddings.create({ model, input: [cat, dog], encoding_format: "float" });
      assert.deepEqual(
        lists.data.map((d) => d.embedding),
        text.data.map((d) => d.embedding),
        model,
      );
      const one = await client.embeddings.create({ model, input: cat, encoding_format: "float" });
      assert.deepEqual(one.data[0]?.embedding, text.data[0]?.embedding, model);
    }
    const asked = openai.requests.at(-1)?.body as { input: unknown };
    assert.deepEqual(asked.input, ["a cat"]);
    for (const [input, param] of [
      [[-1], "input"],
      [[1.5], "input"],
      [[[64], [10_000_000]], "input[1]"],
      [[[]], "input[0]"],
    ] as const) {
      const res = await post("/v1/embeddings", { model: "openai/text-embedding-3-small", input });
      assert.equal(res.status, 400, res.text);
      assert.equal((JSON.parse(res.text) as { error: { param: string } }).error.param, param, res.text);
    }
  });

  it("dimensions: the vectors have the length asked for", async () => {
    for (const model of ["openai/text-embedding-3-small", "ollama/nomic-embed-text:latest", TARGETS.local]) {
      const res = await client.embeddings.create({ model, input: "a cat", dimensions: 4 });
      assert.equal(res.data[0]?.embedding.length, 4, model);
    }
  });
});

describe("models", () => {
  it("an unknown id, with or without a slash, is OpenAI's 404 that lists what exists", async () => {
    for (const [id, lists] of [
      ["nope", /openai\/gpt-4o-mini/],
      // A local name: the engine's folder says what exists (the catalog passes every local name on).
      ["local/qwen2.5-0.5b", /local\/chat/],
    ] as const) {
      await assert.rejects(client.models.retrieve(id), (error: unknown) => {
        assert.ok(error instanceof OpenAI.NotFoundError, String(error));
        assert.deepEqual(problems(ErrorBodySchema, { error: error.error }), []);
        assert.equal((error.error as { code?: string }).code, "model_not_found");
        assert.match(error.message, lists);
        return true;
      });
    }
    const local = await client.models.retrieve(TARGETS.local);
    assert.equal(local.id, TARGETS.local);
  });
});

describe("errors: OpenAI's body, status, words and code for each bad request, and the SDK's error class", () => {
  const model = TARGETS.openai;
  const msgs = [{ role: "user", content: "Hi" }];
  /** [what, path, body, status, param, code, message] as api.openai.com answers them. */
  const cases: [string, string, unknown, number, string | null, string | null, RegExp][] = [
    ["a body that is not JSON", "/v1/chat/completions", "{not json", 400, null, null, /JSON/],
    [
      "no model",
      "/v1/chat/completions",
      { messages: msgs },
      400,
      "model",
      "missing_required_parameter",
      /^Missing required parameter: 'model'\.$/,
    ],
    [
      "no messages",
      "/v1/chat/completions",
      { model },
      400,
      "messages",
      "missing_required_parameter",
      /^Missing required parameter: 'messages'\.$/,
    ],
    [
      "messages of the wrong type",
      "/v1/chat/completions",
      { model, messages: "Hi" },
      400,
      "messages",
      "invalid_type",
      /^Invalid type for 'messages': expected an array, but got a string instead\.$/,
    ],
    [
      "max_tokens of the wrong type",
      "/v1/chat/completions",
      { model, messages: msgs, max_tokens: "5" },
      400,
      "max_tokens",
      "invalid_type",
      /^Invalid type for 'max_tokens': expected an integer, but got a string instead\.$/,
    ],
    [
      "temperature of the wrong type",
      "/v1/chat/completions",
      { model, messages: msgs, temperature: "hot" },
      400,
      "temperature",
      "invalid_type",
      /^Invalid type for 'temperature': expected a decimal, but got a string instead\.$/,
    ],
    [
      "empty messages",
      "/v1/chat/completions",
      { model, messages: [] },
      400,
      "messages",
      "empty_array",
      /^Invalid 'messages': empty array\. Expected an array with minimum length 1, but got an empty array instead\.$/,
    ],
    [
      "a bad role",
      "/v1/chat/completions",
      { model, messages: [{ role: "robot", content: "Hi" }] },
      400,
      "messages[0].role",
      "invalid_value",
      /robot|role/,
    ],
    [
      "a tool message without tool_call_id",
      "/v1/chat/completions",
      { model, messages: [{ role: "tool", content: "21C" }] },
      400,
      "messages[0].tool_call_id",
      "missing_required_parameter",
      /^Missing required parameter: 'messages\[0\]\.tool_call_id'\.$/,
    ],
    [
      "n above 128",
      "/v1/chat/completions",
      { model, messages: msgs, n: 200 },
      400,
      "n",
      "integer_above_max_value",
      /^Invalid 'n': integer above maximum value\. Expected a value <= 128, but got 200 instead\.$/,
    ],
    [
      "n below 1",
      "/v1/chat/completions",
      { model, messages: msgs, n: 0 },
      400,
      "n",
      "integer_below_min_value",
      /^Invalid 'n': integer below minimum value\. Expected a value >= 1, but got 0 instead\.$/,
    ],
    [
      "temperature above 2",
      "/v1/chat/completions",
      { model, messages: msgs, temperature: 3 },
      400,
      "temperature",
      "decimal_above_max_value",
      /^Invalid 'temperature': decimal above maximum value\. Expected a value <= 2, but got 3 instead\.$/,
    ],
    [
      "five stop sequences",
      "/v1/chat/completions",
      { model, messages: msgs, stop: ["a", "b", "c", "d", "e"] },
      400,
      "stop",
      "array_above_max_length",
      /^Invalid 'stop': array too long\. Expected an array with maximum length 4, but got an array with length 5 instead\.$/,
    ],
    [
      "a reasoning_effort outside the set",
      "/v1/chat/completions",
      { model, messages: msgs, reasoning_effort: "extreme" },
      400,
      "reasoning_effort",
      "invalid_value",
      /extreme/,
    ],
    [
      "an unknown model",
      "/v1/chat/completions",
      { model: "nope/x", messages: msgs },
      404,
      "model",
      "model_not_found",
      /nope\/x.*openai\/gpt-4o-mini/,
    ],
    [
      "completions without a prompt",
      "/v1/completions",
      { model },
      400,
      "prompt",
      "missing_required_parameter",
      /^Missing required parameter: 'prompt'\.$/,
    ],
    [
      "embeddings without input",
      "/v1/embeddings",
      { model: "openai/text-embedding-3-small" },
      400,
      "input",
      "missing_required_parameter",
      /^Missing required parameter: 'input'\.$/,
    ],
    [
      "embeddings of an empty list",
      "/v1/embeddings",
      { model: "openai/text-embedding-3-small", input: [] },
      400,
      "input",
      "empty_array",
      /^Invalid 'input': empty array\./,
    ],
    [
      "embeddings of an empty string",
      "/v1/embeddings",
      { model: "openai/text-embedding-3-small", input: "" },
      400,
      "input",
      "invalid_value",
      /empty/,
    ],
    [
      "an encoding_format outside the set",
      "/v1/embeddings",
      { model: "openai/text-embedding-3-small", input: "a", encoding_format: "hex" },
      400,
      "encoding_format",
      "invalid_value",
      /^Invalid value for 'encoding_format': 'hex'\. Supported values are: 'float' and 'base64'\.$/,
    ],
  ];
  for (const [what, path, body, status, param, code, message] of cases) {
    it(`${what}: ${status} ${code}`, async () => {
      const asked = openai.requests.length;
      const res = await post(path, body);
      assert.equal(res.status, status, res.text);
      const answer = JSON.parse(res.text) as {
        error: { message: string; param: string | null; code: string | null; type: string };
      };
      assert.deepEqual(problems(ErrorBodySchema, answer), [], res.text);
      assert.deepEqual(
        [answer.error.type, answer.error.param, answer.error.code],
        ["invalid_request_error", param, code],
        res.text,
      );
      assert.match(answer.error.message, message);
      assert.equal(openai.requests.length, asked, "no upstream was asked");
    });
  }

  it("an oversized body is a 413 in OpenAI's shape", async () => {
    const res = await post("/v1/chat/completions", {
      model,
      messages: [{ role: "user", content: "x".repeat(40 * 1024 * 1024) }],
    });
    assert.equal(res.status, 413);
    assert.deepEqual(problems(ErrorBodySchema, JSON.parse(res.text)), [], res.text);
  });

  it("the SDK maps each status to its error class", async () => {
    await assert.rejects(client.chat.completions.create({ model, messages: [] }), OpenAI.BadRequestError);
    await assert.rejects(
      client.chat.completions.create({ model: "nope/x", messages: [{ role: "user", content: "Hi" }] }),
      OpenAI.NotFoundError,
    );
    await assert.rejects(client.embeddings.create({ model: "nope/x", input: "a" }), OpenAI.NotFoundError);
    await assert.rejects(client.completions.create({ model: "nope/x", prompt: "a" }), OpenAI.NotFoundError);
    openai.script(() => ({ kind: "error", status: 429 }));
    await assert.rejects(
      client.chat.completions.create({ model, messages: [{ role: "user", content: "Hi" }] }),
      OpenAI.RateLimitError,
    );
  });

  it("an OpenAI-compatible upstream's own type and code reach the client as it sent them", async () => {
    const cases: [number, string, string][] = [
      [429, "insufficient_quota", "insufficient_quota"],
      [400, "invalid_request_error", "unsupported_value"],
      [401, "invalid_request_error", "mismatched_organization"],
    ];
    for (const [status, type, code] of cases) {
      openai.script(() => ({
        kind: "error",
        status,
        body: { error: { message: `upstream says ${code}`, type, param: null, code } },
      }));
      const err = await client.chat.completions.create({ model, messages: [{ role: "user", content: "Hi" }] }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof OpenAI.APIError, String(err));
      assert.deepEqual([err.status, err.type, err.code], [status, type, code]);
    }
    openai.script(() => ({ kind: "text", text: "Hello from openai" }));
  });
});

describe("legacy completions: echo, stop, max_tokens and the usage chunk", () => {
  it("echo puts the prompt before the answer, whole and as the stream's first chunk, on every target kind", async () => {
    textScripts();
    for (const { kind, model } of KINDS) {
      const body = { model, prompt: "Say hi", max_tokens: 20, echo: true };
      const whole = await client.completions.create(body);
      assert.deepEqual(problems(CompletionSchema, whole), [], kind);
      const text = whole.choices[0]?.text ?? "";
      assert.ok(text.startsWith("Say hi") && text.length > "Say hi".length, `${kind}: ${text}`);
      const res = await post("/v1/completions", { ...body, stream: true });
      assert.deepEqual(streamProblems(res.text, CompletionChunkSchema), [], res.text);
      const pieces = (sseData(res.text).slice(0, -1) as OpenAI.Completions.Completion[]).map((c) => c.choices[0]?.text);
      assert.equal(pieces[0], "Say hi", kind);
      assert.ok(pieces.join("").startsWith("Say hi") && pieces.join("").length > 6, kind);
    }
  });

  it("a prompt of token ids (cl100k_base, as OpenAI's completions models read them) reaches the target as its text", async () => {
    textScripts();
    // "Say hi" in cl100k_base.
    for (const prompt of [[46864, 15960], [[46864, 15960]]]) {
      await client.completions.create({ model: TARGETS.anthropic, prompt, max_tokens: 5 });
      const sent = anthropic.requests.at(-1)?.body as { messages: { content: { text: string }[] }[] };
      assert.equal(sent.messages[0]?.content[0]?.text, "Say hi");
    }
  });

  it("echo with logprobs on a target that cannot report the prompt's own token logprobs is a 400 naming echo, the upstream never called", async () => {
    const sent = openai.requests.length;
    await assert.rejects(
      client.completions.create({ model: TARGETS.openai, prompt: "Hi", echo: true, logprobs: 1 }),
      (error: unknown) => error instanceof OpenAI.BadRequestError && error.param === "echo",
    );
    assert.equal(openai.requests.length, sent);
  });

  it("max_tokens and stop reach each target in its own terms", async () => {
    textScripts();
    await client.completions.create({ model: TARGETS.openai, prompt: "Hi", max_tokens: 7, stop: "END" });
    const sent = openai.requests.at(-1)?.body as Record<string, unknown>;
    assert.deepEqual([sent.max_tokens ?? sent.max_completion_tokens, sent.stop], [7, ["END"]]);
    await client.completions.create({ model: TARGETS.anthropic, prompt: "Hi", max_tokens: 7, stop: ["END"] });
    const claude = anthropic.requests.at(-1)?.body as Record<string, unknown>;
    assert.deepEqual([claude.max_tokens, claude.stop_sequences], [7, ["END"]]);
    await client.completions.create({ model: TARGETS.ollama, prompt: "Hi", max_tokens: 7, stop: ["END"] });
    const options = (ollama.requests.at(-1)?.body as { options: Record<string, unknown> }).options;
    assert.deepEqual([options.num_predict, options.stop], [7, ["END"]]);
  });
});

describe("store: true and the stored completions' objects", () => {
  it("a stored answer from every target kind is retrieved as the ChatCompletion it was (with its metadata), listed, and deleted as ChatCompletionDeleted", async () => {
    textScripts();
    for (const { kind, model } of KINDS) {
      const made = await client.chat.completions.create({ ...hi(model), store: true, metadata: { kind } } as never);
      const got = await client.chat.completions.retrieve(made.id);
      // What OpenAI's retrieve adds to the completion: its metadata and the request's settings (README, Stored chat completions).
      const stored = ["metadata", "tool_choice", "seed", "top_p", "temperature", "presence_penalty", "frequency_penalty"];
      const extra = [...stored, "tools", "response_format", "input_user"];
      const completion = Object.fromEntries(Object.entries(got).filter(([key]) => !extra.includes(key))) as typeof got;
      assert.deepEqual((got as typeof got & { metadata: unknown }).metadata, { kind }, kind);
      assert.deepEqual(problems(ChatCompletionSchema, completion), [], `${kind}: ${JSON.stringify(got)}`);
      assert.deepEqual(completion.choices, made.choices, kind);
      const messages = await client.chat.completions.messages.list(made.id);
      assert.equal(messages.data[0]?.content, "Hi", kind);
      assert.match(messages.data[0]?.id ?? "", new RegExp(`^${made.id}-`), kind);
      const deleted = await client.chat.completions.delete(made.id);
      assert.deepEqual(deleted, { object: "chat.completion.deleted", id: made.id, deleted: true }, kind);
      await assert.rejects(client.chat.completions.retrieve(made.id), OpenAI.NotFoundError);
    }
  });
});

describe("request settings reach every target kind in its own terms", () => {
  it("response_format json_schema, max_completion_tokens over max_tokens, parallel_tool_calls, stop, seed and user", async () => {
    const json = '{"a":"x"}';
    openai.script(() => ({ kind: "text", text: json }));
    responses.script(() => ({ kind: "answer", text: json }));
    ollama.script(() => ({ kind: "text", text: json }));
    anthropic.script(() => ({ kind: "text", text: json }));
    const schema = { type: "object", properties: { a: { type: "string" } }, required: ["a"], additionalProperties: false };
    const body = {
      messages: [{ role: "user", content: "Hi" }],
      max_tokens: 99,
      max_completion_tokens: 33,
      stop: ["END"],
      seed: 7,
      user: "user-1",
      parallel_tool_calls: false,
      tools: [weatherTool],
      response_format: { type: "json_schema", json_schema: { name: "out", schema, strict: true } },
    };
    for (const { kind, model } of KINDS) {
      if (kind === "local") continue;
      const completion = await client.chat.completions.create({ model, ...body } as never);
      assert.deepEqual(JSON.parse(completion.choices[0]?.message.content ?? ""), { a: "x" }, kind);
      const sent = { openai, anthropic, ollama, responses }[kind as "openai"].requests.at(-1)?.body as Record<string, never>;
      const fields = {
        openai: {
          max_completion_tokens: sent.max_completion_tokens,
          stop: sent.stop,
          seed: sent.seed,
          user: sent.user,
          parallel: sent.parallel_tool_calls,
          format: sent.response_format,
        },
        anthropic: {
          max_tokens: sent.max_tokens,
          stop: sent.stop_sequences,
          user: (sent.metadata as { user_id?: string } | undefined)?.user_id,
          parallel: (sent.tool_choice as { disable_parallel_tool_use?: boolean } | undefined)?.disable_parallel_tool_use,
        },
        ollama: {
          num_predict: (sent.options as Record<string, unknown> | undefined)?.num_predict,
          stop: (sent.options as Record<string, unknown> | undefined)?.stop,
          seed: (sent.options as Record<string, unknown> | undefined)?.seed,
          format: sent.format,
        },
        responses: {
          max_output_tokens: sent.max_output_tokens,
          user: sent.user,
          parallel: sent.parallel_tool_calls,
          format: (sent.text as { format: unknown } | undefined)?.format,
        },
      }[kind];
      const expected = {
        openai: {
          max_completion_tokens: 33,
          stop: ["END"],
          seed: 7,
          user: "user-1",
          parallel: false,
          format: body.response_format,
        },
        anthropic: { max_tokens: 33, stop: ["END"], user: "user-1", parallel: true },
        ollama: { num_predict: 33, stop: ["END"], seed: 7, format: schema },
        responses: {
          max_output_tokens: 33,
          user: "user-1",
          parallel: false,
          format: { type: "json_schema", name: "out", schema, strict: true },
        },
      }[kind];
      assert.deepEqual(fields, expected, kind);
    }
  });
});

describe("x-request-id (the SDK's _request_id and APIError.requestID)", () => {
  it("every answer and every error carries one, as OpenAI's do", async () => {
    textScripts();
    for (const { kind, model } of KINDS) {
      const { data, request_id } = await client.chat.completions.create(hi(model) as never).withResponse();
      assert.match(request_id ?? "", /^req_/, kind);
      assert.equal((data as { _request_id?: string })._request_id, request_id, kind);
    }
    const listed = await client.models.list().withResponse();
    assert.match(listed.request_id ?? "", /^req_/);
    await assert.rejects(client.chat.completions.create({ model: "nope/x", messages: [] }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.APIError);
      assert.match(error.requestID ?? "", /^req_/);
      return true;
    });
  });
});

describe("the SDK's chat.completions.parse() and stream() with a zod response_format", () => {
  it("parses the JSON answer of every target kind that can give one, whole and streamed", async () => {
    const json = '{"city":"Paris","celsius":21}';
    openai.script(() => ({ kind: "text", text: json }));
    responses.script(() => ({ kind: "answer", text: json }));
    ollama.script(() => ({ kind: "text", text: json }));
    anthropic.script(() => ({ kind: "text", text: json }));
    const format = zodResponseFormat(z.object({ city: z.string(), celsius: z.number() }), "weather");
    for (const { kind, model } of KINDS) {
      if (kind === "local") continue;
      const body = { model, messages: [{ role: "user" as const, content: "Weather?" }], response_format: format };
      const parsed = await client.chat.completions.parse(body);
      assert.deepEqual(parsed.choices[0]?.message.parsed, { city: "Paris", celsius: 21 }, kind);
      const streamed = await client.chat.completions.stream(body).finalChatCompletion();
      assert.deepEqual(streamed.choices[0]?.message.parsed, { city: "Paris", celsius: 21 }, kind);
    }
  });
});
