/**
 * A tool call's arguments reach the client as the upstream wrote them, digits and all: an integer
 * past 2^53 (an account number, a snowflake id) and `1.10` never pass through a JavaScript number,
 * on the same wire (a client that did not stream gets the upstream's stream put together) and across
 * wires (an Ollama upstream's argument objects as a chat client's string, an Anthropic upstream's
 * input as an Ollama client's object). Where the client's wire wants an object, the text is spliced
 * in as it came (for Ollama without the whitespace between tokens: a line break would end its NDJSON
 * line); where it wants a string, the string is that text.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { anthropicFrame, anthropicMessageStart } from "../support/fake-anthropic-upstream.js";
import { type ScriptedReply, type ScriptedUpstream, startScriptedUpstream } from "../support/scripted-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

/** The arguments as the upstreams write them: no JavaScript number holds either value as written. */
const SPACED = '{"user_id": 1234567890123456789, "amount": 1.10}';
const COMPACT = '{"user_id":1234567890123456789,"amount":1.10}';
/** As a model that pretty-prints writes them, with spaces inside a string that must stay. */
const PRETTY = '{\n  "user_id": 1234567890123456789,\n  "amount": 1.10,\n  "memo": "rent  due"\n}';
const PRETTY_COMPACT = '{"user_id":1234567890123456789,"amount":1.10,"memo":"rent  due"}';
const NDJSON = "application/x-ndjson";
const CREATED = "2026-12-03T19:00:00.000000Z";

let upstream: ScriptedUpstream;
let tandem: RunningTandem;

before(async () => {
  upstream = await startScriptedUpstream();
  const fast = { retry: { attempts: 1 }, timeouts: { firstTokenMs: 5000, idleMs: 5000 } };
  tandem = await startTandem(
    {
      providers: {
        an: { kind: "anthropic", baseUrl: upstream.url, local: false, apiKeys: ["env:K"], models: { c: { id: "claude-up" } } },
        ol: { kind: "ollama", baseUrl: upstream.url, local: false, models: { l: { id: "llama-up" } } },
        oa: { kind: "openai", baseUrl: `${upstream.url}/v1`, local: false, apiKeys: ["env:K"], models: { g: { id: "gpt-up" } } },
      },
      routes: { fast: { tiers: ["an/c"], ...fast } },
    },
    { env: { K: "sk-up" } },
  );
});

after(async () => {
  await tandem?.close();
  await upstream?.close();
});

/** An Anthropic stream whose one tool_use block's input comes in three pieces of `SPACED`. */
function anthropicToolUse(): ScriptedReply {
  const pieces = [SPACED.slice(0, 15), SPACED.slice(15, 33), SPACED.slice(33)];
  return {
    kind: "stream",
    contentType: "text/event-stream",
    writes: [
      anthropicMessageStart("claude-up", 12),
      anthropicFrame("content_block_start", {
        index: 0,
        content_block: { type: "tool_use", id: "toolu_1", name: "pay", input: {} },
      }),
      ...pieces.map((partial_json) =>
        anthropicFrame("content_block_delta", { index: 0, delta: { type: "input_json_delta", partial_json } }),
      ),
      anthropicFrame("content_block_stop", { index: 0 }),
      anthropicFrame("message_delta", { delta: { stop_reason: "tool_use", stop_sequence: null }, usage: { output_tokens: 9 } }),
      anthropicFrame("message_stop", {}),
    ],
  };
}

/** Ollama's lines for one call, written by hand (a JSON.stringify of an object could not hold the digits). */
function ollamaLines(): string[] {
  return [
    `{"model":"llama-up","created_at":"${CREATED}","message":{"role":"assistant","content":"","tool_calls":[{"id":"call_1","function":{"index":0,"name":"pay","arguments":${COMPACT}}}]},"done":false}\n`,
    `{"model":"llama-up","created_at":"${CREATED}","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","eval_count":9}\n`,
  ];
}

