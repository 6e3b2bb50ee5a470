/**
 * tandem's Ollama API checked against Ollama's own: the Go structs of ollama/ollama's api/types.go
 * (field names, types, omitempty), server/routes.go (status codes and error texts) and the ollama-js
 * client's interfaces, through a real tandem server with the official `ollama` client and raw fetch,
 * on fake OpenAI, Anthropic and Ollama upstreams. Every answer of a battery is validated field by
 * field against a schema written from those structs (test/support/ollama-wire-schema.ts); the cases
 * after it are the mismatches that validation and a reading of routes.go found, each asserted as
 * Ollama answers it. The embedded engine's part is in ollama-spec-shapes-local.test.ts.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Ollama } from "ollama";
import { startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { fakeEmbedding, fakeOllamaTagsEntry, legacyEmbedding, startFakeOllama } from "../support/fake-ollama-upstream.js";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeReply, FakeUpstream, RecordedRequest } from "../support/fake-upstream.js";
import {
  chatProblems,
  checkTime,
  detailsProblems,
  generateProblems,
  type Json,
  ndjsonLines,
  problems,
  RFC3339,
  streamProblems,
} from "../support/ollama-wire-schema.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let openai: FakeUpstream;
let anthropic: FakeUpstream;
let ollamaUp: FakeUpstream;
let tandem: RunningTandem;
let client: Ollama;
/** What every fake answers next (each reads it per request). */
let reply: FakeReply = { kind: "text", text: "Hello there.", usage: { input: 7, output: 3 } };

const TARGETS = ["openai/gpt-4o-mini", "anthropic/claude-sonnet-4-5", "ollama/llama3.2"] as const;

before(async () => {
  [openai, anthropic, ollamaUp] = await Promise.all([
    startFakeOpenAI({ models: ["gpt-4o-mini", "text-embedding-3-small"] }),
    startFakeAnthropic(),
    startFakeOllama(),
  ]);
  for (const fake of [openai, anthropic, ollamaUp]) fake.script(() => reply);
  tandem = await startTandem(
    {
      // Upstream failures are scripted here on purpose: none of them may open a target's breaker.
      breaker: { failureThreshold: 1000, cooldownMs: 1000 },
      providers: {
        openai: { kind: "openai", baseUrl: openai.url, apiKeys: ["env:UP"], local: false },
        anthropic: { kind: "anthropic", baseUrl: anthropic.url, apiKeys: ["env:UP"], local: false },
        ollama: { kind: "ollama", baseUrl: ollamaUp.url },
      },
    },
    { env: { UP: "sk-upstream" } },
  );
  client = new Ollama({ host: tandem.url });
});

after(async () => {
  await tandem?.close();
  await Promise.all([openai?.close(), anthropic?.close(), ollamaUp?.close()]);
});

