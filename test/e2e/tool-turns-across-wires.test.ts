/**
 * Tool turns that cross to another wire keep what the client said, or name what they cannot keep:
 *
 * - An Anthropic `tool_result` with `is_error: true` reaches every wire without an error flag as its
 *   text after "Error: ". Before, an Ollama upstream got the bare text, so the model was never told
 *   that the call failed (an OpenAI-compatible or Responses upstream already got the prefix).
 * - A chat client's `tool` or `system` message of several text parts keeps the parts apart: the
 *   tool's as blocks of Anthropic's tool_result, else joined by a blank line. Before, every other
 *   wire got "part onepart two".
 * - A named tool choice to Ollama, which has no tool_choice, is named in x-tandem-warnings (only the
 *   tool is offered, so the model may still answer with text), as a required one is; and
 *   `parallel_tool_calls: true`, what Ollama does anyway, is no longer named (only `false` is lost).
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { type EveryWireStage, startEveryWireStage } from "../support/every-wire-stage.js";
import type { RecordedRequest } from "../support/fake-upstream.js";
import { postJson, type WireJson } from "../support/post-json.js";

let stage: EveryWireStage;

before(async () => {
  stage = await startEveryWireStage();
});

after(async () => {
  await stage?.close();
});

beforeEach(() => {
  for (const fake of [stage.claude, stage.oai, stage.codex, stage.ollama]) fake.requests.length = 0;
  stage.codex.responseBodies.length = 0;
});

const OLLAMA = "ollama/llama3.2:latest";

const lastBody = (fake: { requests: RecordedRequest[] }): WireJson =>
  fake.requests.filter((r) => r.method === "POST").at(-1)?.body;

const anthropicHeaders = { "anthropic-version": "2023-06-01" };

/** An Anthropic client's third turn: the weather call failed, and its result says so. */
function failedToolResult(model: string, content?: string) {
  return postJson(
    `${stage.tandem.url}/v1/messages`,
    {
      model,
      max_tokens: 100,
      tools: [{ name: "get_time", input_schema: { type: "object" } }],
      messages: [
        { role: "user", content: "What time is it in Atlantis?" },
        { role: "assistant", content: [{ type: "tool_use", id: "toolu_call_O3", name: "get_time", input: {} }] },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "toolu_call_O3", is_error: true, ...(content !== undefined && { content }) },
          ],
        },
      ],
    },
    anthropicHeaders,
  );
}

describe("an Anthropic client's failed tool result", () => {
  it("reaches Ollama as its text after 'Error: ', as it reaches OpenAI's wires", async () => {
    const r = await failedToolResult(OLLAMA, "unknown time zone");
    assert.equal(r.status, 200, r.text);
    const tool = lastBody(stage.ollama).messages.find((m: WireJson) => m.role === "tool");
    assert.equal(tool.content, "Error: unknown time zone");
    assert.equal(tool.tool_name, "get_time");
  });

  it("without content, reaches Ollama as 'Error: '", async () => {
    const r = await failedToolResult(OLLAMA);
    assert.equal(r.status, 200, r.text);
    const tool = lastBody(stage.ollama).messages.find((m: WireJson) => m.role === "tool");
    assert.equal(tool.content, "Error: ");
  });

  it("reads the same on an OpenAI-compatible and a Responses upstream", async () => {
    assert.equal((await failedToolResult("oai/gpt-4o-mini", "unknown time zone")).status, 200);
    const tool = lastBody(stage.oai).messages.find((m: WireJson) => m.role === "tool");
    assert.equal(tool.content, "Error: unknown time zone");
    assert.equal((await failedToolResult("codex/gpt-5-codex", "unknown time zone")).status, 200);
    const input = stage.codex.responseBodies.at(-1)?.input as WireJson[];
    assert.equal(input.find((item) => item.type === "function_call_output").output, "Error: unknown time zone");
  });
});

/** A chat client's conversation whose system message and tool result are lists of text parts. */
function chatWithParts(model: string) {
  return postJson(`${stage.tandem.url}/v1/chat/completions`, {
    model,
    messages: [
      {
        role: "system",
        content: [
          { type: "text", text: "sys one" },
          { type: "text", text: "sys two" },
        ],
      },
      { role: "user", content: "hi" },
      {
        role: "assistant",
        content: "checking",
        tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: "{}" } }],
      },
      {
        role: "tool",
        tool_call_id: "call_1",
        content: [
          { type: "text", text: "part one" },
          { type: "text", text: "part two" },
        ],
      },
    ],
    tools: [{ type: "function", function: { name: "get_weather", parameters: { type: "object" } } }],
  });
}

