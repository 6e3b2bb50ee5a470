/**
 * POST /v1/responses over fake OpenAI chat-completions and Anthropic upstreams, with the official
 * openai SDK: what the upstream reported reaches the Response as OpenAI would give it (reasoning
 * tokens, refusals, logprobs), request fields reach the upstream where its wire has them (or are named
 * in `x-tandem-warnings`), and requests OpenAI refuses (a bad `include`, a broken tool history) are
 * refused in OpenAI's words.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import OpenAI from "openai";
import type { ResponseStreamEvent } from "openai/resources/responses/responses";
import { MemoryStateStore } from "../../src/harness/state/memory-state-store.js";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { postJson } from "../support/post-json.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const OPENAI = "openai/gpt-4o-mini";
const ANTHROPIC = "anthropic/claude-haiku-4-5";

let openai: FakeOpenAIUpstream;
let anthropic: FakeAnthropic;
let tandem: RunningTandem;
let client: OpenAI;

before(async () => {
  [openai, anthropic] = await Promise.all([
    startFakeOpenAI({ models: ["gpt-4o-mini"] }),
    startFakeAnthropic({ models: ["claude-haiku-4-5"], toolBlocksNeedTools: true }),
  ]);
  tandem = await startTandem(
    {
      providers: {
        openai: { kind: "openai", baseUrl: openai.url, apiKeys: ["env:UP_OPENAI"], local: false },
        anthropic: { kind: "anthropic", baseUrl: anthropic.url, apiKeys: ["env:UP_ANTHROPIC"] },
      },
      routes: { auto: { tiers: [OPENAI] } },
    },
    { env: { UP_OPENAI: "sk-upstream-openai", UP_ANTHROPIC: "sk-ant-upstream" }, state: new MemoryStateStore() },
  );
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await Promise.all([openai?.close(), anthropic?.close()]);
});

beforeEach(() => {
  for (const fake of [openai, anthropic]) {
    fake.requests.length = 0;
    fake.script(() => ({ kind: "text", text: "Hello from upstream.", usage: { input: 12, output: 4 } }));
  }
});

const post = (body: unknown) => postJson(`${tandem.url}/v1/responses`, body);

/** OpenAI chat-completion chunks as SSE frames, ending with [DONE]. */
function chatChunks(...chunks: object[]): string[] {
  return [
    ...chunks.map(
      (c) =>
        `data: ${JSON.stringify({ id: "chatcmpl-1", object: "chat.completion.chunk", created: 1, model: "gpt-4o-mini", ...c })}\n\n`,
    ),
    "data: [DONE]\n\n",
  ];
}

describe("usage", () => {
  it("reports the reasoning tokens the upstream counted", async () => {
    openai.script(() => ({
      kind: "raw",
      body: chatChunks(
        { choices: [{ index: 0, delta: { role: "assistant", content: "Hi" }, finish_reason: null }] },
        { choices: [{ index: 0, delta: {}, finish_reason: "stop" }] },
        {
          choices: [],
          usage: {
            prompt_tokens: 1200,
            completion_tokens: 50,
            total_tokens: 1250,
            prompt_tokens_details: { cached_tokens: 1000 },
            completion_tokens_details: { reasoning_tokens: 30 },
          },
        },
      ),
    }));
    const whole = await client.responses.create({ model: OPENAI, input: "hi" });
    assert.deepEqual(whole.usage?.output_tokens_details, { reasoning_tokens: 30 });
    assert.deepEqual(whole.usage?.input_tokens_details, { cached_tokens: 1000, cache_write_tokens: 0 });
    const stream = client.responses.stream({ model: OPENAI, input: "hi" });
    for await (const _ of stream as unknown as AsyncIterable<unknown>);
    assert.deepEqual((await stream.finalResponse()).usage?.output_tokens_details, { reasoning_tokens: 30 });
  });
});

