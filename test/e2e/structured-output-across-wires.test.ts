/**
 * Structured output crossing wires, as each target's API takes it: a schema to Anthropic as its own
 * `output_config.format` (an instruction in the system prompt only where Anthropic's structured
 * outputs cannot take the schema, named in x-tandem-warnings); `strict` to an OpenAI-compatible
 * target for a client whose API always holds the answer to the schema (Anthropic, Ollama), where
 * OpenAI's strict subset allows the schema; OpenAI's JSON mode with the word "json" it refuses to
 * run without; and the warnings and errors worded for what was actually sent.
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

/** OpenAI's refusal of JSON mode in a conversation that never says "json", word for word. */
const NO_JSON_WORD = "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.";

beforeEach(() => {
  for (const fake of [stage.claude, stage.oai, stage.codex, stage.ollama]) fake.requests.length = 0;
  stage.codex.responseBodies.length = 0;
  // Each fake answers JSON (tandem's quality check fails an answer that is not); the OpenAI ones
  // refuse JSON mode as api.openai.com does when no message says "json".
  stage.oai.script((request) => {
    const body = request.body as WireJson;
    if (body.response_format?.type === "json_object" && !/json/i.test(JSON.stringify(body.messages)))
      return {
        kind: "error",
        status: 400,
        body: { error: { message: NO_JSON_WORD, type: "invalid_request_error", param: "messages", code: null } },
      };
    return { kind: "text", text: '{"name":"Ada"}' };
  });
  stage.codex.script((request) => {
    const body = request.body as WireJson;
    if (body.text?.format?.type === "json_object" && !/json/i.test(JSON.stringify(body.input)))
      return { kind: "error", status: 400, message: NO_JSON_WORD.replace("'messages'", "'input'"), param: "input" };
    return { kind: "answer", text: '{"name":"Ada"}' };
  });
  stage.claude.script(() => ({ kind: "text", text: '{"name":"Ada"}' }));
  stage.ollama.script(() => ({ kind: "text", text: '{"name":"Ada"}' }));
});

const lastBody = (fake: { requests: RecordedRequest[] }): WireJson =>
  fake.requests.filter((r) => r.method === "POST").at(-1)?.body;

const url = (path: string) => `${stage.tandem.url}${path}`;
const ANTHROPIC = { "anthropic-version": "2023-06-01" };

describe("JSON mode to an OpenAI-compatible target", () => {
  it("an Ollama client's format json to a chat target: a system line says json, and OpenAI takes it", async () => {
    const r = await postJson(url("/api/chat"), {
      model: "oai/gpt-4o-mini",
      stream: false,
      format: "json",
      messages: [{ role: "user", content: "List three colours." }],
    });
    assert.equal(r.status, 200, r.text);
    const sent = lastBody(stage.oai);
    assert.deepEqual(sent.response_format, { type: "json_object" });
    assert.equal(sent.messages[0].role, "system");
    assert.match(sent.messages[0].content, /json/i);
    assert.deepEqual(sent.messages[1], { role: "user", content: "List three colours." });
    assert.equal(r.json.message.content, '{"name":"Ada"}');
  });

  it("an Ollama client's /api/generate format json: the same", async () => {
    const r = await postJson(url("/api/generate"), {
      model: "oai/gpt-4o-mini",
      stream: false,
      format: "json",
      system: "You are terse.",
      prompt: "List three colours.",
    });
    assert.equal(r.status, 200, r.text);
    const sent = lastBody(stage.oai);
    // A leading system message is kept as the one system message, with the line at its end.
    assert.equal(sent.messages.filter((m: WireJson) => m.role === "system").length, 1);
    assert.match(sent.messages[0].content, /^You are terse\.\n\n.*json/i);
  });

  it("a conversation that says json already is sent as it came", async () => {
    const r = await postJson(url("/api/chat"), {
      model: "oai/gpt-4o-mini",
      stream: false,
      format: "json",
      messages: [{ role: "user", content: "List three colours as JSON." }],
    });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(lastBody(stage.oai).messages, [{ role: "user", content: "List three colours as JSON." }]);
  });

  it("an Ollama client's format json to a Responses upstream: the input says json", async () => {
    const r = await postJson(url("/api/chat"), {
      model: "codex/gpt-5-codex",
      stream: false,
      format: "json",
      messages: [{ role: "user", content: "List three colours." }],
    });
    assert.equal(r.status, 200, r.text);
    const sent = stage.codex.responseBodies.at(-1) as WireJson;
    assert.deepEqual(sent.text.format, { type: "json_object" });
    assert.match(JSON.stringify(sent.input), /json/i);
  });

  it("a chat client's json_object to a Responses upstream, and a Responses client's to a chat target", async () => {
    const chat = await postJson(url("/v1/chat/completions"), {
      model: "codex/gpt-5-codex",
      response_format: { type: "json_object" },
      messages: [{ role: "user", content: "List three colours." }],
    });
    assert.equal(chat.status, 200, chat.text);
    const responses = await postJson(url("/v1/responses"), {
      model: "oai/gpt-4o-mini",
      text: { format: { type: "json_object" } },
      input: "List three colours.",
    });
    assert.equal(responses.status, 200, responses.text);
    assert.match(JSON.stringify(lastBody(stage.oai).messages), /json/i);
  });
});

