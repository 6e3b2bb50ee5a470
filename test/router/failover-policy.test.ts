/** Which failures are retried, moved past or stopped at, and which count against a target. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GatewayError, UNSUPPORTED_BY_TARGET } from "../../src/core/index.js";
import { countsAgainstTarget, failoverDecision } from "../../src/router/retry-policy.js";

describe("failover decisions", () => {
  const error = (code: ConstructorParameters<typeof GatewayError>[0], options = {}) => new GatewayError(code, "x", options);

  it("never counts a client's bad request against a target, and stops there", () => {
    for (const code of ["invalid_request", "unsupported_media_type", "payload_too_large", "content_filter"] as const) {
      assert.equal(failoverDecision(error(code)), "stop", code);
      assert.equal(countsAgainstTarget(error(code)), false, code);
    }
  });

  it("moves on without blame for a too-small window or an unknown model, with blame for a refused key", () => {
    assert.equal(failoverDecision(error("context_length_exceeded")), "next");
    assert.equal(countsAgainstTarget(error("context_length_exceeded")), false);
    assert.equal(countsAgainstTarget(error("not_found")), false);
    assert.equal(failoverDecision(error("authentication")), "next");
    assert.equal(countsAgainstTarget(error("authentication")), true);
  });

  it("moves on without blame from a valid request this target's model cannot serve (a suffix without FIM tokens)", () => {
    const cannot = error("invalid_request", { param: "suffix", reason: UNSUPPORTED_BY_TARGET });
    assert.equal(failoverDecision(cannot), "next");
    assert.equal(countsAgainstTarget(cannot), false);
  });

  it("retries and blames real upstream failures", () => {
    for (const code of ["unavailable", "upstream_error", "overloaded", "timeout", "rate_limited"] as const) {
      assert.equal(failoverDecision(error(code)), "retry", code);
      assert.equal(countsAgainstTarget(error(code)), true, code);
    }
  });

  it("moves on from a spent quota without retrying it", () => {
    const quota = error("rate_limited", { retryable: false, status: 429 });
    assert.equal(failoverDecision(quota), "next");
  });

  it("neither retries nor blames internal failures and cancellations", () => {
    assert.equal(failoverDecision(error("internal")), "next");
    assert.equal(countsAgainstTarget(error("internal")), false);
    assert.equal(failoverDecision(error("canceled")), "canceled");
    assert.equal(countsAgainstTarget(error("canceled")), false);
  });

  it("does not blame a busy local engine that refused work", () => {
    assert.equal(countsAgainstTarget(error("overloaded", { retryable: false })), false);
  });
});
