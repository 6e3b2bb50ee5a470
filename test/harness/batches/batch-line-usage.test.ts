import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { batchLineUsage } from "../../../src/harness/batches/batch-line-usage.js";

describe("batchLineUsage", () => {
  it("reads each API's usage, cached tokens by each one's own name", () => {
    const openai = { usage: { prompt_tokens: 10, completion_tokens: 4, prompt_tokens_details: { cached_tokens: 6 } } };
    const responses = { usage: { input_tokens: 10, output_tokens: 4, input_tokens_details: { cached_tokens: 5 } } };
    const anthropic = { usage: { input_tokens: 10, output_tokens: 4, cache_read_input_tokens: 3 } };
    // DeepSeek's own answer (passed on as it came) names its cache hits only so.
    const deepseek = {
      usage: { prompt_tokens: 10, completion_tokens: 4, prompt_cache_hit_tokens: 7, prompt_cache_miss_tokens: 3 },
    };
    assert.deepEqual(
      [openai, responses, anthropic, deepseek].map((body) => batchLineUsage(body)?.cachedTokens),
      [6, 5, 3, 7],
    );
    assert.deepEqual(batchLineUsage(deepseek), { inputTokens: 10, outputTokens: 4, cachedTokens: 7, reasoningTokens: 0 });
    assert.equal(batchLineUsage({}), undefined);
  });
});
