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

/** An answer every schema here takes. */
const ANSWER = '{"name":"Ada","role":"admin","address":null}';
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
    return { kind: "text", text: ANSWER };
  });
  stage.codex.script((request) => {
    const body = request.body as WireJson;
    if (body.text?.format?.type === "json_object" && !/json/i.test(JSON.stringify(body.input)))
      return { kind: "error", status: 400, message: NO_JSON_WORD.replace("'messages'", "'input'"), param: "input" };
    return { kind: "answer", text: ANSWER };
  });
  stage.claude.script(() => ({ kind: "text", text: ANSWER }));
  stage.ollama.script(() => ({ kind: "text", text: ANSWER }));
});

const lastBody = (fake: { requests: RecordedRequest[] }): WireJson =>
  fake.requests.filter((r) => r.method === "POST").at(-1)?.body;

const url = (path: string) => `${stage.tandem.url}${path}`;
const ANTHROPIC = { "anthropic-version": "2023-06-01" };

/** A schema with what Anthropic's and OpenAI's strict subsets both take: a $ref into $defs, an enum, anyOf with null. */
const SCHEMA = {
  type: "object",
  properties: {
    name: { type: "string" },
    role: { enum: ["admin", "user"] },
    address: { anyOf: [{ $ref: "#/$defs/address" }, { type: "null" }] },
  },
  required: ["name", "role", "address"],
  additionalProperties: false,
  $defs: {
    address: { type: "object", properties: { city: { type: "string" } }, required: ["city"], additionalProperties: false },
  },
};
/** One Anthropic's structured outputs do not take (a numeric bound), nor OpenAI's strict mode (an optional property). */
const BOUNDED = { type: "object", properties: { age: { type: "integer", minimum: 0 } } };
const INSTRUCTION = /Respond with a single JSON value that conforms to this JSON Schema/;

/** The same schema asked for in each OpenAI-side dialect, of `model`. */
function schemaRequests(model: string, schema: Record<string, unknown>) {
  return [
    postJson(url("/v1/chat/completions"), {
      model,
      messages: [{ role: "user", content: "hi" }],
      response_format: { type: "json_schema", json_schema: { name: "person", strict: true, schema } },
    }),
    postJson(url("/v1/responses"), {
      model,
      input: "hi",
      text: { format: { type: "json_schema", name: "person", strict: true, schema } },
    }),
    postJson(url("/api/chat"), { model, stream: false, format: schema, messages: [{ role: "user", content: "hi" }] }),
  ];
}

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
    assert.equal(r.json.message.content, ANSWER);
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

describe("an output schema to an Anthropic target", () => {
  it("is Anthropic's structured output, output_config.format, from chat, Responses and Ollama clients", async () => {
    for (const pending of schemaRequests("claude/claude-sonnet-4-5", SCHEMA)) {
      const r = await pending;
      assert.equal(r.status, 200, r.text);
      const sent = lastBody(stage.claude);
      assert.deepEqual(sent.output_config, { format: { type: "json_schema", schema: SCHEMA } });
      assert.doesNotMatch(sent.system ?? "", INSTRUCTION);
      assert.equal(r.headers.get("x-tandem-warnings"), null);
    }
  });

  it("an object that does not say additionalProperties is sent saying false, as Anthropic requires", async () => {
    const open = { type: "object", properties: { name: { type: "string" } }, required: ["name"] };
    const r = await postJson(url("/v1/chat/completions"), {
      model: "claude/claude-sonnet-4-5",
      messages: [{ role: "user", content: "hi" }],
      response_format: { type: "json_schema", json_schema: { name: "p", schema: open } },
    });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(lastBody(stage.claude).output_config.format.schema, { ...open, additionalProperties: false });
  });

  it("a schema Anthropic's structured outputs cannot take is asked for in the system prompt, and named", async () => {
    for (const pending of schemaRequests("claude/claude-sonnet-4-5", BOUNDED)) {
      const r = await pending;
      assert.equal(r.status, 200, r.text);
      const sent = lastBody(stage.claude);
      assert.equal(sent.output_config, undefined);
      assert.match(sent.system, INSTRUCTION);
      const warnings = r.headers.get("x-tandem-warnings") ?? "";
      assert.match(
        warnings,
        /output schema as structured output \(it uses 'minimum'.*\) not sent to claude\/claude-sonnet-4-5/,
        warnings,
      );
    }
  });

  it("JSON mode, which Anthropic has no field for, is an instruction, named", async () => {
    const r = await postJson(url("/api/chat"), {
      model: "claude/claude-sonnet-4-5",
      stream: false,
      format: "json",
      messages: [{ role: "user", content: "hi" }],
    });
    assert.equal(r.status, 200, r.text);
    assert.match(lastBody(stage.claude).system, /single valid JSON value/);
    assert.match(r.headers.get("x-tandem-warnings") ?? "", /JSON mode .* not sent to claude\/claude-sonnet-4-5/);
  });
});

