/**
 * Same-wire pass-through for OpenAI chat completions: an OpenAI client's request reaches an
 * OpenAI-compatible upstream as the client sent it (every field, known or not), but for the model,
 * `stream` (and the usage tandem asks for), the key and what the route redacts; the upstream's answer
 * reaches the client with every field (logprobs, refusal, system_fingerprint, service_tier, usage
 * details), byte for byte when streamed, with the answering target as its model. Through the official
 * `openai` client, streamed and not. Also: failover before any byte to a target of another kind;
 * redaction on the native path; a broken native stream continued elsewhere in one stream.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { type FakeOllamaUpstream, startFakeOllama } from "../support/fake-ollama-upstream.js";
import { type ScriptedUpstream, startScriptedUpstream } from "../support/scripted-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const USAGE = {
  prompt_tokens: 2100,
  completion_tokens: 40,
  total_tokens: 2140,
  prompt_tokens_details: { cached_tokens: 2048, audio_tokens: 0 },
  completion_tokens_details: {
    reasoning_tokens: 32,
    audio_tokens: 0,
    accepted_prediction_tokens: 3,
    rejected_prediction_tokens: 1,
  },
};

/** The answer, split as the upstream streams it: JSON, as the request's json_schema response_format asks. */
const PARTS = ['{"a":"Fi', 'ne."}'];
const ANSWER = PARTS.join("");

const ENVELOPE = { id: "chatcmpl-up1", object: "chat.completion.chunk", created: 1764790000, model: "gpt-up" };
const TAIL = { system_fingerprint: "fp_up_42", service_tier: "flex" };

function logprob(token: string): unknown {
  return { token, logprob: -0.25, bytes: [...Buffer.from(token)], top_logprobs: [{ token, logprob: -0.25, bytes: null }] };
}

/** The answer as OpenAI streams it, `texts` as content deltas (each with its logprobs); SSE writes. */
function streamWrites(texts: string[], options: { end?: boolean; usage?: boolean } = {}): string[] {
  const chunk = (choices: unknown[], usage: unknown = null) =>
    `data: ${JSON.stringify({ ...ENVELOPE, ...TAIL, choices, ...(options.usage !== false && { usage }), obfuscation: "x1" })}\n\n`;
  const writes = [
    chunk([{ index: 0, delta: { role: "assistant", content: "", refusal: null }, logprobs: null, finish_reason: null }]),
    ...texts.map((text) =>
      chunk([{ index: 0, delta: { content: text }, logprobs: { content: [logprob(text)], refusal: null }, finish_reason: null }]),
    ),
  ];
  if (options.end === false) return writes;
  writes.push(chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: "stop" }]));
  if (options.usage !== false) writes.push(chunk([], USAGE));
  writes.push("data: [DONE]\n\n");
  return writes;
}

/** The same answer whole. */
function wholeCompletion(text: string): Record<string, unknown> {
  return {
    id: "chatcmpl-up2",
    object: "chat.completion",
    created: 1764790001,
    model: "gpt-up",
    choices: [
      {
        index: 0,
        message: { role: "assistant", content: text, refusal: null, annotations: [] },
        logprobs: { content: [logprob(text)], refusal: null },
        finish_reason: "stop",
      },
    ],
    usage: USAGE,
    ...TAIL,
  };
}

/** Fields the canonical form does not carry, and one no schema knows. */
const PARAMS = {
  messages: [
    { role: "developer", content: "Be terse." },
    { role: "user", content: "Hi" },
  ],
  logprobs: true,
  top_logprobs: 2,
  logit_bias: { "50256": -100 },
  service_tier: "flex",
  reasoning_effort: "high",
  prediction: { type: "content", content: "Fine." },
  modalities: ["text"],
  web_search_options: { search_context_size: "low" },
  metadata: { run: "r-1" },
  store: true,
  parallel_tool_calls: false,
  response_format: {
    type: "json_schema",
    json_schema: { name: "answer", strict: true, schema: { type: "object", properties: { a: { type: "string" } } } },
  },
  x_future_field: { nested: [1, "two", null] },
} as unknown as Omit<OpenAI.ChatCompletionCreateParamsNonStreaming, "model">;

let upstream: ScriptedUpstream;
let ollama: FakeOllamaUpstream;
let tandem: RunningTandem;
let client: OpenAI;

