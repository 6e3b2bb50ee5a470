/**
 * An adversarial pass over the same-wire path with the official SDKs: what the client's own body
 * carries beyond the canonical form (fields only its wire knows, unknown fields, nested ones) is
 * still subject to the route's privacy. A secret only in `prediction.content`, in an unknown field or
 * in an Anthropic block's unknown field must not reach a cloud upstream unclassified or unredacted.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { type ScriptedUpstream, startScriptedUpstream } from "../support/scripted-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

/** Detected as a secret (an AWS access key id) and as an email: private by the default detectors. */
const AWS_KEY = "AKIAQ3EGV4XBZJ7KM2PA";
const EMAIL = "alice.smith@acme-corp.com";

const COMPLETION = {
  id: "chatcmpl-adv",
  object: "chat.completion",
  created: 1764790000,
  model: "gpt-up",
  choices: [{ index: 0, message: { role: "assistant", content: "Done." }, logprobs: null, finish_reason: "stop" }],
  usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
};

const MESSAGE = {
  id: "msg_adv",
  type: "message",
  role: "assistant",
  model: "claude-up",
  content: [{ type: "text", text: "Done." }],
  stop_reason: "end_turn",
  stop_sequence: null,
  usage: { input_tokens: 5, output_tokens: 1 },
};

let upstream: ScriptedUpstream;
let tandem: RunningTandem;
let openai: OpenAI;
let anthropic: Anthropic;

before(async () => {
  upstream = await startScriptedUpstream();
  const fast = { retry: { attempts: 1 }, timeouts: { firstTokenMs: 5000, idleMs: 5000 } };
  tandem = await startTandem({
    providers: {
      up: { kind: "openai", baseUrl: `${upstream.url}/v1`, local: false, models: { gpt: { id: "gpt-up" } } },
      an: { kind: "anthropic", baseUrl: upstream.url, local: false, models: { claude: { id: "claude-up" } } },
    },
    routes: {
      // No `privacy`: a private request follows privacy.default (local-only), and there is no local target.
      "cloud-only": { tiers: [["up/gpt"]], streamUpstream: false, ...fast },
      "redact-up": { tiers: [["up/gpt"]], privacy: "redact", streamUpstream: false, ...fast },
      "redact-an": { tiers: [["an/claude"]], privacy: "redact", streamUpstream: false, ...fast },
      "cloud-an": { tiers: [["an/claude"]], streamUpstream: false, ...fast },
      "cloud-up": { tiers: [["up/gpt"]], streamUpstream: false, ...fast },
      // The upstream streams, whatever the client asked: a whole answer is put together from its events.
      "cloud-an-streamed": { tiers: [["an/claude"]], ...fast },
      "cloud-up-streamed": { tiers: [["up/gpt"]], ...fast },
    },
  });
  upstream.script((request) =>
    request.path.endsWith("/messages") ? { kind: "json", body: MESSAGE } : { kind: "json", body: COMPLETION },
  );
  openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await upstream?.close();
});

