/** The per-target circuit breaker, on a clock the test moves by hand. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type BreakerState, CircuitBreaker } from "../../src/router/circuit-breaker.js";

function breaker(threshold = 3, cooldownMs = 1000) {
  let now = 0;
  const changes: string[] = [];
  const b = new CircuitBreaker({
    failureThreshold: threshold,
    cooldownMs,
    now: () => now,
    onChange: (from: BreakerState, to: BreakerState) => changes.push(`${from}->${to}`),
  });
  return { b, changes, advance: (ms: number) => (now += ms) };
}

describe("CircuitBreaker", () => {
  it("opens after the threshold of failures in a row, and a success in between resets the count", () => {
    const { b, changes } = breaker(3);
    b.failure();
    b.failure();
    b.success();
    b.failure();
    b.failure();
    assert.equal(b.state, "closed");
    assert.equal(b.allow(), true);
    b.failure();
    assert.equal(b.state, "open");
    assert.deepEqual(changes, ["closed->open"]);
  });

  it("refuses while open, then lets exactly one trial through", () => {
    const { b, advance } = breaker(1, 1000);
    b.failure();
    assert.equal(b.allow(), false);
    assert.equal(b.retryInMs, 1000);
    advance(999);
    assert.equal(b.allow(), false);
    assert.equal(b.retryInMs, 1);
    advance(1);
    assert.equal(b.allow(), true, "the trial");
    assert.equal(b.state, "half-open");
    assert.equal(b.allow(), false, "only one trial at a time");
  });

  it("closes on the trial's success and opens again for a new cooldown on its failure", () => {
    const { b, advance, changes } = breaker(1, 1000);
    b.failure();
    advance(1000);
    assert.equal(b.allow(), true);
    b.failure();
    assert.equal(b.state, "open");
    assert.equal(b.retryInMs, 1000, "a fresh cooldown");
    advance(1000);
    assert.equal(b.allow(), true);
    b.success();
    assert.equal(b.state, "closed");
    assert.deepEqual(changes, ["closed->open", "open->half-open", "half-open->open", "open->half-open", "half-open->closed"]);
  });

  it("frees the trial slot on release, without deciding anything", () => {
    const { b, advance } = breaker(1, 10);
    b.failure();
    advance(10);
    assert.equal(b.allow(), true);
    b.release();
    assert.equal(b.state, "half-open");
    assert.equal(b.allow(), true, "another trial may go");
  });
});