describe("request checks", () => {
  it("refuses an include value OpenAI does not define", async () => {
    const bad = await post({ model: OPENAI, input: "hi", include: ["bogus"] });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.type, "invalid_request_error");
    assert.equal(bad.json.error.param, "include");
    assert.match(bad.json.error.message, /Invalid value: 'bogus'/);
    assert.equal(openai.requests.length, 0);
    const good = await post({ model: OPENAI, input: "hi", include: ["reasoning.encrypted_content"] });
    assert.equal(good.status, 200);
  });

  it("names input, not chat completions' messages, when a target needs a turn the input has none of", async () => {
    const bad = await post({ model: ANTHROPIC, input: "" });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.param, "input");
    assert.match(bad.json.error.message, /^Invalid value for 'input': the conversation has no user or assistant message/);
  });

  it("takes tool_choice allowed_tools: a chat target is offered the allowed tools only, with the mode as its choice", async () => {
    const fn = (name: string) => ({ type: "function", name, parameters: { type: "object", properties: {} } });
    const tool_choice = { type: "allowed_tools", mode: "required", tools: [{ type: "function", name: "b" }] };
    const res = await post({ model: OPENAI, input: "hi", tools: [fn("a"), fn("b"), fn("c")], tool_choice });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json.tool_choice, tool_choice);
    const sent = openai.requests.at(-1)?.body as { tools: { function: { name: string } }[]; tool_choice: unknown };
    assert.deepEqual(
      sent.tools.map((t) => t.function.name),
      ["b"],
    );
    assert.equal(sent.tool_choice, "required");
    assert.match(res.headers.get("x-tandem-warnings") ?? "", /allowed_tools/);
    const bad = await post({ model: OPENAI, input: "hi", tools: [fn("a")], tool_choice: { ...tool_choice, mode: "sometimes" } });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.param, "tool_choice.mode");
  });
});

describe("tool history checks", () => {
  const tools = [
    {
      type: "function" as const,
      name: "get_weather",
      parameters: { type: "object", properties: { city: { type: "string" } } },
      strict: false,
    },
  ];
  const call = { type: "function_call", call_id: "call_a", name: "get_weather", arguments: '{"city":"Paris"}' };

  for (const model of [OPENAI, ANTHROPIC]) {
    it(`refuses a call without output followed by more input (${model})`, async () => {
      const r = await post({
        model,
        tools,
        input: [{ role: "user", content: "Weather?" }, call, { role: "user", content: "never mind" }],
      });
      assert.equal(r.status, 400);
      assert.equal(r.json.error.type, "invalid_request_error");
      assert.equal(r.json.error.param, "input");
      assert.equal(r.json.error.message, "No tool output found for function call call_a.");
      assert.equal(openai.requests.length + anthropic.requests.length, 0);
    });

    it(`refuses an output whose call_id no call has (${model})`, async () => {
      const r = await post({
        model,
        tools,
        input: [
          { role: "user", content: "Weather?" },
          { type: "function_call_output", call_id: "call_zzz", output: "sunny" },
        ],
      });
      assert.equal(r.status, 400);
      assert.equal(r.json.error.param, "input");
      assert.equal(r.json.error.message, "No tool call found for function call output with call_id call_zzz.");
    });
  }

  it("accepts calls at the end, and outputs after reasoning and other calls", async () => {
    const trailing = await post({ model: OPENAI, tools, input: [{ role: "user", content: "Weather?" }, call] });
    assert.equal(trailing.status, 200);
    const between = await post({
      model: OPENAI,
      tools,
      input: [
        { role: "user", content: "Weather?" },
        { type: "reasoning", id: "rs_1", summary: [] },
        call,
        { type: "custom_tool_call", call_id: "call_c", name: "patch", input: "x" },
        { type: "function_call", call_id: "call_b", name: "get_weather", arguments: '{"city":"Rome"}' },
        { type: "function_call_output", call_id: "call_b", output: "rainy" },
        { type: "custom_tool_call_output", call_id: "call_c", output: "ok" },
        { type: "function_call_output", call_id: "call_a", output: "sunny" },
        { role: "user", content: "and now?" },
      ],
    });
    assert.equal(between.status, 200, between.text);
  });

  it("checks the conversation joined with previous_response_id", async () => {
    openai.script(() => ({ kind: "tool_calls", calls: [{ name: "get_weather", arguments: { city: "Paris" } }] }));
    const first = await client.responses.create({ model: OPENAI, tools, input: "Weather?" });
    const callId = first.output.find((item) => item.type === "function_call")?.call_id;
    assert.ok(callId);
    openai.script(() => ({ kind: "text", text: "ok" }));
    const bad = await post({ model: OPENAI, tools, previous_response_id: first.id, input: "never mind" });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.message, `No tool output found for function call ${callId}.`);
    const good = await client.responses.create({
      model: OPENAI,
      tools,
      previous_response_id: first.id,
      input: [{ type: "function_call_output", call_id: callId, output: "sunny" }],
    });
    assert.equal(good.status, "completed");
  });

  it("continues a chain with function calls on Anthropic by a turn without tools: the history's tools declared, none callable", async () => {
    // As the README's hand-off does: calls made on one target, a plain follow-up on Claude. Anthropic
    // refuses tool_use and tool_result blocks in a request that defines no tools (the fake does too).
    openai.script(() => ({ kind: "tool_calls", calls: [{ name: "get_weather", arguments: { city: "Paris" } }] }));
    const first = await client.responses.create({ model: OPENAI, tools, input: "Weather?" });
    const callId = first.output.find((item) => item.type === "function_call")?.call_id;
    assert.ok(callId);
    openai.script(() => ({ kind: "text", text: "Sunny in Paris." }));
    const second = await client.responses.create({
      model: OPENAI,
      tools,
      previous_response_id: first.id,
      input: [{ type: "function_call_output", call_id: callId, output: "sunny" }],
    });
    const { data: third, response } = await client.responses
      .create({ model: ANTHROPIC, previous_response_id: second.id, input: "and tomorrow?" })
      .withResponse();
    assert.equal(third.status, "completed");
    assert.equal(third.output_text, "Hello from upstream.");
    const sent = anthropic.requests.at(-1)?.body as { tools?: unknown; tool_choice?: unknown; messages: unknown[] };
    assert.deepEqual(sent.tools, [
      {
        name: "get_weather",
        description: "A tool used earlier in this conversation; it cannot be called now.",
        input_schema: { type: "object" },
      },
    ]);
    assert.deepEqual(sent.tool_choice, { type: "none" });
    assert.match(JSON.stringify(sent.messages), /"type":"tool_use".*"type":"tool_result"/);
    // Nothing the client asked for was left out; the Response echoes the request's (empty) tools.
    assert.equal(response.headers.get("x-tandem-warnings"), null);
    assert.deepEqual(third.tools, []);
  });
});

