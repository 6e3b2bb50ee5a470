import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { addUsage } from "../../src/core/index.js";

describe("addUsage", () => {
  it("sums every counter, the cache write tokens included", () => {
    assert.deepEqual(
      addUsage(
        { inputTokens: 10, outputTokens: 2, cachedInputTokens: 4, cacheWriteInputTokens: 3, reasoningTokens: 1 },
        { inputTokens: 5, outputTokens: 7, cachedInputTokens: 1, cacheWriteInputTokens: 2, reasoningTokens: 6 },
      ),
      { inputTokens: 15, outputTokens: 9, cachedInputTokens: 5, cacheWriteInputTokens: 5, reasoningTokens: 7 },
    );
  });

  it("keeps an optional counter when either side reported it, and leaves it out when neither did", () => {
    assert.deepEqual(
      addUsage({ inputTokens: 1, outputTokens: 1, cacheWriteInputTokens: 8 }, { inputTokens: 2, outputTokens: 3 }),
      {
        inputTokens: 3,
        outputTokens: 4,
        cacheWriteInputTokens: 8,
      },
    );
    assert.deepEqual(addUsage({ inputTokens: 1, outputTokens: 1 }, { inputTokens: 0, outputTokens: 0 }), {
      inputTokens: 1,
      outputTokens: 1,
    });
  });
});