/** An OpenAI chat stream whose one call's arguments string is `PRETTY`, in two pieces. */
function openaiToolCall(): ScriptedReply {
  const chunk = (delta: object, finish: string | null = null) =>
    `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", created: 1, model: "gpt-up", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  return {
    kind: "stream",
    contentType: "text/event-stream",
    writes: [
      chunk({
        role: "assistant",
        content: null,
        tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "pay", arguments: PRETTY.slice(0, 20) } }],
      }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: PRETTY.slice(20) } }] }),
      chunk({}, "tool_calls"),
      "data: [DONE]\n\n",
    ],
  };
}

const ANTHROPIC_TOOLS = [{ name: "pay", input_schema: { type: "object" } }];
const OPENAI_TOOLS = [{ type: "function", function: { name: "pay", parameters: { type: "object" } } }];

async function post(path: string, body: object): Promise<string> {
  const res = await fetch(`${tandem.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return text;
}

function anthropicRequest(model: string, stream: boolean): object {
  return { model, max_tokens: 50, stream, messages: [{ role: "user", content: "pay" }], tools: ANTHROPIC_TOOLS };
}

function ollamaRequest(model: string, stream: boolean): object {
  return { model, stream, messages: [{ role: "user", content: "pay" }], tools: OPENAI_TOOLS };
}

function chatRequest(model: string, stream: boolean): object {
  return { model, stream, messages: [{ role: "user", content: "pay" }], tools: OPENAI_TOOLS };
}

/** The `arguments` strings of a chat answer, whole or streamed (its deltas joined). */
function chatArguments(text: string, stream: boolean): string {
  if (!stream) return JSON.parse(text).choices[0].message.tool_calls[0].function.arguments;
  let joined = "";
  for (const line of text.split("\n")) {
    if (!line.startsWith("data: {")) continue;
    for (const call of JSON.parse(line.slice(6)).choices[0]?.delta?.tool_calls ?? []) joined += call.function?.arguments ?? "";
  }
  return joined;
}

describe("same wire, a client that did not stream: the upstream's stream put together keeps the arguments' text", () => {
  it("Anthropic: the tool_use input is the joined partial_json as it came", async () => {
    upstream.script(anthropicToolUse);
    const text = await post("/v1/messages", anthropicRequest("an/c", false));
    assert.ok(text.includes(`"input":${SPACED}`), text);
    // Still one well-formed message.
    const message = JSON.parse(text);
    assert.equal(message.content[0].type, "tool_use");
    assert.equal(message.stop_reason, "tool_use");
    assert.equal(message.model, "an/c");
  });

  it("Ollama: the call's arguments object is the line's as it came", async () => {
    upstream.script(() => ({ kind: "stream", contentType: NDJSON, writes: ollamaLines() }));
    const text = await post("/api/chat", ollamaRequest("ol/l", false));
    assert.ok(text.includes(`"arguments":${COMPACT}`), text);
    const answer = JSON.parse(text);
    assert.equal(answer.done, true);
    assert.equal(answer.model, "ol/l");
    assert.equal(answer.message.tool_calls.length, 1);
  });
});

describe("across wires: the arguments' text crosses as written", () => {
  for (const stream of [false, true]) {
    const how = stream ? "streamed" : "whole";
    it(`Ollama upstream to a chat client (${how}): arguments is the upstream's object text`, async () => {
      upstream.script(() => ({ kind: "stream", contentType: NDJSON, writes: ollamaLines() }));
      const text = await post("/v1/chat/completions", chatRequest("ol/l", stream));
      assert.equal(chatArguments(text, stream), COMPACT);
    });

    it(`Anthropic upstream to an Ollama client (${how}): the arguments object is the input's text`, async () => {
      upstream.script(anthropicToolUse);
      const text = await post("/api/chat", ollamaRequest("an/c", stream));
      assert.ok(text.includes(`"arguments":${COMPACT}`), text);
      const lines = text
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line));
      assert.equal(lines.at(-1).done, true);
    });

    it(`OpenAI upstream to an Ollama client (${how}): the arguments object is the arguments string's text, on one line`, async () => {
      upstream.script(openaiToolCall);
      const text = await post("/api/chat", ollamaRequest("oa/g", stream));
      assert.ok(text.includes(`"arguments":${PRETTY_COMPACT}`), text);
      // Every line is one JSON object: the pretty-printed text's line breaks did not split one.
      const lines = text
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line));
      assert.equal(lines.at(-1).done, true);
    });
  }

  it("Ollama upstream to an Anthropic client (whole): the tool_use input is the upstream's object text", async () => {
    upstream.script(() => ({ kind: "stream", contentType: NDJSON, writes: ollamaLines() }));
    const text = await post("/v1/messages", anthropicRequest("ol/l", false));
    assert.ok(text.includes(`"input":${COMPACT}`), text);
  });

  it("OpenAI upstream to an Anthropic client (whole): the tool_use input is the arguments string's text", async () => {
    upstream.script(openaiToolCall);
    const text = await post("/v1/messages", anthropicRequest("oa/g", false));
    assert.ok(text.includes(`"input":${PRETTY}`), text);
  });

  it("Ollama upstream to a Responses client (whole): the function_call's arguments is the upstream's object text", async () => {
    upstream.script(() => ({ kind: "stream", contentType: NDJSON, writes: ollamaLines() }));
    const text = await post("/v1/responses", {
      model: "ol/l",
      input: "pay",
      tools: [{ type: "function", name: "pay", parameters: {} }],
    });
    const call = JSON.parse(text).output.find((item: { type: string }) => item.type === "function_call");
    assert.equal(call.arguments, COMPACT);
  });
});

describe("Ollama same wire, streamed: a done line that carries the tool calls", () => {
  it("reaches the client as the upstream sent it, byte for byte but its model", async () => {
    const writes = [
      `{"model":"llama-up","created_at":"${CREATED}","message":{"role":"assistant","content":"","tool_calls":[{"id":"call_1","function":{"index":0,"name":"pay","arguments":${COMPACT}}}]},"done":true,"done_reason":"stop","eval_count":9}\n`,
    ];
    upstream.script(() => ({ kind: "stream", contentType: NDJSON, writes }));
    const text = await post("/api/chat", ollamaRequest("ol/l", true));
    assert.equal(text, writes.join("").replaceAll('"model":"llama-up"', '"model":"ol/l"'));
  });
});