describe("warnings and errors name what was sent", () => {
  it("parallel_tool_calls is not named to Ollama when no tools are sent", async () => {
    const plain = await postJson(url("/v1/chat/completions"), {
      model: "ollama/llama3.2:latest",
      parallel_tool_calls: false,
      messages: [{ role: "user", content: "hi" }],
    });
    assert.equal(plain.status, 200, plain.text);
    assert.doesNotMatch(plain.headers.get("x-tandem-warnings") ?? "", /parallel_tool_calls/);
    const none = await postJson(url("/v1/responses"), {
      model: "ollama/llama3.2:latest",
      tools: [{ type: "function", name: "f", parameters: { type: "object", properties: {} } }],
      tool_choice: "none",
      parallel_tool_calls: false,
      input: "hi",
    });
    assert.equal(none.status, 200, none.text);
    assert.doesNotMatch(none.headers.get("x-tandem-warnings") ?? "", /parallel_tool_calls/);
    // With tools sent, one call at a time is still what Ollama cannot be asked for.
    const tools = await postJson(url("/v1/chat/completions"), {
      model: "ollama/llama3.2:latest",
      tools: [{ type: "function", function: { name: "f", parameters: { type: "object", properties: {} } } }],
      parallel_tool_calls: false,
      messages: [{ role: "user", content: "hi" }],
    });
    assert.equal(tools.status, 200, tools.text);
    assert.match(tools.headers.get("x-tandem-warnings") ?? "", /parallel_tool_calls not sent to ollama\/llama3\.2:latest/);
  });

  it("allowed_tools is named in one message, with the target, for chat and Responses clients", async () => {
    const tool = { name: "f", parameters: { type: "object", properties: {} } };
    const allowed = { type: "allowed_tools", mode: "auto" };
    const chat = await postJson(url("/v1/chat/completions"), {
      model: "claude/claude-sonnet-4-5",
      tools: [{ type: "function", function: tool }],
      tool_choice: { ...allowed, allowed_tools: { mode: "auto", tools: [{ type: "function", function: { name: "f" } }] } },
      messages: [{ role: "user", content: "hi" }],
    });
    assert.equal(chat.status, 200, chat.text);
    const responses = await postJson(url("/v1/responses"), {
      model: "claude/claude-sonnet-4-5",
      tools: [{ type: "function", ...tool }],
      tool_choice: { ...allowed, tools: [{ type: "function", name: "f" }] },
      input: "hi",
    });
    assert.equal(responses.status, 200, responses.text);
    const expected = "tool_choice allowed_tools (only the allowed tools offered instead) not sent to claude/claude-sonnet-4-5";
    assert.ok((chat.headers.get("x-tandem-warnings") ?? "").includes(expected), chat.headers.get("x-tandem-warnings") ?? "");
    assert.ok(
      (responses.headers.get("x-tandem-warnings") ?? "").includes(expected),
      responses.headers.get("x-tandem-warnings") ?? "",
    );
  });

  it("a Responses client's refused output format is named text.format, not response_format", async () => {
    stage.oai.script(() => ({
      kind: "error",
      status: 400,
      body: {
        error: {
          message: "Invalid schema for response_format 'person': In context=(), 'required' is required to be supplied.",
          type: "invalid_request_error",
          param: "response_format",
          code: null,
        },
      },
    }));
    const r = await postJson(url("/v1/responses"), {
      model: "oai/gpt-4o-mini",
      text: { format: { type: "json_schema", name: "person", strict: true, schema: { type: "object", properties: {} } } },
      input: "hi",
    });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.error.param, "text.format");
    assert.doesNotMatch(r.json.error.message, /response_format/);
  });
});