before(async () => {
  upstream = await startScriptedUpstream();
  ollama = await startFakeOllama();
  const fast = { retry: { attempts: 1 }, timeouts: { firstTokenMs: 5000, idleMs: 5000 } };
  tandem = await startTandem(
    {
      providers: {
        up: {
          kind: "openai",
          baseUrl: `${upstream.url}/v1`,
          local: false,
          apiKeys: ["env:UP_KEY"],
          models: { gpt: { id: "gpt-up" } },
        },
        ollama: { kind: "ollama", baseUrl: ollama.url, models: { llama: { id: "llama3.2:latest" } } },
      },
      routes: {
        "up-then-ollama": { tiers: [["up/gpt"], ["ollama/llama"]], ...fast },
        "up-whole": { tiers: [["up/gpt"]], streamUpstream: false, ...fast },
        "redact-up": { tiers: [["up/gpt"]], privacy: "redact", ...fast },
        "redact-up-whole": { tiers: [["up/gpt"]], privacy: "redact", streamUpstream: false, ...fast },
      },
    },
    { env: { UP_KEY: "sk-upstream" } },
  );
  client = new OpenAI({
    baseURL: `${tandem.url}/v1`,
    apiKey: "unused",
    maxRetries: 0,
    defaultHeaders: { "OpenAI-Beta": "assistants=v2" },
  });
});

after(async () => {
  await tandem?.close();
  await Promise.all([upstream?.close(), ollama?.close()]);
});

/** What the upstream must receive: the client's body with only model, stream and the usage request set. */
function expectedBody(sent: Record<string, unknown>, stream: boolean): string {
  const { stream_options: options, ...rest } = sent;
  const body = { ...rest, model: "gpt-up", stream };
  return JSON.stringify(stream ? { ...body, stream_options: { ...(options as object), include_usage: true } } : body);
}

function sentBody(params: object, model: string, stream?: boolean): Record<string, unknown> {
  return JSON.parse(JSON.stringify({ model, ...params, ...(stream !== undefined && { stream }) }));
}

