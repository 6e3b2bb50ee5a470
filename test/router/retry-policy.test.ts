/** RetryPolicy: the one decision after a failed attempt (retry after which delay, rotate key, next, stop). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GatewayError, KeyRotatedError } from "../../src/core/index.js";
import { RetryPolicy } from "../../src/router/retry-policy.js";

const error = (code: ConstructorParameters<typeof GatewayError>[0], options = {}) => new GatewayError(code, "x", options);
const policy = (attempts = 3, random = () => 0.5) => new RetryPolicy({ attempts, baseMs: 100, maxMs: 1000 }, random);

describe("RetryPolicy", () => {
  it("retries a retryable failure after a jittered exponential backoff while attempts are left", () => {
    const p = policy(3);
    assert.deepEqual(p.afterFailure(error("unavailable"), 0, 60_000), { action: "retry", delayMs: 50 });
    assert.deepEqual(p.afterFailure(error("unavailable"), 1, 60_000), { action: "retry", delayMs: 100 });
    assert.deepEqual(p.afterFailure(error("unavailable"), 2, 60_000), { action: "next" }, "the last attempt moves on");
  });

  it("honours an upstream's Retry-After only when it is within maxMs and the time left", () => {
    const p = policy(3);
    assert.deepEqual(p.afterFailure(error("rate_limited", { retryAfterMs: 800 }), 0, 60_000), { action: "retry", delayMs: 800 });
    assert.deepEqual(p.afterFailure(error("rate_limited", { retryAfterMs: 5000 }), 0, 60_000), { action: "next" });
    assert.deepEqual(p.afterFailure(error("rate_limited", { retryAfterMs: 800 }), 0, 800), { action: "next" });
  });

  it("moves on at once from what a retry cannot fix, and stops at the client's own fault", () => {
    const p = policy();
    for (const code of ["authentication", "permission_denied", "not_found", "context_length_exceeded", "internal"] as const) {
      assert.deepEqual(p.afterFailure(error(code), 0, 60_000), { action: "next" }, code);
    }
    assert.deepEqual(p.afterFailure(error("rate_limited", { retryable: false }), 0, 60_000), { action: "next" }, "spent quota");
    for (const code of ["invalid_request", "content_filter", "payload_too_large", "unsupported_media_type"] as const) {
      assert.deepEqual(p.afterFailure(error(code), 0, 60_000), { action: "stop" }, code);
    }
    assert.deepEqual(p.afterFailure(error("canceled"), 0, 60_000), { action: "canceled" });
  });

  it("rotates to the pool's next key at once, up to one less than the pool's size, without blaming the target", () => {
    const p = policy(1);
    const rotated = new KeyRotatedError(error("authentication"), 3);
    assert.deepEqual(p.afterFailure(rotated, 0, 60_000), { action: "rotate-key" }, "even with no retry left");
    assert.deepEqual(p.afterFailure(rotated, 0, 60_000, 1), { action: "rotate-key" });
    assert.deepEqual(p.afterFailure(rotated, 0, 60_000, 2), { action: "next" }, "every key had its turn");
    assert.equal(p.countsAgainstTarget(rotated), false);
    assert.equal(p.countsAgainstTarget(error("authentication")), true, "a refused key with no other left does count");
  });

  it("keeps the upstream's code, status and Retry-After on a rotated key's error", () => {
    const upstream = error("rate_limited", { retryAfterMs: 60_000, status: 429, target: "p/m" });
    const rotated = new KeyRotatedError(upstream, 2);
    assert.equal(rotated.code, "rate_limited");
    assert.equal(rotated.status, 429);
    assert.equal(rotated.retryAfterMs, 60_000);
    assert.equal(rotated.target, "p/m");
    assert.equal(rotated.cause, upstream);
  });
});
