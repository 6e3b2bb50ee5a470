/** The one exponential backoff every retry in tandem uses. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { backoffDelayMs } from "../../src/core/index.js";

describe("backoffDelayMs", () => {
  it("doubles from the base and stops at the cap", () => {
    const delays = [0, 1, 2, 3, 4, 5].map((n) => backoffDelayMs(n, { baseMs: 250, maxMs: 2000 }));
    assert.deepEqual(delays, [250, 500, 1000, 2000, 2000, 2000]);
  });

  it("has no cap unless given one", () => {
    assert.equal(backoffDelayMs(10, { baseMs: 1 }), 1024);
  });

  it("with full jitter, draws between 0 and the capped value", () => {
    const options = { baseMs: 100, maxMs: 1000, jitter: "full" } as const;
    assert.equal(
      backoffDelayMs(2, options, () => 0),
      0,
    );
    assert.equal(
      backoffDelayMs(2, options, () => 0.5),
      200,
    );
    assert.equal(
      backoffDelayMs(2, options, () => 0.999_999),
      400,
    );
    assert.equal(
      backoffDelayMs(8, options, () => 0.999_999),
      1000,
      "the cap bounds the draw too",
    );
  });

  it("treats a negative retry number as the first", () => {
    assert.equal(backoffDelayMs(-1, { baseMs: 100 }), 100);
  });
});
