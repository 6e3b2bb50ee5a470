/**
 * How tandem reads what an upstream sends for a streamed request, whatever its framing: a UTF-8 byte
 * order mark before the first SSE line (the first event kept: OpenAI chat's first text, Anthropic's
 * message_start); a Responses stream whose lines end in a lone CR, or whose last event has no line
 * end (response.completed still read); a server that answers `stream: true` with one whole JSON
 * answer (read as the stream it stands for, for streaming clients on the same wire and on others, and
 * for clients that did not stream); SSE labelled text/plain or not labelled at all.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { anthropicFrame, anthropicMessageStart } from "../support/fake-anthropic-upstream.js";
import { postJson, type WireJson } from "../support/post-json.js";
import { type ScriptedReply, type ScriptedUpstream, startScriptedUpstream } from "../support/scripted-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let upstream: ScriptedUpstream;
let tandem: RunningTandem;
let openai: OpenAI;
let anthropic: Anthropic;

before(async () => {
  upstream = await startScriptedUpstream();
  const once = { retry: { attempts: 1 }, timeouts: { firstTokenMs: 10_000, idleMs: 10_000 } };
  const models = { m: { id: "up" } };
  tandem = await startTandem(
    {
      // Some answers here fail on purpose: none opens the breaker for the tests after it.
      breaker: { failureThreshold: 1000 },
      providers: {
        oa: { kind: "openai", baseUrl: `${upstream.url}/v1`, local: false, apiKeys: ["env:K"], models },
        rs: { kind: "openai", responses: true, baseUrl: `${upstream.url}/v1`, local: false, apiKeys: ["env:K"], models },
        ro: { kind: "openai", responses: "only", baseUrl: `${upstream.url}/v1`, local: false, apiKeys: ["env:K"], models },
        an: { kind: "anthropic", baseUrl: upstream.url, local: false, apiKeys: ["env:K"], models },
      },
      routes: {
        oa: { tiers: [["oa/m"]], ...once },
        "oa-whole": { tiers: [["oa/m"]], streamUpstream: false, ...once },
        rs: { tiers: [["rs/m"]], ...once },
        ro: { tiers: [["ro/m"]], ...once },
        an: { tiers: [["an/m"]], ...once },
      },
    },
    { env: { K: "sk-up" } },
  );
  openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await upstream?.close();
});

beforeEach(() => upstream.clear());

const SSE = "text/event-stream";
const TEXT = "Héllo, 世界! 👩‍👩‍👧";
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** An OpenAI chat stream whose first chunk has the role and the first piece of text (as some servers send it). */
function openaiChunks(pieces: readonly string[]): string[] {
  const envelope = { id: "c1", object: "chat.completion.chunk", created: 1, model: "up" };
  const chunk = (choices: unknown[], usage: unknown = null) => `data: ${JSON.stringify({ ...envelope, choices, usage })}\n\n`;
  return [
    chunk([{ index: 0, delta: { role: "assistant", content: pieces[0] }, finish_reason: null }]),
    ...pieces.slice(1).map((piece) => chunk([{ index: 0, delta: { content: piece }, finish_reason: null }])),
    chunk([{ index: 0, delta: {}, finish_reason: "stop" }]),
    chunk([], { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 }),
    "data: [DONE]\n\n",
  ];
}

function anthropicEvents(text: string): string[] {
  return [
    anthropicMessageStart("up", 3),
    anthropicFrame("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
    anthropicFrame("content_block_delta", { index: 0, delta: { type: "text_delta", text } }),
    anthropicFrame("content_block_stop", { index: 0 }),
    anthropicFrame("message_delta", { delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 5 } }),
    anthropicFrame("message_stop", {}),
  ];
}

function wholeResponse(text: string): Record<string, unknown> {
  return {
    id: "resp_up",
    object: "response",
    created_at: 1,
    status: "completed",
    model: "up",
    output: [
      {
        id: "msg_up",
        type: "message",
        role: "assistant",
        status: "completed",
        content: [{ type: "output_text", text, annotations: [] }],
      },
    ],
    usage: { input_tokens: 3, output_tokens: 5, total_tokens: 8 },
  };
}