describe("a chat client's system and tool messages of several text parts, on another wire", () => {
  it("Anthropic: the system parts a blank line apart, the tool's parts blocks of the tool_result", async () => {
    const r = await chatWithParts("claude/claude-sonnet-4-5");
    assert.equal(r.status, 200, r.text);
    const sent = lastBody(stage.claude);
    const system = typeof sent.system === "string" ? sent.system : sent.system.map((b: WireJson) => b.text).join("");
    assert.equal(system, "sys one\n\nsys two");
    const result = sent.messages.flatMap((m: WireJson) => (Array.isArray(m.content) ? m.content : [])).at(-1);
    assert.equal(result.type, "tool_result");
    assert.deepEqual(result.content, [
      { type: "text", text: "part one" },
      { type: "text", text: "part two" },
    ]);
  });

  it("Ollama: each joined by a blank line", async () => {
    const r = await chatWithParts(OLLAMA);
    assert.equal(r.status, 200, r.text);
    const sent = lastBody(stage.ollama).messages;
    assert.equal(sent.find((m: WireJson) => m.role === "system").content, "sys one\n\nsys two");
    assert.equal(sent.find((m: WireJson) => m.role === "tool").content, "part one\n\npart two");
  });

  it("a Responses upstream: each joined by a blank line", async () => {
    const r = await chatWithParts("codex/gpt-5-codex");
    assert.equal(r.status, 200, r.text);
    const input = stage.codex.responseBodies.at(-1)?.input as WireJson[];
    const output = input.find((item) => item.type === "function_call_output").output;
    assert.equal(output, "part one\n\npart two");
    const instructions = stage.codex.responseBodies.at(-1)?.instructions;
    const system = input.find((item) => item.role === "developer" || item.role === "system");
    const systemText =
      system === undefined ? instructions : typeof system.content === "string" ? system.content : system.content[0].text;
    assert.equal(systemText, "sys one\n\nsys two");
  });
});

const NAMED_WARNING = `tool_choice (only the named tool offered instead) not sent to ${OLLAMA}`;

describe("a named tool choice to Ollama, which has no tool_choice", () => {
  const tools = [
    { type: "function", function: { name: "get_weather", parameters: { type: "object" } } },
    { type: "function", function: { name: "get_time", parameters: { type: "object" } } },
  ];

  it("chat completions: only the tool offered, and the lost forcing named", async () => {
    const r = await postJson(`${stage.tandem.url}/v1/chat/completions`, {
      model: OLLAMA,
      messages: [{ role: "user", content: "hi" }],
      tools,
      tool_choice: { type: "function", function: { name: "get_time" } },
    });
    assert.equal(r.status, 200, r.text);
    const sent = lastBody(stage.ollama);
    assert.deepEqual(
      sent.tools.map((t: WireJson) => t.function.name),
      ["get_time"],
    );
    assert.equal("tool_choice" in sent, false);
    assert.ok((r.headers.get("x-tandem-warnings") ?? "").includes(NAMED_WARNING), r.headers.get("x-tandem-warnings") ?? "");
  });

  it("Responses: named", async () => {
    const r = await postJson(`${stage.tandem.url}/v1/responses`, {
      model: OLLAMA,
      input: "hi",
      tools: [{ type: "function", name: "get_weather", parameters: { type: "object" } }],
      tool_choice: { type: "function", name: "get_weather" },
    });
    assert.equal(r.status, 200, r.text);
    assert.ok((r.headers.get("x-tandem-warnings") ?? "").includes(NAMED_WARNING), r.headers.get("x-tandem-warnings") ?? "");
  });

  it("Anthropic: named, whole and streamed", async () => {
    for (const stream of [false, true]) {
      const r = await postJson(
        `${stage.tandem.url}/v1/messages`,
        {
          model: OLLAMA,
          max_tokens: 50,
          stream,
          tools: [{ name: "get_weather", input_schema: { type: "object" } }],
          tool_choice: { type: "tool", name: "get_weather" },
          messages: [{ role: "user", content: "hi" }],
        },
        anthropicHeaders,
      );
      assert.equal(r.status, 200, r.text);
      assert.ok((r.headers.get("x-tandem-warnings") ?? "").includes(NAMED_WARNING), r.headers.get("x-tandem-warnings") ?? "");
    }
  });

  it("auto is not named", async () => {
    const r = await postJson(`${stage.tandem.url}/v1/chat/completions`, {
      model: OLLAMA,
      messages: [{ role: "user", content: "hi" }],
      tools,
      tool_choice: "auto",
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get("x-tandem-warnings"), null);
  });
});

describe("parallel_tool_calls to Ollama, which lets the model make parallel calls", () => {
  const ask = (parallel: boolean) =>
    postJson(`${stage.tandem.url}/v1/chat/completions`, {
      model: OLLAMA,
      messages: [{ role: "user", content: "hi" }],
      tools: [{ type: "function", function: { name: "get_weather", parameters: { type: "object" } } }],
      parallel_tool_calls: parallel,
    });

  it("true, what Ollama does anyway, is not named", async () => {
    const r = await ask(true);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get("x-tandem-warnings"), null);
  });

  it("false, which Ollama cannot hold to, is named", async () => {
    const r = await ask(false);
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get("x-tandem-warnings") ?? "", /parallel_tool_calls not sent to ollama\/llama3\.2:latest/);
  });
});
