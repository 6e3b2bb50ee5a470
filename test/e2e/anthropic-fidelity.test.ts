/**
 * The Anthropic Messages API as tandem renders it itself: an Anthropic SDK client whose answer
 * comes from a target on another wire (an OpenAI-compatible upstream). What the SDK reads should be
 * what Anthropic's API would have sent: request ids, usage fields, validation errors, model pages.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import { type FakeOpenAIUpstream, sseFrames, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let fake: FakeOpenAIUpstream;
let tandem: RunningTandem;
let client: Anthropic;
const model = "openai/gpt-4o-mini";
const hi: Anthropic.MessageParam[] = [{ role: "user", content: "Hi" }];

before(async () => {
  fake = await startFakeOpenAI({ models: ["gpt-4o-mini", "gpt-4.1"] });
  tandem = await startTandem({
    providers: { openai: { kind: "openai", baseUrl: fake.url } },
    // Failures here are the subject, not a reason to stop asking the target.
    breaker: { failureThreshold: 1000, cooldownMs: 1000 },
    routes: { once: { tiers: [model], retry: { attempts: 1 } } },
  });
  client = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await fake?.close();
});

/** What the SDK threw, as an APIError. */
async function apiError(promise: Promise<unknown>): Promise<InstanceType<typeof Anthropic.APIError>> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof Anthropic.APIError, `an APIError, not ${String(error)}`);
    return error;
  }
  assert.fail("the request succeeded");
}

describe("request ids", () => {
  it("every answer carries a request-id header the SDK exposes as _request_id", async () => {
    fake.script(() => ({ kind: "text", text: "Hello", usage: { input: 5, output: 1 } }));
    const message = await client.messages.create({ model, max_tokens: 10, messages: hi });
    assert.match(message._request_id ?? "", /^req_\w+$/);

    const stream = client.messages.stream({ model, max_tokens: 10, messages: hi });
    await stream.finalMessage();
    assert.match(stream.request_id ?? "", /^req_\w+$/);
    assert.notEqual(stream.request_id, message._request_id);
  });

  it("an error carries it in the header and as the body's request_id", async () => {
    const error = await apiError(client.messages.create({ model: "nope/none", max_tokens: 10, messages: hi }));
    assert.equal(error.status, 404);
    assert.match(error.requestID ?? "", /^req_\w+$/);
    assert.deepEqual(error.error, {
      type: "error",
      error: { type: "not_found_error", message: (error.error as { error: { message: string } }).error.message },
      request_id: error.requestID,
    });

    const invalid = await apiError(
      client.messages.create({ model, messages: hi } as unknown as Anthropic.MessageCreateParamsNonStreaming),
    );
    assert.equal(invalid.status, 400);
    assert.equal((invalid.error as { request_id?: string }).request_id, invalid.requestID);
  });

  it("an error after the stream began is an error event with the request's id", async () => {
    fake.script(() => ({ kind: "broken_stream", chunks: ["Hel", "lo"] }));
    const stream = client.messages.stream({ model: "once", max_tokens: 10, messages: hi });
    const error = await apiError(stream.finalMessage());
    const body = error.error as { type: string; error: { type: string }; request_id?: string };
    assert.equal(body.type, "error");
    assert.equal(body.error.type, "api_error");
    assert.match(body.request_id ?? "", /^req_\w+$/);
    assert.equal(body.request_id, stream.request_id);
  });
});

