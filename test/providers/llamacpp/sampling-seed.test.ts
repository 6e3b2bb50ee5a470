/**
 * The seed a generation on the embedded engine samples with (worker/sampling-seed.ts): a fresh random
 * one without a seed or with -1 (llama.cpp's and Ollama's "random"), else the given seed as the uint32
 * llama.cpp takes, wrapped. The engine's answers themselves: engine.test.ts.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { samplingSeed } from "../../../src/providers/llamacpp/worker/sampling-seed.js";

describe("samplingSeed", () => {
  it("draws a random seed without one, and for -1", () => {
    assert.equal(
      samplingSeed(undefined, () => 123),
      123,
    );
    assert.equal(
      samplingSeed(-1, () => 456),
      456,
    );
    assert.equal(
      samplingSeed(2 ** 32 - 1, () => 789),
      789,
    );
    const drawn = new Set(Array.from({ length: 50 }, () => samplingSeed(undefined)));
    assert.ok(drawn.size > 45, "fresh seeds, not the current second");
    for (const seed of drawn) assert.ok(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32 - 1);
  });

  it("keeps a given seed, wrapped to 32 bits as llama.cpp and Ollama take it, not clamped to 0", () => {
    const never = () => assert.fail("a given seed is not random");
    assert.equal(samplingSeed(0, never), 0);
    assert.equal(samplingSeed(42, never), 42);
    assert.equal(samplingSeed(-2, never), 2 ** 32 - 2);
    assert.equal(samplingSeed(2 ** 32 + 5, never), 5);
    assert.equal(samplingSeed(Number("12345678901234567890"), never), Number("12345678901234567890") % 2 ** 32);
  });
});