async function post(path: string, body: unknown, method = "POST"): Promise<{ status: number; type: string; text: string }> {
  const res = await fetch(`${tandem.url}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, type: res.headers.get("content-type") ?? "", text: await res.text() };
}

function lastBody(fake: FakeUpstream): Json {
  return (fake.requests.at(-1) as RecordedRequest).body as Json;
}

const lines = ndjsonLines;

describe("every answer of the battery matches api/types.go, on every target kind", () => {
  const battery: Array<{ name: string; reply: FakeReply; body: Json }> = [
    { name: "text", reply: { kind: "text", text: "Hello there.", usage: { input: 7, output: 3 } }, body: {} },
    {
      name: "length",
      reply: { kind: "text", text: "Hello", finish: "length", usage: { input: 7, output: 1 } },
      body: { options: { num_predict: 1 } },
    },
    {
      name: "thinking",
      reply: { kind: "text", text: "Fine.", reasoning: "Let me think.", usage: { input: 7, output: 3 } },
      body: { think: true },
    },
    {
      name: "tools",
      reply: {
        kind: "tool_calls",
        calls: [
          { name: "get_weather", arguments: { city: "Paris" } },
          { name: "get_weather", arguments: { city: "Rome" } },
        ],
      },
      body: {
        tools: [
          {
            type: "function",
            function: {
              name: "get_weather",
              description: "Weather",
              parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
            },
          },
        ],
      },
    },
    {
      name: "logprobs",
      reply: { kind: "text", text: "Hi", usage: { input: 7, output: 1 } },
      body: { logprobs: true, top_logprobs: 2 },
    },
  ];

  for (const target of TARGETS) {
    for (const stream of [false, true]) {
      it(`/api/chat on ${target}, ${stream ? "streamed" : "whole"}`, async () => {
        for (const c of battery) {
          reply = c.reply;
          const res = await post("/api/chat", { model: target, messages: [{ role: "user", content: "Hi" }], stream, ...c.body });
          assert.equal(res.status, 200, `${c.name}: ${res.text}`);
          assert.match(res.type, stream ? /application\/x-ndjson/ : /application\/json/);
          const found = stream ? streamProblems(res.text, chatProblems) : chatProblems(JSON.parse(res.text) as Json);
          assert.deepEqual(found, [], `${c.name}: ${res.text}`);
        }
      });
    }
    // The fake Ollama upstream has no /api/generate: its same-wire pass-through is checked by passthrough-ollama.test.ts.
    if (target.startsWith("ollama/")) continue;
    for (const stream of [false, true]) {
      it(`/api/generate on ${target}, ${stream ? "streamed" : "whole"}`, async () => {
        for (const c of battery.filter((b) => b.name !== "tools")) {
          reply = c.reply;
          const res = await post("/api/generate", { model: target, prompt: "Hi", stream, ...c.body });
          assert.equal(res.status, 200, `${c.name}: ${res.text}`);
          const found = stream ? streamProblems(res.text, generateProblems) : generateProblems(JSON.parse(res.text) as Json);
          assert.deepEqual(found, [], `${c.name}: ${res.text}`);
        }
      });
    }
  }

  it("the load and unload answers (empty messages or prompt, keep_alive 0)", async () => {
    for (const target of TARGETS) {
      for (const keep of [undefined, 0]) {
        const chat = await post("/api/chat", { model: target, messages: [], ...(keep === 0 && { keep_alive: 0 }) });
        assert.equal(chat.status, 200, chat.text);
        const chatBody = JSON.parse(chat.text) as Json;
        assert.deepEqual(chatProblems(chatBody), []);
        assert.equal(chatBody.done_reason, keep === 0 ? "unload" : "load");
        const gen = await post("/api/generate", { model: target, ...(keep === 0 && { keep_alive: 0 }) });
        const genBody = JSON.parse(gen.text) as Json;
        assert.deepEqual(generateProblems(genBody), []);
        assert.equal(genBody.done_reason, keep === 0 ? "unload" : "load");
      }
    }
  });

  it("/api/show of an Ollama upstream's model shows what the upstream says of it", async () => {
    // Before, a remote target never showed `vision` or `thinking`, so clients offered neither.
    const show = (await client.show({ model: "ollama/llama3.2" })) as unknown as Json;
    assert.deepEqual(show.capabilities, ["completion", "tools", "thinking", "vision"]);
    assert.deepEqual(show.model_info, { "general.architecture": "llama", "llama.context_length": 131072 });
    assert.equal((show.details as Json).quantization_level, "Q4_K_M");
    assert.deepEqual(ollamaUp.requests.at(-1)?.body, { model: "llama3.2:latest" });
    // Other remote kinds describe nothing: tandem's own answer, as before.
    const openaiShow = (await client.show({ model: "openai/gpt-4o-mini" })) as unknown as Json;
    assert.deepEqual(openaiShow.capabilities, ["completion", "tools"]);
  });

  it("/api/tags lists an Ollama upstream's models with the upstream's size, digest, date and details", async () => {
    // Before, they were listed with size 0, tandem's hash of the name, format `remote` and no
    // quantization, so `ollama list` and Open WebUI showed blanks for models that have all of these.
    const upstream = fakeOllamaTagsEntry("llama3.2:latest");
    const raw = JSON.parse((await post("/api/tags", undefined, "GET")).text) as { models: Json[] };
    const entry = raw.models.find((m) => m.name === "ollama/llama3.2:latest");
    assert.deepEqual(entry, { ...upstream, name: "ollama/llama3.2:latest", model: "ollama/llama3.2:latest" });
    // The official client reads them so too.
    const listed = (await client.list()).models.find((m) => m.name === "ollama/llama3.2:latest");
    assert.equal(listed?.size, upstream.size);
    assert.equal(listed?.details.parameter_size, "3.2B");
    // /api/show says the same time, to the upstream's precision.
    const show = JSON.parse((await post("/api/show", { model: "ollama/llama3.2" })).text) as Json;
    assert.equal(show.modified_at, upstream.modified_at);
    // A cloud model has no file anyone lists: what tandem showed before.
    const cloud = raw.models.find((m) => m.name === "openai/gpt-4o-mini") as Json;
    assert.equal(cloud.size, 0);
    assert.equal((cloud.details as Json).format, "remote");
    assert.equal((cloud.details as Json).family, "openai");
  });

  it("/api/tags, /api/show, /api/ps and /api/version", async () => {
    const tags = (await client.list()) as unknown as { models: Json[] };
    assert.ok(tags.models.length > 0);
    for (const [i, entry] of tags.models.entries()) {
      const out: string[] = [];
      problems(
        `tags[${i}]`,
        entry,
        ["name", "model", "remote_model", "remote_host", "modified_at", "size", "digest", "details", "capabilities"],
        out,
      );
      // ollama-js turns modified_at into a Date; the wire's is checked below.
      if (typeof entry.name !== "string" || typeof entry.model !== "string" || !Number.isInteger(entry.size))
        out.push(`tags[${i}] name/model/size`);
      if (typeof entry.digest !== "string" || !/^[0-9a-f]{64}$/.test(entry.digest)) out.push(`tags[${i}].digest`);
      detailsProblems(`tags[${i}].details`, entry.details, out);
      assert.deepEqual(out, []);
    }
    const rawTags = JSON.parse((await post("/api/tags", undefined, "GET")).text) as { models: Json[] };
    assert.ok(rawTags.models.every((m) => RFC3339.test(m.modified_at as string)));

    for (const target of TARGETS) {
      const show = JSON.parse((await post("/api/show", { model: target })).text) as Json;
      const out: string[] = [];
      problems(
        "show",
        show,
        [
          "license",
          "modelfile",
          "parameters",
          "template",
          "system",
          "renderer",
          "parser",
          "details",
          "messages",
          "remote_model",
          "remote_host",
          "model_info",
          "projector_info",
          "tensors",
          "capabilities",
          "modified_at",
          "requires",
        ],
        out,
      );
      detailsProblems("show.details", show.details, out);
      // model_info has no omitempty: always an object (integrations crash on a missing one, routes.go says).
      if (typeof show.model_info !== "object" || show.model_info === null) out.push("show.model_info");
      checkTime("show.modified_at", show.modified_at, out);
      if (!Array.isArray(show.capabilities) || show.capabilities.length === 0) out.push("show.capabilities");
      assert.deepEqual(out, [], JSON.stringify(show));
    }
    const ps = JSON.parse((await post("/api/ps", undefined, "GET")).text) as Json;
    assert.deepEqual(ps, { models: [] });
    assert.match((await client.version()).version, /^\d+\.\d+\.\d+$/);
  });
});

describe("errors as Ollama answers them (server/routes.go), and as ollama-js throws them", () => {
  it("an unknown model is 404 `model 'x' not found` on chat, generate and show, as routes.go writes it, then what exists", async () => {
    for (const model of ["nope", "openai/nope"]) {
      for (const [path, body] of [
        ["/api/chat", { model, messages: [{ role: "user", content: "Hi" }] }],
        ["/api/chat", { model, messages: [{ role: "user", content: "Hi" }], stream: false }],
        ["/api/chat", { model, messages: [] }],
        ["/api/generate", { model, prompt: "Hi" }],
        ["/api/generate", { model }],
        ["/api/show", { model }],
      ] as const) {
        const res = await post(path, body);
        assert.equal(res.status, 404, `${path} ${res.text}`);
        const { error, ...rest } = JSON.parse(res.text) as { error: string };
        assert.deepEqual(rest, {}, path);
        // Ollama's words first; then, as every unknown-model 404 of tandem's, the models that exist.
        assert.match(error, new RegExp(`^model '${model}' not found\\. Available: .*\\bopenai/`), path);
      }
    }
    await assert.rejects(client.chat({ model: "nope", messages: [{ role: "user", content: "Hi" }] }), {
      name: "ResponseError",
      status_code: 404,
      message: /^model 'nope' not found\. Available: /,
    });
  });

  it('an unknown model is 404 `model "x" not found, try pulling it first` on embed and embeddings', async () => {
    for (const [path, body] of [
      ["/api/embed", { model: "nope", input: "Hi" }],
      ["/api/embeddings", { model: "nope", prompt: "Hi" }],
    ] as const) {
      const res = await post(path, body);
      assert.equal(res.status, 404, res.text);
      const { error, ...rest } = JSON.parse(res.text) as { error: string };
      assert.deepEqual(rest, {});
      assert.match(error, /^model "nope" not found, try pulling it first\. Available: /);
    }
    await assert.rejects(client.embed({ model: "nope", input: "Hi" }), { name: "ResponseError", status_code: 404 });
  });

  it("a missing model is 400 `model is required`", async () => {
    for (const [path, body] of [
      ["/api/chat", { messages: [{ role: "user", content: "Hi" }] }],
      ["/api/chat", { model: "", messages: [] }],
      ["/api/generate", { prompt: "Hi" }],
      ["/api/embed", { input: "Hi" }],
      ["/api/embeddings", { prompt: "Hi" }],
      ["/api/show", {}],
    ] as const) {
      const res = await post(path, body);
      assert.equal(res.status, 400, `${path} ${res.text}`);
      assert.deepEqual(JSON.parse(res.text), { error: "model is required" }, path);
    }
  });

  it('bad JSON is 400 with an `error` string; a stream\'s failure after it began is an `{"error"}` line', async () => {
    const bad = await post("/api/chat", "{bad");
    assert.equal(bad.status, 400);
    assert.equal(typeof (JSON.parse(bad.text) as Json).error, "string");
    reply = { kind: "broken_stream", chunks: ["Hel", "lo"] };
    for (const target of TARGETS) {
      const res = await post("/api/chat", { model: target, messages: [{ role: "user", content: "Hi" }] });
      assert.equal(res.status, 200);
      const all = lines(res.text);
      assert.deepEqual(Object.keys(all.at(-1) ?? {}), ["error"], res.text);
      assert.deepEqual(
        all.slice(0, -1).flatMap((l, i) => chatProblems(l, `line ${i}`)),
        [],
      );
    }
  });

  it('an upstream\'s error before any byte keeps its status, as `{"error"}`, streamed or not', async () => {
    reply = { kind: "error", status: 429 };
    for (const target of TARGETS) {
      for (const stream of [true, false]) {
        const res = await post("/api/chat", { model: target, messages: [{ role: "user", content: "Hi" }], stream });
        assert.equal(res.status, 429, res.text);
        assert.match(res.type, /application\/json/);
        assert.deepEqual(Object.keys(JSON.parse(res.text) as Json), ["error"]);
      }
    }
  });

  it("top_logprobs out of 0-20 is 400 `top_logprobs must be between 0 and 20`", async () => {
    for (const top of [21, -1]) {
      const res = await post("/api/chat", {
        model: TARGETS[0],
        messages: [{ role: "user", content: "Hi" }],
        logprobs: true,
        top_logprobs: top,
      });
      assert.equal(res.status, 400);
      assert.deepEqual(JSON.parse(res.text), { error: "top_logprobs must be between 0 and 20" });
    }
  });

  it("generate's raw mode with a template, system or context is 400, as Ollama refuses it", async () => {
    reply = { kind: "text", text: "Hi" };
    for (const extra of [{ system: "Be brief." }, { template: "{{ .Prompt }}" }, { context: [1, 2, 3] }]) {
      const res = await post("/api/generate", { model: TARGETS[0], prompt: "Hi", raw: true, stream: false, ...extra });
      assert.equal(res.status, 400, res.text);
      assert.deepEqual(JSON.parse(res.text), { error: "raw mode does not support template, system, or context" });
    }
    const plain = await post("/api/generate", { model: TARGETS[0], prompt: "Hi", raw: true, stream: false });
    assert.equal(plain.status, 200, plain.text);
  });

  it("/api/push, which tandem does not do, is an Ollama error naming that, not an unknown URL", async () => {
    const res = await post("/api/push", { model: "local/x" });
    assert.equal(res.status, 501, res.text);
    const body = JSON.parse(res.text) as Json;
    assert.deepEqual(Object.keys(body), ["error"]);
    assert.match(body.error as string, /push/);
    await assert.rejects(client.push({ model: "local/x" }), { name: "ResponseError", status_code: 501 });
  });
});

describe("think (api.ThinkValue)", () => {
  const THINK_ERROR = 'invalid think value: "extreme" (must be "high", "medium", "low", "max", true, or false)';

  it('accepts "max" (Ollama\'s highest level) as the highest effort a target has', async () => {
    reply = { kind: "text", text: "Fine.", reasoning: "Deeply.", usage: { input: 7, output: 3 } };
    const answer = await client.chat({ model: TARGETS[0], messages: [{ role: "user", content: "Hi" }], think: "max" as never });
    assert.equal(answer.message.thinking, "Deeply.");
    assert.equal(lastBody(openai).reasoning_effort, "xhigh");
  });

  it("refuses another string with Ollama's words, and a number as Ollama does", async () => {
    const res = await post("/api/chat", { model: TARGETS[0], messages: [{ role: "user", content: "Hi" }], think: "extreme" });
    assert.equal(res.status, 400);
    assert.deepEqual(JSON.parse(res.text), { error: THINK_ERROR });
    const number = await post("/api/generate", { model: TARGETS[0], prompt: "Hi", think: 1 });
    assert.equal(number.status, 400);
    assert.deepEqual(JSON.parse(number.text), {
      error: 'think must be a boolean or string ("high", "medium", "low", "max", true, or false)',
    });
  });

  it("without think, a model's thinking is shown (Ollama turns thinking on for a thinking model); think false hides it", async () => {
    reply = { kind: "text", text: "Fine.", reasoning: "Let me think.", usage: { input: 7, output: 3 } };
    const whole = await client.chat({ model: TARGETS[0], messages: [{ role: "user", content: "Hi" }] });
    assert.equal(whole.message.thinking, "Let me think.");
    let streamed = "";
    for await (const part of await client.chat({ model: TARGETS[0], messages: [{ role: "user", content: "Hi" }], stream: true }))
      streamed += part.message.thinking ?? "";
    assert.equal(streamed, "Let me think.");
    const generated = await client.generate({ model: TARGETS[0], prompt: "Hi" });
    assert.equal(generated.thinking, "Let me think.");
    const off = await client.chat({ model: TARGETS[0], messages: [{ role: "user", content: "Hi" }], think: false });
    assert.equal(off.message.thinking, undefined);
    assert.equal(off.message.content, "Fine.");
  });
});

describe("/api/embed (api.EmbedRequest, EmbedResponse) and /api/embeddings", () => {
  const norm = (v: number[]) => Math.hypot(...v);

  it("answers vectors of unit length, as Ollama normalizes every /api/embed vector", async () => {
    const res = await client.embed({ model: "openai/text-embedding-3-small", input: ["one", "two"] });
    assert.equal(res.embeddings.length, 2);
    for (const v of res.embeddings) assert.ok(Math.abs(norm(v) - 1) < 1e-6, `norm ${norm(v)}`);
    const legacy = await client.embeddings({ model: "openai/text-embedding-3-small", prompt: "one" });
    // The legacy endpoint passes the model's vector as it is (routes.go's EmbeddingsHandler normalizes nothing).
    const upstream = await fetch(`${openai.url}/embeddings`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer sk-upstream" },
      body: JSON.stringify({ model: "text-embedding-3-small", input: "one" }),
    });
    const raw = ((await upstream.json()) as { data: Array<{ embedding: number[] }> }).data[0]?.embedding;
    assert.deepEqual(legacy.embedding, raw);
  });

  it("loads the model for an input that is missing, null or empty, answering no vectors", async () => {
    for (const input of [undefined, null, "", []]) {
      const res = await post("/api/embed", { model: "openai/text-embedding-3-small", ...(input !== undefined && { input }) });
      assert.equal(res.status, 200, `${JSON.stringify(input)}: ${res.text}`);
      assert.deepEqual(JSON.parse(res.text), { model: "openai/text-embedding-3-small", embeddings: [] });
    }
  });

  it("sends an Ollama upstream the client's keep_alive and options, and names them where they cannot go", async () => {
    const body = { input: ["a", "b"], keep_alive: "1m", options: { num_ctx: 512, num_thread: 2 } };
    const embed = (model: string, extra: object = body) =>
      fetch(`${tandem.url}/api/embed`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model, ...extra }),
      });
    const toOllama = await embed("ollama/nomic-embed-text");
    assert.equal(toOllama.status, 200, await toOllama.clone().text());
    const sent = ollamaUp.requests.filter((r) => r.path === "/api/embed").at(-1)?.body as Record<string, unknown>;
    // The client's body as it wrote it, but for the model: no `truncate` added, `keep_alive` not rewritten.
    assert.deepEqual(sent, { model: "nomic-embed-text:latest", ...body });
    assert.equal(toOllama.headers.get("x-tandem-warnings"), null);

    const toOpenAI = await embed("openai/text-embedding-3-small");
    assert.equal(toOpenAI.status, 200);
    const named = toOpenAI.headers.get("x-tandem-warnings") ?? "";
    for (const field of ["options.num_ctx", "options.num_thread", "keep_alive"]) assert.match(named, new RegExp(field));
    // Nothing the client did not send is named (an end-user id, say).
    assert.doesNotMatch(named, /\buser\b/);
    const plain = await embed("openai/text-embedding-3-small", { input: "a" });
    assert.equal(plain.headers.get("x-tandem-warnings"), null);
  });

  it("passes an Ollama upstream's /api/embed answer through, with its own durations", async () => {
    const text = '{"model":"ollama/nomic-embed-text", "input":"hello","keep_alive":0,"dimensions":4}';
    const res = await fetch(`${tandem.url}/api/embed`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: text,
    });
    assert.equal(res.status, 200);
    const answer = (await res.json()) as Record<string, unknown>;
    // The fake's figures (fake-ollama-upstream.ts), not tandem's own clock.
    assert.equal(answer.total_duration, 14143917);
    assert.equal(answer.load_duration, 1019500);
    assert.equal(answer.model, "ollama/nomic-embed-text:latest");
    assert.deepEqual(answer.embeddings, [fakeEmbedding("hello", 4)]);
    const sent = ollamaUp.requests.filter((r) => r.path === "/api/embed").at(-1)?.body;
    assert.deepEqual(sent, { model: "nomic-embed-text:latest", input: "hello", keep_alive: 0, dimensions: 4 });
  });

  it("sends the legacy /api/embeddings to an Ollama upstream's own, for the model's vector as it is", async () => {
    const body = { model: "ollama/nomic-embed-text", prompt: "hello", options: { num_ctx: 64 }, keep_alive: "1m" };
    const res = await client.embeddings(body);
    assert.deepEqual(res.embedding, legacyEmbedding("hello"));
    const sent = ollamaUp.requests.at(-1);
    assert.equal(sent?.path, "/api/embeddings");
    assert.deepEqual(sent?.body, { ...body, model: "nomic-embed-text:latest" });
  });

  it("names a chat's keep_alive on a cloud target, which keeps no model loaded", async () => {
    const chat = (model: string) =>
      fetch(`${tandem.url}/api/chat`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model, messages: [{ role: "user", content: "Hi" }], keep_alive: "10m", stream: false }),
      });
    for (const model of ["openai/gpt-4o-mini", "anthropic/claude-sonnet-4-5"]) {
      const res = await chat(model);
      assert.equal(res.status, 200, await res.clone().text());
      assert.match(res.headers.get("x-tandem-warnings") ?? "", /keep_alive/, model);
    }
    assert.doesNotMatch((await chat("ollama/llama3.2")).headers.get("x-tandem-warnings") ?? "", /keep_alive/);
  });

  it("refuses an input that is not a string or a list of strings with Ollama's `invalid input type`", async () => {
    for (const input of [5, ["a", 5], { text: "a" }]) {
      const res = await post("/api/embed", { model: "openai/text-embedding-3-small", input });
      assert.equal(res.status, 400, res.text);
      assert.deepEqual(JSON.parse(res.text), { error: "invalid input type" });
    }
  });
});

describe("the root, as Ollama clients probe it", () => {
  it("GET / answers exactly `Ollama is running`, the text clients compare to detect an Ollama server; HEAD / is 200", async () => {
    const res = await fetch(`${tandem.url}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
    assert.equal(await res.text(), "Ollama is running");
    assert.equal((await fetch(`${tandem.url}/`, { method: "HEAD" })).status, 200);
  });
});
