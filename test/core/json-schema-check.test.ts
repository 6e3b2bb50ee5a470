import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compileSchema, SCHEMA_LIMITS, schemaOverLimits } from "../../src/core/index.js";

const enumOf = (n: number, pad = 0) => ({ enum: Array.from({ length: n }, (_, i) => `v${i}`.padEnd(pad, "x")) });
const nested = (levels: number): Record<string, unknown> =>
  levels === 0 ? { type: "string" } : { type: "object", properties: { a: nested(levels - 1) } };

describe("schemaOverLimits (OpenAI's Structured Outputs limits)", () => {
  it("takes a schema at every limit", () => {
    assert.equal(schemaOverLimits({ type: "object", properties: { e: enumOf(SCHEMA_LIMITS.enumValues) } }), undefined);
    assert.equal(schemaOverLimits(nested(SCHEMA_LIMITS.depth)), undefined);
    const props = Object.fromEntries(Array.from({ length: SCHEMA_LIMITS.properties }, (_, i) => [`p${i}`, { type: "string" }]));
    assert.equal(schemaOverLimits({ type: "object", properties: props }), undefined);
  });

  it("names the first limit a schema passes", () => {
    assert.match(
      schemaOverLimits({ anyOf: [enumOf(600), { type: "array", items: enumOf(600) }] }) ?? "",
      /1200 enum values; at most 1000/,
    );
    assert.match(schemaOverLimits(enumOf(300, 60)) ?? "", /more than 250 values has 18000 characters/);
    assert.match(schemaOverLimits(nested(SCHEMA_LIMITS.depth + 1)) ?? "", /nests 11 levels deep; at most 10/);
    const props = Object.fromEntries(Array.from({ length: 5001 }, (_, i) => [`p${i}`, { type: "string" }]));
    assert.match(schemaOverLimits({ type: "object", properties: props }) ?? "", /5001 object properties/);
  });

  it("does not count definitions as a level", () => {
    assert.equal(schemaOverLimits({ $defs: { deep: nested(SCHEMA_LIMITS.depth) }, $ref: "#/$defs/deep" }), undefined);
  });
});

describe("compileSchema", () => {
  it("says why a schema is not valid JSON Schema", () => {
    const invalid = (schema: Record<string, unknown>) => {
      const result = compileSchema(schema);
      return "invalid" in result ? result.invalid : undefined;
    };
    assert.match(invalid({ properties: { a: { $ref: "#/$defs/missing" } } }) ?? "", /can't resolve reference/);
    assert.match(invalid({ properties: { a: { type: "foo" } } }) ?? "", /schema is invalid/);
    assert.match(invalid({ properties: { a: { type: "string", pattern: "([" } } }) ?? "", /Invalid regular expression/);
  });

  it("compiles what is valid: a pattern valid only without the u flag, draft 2020-12, two schemas with one $id", () => {
    for (const schema of [
      { type: "string", pattern: "^[\\w-]+$" },
      { $schema: "https://json-schema.org/draft/2020-12/schema", prefixItems: [{ type: "string" }], $defs: { a: {} } },
      { $id: "same", type: "string" },
      { $id: "same", type: "number" },
    ]) {
      const result = compileSchema(schema);
      assert.ok("validate" in result, JSON.stringify(result));
    }
  });

  it("leaves unchecked, at once, a schema beyond the limits (ajv took 19 s for 40,000 enum values)", () => {
    const started = performance.now();
    const result = compileSchema({ properties: { e: enumOf(40_000) } });
    assert.ok("unchecked" in result);
    assert.ok(performance.now() - started < 1000);
  });
});
