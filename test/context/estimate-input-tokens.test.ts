import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { countTokens } from "gpt-tokenizer";
import { loadTokenCounter } from "../../src/context/estimate-input-tokens.js";
import { boundedRuns } from "../../src/context/tokenizer-runs.js";

describe("loadTokenCounter", () => {
  // The tokenizer's merges are quadratic in a run it cannot split: a request (or a count_tokens
  // call) with 400,000 "x" or a long CJK paragraph held the server's event loop for minutes.
  it("counts a long run the tokenizer cannot split in bounded pieces (boundedRuns), ordinary text whole", async () => {
    const count = await loadTokenCounter();
    const run = "abc".repeat(1000);
    assert.equal(
      count(run),
      boundedRuns(run).reduce((sum, piece) => sum + countTokens(piece), 0),
    );
    assert.notEqual(count(run), countTokens(run), "counted in pieces, not whole");
    const prose = "The quick brown fox jumps over the lazy dog. ".repeat(100);
    assert.equal(count(prose), countTokens(prose));
  });
});