describe("OpenAI client to an OpenAI-compatible upstream: the body as sent, the answer as given", () => {
  it("not streamed, the upstream streams: every field upstream, the chunks put together with every field", async () => {
    upstream.clear();
    upstream.script(() => ({ kind: "stream", contentType: "text/event-stream", writes: streamWrites(PARTS) }));
    const { data: completion, response } = await client.chat.completions.create({ model: "up/gpt", ...PARAMS }).withResponse();
    const [received] = upstream.requests;
    assert.ok(received);
    assert.equal(received.raw, expectedBody(sentBody(PARAMS, "up/gpt"), true));
    assert.equal(received.headers.authorization, "Bearer sk-upstream");
    assert.equal(received.headers["openai-beta"], "assistants=v2");
    assert.equal(response.headers.get("x-tandem-warnings"), null);
    assert.equal(completion.model, "up/gpt");
    // store: true: stored under an id of tandem's own, which the client is given.
    assert.match(completion.id, /^chatcmpl-[A-Za-z0-9]{24}$/);
    assert.equal(completion.object, "chat.completion");
    assert.equal(completion.system_fingerprint, "fp_up_42");
    assert.equal(completion.service_tier, "flex");
    assert.deepEqual(completion.usage, USAGE);
    assert.equal(completion.choices[0]?.message.content, ANSWER);
    assert.equal(completion.choices[0]?.message.refusal, null);
    assert.deepEqual(completion.choices[0]?.logprobs?.content, PARTS.map(logprob));
    assert.equal(completion.choices[0]?.finish_reason, "stop");
  });

  it("not streamed, the upstream answers whole: stream false upstream, the answer byte for byte but its model", async () => {
    upstream.clear();
    upstream.script(() => ({ kind: "json", body: wholeCompletion(ANSWER) }));
    const sent = { model: "up-whole", ...PARAMS, stream_options: null };
    const res = await fetch(`${tandem.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(sent),
    });
    assert.equal(res.status, 200);
    const [received] = upstream.requests;
    assert.equal(received?.raw, expectedBody(sentBody(PARAMS, "up-whole"), false));
    const text = await res.text();
    const { id } = JSON.parse(text) as { id: string };
    assert.notEqual(id, wholeCompletion(ANSWER).id, "store: true: tandem's own id");
    assert.equal(text, JSON.stringify({ ...wholeCompletion(ANSWER), model: "up/gpt", id }));
  });

  it("a body not written as JavaScript writes it (a Python client's spacing, 1.0, 1e-05, escapes) arrives byte for byte but its model and stream fields", async () => {
    upstream.clear();
    upstream.script(() => ({ kind: "stream", contentType: "text/event-stream", writes: streamWrites(PARTS) }));
    const sent =
      '{"model": "up/gpt", "temperature": 1.0, "top_p": 1e-05, "stream_options": {"include_usage": false}, ' +
      '"messages": [{"role": "user", "content": "Caf\\u00e9 \\"quoted\\""}], "seed": 42, "x_future": {"n": 12345678901234567890, "model": "not this"}}';
    const res = await fetch(`${tandem.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: sent,
    });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(
      upstream.requests[0]?.raw,
      sent
        .replace('"up/gpt"', '"gpt-up"')
        .replace('{"include_usage": false}', '{"include_usage":true}')
        .replace(/}$/, ',"stream":true}'),
    );
  });

  it("streamed: the client's wire is the upstream's, byte for byte, but each chunk's model", async () => {
    upstream.clear();
    const writes = streamWrites(PARTS);
    upstream.script(() => ({ kind: "stream", contentType: "text/event-stream", writes }));
    const sent = { model: "up/gpt", ...PARAMS, stream: true, stream_options: { include_usage: true } };
    const res = await fetch(`${tandem.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(sent),
    });
    const wire = await res.text();
    assert.equal(upstream.requests[0]?.raw, expectedBody(JSON.parse(JSON.stringify(sent)), true));
    // store: true: every chunk has tandem's own id, the one it is stored under.
    const id = (JSON.parse(wire.slice(wire.indexOf("{"), wire.indexOf("\n"))) as { id: string }).id;
    assert.match(id, /^chatcmpl-[A-Za-z0-9]{24}$/);
    assert.equal(
      wire,
      writes.join("").replaceAll('"model":"gpt-up"', '"model":"up/gpt"').replaceAll(`"id":"${ENVELOPE.id}"`, `"id":"${id}"`),
    );
  });

  it("streamed through the SDK: usage details, logprobs and unknown chunk fields arrive; no usage chunk unless asked", async () => {
    for (const includeUsage of [true, false]) {
      upstream.clear();
      upstream.script(() => ({ kind: "stream", contentType: "text/event-stream", writes: streamWrites(PARTS) }));
      const stream = await client.chat.completions.create({
        model: "up/gpt",
        ...PARAMS,
        stream: true,
        ...(includeUsage && { stream_options: { include_usage: true } }),
      });
      const chunks: OpenAI.ChatCompletionChunk[] = [];
      for await (const chunk of stream) chunks.push(chunk);
      assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? "").join(""), ANSWER);
      assert.ok(chunks.every((c) => c.model === "up/gpt" && c.system_fingerprint === "fp_up_42"));
      assert.deepEqual(chunks[1]?.choices[0]?.logprobs?.content, [logprob(PARTS[0]!)]);
      const usage = chunks.find((c) => c.usage)?.usage;
      if (includeUsage) assert.deepEqual(usage, USAGE);
      else assert.equal(usage, undefined);
      // tandem asks for usage either way, and keeps the client's other stream options.
      assert.deepEqual(upstream.requests[0]?.body.stream_options, { include_usage: true });
    }
  });

  it("streamed: each chunk reaches the client before the upstream sends the next (nothing is buffered)", async () => {
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const [first, second, ...rest] = streamWrites(["Hel", "lo."]);
    upstream.script(() => ({
      kind: "stream",
      contentType: "text/event-stream",
      writes: [first!, second!, () => released, ...rest],
    }));
    const stream = await client.chat.completions.create({
      model: "up/gpt",
      messages: [{ role: "user", content: "Hi" }],
      stream: true,
    });
    let text = "";
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      // The upstream holds the rest until this client has read the first text.
      if (text === "Hel") release();
    }
    assert.equal(text, "Hello.");
  });
});

describe("cached and reasoning tokens on the canonical path, in the client's own fields", () => {
  it("an Anthropic client answered by an OpenAI-compatible target reads cache_read_input_tokens (streamed and not)", async () => {
    const anthropic = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
    const request = { model: "up/gpt", max_tokens: 100, messages: [{ role: "user" as const, content: "Hi" }] };
    for (const stream of [false, true]) {
      upstream.script(() => ({ kind: "stream", contentType: "text/event-stream", writes: streamWrites(["Fine."]) }));
      const message = stream ? await anthropic.messages.stream(request).finalMessage() : await anthropic.messages.create(request);
      // Anthropic's input_tokens leaves out what was read from the cache, which it reports apart.
      assert.equal(message.usage.cache_read_input_tokens, 2048, `stream=${stream}`);
      assert.equal(message.usage.input_tokens, USAGE.prompt_tokens - 2048);
      assert.equal(message.usage.output_tokens, USAGE.completion_tokens);
    }
  });
});

describe("failover from a native target", () => {
  it("before any byte, to a target of another kind, through the canonical path (streamed and not)", async () => {
    for (const stream of [false, true]) {
      upstream.clear();
      upstream.script(() => ({
        kind: "json",
        status: 503,
        body: { error: { message: "overloaded", type: "server_error", param: null, code: null } },
      }));
      ollama.script(() => ({ kind: "text", text: '{"a":"ollama"}', usage: { input: 5, output: 3 } }));
      const request = { model: "up-then-ollama", ...PARAMS };
      let text: string;
      let target: string | null;
      if (stream) {
        const { data, response } = await client.chat.completions.create({ ...request, stream: true }).withResponse();
        target = response.headers.get("x-tandem-target");
        text = "";
        for await (const chunk of data) text += chunk.choices[0]?.delta.content ?? "";
      } else {
        const { data, response } = await client.chat.completions.create(request).withResponse();
        target = response.headers.get("x-tandem-target");
        text = data.choices[0]?.message.content ?? "";
        assert.equal(data.model, "ollama/llama");
      }
      assert.equal(upstream.requests.length, 1, "the native target was tried");
      assert.equal(target, "ollama/llama");
      assert.equal(text, '{"a":"ollama"}');
    }
  });

  /** The OpenAI upstream breaks off after "Hello wor"; the Ollama one answers "ld!". */
  const breakThenOllama = () => {
    upstream.script(() => ({
      kind: "stream",
      contentType: "text/event-stream",
      writes: streamWrites(["Hello", " wor"], { end: false }),
      breakOff: true,
    }));
    ollama.script(() => ({ kind: "text", text: "ld!", usage: { input: 5, output: 3 } }));
  };

  it("a native stream that breaks continues on the next target in one well-formed stream", async () => {
    breakThenOllama();
    const stream = await client.chat.completions.create({
      model: "up-then-ollama",
      messages: [{ role: "user", content: "Hi" }],
      stream: true,
    });
    let text = "";
    let finishes = 0;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.choices[0]?.finish_reason) finishes++;
    }
    assert.equal(text, "Hello world!");
    assert.equal(finishes, 1);
  });

  it("an empty native answer (a role chunk, then the finish) is failed over as before any byte: none of its chunks reach the client", async () => {
    upstream.script(() => ({ kind: "stream", contentType: "text/event-stream", writes: streamWrites([]) }));
    ollama.script(() => ({ kind: "text", text: "From llama.", usage: { input: 5, output: 3 } }));
    const res = await fetch(`${tandem.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "up-then-ollama", messages: [{ role: "user", content: "Hi" }], stream: true }),
    });
    assert.equal(res.headers.get("x-tandem-target"), "ollama/llama");
    const wire = await res.text();
    assert.doesNotMatch(wire, /tandem switched|chatcmpl-up1|fp_up_42/, wire);
    const chunks = wire
      .split("\n\n")
      .filter((frame) => frame.startsWith("data: {"))
      .map((frame) => JSON.parse(frame.slice(6)) as { choices: { delta: { role?: string; content?: string } }[] });
    assert.equal(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? "").join(""), "From llama.");
    assert.equal(chunks.filter((chunk) => chunk.choices[0]?.delta.role !== undefined).length, 1);
  });

  it("keeps the upstream's chunk id and created after the switch, with one role delta, as one OpenAI stream has", async () => {
    breakThenOllama();
    const res = await fetch(`${tandem.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "up-then-ollama", messages: [{ role: "user", content: "Hi" }], stream: true }),
    });
    const wire = await res.text();
    assert.match(wire, /^: tandem switched from up\/gpt to ollama\/llama/m);
    const chunks = wire
      .split("\n\n")
      .filter((frame) => frame.startsWith("data: {"))
      .map((frame) => JSON.parse(frame.slice(6)) as { id: string; created: number; choices: { delta: { role?: string } }[] });
    assert.ok(chunks.length > 4, wire);
    for (const chunk of chunks) {
      assert.equal(chunk.id, ENVELOPE.id);
      assert.equal(chunk.created, ENVELOPE.created);
    }
    assert.equal(chunks.filter((chunk) => chunk.choices[0]?.delta.role !== undefined).length, 1);
  });

  it("names the next target as the model of every chunk after the switch, as the whole answer does", async () => {
    breakThenOllama();
    const wire = await (
      await fetch(`${tandem.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "up-then-ollama", messages: [{ role: "user", content: "Hi" }], stream: true }),
      })
    ).text();
    const [before = "", after = ""] = wire.split(/^: tandem switched from .*$/m);
    const models = (frames: string) =>
      frames
        .split("\n\n")
        .filter((frame) => frame.startsWith("data: {"))
        .map((frame) => (JSON.parse(frame.slice(6)) as { model: string }).model);
    assert.ok(models(before).length > 0 && models(after).length > 0, wire);
    assert.deepEqual(new Set(models(before)), new Set(["up/gpt"]));
    assert.deepEqual(new Set(models(after)), new Set(["ollama/llama"]));
    // The openai SDK's helper takes the completion's model from the chunks: the target that wrote its end.
    breakThenOllama();
    const completion = await client.chat.completions
      .stream({ model: "up-then-ollama", messages: [{ role: "user", content: "Hi" }] })
      .finalChatCompletion();
    assert.equal(completion.choices[0]?.message.content, "Hello world!");
    assert.equal(completion.model, "ollama/llama");
  });
});