describe("refusals", () => {
  const refusalChunks = () =>
    chatChunks(
      { choices: [{ index: 0, delta: { role: "assistant", content: null, refusal: "" }, finish_reason: null }] },
      { choices: [{ index: 0, delta: { refusal: "I'm sorry, I can't " }, finish_reason: null }] },
      { choices: [{ index: 0, delta: { refusal: "help with that." }, finish_reason: null }] },
      { choices: [{ index: 0, delta: {}, finish_reason: "stop" }] },
      { choices: [], usage: { prompt_tokens: 5, completion_tokens: 8, total_tokens: 13 } },
    );
  const jsonFormat = {
    format: {
      type: "json_schema" as const,
      name: "x",
      schema: { type: "object", properties: { a: { type: "string" } }, required: ["a"], additionalProperties: false },
      strict: true,
    },
  };
  const refusal = { type: "refusal", refusal: "I'm sorry, I can't help with that." };

  for (const text of [undefined, jsonFormat]) {
    it(`renders a chat upstream's refusal as a refusal part${text ? " (json_schema format)" : ""}`, async () => {
      openai.script(() => ({ kind: "raw", body: refusalChunks() }));
      const whole = await client.responses.create({ model: OPENAI, input: "something bad", ...(text && { text }) });
      assert.equal(whole.status, "completed");
      assert.equal(openai.requests.length, 1, "a refusal is not retried");
      const message = whole.output[0];
      assert.equal(message?.type, "message");
      assert.deepEqual(message?.type === "message" && message.content, [refusal]);

      const stream = client.responses.stream({ model: OPENAI, input: "something bad", ...(text && { text }) });
      const events: ResponseStreamEvent[] = [];
      for await (const event of stream) events.push(event);
      const final = await stream.finalResponse();
      assert.equal(final.status, "completed");
      // (The SDK's stream helper adds `parsed` to each part.)
      const parts = final.output[0]?.type === "message" ? final.output[0].content : [];
      assert.deepEqual(
        parts.map((p) => (p.type === "refusal" ? { type: p.type, refusal: p.refusal } : p)),
        [refusal],
      );
      const types = events.map((e) => e.type);
      assert.ok(types.includes("response.refusal.delta"));
      assert.ok(!types.includes("response.output_text.delta"));
      const done = events.find((e) => e.type === "response.refusal.done");
      assert.equal(done?.type === "response.refusal.done" && done.refusal, refusal.refusal);
      const partAdded = events.find((e) => e.type === "response.content_part.added");
      assert.deepEqual(partAdded?.type === "response.content_part.added" && partAdded.part, { type: "refusal", refusal: "" });

      // Stored as it was given.
      const got = await client.responses.retrieve(final.id);
      assert.deepEqual(got.output[0]?.type === "message" && got.output[0].content, [refusal]);
    });
  }

  it("takes an Anthropic refusal with no text, json_schema format and all, as a content-filtered answer", async () => {
    const sse = (event: string, data: object) => `event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`;
    anthropic.script(() => ({
      kind: "sse",
      body:
        sse("message_start", {
          message: {
            id: "msg_1",
            type: "message",
            role: "assistant",
            model: "claude-haiku-4-5",
            content: [],
            stop_reason: null,
            usage: { input_tokens: 5, output_tokens: 1 },
          },
        }) +
        sse("message_delta", { delta: { stop_reason: "refusal", stop_sequence: null }, usage: { output_tokens: 1 } }) +
        sse("message_stop", {}),
    }));
    const whole = await client.responses.create({ model: ANTHROPIC, input: "something bad", text: jsonFormat });
    assert.equal(whole.status, "incomplete");
    assert.equal(whole.incomplete_details?.reason, "content_filter");
    assert.equal(anthropic.requests.length, 1, "a refusal is not retried");
  });
});

