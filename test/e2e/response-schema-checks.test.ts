/**
 * What tandem checks of a client's response schema before any target is asked:
 * - a schema that is not valid JSON Schema (a `$ref` to nothing, an unknown type, a pattern no
 *   regular expression reads) is a 400 in the client's dialect naming its field, as OpenAI answers
 *   one, on every target: before, every target answered it unconstrained (the engine read the
 *   broken part as "any value");
 * - the embedded engine refuses a schema beyond OpenAI's Structured Outputs limits (1,000 enum
 *   values...) with a 400 naming the limit, at once: a grammar of 40,000 enum values got the engine
 *   killed as hung (a 503 or 504, which SDKs retry) and stalled every other local model; a route
 *   goes on to its cloud target, whose upstream decides.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeUpstream } from "../support/fake-upstream.js";
import { postJson } from "../support/post-json.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let upstream: FakeUpstream;
let tandem: RunningTandem;

before(async () => {
  upstream = await startFakeOpenAI({ models: ["gpt"] });
  tandem = await startTandem(
    {
      providers: {
        up: { kind: "openai", baseUrl: upstream.url, apiKeys: ["env:UP_KEY"] },
        local: {
          kind: "llamacpp",
          threads: 1,
          models: { tiny: { path: "/work/shared/models/llama-2-tiny-random.gguf", contextSize: 512 } },
        },
      },
      routes: { "local-then-cloud": { tiers: [["local/tiny"], ["up/gpt"]] } },
    },
    { env: { UP_KEY: "sk-up" } },
  );
});

after(async () => {
  await tandem?.close();
  await upstream?.close();
});

const INVALID: Record<string, Record<string, unknown>> = {
  "a $ref to a missing definition": { type: "object", properties: { a: { $ref: "#/$defs/missing" } }, required: ["a"] },
  "an unknown type": { type: "object", properties: { a: { type: "foo" } }, required: ["a"] },
  "a pattern that does not compile": { type: "object", properties: { a: { type: "string", pattern: "([" } }, required: ["a"] },
};

const messages = [{ role: "user", content: "hi" }];

/** The same schema as each dialect asks for it: path, body, and the field its error names. */
function dialects(model: string, schema: Record<string, unknown>) {
  return [
    {
      path: "/v1/chat/completions",
      body: { model, max_tokens: 20, messages, response_format: { type: "json_schema", json_schema: { name: "x", schema } } },
      param: "response_format",
    },
    {
      path: "/v1/responses",
      body: { model, max_output_tokens: 20, input: "hi", text: { format: { type: "json_schema", name: "x", schema } } },
      param: "text.format",
    },
    {
      path: "/v1/messages",
      body: { model, max_tokens: 20, messages, output_config: { format: { type: "json_schema", schema } } },
      param: "output_config.format",
    },
    { path: "/api/chat", body: { model, stream: false, messages, format: schema }, param: "format" },
  ];
}

/** The error's message and param, whichever dialect rendered it (Ollama's error is a string; Anthropic's has no param, its message names the field). */
function errorOf(json: { error: unknown }): { message: string; param?: string } {
  return typeof json.error === "string" ? { message: json.error } : (json.error as { message: string; param?: string });
}

describe("a response schema that is not valid JSON Schema", () => {
  for (const [what, schema] of Object.entries(INVALID)) {
    it(`is a 400 naming the client's field, in every dialect, to the engine and to a cloud target: ${what}`, async () => {
      const before = upstream.requests.length;
      for (const model of ["local/tiny", "up/gpt"]) {
        for (const { path, body, param } of dialects(model, schema)) {
          const res = await postJson(`${tandem.url}${path}`, body);
          assert.equal(res.status, 400, `${model} ${path}: ${res.text}`);
          const error = errorOf(res.json);
          assert.match(error.message, new RegExp(`Invalid schema for '${param.replace(".", "\\.")}'`), `${path}: ${res.text}`);
          if (path.startsWith("/v1/chat") || path.startsWith("/v1/responses")) assert.equal(error.param, param, path);
        }
      }
      assert.equal(upstream.requests.length, before, "no upstream is asked");
    });
  }

  it("lets a valid schema through: draft 2020-12, a definition, a pattern JavaScript reads only without the u flag", async () => {
    const schema = {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      properties: { id: { type: "string", pattern: "^[\\w-]+$" }, pet: { $ref: "#/$defs/pet" } },
      required: ["id", "pet"],
      additionalProperties: false,
      $defs: { pet: { type: "string" } },
    };
    upstream.script(() => ({ kind: "text", text: '{"id":"a-1","pet":"cat"}' }));
    const res = await postJson(`${tandem.url}/v1/chat/completions`, {
      model: "up/gpt",
      messages,
      response_format: { type: "json_schema", json_schema: { name: "x", schema } },
    });
    assert.equal(res.status, 200, res.text);
  });
});

describe("a response schema beyond the engine's limits", () => {
  const huge = {
    type: "object",
    properties: { e: { enum: Array.from({ length: 40_000 }, (_, i) => `value_${i}`) } },
    required: ["e"],
    additionalProperties: false,
  };

  it("is a 400 from the engine naming the limit and the client's field, at once, in every dialect", async () => {
    for (const { path, body, param } of dialects("local/tiny", huge)) {
      const started = performance.now();
      const res = await postJson(`${tandem.url}${path}`, body);
      assert.equal(res.status, 400, `${path}: ${res.text}`);
      const error = errorOf(res.json);
      assert.match(error.message, /40000 enum values; at most 1000 are allowed/, res.text);
      assert.match(error.message, new RegExp(`'${param.replace(".", "\\.")}'`), res.text);
      if (path.startsWith("/v1/chat") || path.startsWith("/v1/responses")) assert.equal(error.param, param, path);
      assert.ok(performance.now() - started < 5000, `${path} answered in ${performance.now() - started} ms`);
    }
  });

  it("is refused for a tool's parameters too, naming tools", async () => {
    const res = await postJson(`${tandem.url}/v1/chat/completions`, {
      model: "local/tiny",
      messages,
      tools: [{ type: "function", function: { name: "pick", parameters: huge } }],
      tool_choice: "required",
    });
    assert.equal(res.status, 400, res.text);
    assert.equal(res.json.error.param, "tools");
    assert.match(res.json.error.message, /tool 'pick'.*40000 enum values/);
  });

  it("goes to the route's cloud target, which is sent it as it is", async () => {
    upstream.script(() => ({ kind: "text", text: '{"e":"value_7"}' }));
    const res = await postJson(`${tandem.url}/v1/chat/completions`, {
      model: "local-then-cloud",
      messages,
      response_format: { type: "json_schema", json_schema: { name: "x", schema: huge } },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get("x-tandem-target"), "up/gpt");
  });
});