describe("privacy on the native path", () => {
  const EMAIL = "alice.liddell@example.org";
  it("redacts the raw body upstream and restores the answer, also a placeholder split across chunks", async () => {
    for (const [stream, route] of [
      [false, "redact-up"],
      [false, "redact-up-whole"],
      [true, "redact-up"],
    ] as const) {
      upstream.clear();
      let placeholder = "";
      upstream.script((request) => {
        placeholder = /\[[A-Z_]*EMAIL[A-Z_]*_1\]/.exec(request.raw)?.[0] ?? "";
        const half = Math.floor(placeholder.length / 2);
        return request.body.stream === true
          ? {
              kind: "stream",
              contentType: "text/event-stream",
              writes: streamWrites([`{"a":"Mail ${placeholder.slice(0, half)}`, `${placeholder.slice(half)} now."}`]),
            }
          : { kind: "json", body: wholeCompletion(`{"a":"Mail ${placeholder} now."}`) };
      });
      const params = { ...PARAMS, messages: [{ role: "user" as const, content: `Write to ${EMAIL} please` }] };
      let text = "";
      if (stream) {
        const chunks = await client.chat.completions.create({ ...params, model: route, stream: true });
        for await (const chunk of chunks) text += chunk.choices[0]?.delta.content ?? "";
      } else {
        const completion = await client.chat.completions.create({ ...params, model: route });
        text = completion.choices[0]?.message.content ?? "";
        assert.deepEqual(completion.usage, USAGE);
      }
      const [received] = upstream.requests;
      assert.ok(received && placeholder !== "", `a placeholder upstream: ${received?.raw}`);
      assert.ok(!received.raw.includes(EMAIL), "the email never reached the upstream");
      // The SDK sends the fields in the order they were given: here the model last.
      // A private request asks the provider to keep no copy (tandem keeps its own): store: false.
      const expected = expectedBody(JSON.parse(JSON.stringify({ ...params, model: route })), route === "redact-up")
        .replace(EMAIL, placeholder)
        .replace('"store":true', '"store":false');
      assert.equal(received.raw, expected);
      assert.equal(text, `{"a":"Mail ${EMAIL} now."}`, `stream=${stream} route=${route}`);
    }
  });
});
