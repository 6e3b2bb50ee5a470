/**
 * A tool's `strict` across dialects: OpenAI's function.strict and Anthropic's Tool.strict (@anthropic-ai/sdk
 * resources/messages: "When true, guarantees schema validation on tool names and inputs") are one setting,
 * carried both ways; what of an Anthropic tool no other wire has (`input_examples`, `eager_input_streaming`,
 * `allowed_callers`) and `strict` to Ollama, whose tools have no such setting, are named in `x-tandem-warnings`.
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

const lastBody = (fake: { requests: RecordedRequest[] }): WireJson =>
  fake.requests.filter((r) => r.method === "POST").at(-1)?.body;

const SCHEMA = { type: "object", properties: { city: { type: "string" } }, required: ["city"], additionalProperties: false };

function messages(model: string, tool: Record<string, unknown>) {
  return postJson(
    `${stage.tandem.url}/v1/messages`,
    { model, max_tokens: 100, tools: [tool], messages: [{ role: "user", content: "Weather in Paris?" }] },
    { "anthropic-version": "2023-06-01" },
  );
}

function chat(model: string, strict: boolean) {
  return postJson(`${stage.tandem.url}/v1/chat/completions`, {
    model,
    tools: [{ type: "function", function: { name: "weather", parameters: SCHEMA, strict } }],
    messages: [{ role: "user", content: "Weather in Paris?" }],
  });
}

describe("an Anthropic client's tool", () => {
  const tool = {
    name: "weather",
    input_schema: SCHEMA,
    strict: true,
    input_examples: [{ city: "Paris" }],
    eager_input_streaming: true,
    allowed_callers: ["direct"],
  };

  it("to an OpenAI-compatible target: strict is function.strict; the fields chat completions lacks are named", async () => {
    const r = await messages("oai/gpt-4o-mini", tool);
    assert.equal(r.status, 200, r.text);
    assert.equal(lastBody(stage.oai).tools[0].function.strict, true);
    const warnings = r.headers.get("x-tandem-warnings") ?? "";
    for (const field of ["input_examples", "eager_input_streaming", "allowed_callers"])
      assert.ok(warnings.includes(`${field} not sent to oai/gpt-4o-mini`), `${field} in: ${warnings}`);
    assert.ok(!warnings.includes("strict"), warnings);
  });

  it("to a Responses upstream: strict is the function tool's strict", async () => {
    const r = await messages("codex/gpt-5-codex", { name: "weather", input_schema: SCHEMA, strict: true });
    assert.equal(r.status, 200, r.text);
    const sent = stage.codex.responseBodies.at(-1) as { tools: Array<{ strict?: unknown }> };
    assert.equal(sent.tools[0]?.strict, true);
    assert.equal(r.headers.get("x-tandem-warnings"), null);
  });

  it("to Ollama: strict is named, its tools have no such setting", async () => {
    const r = await messages("ollama/llama3.2:latest", { name: "weather", input_schema: SCHEMA, strict: true });
    assert.equal(r.status, 200, r.text);
    assert.equal("strict" in lastBody(stage.ollama).tools[0].function, false);
    assert.match(r.headers.get("x-tandem-warnings") ?? "", /strict not sent to ollama\/llama3\.2:latest/);
  });
});

describe("an OpenAI client's function.strict", () => {
  it("to Anthropic: the tool's strict, nothing named", async () => {
    const r = await chat("claude/claude-sonnet-4-5", true);
    assert.equal(r.status, 200, r.text);
    assert.equal(lastBody(stage.claude).tools[0].strict, true);
    assert.equal(r.headers.get("x-tandem-warnings"), null);
  });

  it("strict: false, Anthropic's default, is sent as nothing", async () => {
    const r = await chat("claude/claude-sonnet-4-5", false);
    assert.equal(r.status, 200, r.text);
    assert.equal("strict" in lastBody(stage.claude).tools[0], false);
    assert.equal(r.headers.get("x-tandem-warnings"), null);
  });

  it("to Ollama: named when true, not when false", async () => {
    const strict = await chat("ollama/llama3.2:latest", true);
    assert.equal(strict.status, 200, strict.text);
    assert.match(strict.headers.get("x-tandem-warnings") ?? "", /strict not sent to ollama\/llama3\.2:latest/);
    const loose = await chat("ollama/llama3.2:latest", false);
    assert.equal(loose.headers.get("x-tandem-warnings"), null);
  });
});
