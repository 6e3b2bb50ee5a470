/**
 * The attempt loop with the route's RetryPolicy, on scripted in-memory targets: retries, moving on,
 * stopping, key rotations counted as attempts, and what reaches each target's breaker.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GatewayError, KeyRotatedError, type StreamEvent, UNSUPPORTED_BY_TARGET } from "../../src/core/index.js";
import { noAnswerError } from "../../src/router/attempt-log.js";
import type { Target } from "../../src/router/catalog.js";
import { chatRequest, context, counter, planOf, routerParts, scriptedTarget } from "../support/router-parts.js";

const ANSWER: StreamEvent[] = [{ type: "start" }, { type: "text-delta", text: "ok" }, { type: "finish", reason: "stop" }];
// baseMs 0: a retry waits 0 ms, so nothing here depends on the clock.
const FAST_RETRY = { retry: { attempts: 3, baseMs: 0, maxMs: 1000 } };

function runChat(parts: ReturnType<typeof routerParts>, tiers: Target[][], route = {}) {
  const plan = planOf(tiers, { ...FAST_RETRY, ...route });
  const request = chatRequest();
  return parts.loop.run(plan, context(), (target, timeouts, breaker, signal) =>
    parts.attempts.chat(target, request, context(signal), timeouts, breaker, undefined, true),
  );
}

describe("AttemptLoop", () => {
  it("retries a target that fails with a retryable error, and counts each attempt", async () => {
    const parts = routerParts();
    const a = scriptedTarget("a/m", [{ fail: new GatewayError("unavailable", "down") }, { events: ANSWER }]);
    const outcome = await runChat(parts, [[a.target]]);
    assert.ok("value" in outcome);
    assert.deepEqual(outcome.meta, { route: "r", target: "a/m", attempts: 2, degraded: undefined });
    assert.equal(await counter(parts.metrics, "tandem_retries_total", { target: "a/m" }), 1);
    assert.equal(parts.breakers.state("a/m"), "closed");
  });

  it("moves on to the next tier after the retries, and says the answer is degraded", async () => {
    const parts = routerParts();
    const a = scriptedTarget("a/m", [{ fail: new GatewayError("overloaded", "busy") }]);
    const b = scriptedTarget("b/m", [{ events: ANSWER }]);
    const outcome = await runChat(parts, [[a.target], [b.target]]);
    assert.ok("value" in outcome);
    assert.equal(a.calls(), 3);
    assert.equal(outcome.meta.target, "b/m");
    assert.equal(outcome.meta.attempts, 4);
    assert.match(outcome.meta.degraded ?? "", /^tier 2 answered; a\/m: overloaded after \d+ ms \(busy\)/);
  });

  it("stops at a client's bad request without trying anything else or blaming the target", async () => {
    const parts = routerParts({ breaker: { failureThreshold: 1, cooldownMs: 30_000 } });
    const a = scriptedTarget("a/m", [{ fail: new GatewayError("invalid_request", "bad field") }]);
    const b = scriptedTarget("b/m", [{ events: ANSWER }]);
    await assert.rejects(runChat(parts, [[a.target], [b.target]]), { code: "invalid_request" });
    assert.equal(b.calls(), 0);
    assert.equal(parts.breakers.state("a/m"), "closed");
  });

  it("counts a key rotation as an attempt of its own, spends no retry on it and does not blame the target", async () => {
    const parts = routerParts({ breaker: { failureThreshold: 1, cooldownMs: 30_000 } });
    const refused = new GatewayError("authentication", "key refused", { status: 401 });
    const a = scriptedTarget("a/m", [
      { fail: new KeyRotatedError(refused, 3) },
      { fail: new KeyRotatedError(new GatewayError("rate_limited", "slow down"), 3) },
      { events: ANSWER },
    ]);
    const outcome = await runChat(parts, [[a.target]], { retry: { attempts: 1, baseMs: 0, maxMs: 1000 } });
    assert.ok("value" in outcome, "one attempt allowed, yet both rotations went through");
    assert.equal(outcome.meta.attempts, 3);
    assert.equal(outcome.meta.degraded, undefined);
    assert.equal(parts.breakers.state("a/m"), "closed", "a threshold of 1 would have opened on a counted failure");
    assert.equal(parts.stats.snapshot("a/m").failures, 0);
    assert.equal(await counter(parts.metrics, "tandem_retries_total"), 0);
    assert.equal(await counter(parts.metrics, "tandem_attempts_total", { target: "a/m", outcome: "authentication" }), 1);
  });

  it("lists every rotated key's failure when the target still cannot answer", async () => {
    const parts = routerParts();
    const a = scriptedTarget("a/m", [
      { fail: new KeyRotatedError(new GatewayError("authentication", "key one refused"), 2) },
      { fail: new GatewayError("authentication", "key two refused") },
    ]);
    const outcome = await runChat(parts, [[a.target]]);
    assert.ok("failed" in outcome);
    assert.deepEqual(
      outcome.failed.map((f) => `${f.target} ${f.code} ${f.message}`),
      ["a/m authentication key one refused", "a/m authentication key two refused"],
    );
    assert.equal(outcome.lastError?.message, "key two refused");
  });

  it("bounds rotations by the pool's size, even when the pool keeps offering a key", async () => {
    const parts = routerParts();
    const a = scriptedTarget("a/m", [{ fail: new KeyRotatedError(new GatewayError("rate_limited", "429"), 2) }]);
    const outcome = await runChat(parts, [[a.target]], { retry: { attempts: 1, baseMs: 0, maxMs: 1000 } });
    assert.ok("failed" in outcome);
    assert.equal(a.calls(), 2, "one rotation for a pool of two, then the policy's usual course");
  });

  it("opens a target's breaker after its threshold and then skips it without calling it", async () => {
    const parts = routerParts({ breaker: { failureThreshold: 2, cooldownMs: 30_000 } });
    const a = scriptedTarget("a/m", [{ fail: new GatewayError("upstream_error", "502") }]);
    const b = scriptedTarget("b/m", [{ events: ANSWER }]);
    await runChat(parts, [[a.target], [b.target]], { retry: { attempts: 2, baseMs: 0, maxMs: 1000 } });
    assert.equal(parts.breakers.state("a/m"), "open");
    const before = a.calls();
    const outcome = await runChat(parts, [[a.target], [b.target]]);
    assert.ok("value" in outcome);
    assert.equal(a.calls(), before, "not called while open");
    assert.match(outcome.meta.degraded ?? "", /a\/m: breaker_open/);
  });

  it("a request every target refuses for what it is: no retry, no breaker moved, and a 400 that lists why", async () => {
    const parts = routerParts({ breaker: { failureThreshold: 1, cooldownMs: 30_000 } });
    // What the local engine answers an image: a valid request its model cannot serve.
    const refusal = (target: string) =>
      new GatewayError("invalid_request", `${target} reads text only; this conversation has an image.`, {
        target,
        retryable: false,
        reason: UNSUPPORTED_BY_TARGET,
      });
    const a = scriptedTarget("a/m", [{ fail: refusal("a/m") }]);
    const b = scriptedTarget("b/m", [{ fail: refusal("b/m") }]);
    const plan = planOf([[a.target], [b.target]], FAST_RETRY);
    const request = chatRequest();
    // Both unsuitable by the plan's check, so both are tried and each one's own answer decides.
    const outcome = await parts.loop.run(
      plan,
      context(),
      (target, timeouts, breaker, signal) =>
        parts.attempts.chat(target, request, context(signal), timeouts, breaker, undefined, true),
      new Set(),
      () => "reads text only; the conversation has an image",
    );
    assert.ok("failed" in outcome);
    assert.equal(a.calls(), 1, "not retried");
    assert.equal(b.calls(), 1);
    assert.equal(parts.breakers.state("a/m"), "closed", "a threshold of 1 would have opened on a counted failure");
    assert.equal(parts.breakers.state("b/m"), "closed");
    assert.equal(parts.stats.snapshot("a/m").failures, 0);
    const error = noAnswerError(plan.name, outcome);
    assert.equal(error.code, "invalid_request");
    assert.equal(error.status, 400);
    assert.equal(error.retryable, false);
    assert.match(
      error.message,
      /^No target of 'r' can take this request\. Attempts: a\/m: invalid_request .*reads text only.*; b\/m: /,
    );
  });

  it("gives up with canceled at once when the client leaves", async () => {
    const parts = routerParts();
    const a = scriptedTarget("a/m", [{ fail: new GatewayError("canceled", "client left") }]);
    const b = scriptedTarget("b/m", [{ events: ANSWER }]);
    await assert.rejects(runChat(parts, [[a.target], [b.target]]), { code: "canceled" });
    assert.equal(b.calls(), 0);
  });
});