describe("privacy on the same-wire path: what only the client's body carries is classified too", () => {
  it("a secret only in prediction.content makes the request private: refused on a cloud-only route, nothing sent", async () => {
    upstream.clear();
    const err = await openai.chat.completions
      .create({
        model: "cloud-only",
        messages: [{ role: "user", content: "Fix the typo in my config." }],
        prediction: { type: "content", content: `aws_access_key_id = "${AWS_KEY}"\n` },
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(err instanceof OpenAI.APIError, "refused");
    assert.equal(err.status, 403);
    assert.equal(upstream.requests.length, 0, "nothing reached the cloud upstream");
  });

  it("a redact route replaces values in prediction.content and in unknown nested fields, and restores the answer", async () => {
    upstream.clear();
    upstream.script(() => ({
      kind: "json",
      body: {
        ...COMPLETION,
        choices: [{ ...COMPLETION.choices[0], message: { role: "assistant", content: "Wrote to [EMAIL_1]." } }],
      },
    }));
    const completion = await openai.chat.completions.create({
      model: "redact-up",
      messages: [{ role: "user", content: "Fix the typo.", x_note: { author: EMAIL } } as OpenAI.ChatCompletionUserMessageParam],
      prediction: { type: "content", content: `owner = "${EMAIL}"\nkey = "${AWS_KEY}"\n` },
    });
    const [received] = upstream.requests;
    assert.ok(received);
    assert.ok(!received.raw.includes(EMAIL), received.raw);
    assert.ok(!received.raw.includes(AWS_KEY), received.raw);
    const body = received.body as { prediction: { content: string }; messages: Array<{ x_note: { author: string } }> };
    assert.match(body.prediction.content, /^owner = "\[EMAIL_1\]"\nkey = "\[SECRET_1\]"\n$/);
    assert.equal(body.messages[0]?.x_note.author, "[EMAIL_1]");
    assert.equal(completion.choices[0]?.message.content, `Wrote to ${EMAIL}.`);
  });

  it("Anthropic: a value only in a block's unknown field or an unknown top-level field is redacted", async () => {
    upstream.clear();
    upstream.script(() => ({ kind: "json", body: MESSAGE }));
    const params = {
      model: "redact-an",
      max_tokens: 64,
      messages: [{ role: "user", content: [{ type: "text", text: "Hello.", x_source: { from: EMAIL } }] }],
      x_future_field: { token: AWS_KEY },
    } as unknown as Anthropic.MessageCreateParamsNonStreaming;
    const message = await anthropic.messages.create(params);
    const [received] = upstream.requests;
    assert.ok(received);
    assert.ok(!received.raw.includes(EMAIL), received.raw);
    assert.ok(!received.raw.includes(AWS_KEY), received.raw);
    assert.equal(message.content[0]?.type === "text" && message.content[0].text, "Done.");
  });

  it("an agent's tool descriptions (a no-reply address), MCP server tokens, ids and signatures leave a request public", async () => {
    upstream.clear();
    upstream.script(() => ({ kind: "json", body: MESSAGE }));
    const params = {
      // No `privacy`: a private finding would make this a 403 (no local target).
      model: "cloud-an",
      max_tokens: 64,
      // As Claude Code's Bash tool describes commits, and an MCP server Anthropic connects to with its token.
      tools: [
        {
          name: "Bash",
          description: "End commit messages with: Co-Authored-By: Claude <noreply@anthropic.com>",
          input_schema: { type: "object", properties: { command: { type: "string", description: "The command to run" } } },
        },
      ],
      mcp_servers: [{ type: "url", url: "https://mcp.example.com/sse", name: "ex", authorization_token: AWS_KEY }],
      metadata: { user_id: "user_2d711642b726b04401627ca9fbac32f5_account_419311e3-0c9f-4e70-a790-d5b51e617ec3" },
      messages: [
        { role: "user", content: "Commit it." },
        {
          role: "assistant",
          content: [
            { type: "thinking", thinking: "A commit.", signature: "EqQBCgIYAhIMeuDSOQ2QkFRZ7ZjNz4oJuEi82tRr4oyb" },
            { type: "tool_use", id: "toolu_01XFDUDYJgAACzvnptvVoYEL", name: "Bash", input: { command: "git commit" } },
          ],
        },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_01XFDUDYJgAACzvnptvVoYEL", content: "done" }] },
      ],
    } as unknown as Anthropic.MessageCreateParamsNonStreaming;
    const { response } = await anthropic.messages.create(params).withResponse();
    assert.equal(response.status, 200);
    const [received] = upstream.requests;
    assert.ok(received?.raw.includes(AWS_KEY), "the MCP server's token reaches Anthropic as sent");
  });

  it("a personal address in a tool's parameter schema makes the request private: refused on a cloud-only route", async () => {
    upstream.clear();
    const params = {
      model: "cloud-an",
      max_tokens: 64,
      tools: [
        {
          name: "Mail",
          description: "Sends a mail.",
          input_schema: { type: "object", properties: { to: { type: "string", description: `e.g. ${EMAIL}` } } },
        },
      ],
      messages: [{ role: "user", content: "Mail it." }],
    } as unknown as Anthropic.MessageCreateParamsNonStreaming;
    const err = await anthropic.messages.create(params).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof Anthropic.APIError, "refused");
    assert.equal(err.status, 403);
    assert.equal(upstream.requests.length, 0, "nothing reached the cloud upstream");
  });
});

describe("x-tandem-warnings stays a header clients can read", () => {
  /** More fields than any API has, each unknown: every one is named as not sent to another wire. */
  const unknown: Record<string, number> = {};
  for (let i = 0; i < 1000; i++) unknown[`x_unknown_field_${i}`] = i;
  /** The most a header line may take in undici (Node's fetch, under every official SDK): 16 KiB for all headers. */
  const MAX = 8 * 1024;

  before(() => {
    upstream.script((request) =>
      request.path.endsWith("/messages") ? { kind: "json", body: MESSAGE } : { kind: "json", body: COMPLETION },
    );
  });

  it("OpenAI chat to an Anthropic target: a thousand unknown fields are named up to a bound, the rest counted", async () => {
    const { data, response } = await openai.chat.completions
      .create({
        model: "cloud-an",
        messages: [{ role: "user", content: "Hi" }],
        ...unknown,
      } as OpenAI.ChatCompletionCreateParamsNonStreaming)
      .withResponse();
    assert.equal(data.choices[0]?.message.content, "Done.");
    const warnings = response.headers.get("x-tandem-warnings") ?? "";
    assert.ok(warnings.startsWith("x_unknown_field_0 not sent to an/claude;"), warnings.slice(0, 200));
    assert.ok(warnings.length <= MAX, `${warnings.length} characters`);
    assert.match(warnings, /; \d+ more not listed$/);
  });

  it("Anthropic to an OpenAI-compatible target, and the Responses API with a thousand hosted tool types", async () => {
    const { response } = await anthropic.messages
      .create({
        model: "cloud-up",
        max_tokens: 64,
        messages: [{ role: "user", content: "Hi" }],
        ...unknown,
      } as Anthropic.MessageCreateParamsNonStreaming)
      .withResponse();
    assert.ok((response.headers.get("x-tandem-warnings") ?? "").length <= MAX);
    const tools = Array.from({ length: 1000 }, (_, i) => ({
      type: `hosted_tool_kind_${i}`,
    })) as unknown as OpenAI.Responses.Tool[];
    const { data, response: answered } = await openai.responses.create({ model: "cloud-an", input: "Hi", tools }).withResponse();
    assert.equal(data.output_text, "Done.");
    const warnings = answered.headers.get("x-tandem-warnings") ?? "";
    assert.ok(warnings.length <= MAX, `${warnings.length} characters`);
    assert.match(warnings, /; \d+ more not listed$/);
  });
});

describe("an Anthropic stream put together for a client that did not stream", () => {
  const APPLIED = { applied_edits: [{ type: "clear_tool_uses_20250919", cleared_tool_uses: 2, cleared_input_tokens: 5120 }] };
  const event = (name: string, data: unknown): string => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;

  it("keeps message_delta's own fields (context_management), as the SDK's stream does", async () => {
    upstream.clear();
    upstream.script(() => ({
      kind: "stream",
      contentType: "text/event-stream",
      writes: [
        event("message_start", { type: "message_start", message: { ...MESSAGE, content: [], stop_reason: null } }),
        event("content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }),
        event("content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Done." } }),
        event("content_block_stop", { type: "content_block_stop", index: 0 }),
        event("message_delta", {
          type: "message_delta",
          delta: { stop_reason: "end_turn", stop_sequence: null },
          usage: { output_tokens: 2 },
          context_management: APPLIED,
        }),
        event("message_stop", { type: "message_stop" }),
      ],
    }));
    const params = {
      model: "cloud-an-streamed",
      max_tokens: 64,
      messages: [{ role: "user", content: "Hi" }],
      context_management: { edits: [{ type: "clear_tool_uses_20250919" }] },
      betas: ["context-management-2025-06-27"],
    } as Anthropic.Beta.MessageCreateParamsNonStreaming;
    const whole = await anthropic.beta.messages.create(params);
    assert.deepEqual(whole.context_management, APPLIED);
    // The official SDK's own stream of the same events says the same.
    const streamed = await anthropic.beta.messages.stream(params).finalMessage();
    assert.deepEqual(streamed.context_management, APPLIED);
    assert.equal(whole.content[0]?.type === "text" && whole.content[0].text, "Done.");
  });

  it("keeps a compaction block's content, which its compaction_delta carries, as the SDK's stream does", async () => {
    upstream.clear();
    upstream.script(() => ({
      kind: "stream",
      contentType: "text/event-stream",
      writes: [
        event("message_start", { type: "message_start", message: { ...MESSAGE, content: [], stop_reason: null } }),
        event("content_block_start", {
          type: "content_block_start",
          index: 0,
          content_block: { type: "compaction", content: null, encrypted_content: null },
        }),
        event("content_block_delta", {
          type: "content_block_delta",
          index: 0,
          delta: { type: "compaction_delta", content: "The user asked for a summary.", encrypted_content: "enc-1" },
        }),
        event("content_block_stop", { type: "content_block_stop", index: 0 }),
        event("content_block_start", { type: "content_block_start", index: 1, content_block: { type: "text", text: "" } }),
        event("content_block_delta", { type: "content_block_delta", index: 1, delta: { type: "text_delta", text: "Done." } }),
        event("content_block_stop", { type: "content_block_stop", index: 1 }),
        event("message_delta", {
          type: "message_delta",
          delta: { stop_reason: "end_turn", stop_sequence: null },
          usage: { output_tokens: 2 },
        }),
        event("message_stop", { type: "message_stop" }),
      ],
    }));
    const params = {
      model: "cloud-an-streamed",
      max_tokens: 64,
      messages: [{ role: "user", content: "Hi" }],
    } as Anthropic.Beta.MessageCreateParamsNonStreaming;
    const streamed = await anthropic.beta.messages.stream(params).finalMessage();
    const whole = await anthropic.beta.messages.create(params);
    assert.deepEqual(whole.content[0], streamed.content[0]);
    assert.deepEqual(whole.content[0], {
      type: "compaction",
      content: "The user asked for a summary.",
      encrypted_content: "enc-1",
    });
  });
});

