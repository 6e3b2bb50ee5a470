/**
 * A call of a tool without parameters from an Anthropic upstream, as Anthropic streams it: the
 * tool_use block starts with `input: {}` and its only input_json_delta is `""`. Its input is `{}`, so
 * an OpenAI client must get `arguments: "{}"` (OpenAI never sends an empty string there): the openai
 * SDK's parse helpers and runTools parse the arguments as JSON, and `""` is not JSON.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { zodFunction } from "openai/helpers/zod";
import { z } from "zod";
import { anthropicFrame, anthropicMessageStart } from "../support/fake-anthropic-upstream.js";
import { type ScriptedReply, type ScriptedUpstream, startScriptedUpstream } from "../support/scripted-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let upstream: ScriptedUpstream;
let tandem: RunningTandem;
let client: OpenAI;

function emptyInputToolUse(): ScriptedReply {
  return {
    kind: "stream",
    contentType: "text/event-stream",
    writes: [
      anthropicMessageStart("claude-up", 12),
      anthropicFrame("content_block_start", {
        index: 0,
        content_block: { type: "tool_use", id: "toolu_1", name: "now", input: {} },
      }),
      anthropicFrame("content_block_delta", { index: 0, delta: { type: "input_json_delta", partial_json: "" } }),
      anthropicFrame("content_block_stop", { index: 0 }),
      anthropicFrame("message_delta", { delta: { stop_reason: "tool_use", stop_sequence: null }, usage: { output_tokens: 9 } }),
      anthropicFrame("message_stop", {}),
    ],
  };
}

/** The same call from an OpenAI-compatible server that sends no arguments at all (`""`), as some do for a tool without parameters. */
function emptyArgumentsToolCall(): ScriptedReply {
  const chunk = (delta: object, finish: string | null = null) =>
    `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", created: 1, model: "gpt-up", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  return {
    kind: "stream",
    contentType: "text/event-stream",
    writes: [
      chunk({
        role: "assistant",
        content: null,
        tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "now", arguments: "" } }],
      }),
      chunk({}, "tool_calls"),
      "data: [DONE]\n\n",
    ],
  };
}

before(async () => {
  upstream = await startScriptedUpstream();
  tandem = await startTandem(
    {
      providers: {
        an: { kind: "anthropic", baseUrl: upstream.url, local: false, apiKeys: ["env:K"], models: { c: { id: "claude-up" } } },
        oa: { kind: "openai", baseUrl: `${upstream.url}/v1`, local: false, apiKeys: ["env:K"], models: { g: { id: "gpt-up" } } },
      },
      routes: { auto: { tiers: ["an/c"] } },
    },
    { env: { K: "sk-up" } },
  );
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await upstream?.close();
});

const NOW = { type: "function" as const, function: { name: "now", parameters: { type: "object", properties: {} } } };

describe("a tool call without arguments from an Anthropic upstream, to an OpenAI client", () => {
  it("chat completions, whole and streamed: arguments is {}", async () => {
    upstream.script(emptyInputToolUse);
    const whole = await client.chat.completions.create({
      model: "an/c",
      messages: [{ role: "user", content: "x" }],
      tools: [NOW],
    });
    const call = whole.choices[0]?.message.tool_calls?.[0];
    assert.equal(call?.type === "function" && call.function.arguments, "{}");
    const final = await client.chat.completions
      .stream({ model: "an/c", messages: [{ role: "user", content: "x" }], tools: [NOW] })
      .finalChatCompletion();
    const streamed = final.choices[0]?.message.tool_calls?.[0];
    assert.equal(streamed?.type === "function" && streamed.function.arguments, "{}");
  });

  it("chat.completions.parse with a zodFunction tool parses the call", async () => {
    upstream.script(emptyInputToolUse);
    const parsed = await client.chat.completions.parse({
      model: "an/c",
      messages: [{ role: "user", content: "x" }],
      tools: [zodFunction({ name: "now", parameters: z.object({}) })],
    });
    assert.deepEqual(parsed.choices[0]?.message.tool_calls?.[0]?.function.parsed_arguments, {});
  });

  it("Responses, streamed: the function_call's arguments is {}", async () => {
    upstream.script(emptyInputToolUse);
    const final = await client.responses
      .stream({ model: "an/c", input: "x", tools: [{ type: "function", name: "now", strict: false, parameters: {} }] })
      .finalResponse();
    const call = final.output.find((item) => item.type === "function_call");
    assert.equal(call?.type === "function_call" && call.arguments, "{}");
  });

  it("from an OpenAI-compatible server that sends no arguments: a Responses client gets {} too", async () => {
    upstream.script(emptyArgumentsToolCall);
    const final = await client.responses
      .stream({ model: "oa/g", input: "x", tools: [{ type: "function", name: "now", strict: false, parameters: {} }] })
      .finalResponse();
    const call = final.output.find((item) => item.type === "function_call");
    assert.equal(call?.type === "function_call" && call.arguments, "{}");
  });
});