/** A stream's raw SSE events, as (event name, data) pairs. */
async function rawEvents(body: Record<string, unknown>): Promise<{ event: string; data: Record<string, unknown> }[]> {
  const res = await fetch(`${tandem.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
    body: JSON.stringify({ model, max_tokens: 10, messages: hi, stream: true, ...body }),
  });
  assert.equal(res.status, 200);
  return (await res.text())
    .trim()
    .split("\n\n")
    .filter((frame) => frame.startsWith("event: "))
    .map((frame) => {
      const [head, data] = frame.split("\n");
      return { event: head!.slice("event: ".length), data: JSON.parse(data!.slice("data: ".length)) as Record<string, unknown> };
    });
}

describe("stop sequences", () => {
  it("stop_reason stop_sequence with the one that matched, where the server names it (vLLM's stop_reason); end_turn where it cannot", async () => {
    const answer = (stopReason: unknown) => {
      const chunk = (delta: object, finish: string | null = null, extra: object = {}) =>
        JSON.stringify({
          id: "chatcmpl-x",
          object: "chat.completion.chunk",
          created: 1,
          model: "gpt-4o-mini",
          choices: [{ index: 0, delta, finish_reason: finish, ...extra }],
        });
      fake.script(() => ({
        kind: "raw",
        body: sseFrames([
          chunk({ role: "assistant", content: "one two" }),
          chunk({}, "stop", { stop_reason: stopReason }),
          "[DONE]",
        ]),
      }));
    };
    const request = { model, max_tokens: 20, messages: hi, stop_sequences: ["END", "STOP"] };
    answer("STOP");
    const whole = await client.messages.create(request);
    assert.equal(whole.stop_reason, "stop_sequence");
    assert.equal(whole.stop_sequence, "STOP");
    answer("STOP");
    const streamed = await client.messages.stream(request).finalMessage();
    assert.equal(streamed.stop_reason, "stop_sequence");
    assert.equal(streamed.stop_sequence, "STOP");
    // OpenAI's own answers say nothing of it (vLLM's null: the model ended the turn).
    answer(null);
    const ended = await client.messages.create(request);
    assert.equal(ended.stop_reason, "end_turn");
    assert.equal(ended.stop_sequence, null);
  });
});

describe("usage", () => {
  // As Anthropic's API answers: every counter present, 0 when nothing was cached (the SDK's Usage
  // declares them all; clients add them up without checking).
  const usage = {
    input_tokens: 5,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
    output_tokens: 2,
    inference_geo: "not_available",
    output_tokens_details: { thinking_tokens: 0 },
    server_tool_use: null,
    service_tier: "standard",
    speed: "standard",
  };

  it("a whole answer has every usage field, and a streamed one's final message is the same", async () => {
    fake.script(() => ({ kind: "text", text: "Hello there", usage: { input: 5, output: 2 } }));
    const message = await client.messages.create({ model, max_tokens: 10, messages: hi });
    assert.deepEqual(message.usage, usage);

    const { parsed_output: _, ...streamed } = await client.messages
      .stream({ model, max_tokens: 10, messages: hi })
      .finalMessage();
    assert.deepEqual({ ...streamed, id: message.id }, message);
  });

  it("message_start has the whole usage object, message_delta the cumulative counters", async () => {
    fake.script(() => ({ kind: "text", text: "Hello there", usage: { input: 5, output: 2 } }));
    const events = await rawEvents({});
    // An OpenAI-compatible upstream counts the prompt at the end: message_delta brings it.
    const start = events.find((e) => e.event === "message_start")?.data.message as { usage: object; stop_details: unknown };
    assert.deepEqual(Object.keys(start.usage).sort(), Object.keys(usage).sort());
    assert.equal(start.stop_details, null);
    const delta = events.find((e) => e.event === "message_delta")?.data;
    assert.deepEqual(delta?.usage, {
      input_tokens: 5,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      output_tokens: 2,
      output_tokens_details: { thinking_tokens: 0 },
      server_tool_use: null,
    });
  });
});

describe("requests Anthropic's API refuses are refused, before any target is asked", () => {
  /** A 400 invalid_request_error whose message says `what`, with the upstream never asked. */
  async function refused(params: Record<string, unknown>, what: RegExp, path: "create" | "countTokens" = "create") {
    const asked = fake.requests.length;
    const body = { model, max_tokens: 2048, messages: hi, ...params };
    const error = await apiError(
      path === "create"
        ? client.messages.create(body as unknown as Anthropic.MessageCreateParamsNonStreaming)
        : client.messages.countTokens(body as unknown as Anthropic.MessageCountTokensParams),
    );
    assert.ok(error instanceof Anthropic.BadRequestError, `a 400, not ${error.status}`);
    const body400 = error.error as { error: { type: string; message: string } };
    assert.equal(body400.error.type, "invalid_request_error");
    assert.match(body400.error.message, what);
    assert.equal(fake.requests.length, asked, "no target was asked");
  }
  const toolUse = (id: string): Anthropic.MessageParam => ({
    role: "assistant",
    content: [{ type: "tool_use", id, name: "lookup", input: {} }],
  });
  const toolResult = (id: string): Anthropic.MessageParam => ({
    role: "user",
    content: [{ type: "tool_result", tool_use_id: id, content: "42" }],
  });

  it("no messages", async () => {
    await refused({ messages: [] }, /at least one message is required/);
    await refused({ messages: [] }, /at least one message is required/, "countTokens");
  });

  it("an empty message other than a final assistant one, and an empty text block", async () => {
    await refused(
      { messages: [{ role: "user", content: [] }] },
      /messages\[0\].*non-empty content except for the optional final assistant message/,
    );
    await refused({ messages: [{ role: "user", content: "" }] }, /non-empty content/);
    await refused(
      { messages: [{ role: "user", content: [{ type: "text", text: "" }] }, { role: "assistant", content: "x" }, ...hi] },
      /text content blocks must be non-empty/,
    );
    await refused({ messages: [{ role: "user", content: [{ type: "text", text: " \n" }] }] }, /non-whitespace text/);
    await refused({ system: [{ type: "text", text: "" }] }, /system.*text content blocks must be non-empty/);
  });

  it("a tool_result whose tool_use is not in the previous assistant turn, and a tool_use left unanswered", async () => {
    await refused(
      { messages: [toolResult("toolu_orphan")] },
      /unexpected `tool_use_id` found in `tool_result` blocks: toolu_orphan/,
    );
    await refused(
      { messages: [...hi, toolUse("toolu_1"), { role: "user", content: "and?" }] },
      /messages\[1\].*`tool_use` ids were found without `tool_result` blocks immediately after: toolu_1/,
    );
    await refused(
      {
        messages: [
          ...hi,
          toolUse("toolu_1"),
          toolResult("toolu_1"),
          toolUse("toolu_2"),
          { role: "user", content: [...(toolResult("toolu_2").content as []), ...(toolResult("toolu_1").content as [])] },
        ],
      },
      /messages\[4\]\.content\[1\].*unexpected `tool_use_id`.*toolu_1/,
    );
    // One id on two calls, in one turn or in two: a result could not say which it answers.
    await refused(
      {
        messages: [
          ...hi,
          { role: "assistant", content: [...(toolUse("toolu_1").content as []), ...(toolUse("toolu_1").content as [])] },
          toolResult("toolu_1"),
        ],
      },
      /messages\[1\]\.content\[1\].*`tool_use` ids must be unique/,
    );
    await refused(
      { messages: [...hi, toolUse("toolu_1"), toolResult("toolu_1"), toolUse("toolu_1"), toolResult("toolu_1")] },
      /messages\[3\]\.content\[0\].*`tool_use` ids must be unique/,
    );
  });

  it("a forced tool_choice the tools cannot satisfy", async () => {
    await refused({ tool_choice: { type: "any" } }, /tool_choice\.any may only be specified while providing tools/);
    await refused({ tool_choice: { type: "tool", name: "lookup" } }, /tool_choice\.tool may only be specified/);
    await refused(
      {
        tools: [{ name: "search", input_schema: { type: "object" } }],
        tool_choice: { type: "tool", name: "lookup" },
      },
      /no tool named 'lookup'/,
    );
  });

  it("a thinking budget under 1024 or not under max_tokens", async () => {
    await refused({ thinking: { type: "enabled", budget_tokens: 1023 } }, /budget_tokens.*greater than or equal to 1024/);
    await refused(
      { max_tokens: 2048, thinking: { type: "enabled", budget_tokens: 2048 } },
      /`max_tokens` must be greater than `thinking.budget_tokens`/,
    );
    await refused({ thinking: { type: "enabled", budget_tokens: 500 } }, /1024/, "countTokens");
  });

  it("accepts what Anthropic accepts: an empty final assistant turn, tool calls answered, an assistant turn first", async () => {
    fake.script(() => ({ kind: "text", text: "Fine", usage: { input: 5, output: 1 } }));
    const ok = (messages: Anthropic.MessageParam[]) => client.messages.create({ model, max_tokens: 2048, messages });
    await ok([...hi, { role: "assistant", content: "" }]);
    await ok([...hi, toolUse("toolu_1"), toolResult("toolu_1")]);
    await ok([{ role: "assistant", content: "Hello, how can I help?" }, ...hi]);
    await client.messages.create({ model, max_tokens: 2048, thinking: { type: "enabled", budget_tokens: 1024 }, messages: hi });
  });
});

describe("GET /v1/models, as Anthropic pages it", () => {
  it("limit, after_id and before_id page the list; the SDK's iterator walks every page", async () => {
    const all = (await client.models.list({ limit: 1000 })).data.map((m) => m.id);
    assert.ok(all.length >= 3, all.join(", "));
    const first = await client.models.list({ limit: 1 });
    assert.deepEqual(
      first.data.map((m) => m.id),
      [all[0]],
    );
    assert.equal(first.has_more, true);
    assert.equal(first.first_id, all[0]);
    assert.equal(first.last_id, all[0]);
    const next = await client.models.list({ limit: 1, after_id: all[0] });
    assert.deepEqual(
      next.data.map((m) => m.id),
      [all[1]],
    );
    const before = await client.models.list({ limit: 5, before_id: all[2] });
    assert.deepEqual(
      before.data.map((m) => m.id),
      all.slice(0, 2),
    );
    assert.equal(before.has_more, false);
    const walked: string[] = [];
    for await (const entry of client.models.list({ limit: 1 })) walked.push(entry.id);
    assert.deepEqual(walked, all);
  });

  it("a limit out of 1-1000 is a 400", async () => {
    const error = await apiError(client.models.list({ limit: 0 }));
    assert.equal(error.status, 400);
  });
});