describe("an OpenAI chat stream put together for a client that did not stream", () => {
  const chunk = (delta: Record<string, unknown>, finish: string | null = null): string =>
    `data: ${JSON.stringify({ ...COMPLETION, object: "chat.completion.chunk", usage: undefined, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;

  it("joins the pieces of an audio answer and of a legacy function_call, as the SDK's stream does", async () => {
    upstream.clear();
    upstream.script(() => ({
      kind: "stream",
      contentType: "text/event-stream",
      writes: [
        chunk({ role: "assistant", audio: { id: "audio_1", transcript: "Hel" } }),
        chunk({ audio: { transcript: "lo.", data: "UklG" } }),
        chunk({ audio: { data: "RiQA" } }),
        chunk({ audio: { expires_at: 1764790999 } }),
        chunk({ function_call: { name: "lookup", arguments: "" } }),
        chunk({ function_call: { arguments: '{"q":' } }),
        chunk({ function_call: { arguments: '"x"}' } }),
        chunk({}, "function_call"),
        "data: [DONE]\n\n",
      ],
    }));
    const params = {
      model: "cloud-up-streamed",
      messages: [{ role: "user", content: "Say hello." }],
      modalities: ["text", "audio"],
      audio: { voice: "alloy", format: "wav" },
    } as OpenAI.ChatCompletionCreateParamsNonStreaming;
    const whole = await openai.chat.completions.create(params);
    const streamed = await openai.chat.completions.stream({ ...params, stream: true }).finalChatCompletion();
    assert.deepEqual(whole.choices[0]?.message.audio, {
      id: "audio_1",
      transcript: "Hello.",
      data: "UklGRiQA",
      expires_at: 1764790999,
    });
    assert.deepEqual(whole.choices[0]?.message.audio, streamed.choices[0]?.message.audio);
    assert.deepEqual(whole.choices[0]?.message.function_call, { name: "lookup", arguments: '{"q":"x"}' });
  });

  it("a tool call whose name an upstream repeats in every piece keeps that name once, as the SDK's stream does", async () => {
    upstream.clear();
    const piece = (fn: Record<string, string>, extra: Record<string, string> = {}) => ({
      tool_calls: [{ index: 0, ...extra, function: fn }],
    });
    upstream.script(() => ({
      kind: "stream",
      contentType: "text/event-stream",
      writes: [
        chunk({ role: "assistant", ...piece({ name: "get_weather", arguments: "" }, { id: "call_1", type: "function" }) }),
        chunk(piece({ name: "get_weather", arguments: '{"city":' })),
        chunk(piece({ name: "get_weather", arguments: '"Paris"}' })),
        chunk({}, "tool_calls"),
        "data: [DONE]\n\n",
      ],
    }));
    const params = {
      model: "cloud-up-streamed",
      messages: [{ role: "user", content: "Weather in Paris?" }],
      tools: [{ type: "function", function: { name: "get_weather", parameters: { type: "object" } } }],
    } as OpenAI.ChatCompletionCreateParamsNonStreaming;
    const whole = await openai.chat.completions.create(params);
    const streamed = await openai.chat.completions.stream({ ...params, stream: true }).finalChatCompletion();
    const call = whole.choices[0]?.message.tool_calls?.[0];
    assert.deepEqual(call, { id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } });
    assert.deepEqual(call, streamed.choices[0]?.message.tool_calls?.[0]);
  });

  it("a choice's own fields take their latest value (OpenRouter's native_finish_reason), as the SDK's stream does", async () => {
    upstream.clear();
    const raw = (delta: Record<string, unknown>, finish: string | null, native: string | null): string =>
      `data: ${JSON.stringify({ ...COMPLETION, object: "chat.completion.chunk", usage: undefined, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish, native_finish_reason: native }] })}\n\n`;
    upstream.script(() => ({
      kind: "stream",
      contentType: "text/event-stream",
      writes: [
        raw({ role: "assistant", content: "Do" }, null, null),
        raw({ content: "ne." }, "stop", "end_turn"),
        "data: [DONE]\n\n",
      ],
    }));
    const params = {
      model: "cloud-up-streamed",
      messages: [{ role: "user", content: "Hi" }],
    } as OpenAI.ChatCompletionCreateParamsNonStreaming;
    const whole = await openai.chat.completions.create(params);
    const streamed = await openai.chat.completions.stream({ ...params, stream: true }).finalChatCompletion();
    const nativeReason = (c: OpenAI.ChatCompletion) =>
      (c.choices[0] as unknown as { native_finish_reason?: string }).native_finish_reason;
    assert.equal(nativeReason(streamed), "end_turn");
    assert.equal(nativeReason(whole), "end_turn");
    assert.equal(whole.choices[0]?.message.content, "Done.");
  });
});