/** The Responses events for one message answer, each `event:` + `data:` line ended by `eol`. */
function responsesEvents(text: string, eol: string): string[] {
  const response = wholeResponse(text);
  const inProgress = { ...response, status: "in_progress", output: [], usage: null };
  const item = (response.output as unknown[])[0] as Record<string, unknown>;
  const at = { item_id: "msg_up", output_index: 0, content_index: 0 };
  const events: Array<[string, Record<string, unknown>]> = [
    ["response.created", { response: inProgress }],
    ["response.output_item.added", { output_index: 0, item: { ...item, status: "in_progress", content: [] } }],
    ["response.content_part.added", { ...at, part: { type: "output_text", text: "", annotations: [] } }],
    ["response.output_text.delta", { ...at, delta: text }],
    ["response.output_text.done", { ...at, text }],
    ["response.content_part.done", { ...at, part: { type: "output_text", text, annotations: [] } }],
    ["response.output_item.done", { output_index: 0, item }],
    ["response.completed", { response }],
  ];
  return events.map(
    ([type, data], i) => `event: ${type}${eol}data: ${JSON.stringify({ type, sequence_number: i, ...data })}${eol}${eol}`,
  );
}

/** POSTs and reads the answer as SSE events (event name and parsed data). */
async function streamed(
  path: string,
  body: unknown,
): Promise<{ status: number; events: { event?: string; data: WireJson }[]; text: string }> {
  const res = await fetch(`${tandem.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  const events: { event?: string; data: WireJson }[] = [];
  for (const block of text.split("\n\n")) {
    let event: string | undefined;
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("event: ")) event = line.slice(7);
      else if (line.startsWith("data: ")) data.push(line.slice(6));
    }
    if (data.length === 0) continue;
    const joined = data.join("\n");
    events.push({ ...(event !== undefined && { event }), data: joined === "[DONE]" ? joined : JSON.parse(joined) });
  }
  return { status: res.status, events, text };
}

function chatText(events: { data: WireJson }[]): string {
  return events
    .filter((e) => e.data !== "[DONE]")
    .map((e) => e.data.choices?.[0]?.delta?.content ?? "")
    .join("");
}

const chat = (model: string, stream: boolean) => ({ model, stream, messages: [{ role: "user", content: "hi" }] });
const messages = (model: string, stream: boolean) => ({
  model,
  stream,
  max_tokens: 100,
  messages: [{ role: "user", content: "hi" }],
});

describe("a byte order mark before an upstream's first SSE line", () => {
  /** The BOM's three bytes split across writes, then the stream. */
  const withBom = (writes: string[]): ScriptedReply => ({
    kind: "stream",
    contentType: SSE,
    writes: [BOM.subarray(0, 1), Buffer.concat([BOM.subarray(1), Buffer.from(writes[0] as string)]), ...writes.slice(1)],
  });

  it("OpenAI chat: the first chunk (role and first text) is kept, streamed and whole, on the same wire and across", async () => {
    upstream.script(() => withBom(openaiChunks(["Hél", "lo, 世界", "! 👩‍👩‍👧"])));
    const whole = await postJson(`${tandem.url}/v1/chat/completions`, chat("oa", false));
    assert.equal(whole.status, 200, whole.text);
    assert.equal(whole.json.choices[0].message.content, TEXT);
    assert.equal(whole.json.choices[0].message.role, "assistant");

    const stream = await streamed("/v1/chat/completions", chat("oa", true));
    assert.equal(stream.status, 200, stream.text);
    assert.equal(stream.events[0]?.data.choices[0].delta.role, "assistant");
    assert.equal(chatText(stream.events), TEXT);
    assert.ok(!stream.text.includes("\uFEFF"), "the BOM is framing, not passed on");
    // The SDK's stream helper needs the role chunk ("missing role for choice 0" without it).
    const final = await openai.chat.completions
      .stream({ model: "oa", messages: [{ role: "user", content: "hi" }] })
      .finalChatCompletion();
    assert.equal(final.choices[0]?.message.content, TEXT);

    const across = await postJson(`${tandem.url}/v1/messages`, messages("oa", false));
    assert.equal(across.status, 200, across.text);
    assert.equal(across.json.content[0].text, TEXT);
  });

  it("Anthropic same wire: message_start is read (and passed on with its event name and the target's model)", async () => {
    upstream.script(() => withBom(anthropicEvents(TEXT)));
    const stream = await streamed("/v1/messages", messages("an", true));
    assert.equal(stream.status, 200, stream.text);
    assert.ok(stream.text.startsWith("event: message_start\n"), stream.text.slice(0, 200));
    assert.equal(stream.events[0]?.data.message.model, "an/m");
    assert.equal(stream.events.at(-1)?.event, "message_stop");
    // The SDK ignores events it does not know: without message_start it has no message at all.
    const final = await anthropic.messages
      .stream({ model: "an", max_tokens: 100, messages: [{ role: "user", content: "hi" }] })
      .finalMessage();
    assert.deepEqual(final.content, [{ type: "text", text: TEXT }]);

    const whole = await postJson(`${tandem.url}/v1/messages`, messages("an", false));
    assert.equal(whole.status, 200, whole.text);
    assert.equal(whole.json.content[0].text, TEXT);
    assert.equal(whole.json.model, "an/m");
  });

  it("a whole JSON answer that starts with one is read too", async () => {
    upstream.script(() => ({
      kind: "json",
      bom: true,
      body: {
        id: "c1",
        object: "chat.completion",
        created: 1,
        model: "up",
        choices: [{ index: 0, message: { role: "assistant", content: TEXT }, finish_reason: "stop" }],
      },
    }));
    // Asked whole, and asked a stream (a whole answer to a stream is read as JSON too).
    for (const model of ["oa-whole", "oa"]) {
      const res = await postJson(`${tandem.url}/v1/chat/completions`, chat(model, false));
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json.choices[0].message.content, TEXT);
    }
  });
});

describe("a Responses upstream's last event", () => {
  for (const [name, eol, cut] of [
    ["lone CR line ends", "\r", false],
    ["no line end after the last event", "\n", true],
  ] as const) {
    it(`${name}: response.completed is read, streamed and whole`, async () => {
      upstream.script(() => {
        const writes = responsesEvents(TEXT, eol);
        if (cut) writes[writes.length - 1] = (writes.at(-1) as string).replace(/\n+$/, "");
        return { kind: "stream", contentType: SSE, writes };
      });
      const stream = await streamed("/v1/responses", { model: "rs", input: "hi", stream: true });
      assert.equal(stream.status, 200, stream.text);
      assert.equal(stream.events.at(-1)?.event, "response.completed", stream.text.slice(-400));
      assert.ok(!stream.events.some((e) => e.event === "error" || e.event === "response.failed"));
      const final = await openai.responses.stream({ model: "rs", input: "hi" }).finalResponse();
      assert.equal(final.output_text, TEXT);

      const whole = await postJson(`${tandem.url}/v1/responses`, { model: "rs", input: "hi" });
      assert.equal(whole.status, 200, whole.text);
      assert.equal(whole.json.output_text ?? whole.json.output[0].content[0].text, TEXT);

      const across = await postJson(`${tandem.url}/v1/chat/completions`, chat("ro", false));
      assert.equal(across.status, 200, across.text);
      assert.equal(across.json.choices[0].message.content, TEXT);
    });
  }
});

describe("a whole JSON answer to a streamed request", () => {
  const completion = {
    id: "chatcmpl-up",
    object: "chat.completion",
    created: 1,
    model: "up",
    system_fingerprint: "fp_up",
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "call_1", type: "function", function: { name: "f", arguments: '{"n":12345678901234567890}' } }],
        },
        finish_reason: "tool_calls",
      },
    ],
    usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 },
  };
  const textCompletion = {
    ...completion,
    choices: [{ index: 0, message: { role: "assistant", content: TEXT }, finish_reason: "stop" }],
  };
  const tools = [{ type: "function", function: { name: "f", parameters: { type: "object" } } }];

  it("OpenAI chat: a streaming client on the same wire gets it as chunks (every field, the call's arguments as written)", async () => {
    upstream.script(() => ({ kind: "json", body: completion }));
    const stream = await streamed("/v1/chat/completions", { ...chat("oa", true), tools });
    assert.equal(stream.status, 200, stream.text);
    assert.equal(stream.events.at(-1)?.data, "[DONE]");
    const first = stream.events[0]?.data;
    assert.equal(first.object, "chat.completion.chunk");
    assert.equal(first.system_fingerprint, "fp_up");
    assert.equal(first.model, "oa/m");
    const call = first.choices[0].delta.tool_calls[0];
    assert.deepEqual({ index: call.index, id: call.id, name: call.function.name }, { index: 0, id: "call_1", name: "f" });
    assert.ok(stream.text.includes('"arguments":"{\\"n\\":12345678901234567890}"'), "the arguments as the upstream wrote them");
    assert.ok(stream.events.some((e) => e.data !== "[DONE]" && e.data.choices?.[0]?.finish_reason === "tool_calls"));
    // Asked for the stream with include_usage, as any streamed request is.
    assert.equal(upstream.requests[0]?.body.stream, true);
    const final = await openai.chat.completions
      .stream({
        model: "oa",
        messages: [{ role: "user", content: "hi" }],
        tools: [{ type: "function", function: { name: "f", parameters: { type: "object" } } }],
      })
      .finalChatCompletion();
    assert.equal(final.choices[0]?.message.tool_calls?.[0]?.function.arguments, '{"n":12345678901234567890}');
    assert.equal(final.choices[0]?.finish_reason, "tool_calls");
  });

  it("OpenAI chat: a client that did not stream, and a client on another wire, get the answer", async () => {
    upstream.script(() => ({ kind: "json", body: textCompletion }));
    const whole = await postJson(`${tandem.url}/v1/chat/completions`, chat("oa", false));
    assert.equal(whole.status, 200, whole.text);
    assert.equal(whole.json.choices[0].message.content, TEXT);
    assert.equal(whole.json.usage.completion_tokens, 5);

    const across = await streamed("/v1/messages", messages("oa", true));
    assert.equal(across.status, 200, across.text);
    assert.equal(
      across.events
        .filter((e) => e.event === "content_block_delta")
        .map((e) => e.data.delta.text)
        .join(""),
      TEXT,
    );
    assert.equal(across.events.at(-1)?.event, "message_stop");
  });

  it("Anthropic: a streaming client on the same wire gets the message's events, as Anthropic streams them", async () => {
    upstream.script(() => ({
      kind: "json",
      body: {
        id: "msg_up",
        type: "message",
        role: "assistant",
        model: "up",
        content: [
          { type: "text", text: TEXT },
          { type: "tool_use", id: "toolu_1", name: "f", input: { n: 1 } },
        ],
        stop_reason: "tool_use",
        stop_sequence: null,
        usage: { input_tokens: 3, output_tokens: 5 },
      },
    }));
    const stream = await streamed("/v1/messages", messages("an", true));
    assert.equal(stream.status, 200, stream.text);
    assert.deepEqual(
      stream.events.map((e) => e.event),
      [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
      ],
    );
    assert.equal(stream.events[0]?.data.message.model, "an/m");
    assert.equal(stream.events[2]?.data.delta.text, TEXT);
    assert.deepEqual(stream.events[4]?.data.content_block, { type: "tool_use", id: "toolu_1", name: "f", input: {} });
    assert.equal(stream.events[5]?.data.delta.partial_json, '{"n":1}');
    assert.equal(stream.events[7]?.data.delta.stop_reason, "tool_use");
    const final = await anthropic.messages
      .stream({ model: "an", max_tokens: 100, messages: [{ role: "user", content: "hi" }] })
      .finalMessage();
    assert.deepEqual(final.content, [
      { type: "text", text: TEXT },
      { type: "tool_use", id: "toolu_1", name: "f", input: { n: 1 } },
    ]);
  });

  it("Responses: a streaming client gets the Response's events and response.completed; other wires get the answer", async () => {
    upstream.script(() => ({ kind: "json", body: wholeResponse(TEXT) }));
    const stream = await streamed("/v1/responses", { model: "rs", input: "hi", stream: true });
    assert.equal(stream.status, 200, stream.text);
    const types = stream.events.map((e) => e.event);
    assert.equal(types[0], "response.created");
    assert.equal(types.at(-1), "response.completed");
    assert.ok(types.includes("response.content_part.added") && types.includes("response.output_text.done"));
    assert.equal(
      stream.events
        .filter((e) => e.event === "response.output_text.delta")
        .map((e) => e.data.delta)
        .join(""),
      TEXT,
    );
    assert.equal(stream.events.at(-1)?.data.response.output[0].content[0].text, TEXT);
    const final = await openai.responses.stream({ model: "rs", input: "hi" }).finalResponse();
    assert.equal(final.output_text, TEXT);

    const across = await postJson(`${tandem.url}/v1/chat/completions`, chat("ro", false));
    assert.equal(across.status, 200, across.text);
    assert.equal(across.json.choices[0].message.content, TEXT);
  });

  it("a JSON error body is still that error, and JSON of another kind is named", async () => {
    upstream.script(() => ({ kind: "json", body: { error: { message: "model is overloaded", type: "server_error" } } }));
    const error = await postJson(`${tandem.url}/v1/chat/completions`, chat("oa", false));
    assert.equal(error.status, 502, error.text);
    assert.match(error.json.error.message, /model is overloaded/);

    upstream.script(() => ({ kind: "json", body: { hello: "world" } }));
    const other = await postJson(`${tandem.url}/v1/chat/completions`, chat("oa", false));
    assert.equal(other.status, 502, other.text);
    assert.match(other.json.error.message, /expected an event stream but got application\/json: \{"hello":"world"\}/);
  });
});

describe("SSE under another label", () => {
  for (const contentType of ["text/plain; charset=utf-8", "", "application/octet-stream"]) {
    it(`is read as SSE when it begins as SSE: ${contentType || "no content type"}`, async () => {
      upstream.script(() => ({ kind: "stream", contentType, writes: [": keep-alive\n\n", ...openaiChunks(["Hél", "lo"])] }));
      const res = await postJson(`${tandem.url}/v1/chat/completions`, chat("oa", false));
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json.choices[0].message.content, "Héllo");

      upstream.script(() => ({ kind: "stream", contentType, writes: responsesEvents(TEXT, "\n") }));
      const responses = await postJson(`${tandem.url}/v1/responses`, { model: "rs", input: "hi" });
      assert.equal(responses.status, 200, responses.text);

      upstream.script(() => ({ kind: "stream", contentType, writes: anthropicEvents(TEXT) }));
      const anthropic = await postJson(`${tandem.url}/v1/messages`, messages("an", false));
      assert.equal(anthropic.status, 200, anthropic.text);
      assert.equal(anthropic.json.content[0].text, TEXT);
    });
  }

  it("text that is not SSE is named, not read as a stream that never ends", async () => {
    upstream.script(() => ({ kind: "stream", contentType: "text/plain", writes: ["Internal Server Error: the model crashed"] }));
    const res = await postJson(`${tandem.url}/v1/chat/completions`, chat("oa", false));
    assert.equal(res.status, 502, res.text);
    assert.match(
      res.json.error.message,
      /expected an event stream but got text\/plain: Internal Server Error: the model crashed/,
    );
  });

  it("a web page is never read as a stream", async () => {
    upstream.script(() => ({ kind: "stream", contentType: "text/html", writes: ["data: <html>proxy login</html>\n\n"] }));
    const res = await postJson(`${tandem.url}/v1/messages`, messages("an", false));
    assert.notEqual(res.status, 200, res.text);
    assert.match(res.text, /text\/html/);
  });
});
