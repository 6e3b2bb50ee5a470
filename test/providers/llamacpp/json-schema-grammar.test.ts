/**
 * The grammar that holds the embedded engine to a JSON Schema (response_format, a forced tool call):
 * an `integer` is digits only. node-llama-cpp's own rule allows an exponent (`2e-1` is 0.2), which a
 * model did write for `{"type": "integer"}`, failing the quality check against the client's schema.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { getLlama, type Llama, type LlamaGrammar } from "node-llama-cpp";
import { jsonSchemaGrammar } from "../../../src/providers/llamacpp/worker/json-schema-grammar.js";

// LlamaGrammar's own check of a text against the grammar (node-llama-cpp's tests use it).
const accepts = (grammar: LlamaGrammar, json: string) =>
  (grammar as unknown as { _testText(text: string): boolean })._testText(`${json}\n\n\n\n`);

describe("the engine's grammar for a JSON Schema", () => {
  let llama: Llama;
  before(async () => {
    llama = await getLlama({ gpu: false, build: "never" });
  });

  it("takes an integer as digits only, where node-llama-cpp's rule takes an exponent", async () => {
    const schema = { type: "object", properties: { a: { type: "integer" }, b: { type: "number" } } } as const;
    const theirs = await llama.createGrammarForJsonSchema(schema);
    const ours = await jsonSchemaGrammar(llama, schema);
    assert.equal(accepts(theirs, '{"a": 2e-1, "b": 1}'), true, "node-llama-cpp's rule (if this fails, it was fixed upstream)");
    for (const [json, ok] of [
      ['{"a": 2, "b": 1}', true],
      ['{"a": -20, "b": 0.5}', true],
      ['{"a": 0, "b": 2.5e-3}', true],
      ['{"a": 2e-1, "b": 1}', false],
      ['{"a": 2e1, "b": 1}', false],
      ['{"a": 2.0, "b": 1}', false],
    ] as const)
      assert.equal(accepts(ours, json), ok, json);
    assert.equal(ours.trimWhitespaceSuffix, theirs.trimWhitespaceSuffix);
    assert.deepEqual(ours.stopGenerationTriggers, theirs.stopGenerationTriggers);
  });

  it("leaves a grammar with no integer as node-llama-cpp built it", async () => {
    const schema = { type: "object", properties: { s: { type: "string" } } } as const;
    const ours = await jsonSchemaGrammar(llama, schema);
    assert.equal(ours.grammar, (await llama.createGrammarForJsonSchema(schema)).grammar);
  });
});

describe("an enum in the engine's grammar", () => {
  let llama: Llama;
  before(async () => {
    llama = await getLlama({ gpu: false, build: "never" });
  });

  // Values that share prefixes, are prefixes of each other, and need every kind of escape.
  const values = [
    ...Array.from({ length: 120 }, (_, i) => `city ${i}`),
    "city",
    "city 1 north",
    "",
    'say "hi"',
    "back\\slash",
    "line\nbreak",
    "tab\there",
    "bell\u0007",
    "ünïcödé ✓",
    "emoji 😀",
    "[bracket]",
    "x",
  ];

  it("writes a large enum as a prefix tree that takes exactly the values it took before", async () => {
    const schema = {
      type: "object",
      properties: { v: { enum: values }, n: { enum: [1, 2.5, -3, "4", null, true, false, "x", "y", "z"] } },
    } as const;
    const theirs = await llama.createGrammarForJsonSchema(schema);
    const ours = await jsonSchemaGrammar(llama, schema);
    assert.notEqual(ours.grammar, theirs.grammar);
    assert.doesNotMatch(ours.grammar, /^val\d+ ::=/m, "the one-value rules the tree replaced are gone");
    const near = (v: string) => [`${v}!`, v.slice(0, -1), `${v} `, `A${v}`];
    const candidates = [
      ...values.flatMap((v) => [v, ...near(v)]).map((v) => `{"v": ${JSON.stringify(v)}, "n": 1}`),
      ...["1", "2.5", "-3", '"4"', "null", "true", "false", '"x"', '"z"', "4", "2", '"w"', "nul", "truee", "-3.0"].map(
        (n) => `{"v": "x", "n": ${n}}`,
      ),
    ];
    let accepted = 0;
    for (const json of candidates) {
      const expected = accepts(theirs, json);
      assert.equal(accepts(ours, json), expected, json);
      if (expected) accepted++;
    }
    assert.ok(accepted >= values.length + 7, `every value is still taken (${accepted})`);
  });

  it("leaves a small enum flat", async () => {
    const small = { type: "object", properties: { v: { enum: ["a", "b", "c"] } } } as const;
    assert.equal((await jsonSchemaGrammar(llama, small)).grammar, (await llama.createGrammarForJsonSchema(small)).grammar);
  });
});
