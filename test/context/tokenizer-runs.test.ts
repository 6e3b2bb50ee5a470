import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { boundedRuns } from "../../src/context/tokenizer-runs.js";

describe("boundedRuns", () => {
  it("hands the tokenizer no run of more than 128 non-space or space characters, and never half a surrogate pair", () => {
    const text = `intro ${"y".repeat(1000)} middle ${"🙂".repeat(300)}${" ".repeat(500)}end ${"漢".repeat(700)}`;
    const pieces = boundedRuns(text);
    assert.equal(pieces.join(""), text);
    assert.ok(pieces.length > 10);
    for (const piece of pieces) {
      assert.doesNotMatch(piece, /\S{129,}|\s{129,}/);
      assert.doesNotMatch(piece, /^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/, "a surrogate pair is never cut");
    }
  });

  it("leaves ordinary text whole", () => {
    const prose = "The quick brown fox jumps over the lazy dog. ".repeat(2000);
    assert.deepEqual(boundedRuns(prose), [prose]);
    assert.deepEqual(boundedRuns(""), [""]);
  });
});