describe("an output schema from a client whose API always holds the answer to it, to OpenAI-compatible targets", () => {
  const messages = (schema: Record<string, unknown>, model = "oai/gpt-4o-mini") =>
    postJson(
      url("/v1/messages"),
      {
        model,
        max_tokens: 100,
        messages: [{ role: "user", content: "hi" }],
        output_config: { format: { type: "json_schema", schema } },
      },
      ANTHROPIC,
    );

  it("an Anthropic client's output_config.format is sent strict where OpenAI's strict subset takes the schema", async () => {
    const r = await messages(SCHEMA);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(lastBody(stage.oai).response_format, {
      type: "json_schema",
      json_schema: { name: "response", schema: SCHEMA, strict: true },
    });
    assert.equal(r.headers.get("x-tandem-warnings"), null);
    const responses = await messages(SCHEMA, "codex/gpt-5-codex");
    assert.equal(responses.status, 200, responses.text);
    assert.equal((stage.codex.responseBodies.at(-1) as WireJson).text.format.strict, true);
  });

  it("an Ollama client's format schema: the same", async () => {
    const r = await postJson(url("/api/chat"), {
      model: "oai/gpt-4o-mini",
      stream: false,
      format: SCHEMA,
      messages: [{ role: "user", content: "hi" }],
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(lastBody(stage.oai).response_format.json_schema.strict, true);
  });

  it("a schema outside OpenAI's strict subset is sent strict: false, the weaker guarantee named", async () => {
    const r = await messages(BOUNDED);
    assert.equal(r.status, 200, r.text);
    assert.equal(lastBody(stage.oai).response_format.json_schema.strict, false);
    assert.match(
      r.headers.get("x-tandem-warnings") ?? "",
      /strict adherence to the output schema .* not sent to oai\/gpt-4o-mini/,
    );
  });

  it("an OpenAI client's own strict is kept as it said it (none said, none sent)", async () => {
    const r = await postJson(url("/v1/responses"), {
      model: "oai/gpt-4o-mini",
      input: "hi",
      text: { format: { type: "json_schema", name: "person", schema: SCHEMA } },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal("strict" in lastBody(stage.oai).response_format.json_schema, false);
  });
});

// Last: the refusal is remembered for the model (see RefusedSettings), and would change the tests above.
describe("an Anthropic model without structured outputs", () => {
  it("refuses output_config.format: the request is sent again with the schema in the system prompt, and named", async () => {
    stage.claude.script((request) =>
      (request.body as WireJson).output_config?.format !== undefined
        ? { kind: "error", status: 400, message: "'claude-sonnet-4-5' does not support structured outputs." }
        : { kind: "text", text: ANSWER },
    );
    const r = await postJson(url("/v1/chat/completions"), {
      model: "claude/claude-sonnet-4-5",
      messages: [
        { role: "system", content: "You are terse." },
        { role: "user", content: "hi" },
      ],
      response_format: { type: "json_schema", json_schema: { name: "person", strict: true, schema: SCHEMA } },
    });
    assert.equal(r.status, 200, r.text);
    const sent = lastBody(stage.claude);
    assert.equal(sent.output_config, undefined);
    assert.match(sent.system, /^You are terse\.\n\nRespond with a single JSON value that conforms/);
    assert.match(
      r.headers.get("x-tandem-warnings") ?? "",
      /output_config\.format \(the model takes no structured output.*\) not sent to claude/,
    );
  });
});
