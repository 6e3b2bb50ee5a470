/**
 * The seed of each choice a request is fanned out into (dialects/openai/choice-seed.ts): the client's
 * for choice 0, then one of its own per choice, so that seeded choices differ and repeat. The choices
 * on the real engine: test/e2e/local-choices.test.ts.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ChatRequest, NativeRequest } from "../../../src/core/index.js";
import { choiceSeed } from "../../../src/core/index.js";
import { withChoiceSeed } from "../../../src/dialects/openai/choice-seed.js";

const uint32 = (seed: number) => ((seed % 2 ** 32) + 2 ** 32) % 2 ** 32;
const seeds = (seed: number, n: number) => Array.from({ length: n }, (_, index) => choiceSeed(seed, index));

describe("choiceSeed", () => {
  it("keeps the client's seed for choice 0 and counts on from it", () => {
    assert.deepEqual(seeds(11, 4), [11, 12, 13, 14]);
    assert.deepEqual(seeds(0, 2), [0, 1]);
  });

  it("steps over -1, which the engine and Ollama read as random, so that every choice repeats", () => {
    assert.deepEqual(seeds(-3, 4), [-3, -2, 0, 1]);
    assert.deepEqual(seeds(2 ** 32 - 2, 3), [2 ** 32 - 2, 2 ** 32, 2 ** 32 + 1]);
  });

  it("leaves the random seed random for every choice", () => {
    assert.deepEqual(seeds(-1, 3), [-1, -1, -1]);
  });

  it("gives a seed past 2^53 (where seed + 1 is seed again) choices that differ in the 32 bits the engine reads", () => {
    const big = Number("12345678901234567890");
    const derived = seeds(big, 128);
    assert.equal(derived[0], big);
    assert.equal(new Set(derived.map(uint32)).size, 128);
  });

  it("gives 128 choices (the most a request makes) 128 seeds, none the random one", () => {
    for (const seed of [-200, -1 - 64, 0, 2 ** 32 - 100, 2 ** 53 - 50]) {
      const derived = seeds(seed, 128);
      assert.equal(new Set(derived.map(uint32)).size, 128, String(seed));
      assert.ok(!derived.map(uint32).includes(2 ** 32 - 1), String(seed));
    }
  });
});

describe("withChoiceSeed", () => {
  const request: ChatRequest = { model: "auto", messages: [], stream: false, seed: 7 };

  it("leaves choice 0 as it is, and gives an unseeded later choice only its index", () => {
    const { seed: _seed, ...unseeded } = request;
    assert.equal(withChoiceSeed(unseeded, 0), unseeded);
    assert.deepEqual(withChoiceSeed(unseeded, 2), { ...unseeded, choice: 2 });
    assert.equal(withChoiceSeed(request, 0), request);
  });

  it("puts the choice's seed in the client's body too, which is then sent serialised", () => {
    const native: NativeRequest = {
      wire: "openai-chat",
      body: { model: "auto", seed: 7 },
      text: '{"model":"auto","seed":7}',
      headers: {},
      lost: () => [],
    };
    const choice = withChoiceSeed({ ...request, native }, 2);
    assert.equal(choice.seed, 9);
    assert.deepEqual(choice.native?.body, { model: "auto", seed: 9 });
    assert.equal(choice.native?.text, undefined);
    assert.equal(native.body.seed, 7, "the client's body is not changed");
  });
});