describe("fields a chat target has, and those it has not", () => {
  it("sends a chat target what chat completions has, and names the rest in x-tandem-warnings", async () => {
    const r = await post({
      model: OPENAI,
      input: "hi",
      text: { verbosity: "low" },
      prompt_cache_key: "k",
      safety_identifier: "s",
      service_tier: "flex",
      top_logprobs: 2,
      include: ["message.output_text.logprobs"],
      max_tool_calls: 3,
    });
    assert.equal(r.status, 200);
    const warnings = r.headers.get("x-tandem-warnings") ?? "";
    assert.ok(warnings.includes("max_tool_calls"), `max_tool_calls in ${warnings}`);
    // What chat completions has too reaches the OpenAI-compatible target, and is not named
    // (logprobs under chat completions' names; see responses-logprobs.test.ts).
    const sent = openai.requests.at(-1)?.body as Record<string, unknown>;
    assert.deepEqual(
      [sent.prompt_cache_key, sent.safety_identifier, sent.service_tier, sent.verbosity, sent.logprobs, sent.top_logprobs],
      ["k", "s", "flex", "low", true, 2],
    );
    for (const field of ["verbosity", "prompt_cache_key", "safety_identifier", "service_tier", "logprobs"])
      assert.ok(!warnings.includes(field), `${field} not in ${warnings}`);
    // Still echoed, as OpenAI echoes the request.
    assert.equal(r.json.prompt_cache_key, "k");
    assert.equal(r.json.max_tool_calls, 3);
    const plain = await post({ model: OPENAI, input: "hi" });
    assert.equal(plain.headers.get("x-tandem-warnings"), null);
  });

  it("names the chat-completions settings an Anthropic target is not sent", async () => {
    const r = await post({
      model: ANTHROPIC,
      input: "hi",
      text: { verbosity: "low" },
      prompt_cache_key: "k",
      service_tier: "flex",
      max_tool_calls: 2,
    });
    assert.equal(r.status, 200);
    const warnings = r.headers.get("x-tandem-warnings") ?? "";
    // The target's own (settings it is not sent) beside the Responses conversion's (max_tool_calls).
    for (const field of ["verbosity", "prompt_cache_key", "service_tier"])
      assert.ok(warnings.includes(`${field} not sent to ${ANTHROPIC}`), `${field} in ${warnings}`);
    assert.match(warnings, /max_tool_calls/);
    const sent = anthropic.requests.at(-1)?.body as Record<string, unknown>;
    assert.equal(sent.prompt_cache_key, undefined);
  });

  it("names the fields it does not know, and metadata a response not stored keeps nowhere, on every other wire", async () => {
    for (const [target, fake] of [
      [ANTHROPIC, anthropic],
      [OPENAI, openai],
    ] as const) {
      const r = await post({
        model: target,
        input: "hi",
        store: false,
        frobnicate: { a: 1 },
        x_null: null,
        metadata: { k: "v" },
      });
      assert.equal(r.status, 200);
      const warnings = r.headers.get("x-tandem-warnings") ?? "";
      for (const field of ["frobnicate", "metadata"])
        assert.ok(warnings.includes(`${field} not sent to ${target}`), `${field} in ${warnings}`);
      // A field sent as null asks for nothing.
      assert.ok(!warnings.includes("x_null"), `x_null not in ${warnings}`);
      const sent = fake.requests.at(-1)?.body as Record<string, unknown>;
      assert.equal(sent.frobnicate, undefined);
      // Echoed still, as OpenAI echoes the request.
      assert.deepEqual(r.json.metadata, { k: "v" });
    }
    // A stored response keeps its metadata: nothing is lost, nothing named.
    const stored = await post({ model: ANTHROPIC, input: "hi", metadata: { k: "v" } });
    assert.equal(stored.headers.get("x-tandem-warnings"), null);
  });

  it("names an unknown field in a stream's headers", async () => {
    const { data: stream, response } = await client.responses
      // @ts-expect-error a field the SDK does not know
      .create({ model: ANTHROPIC, input: "hi", stream: true, frobnicate: true })
      .withResponse();
    for await (const _ of stream as unknown as AsyncIterable<unknown>);
    assert.match(response.headers.get("x-tandem-warnings") ?? "", new RegExp(`frobnicate not sent to ${ANTHROPIC}`));
  });
});
