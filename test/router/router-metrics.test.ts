/**
 * What the router's metrics say against what happened: tokens reported in parts (Anthropic's input
 * in message_start, its output in message_delta), failovers only where there was a next target, and
 * an attempt whose stream broke mid-answer counted as failed, not as a success.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GatewayError, type StreamEvent } from "../../src/core/index.js";
import type { Target } from "../../src/router/catalog.js";
import { chatRequest, collect, context, counter, planOf, routerParts, scriptedTarget } from "../support/router-parts.js";

const ANSWER: StreamEvent[] = [{ type: "start" }, { type: "text-delta", text: "ok" }, { type: "finish", reason: "stop" }];

async function answer(parts: ReturnType<typeof routerParts>, tiers: Target[][], route = {}) {
  const plan = planOf(tiers, { retry: { attempts: 1, baseMs: 0, maxMs: 1000 }, ...route });
  const request = chatRequest();
  const outcome = await parts.loop.run(plan, context(), (target, timeouts, breaker, signal) =>
    parts.attempts.chat(target, request, context(signal), timeouts, breaker, undefined, true),
  );
  if (!("value" in outcome)) return outcome;
  return { events: await collect(outcome.value.events).catch((err: unknown) => err) };
}

describe("tandem_tokens_total", () => {
  it("counts the input a target reports apart from its output (Anthropic's message_start), once", async () => {
    const parts = routerParts();
    const a = scriptedTarget("an/m", [
      {
        events: [
          { type: "start" },
          { type: "usage", usage: { inputTokens: 3 } },
          { type: "text-delta", text: "ok" },
          { type: "usage", usage: { outputTokens: 20 } },
          { type: "finish", reason: "stop" },
        ],
      },
    ]);
    await answer(parts, [[a.target]]);
    assert.equal(await counter(parts.metrics, "tandem_tokens_total", { target: "an/m", direction: "input" }), 3);
    assert.equal(await counter(parts.metrics, "tandem_tokens_total", { target: "an/m", direction: "output" }), 20);
  });

  it("counts a counter repeated as a running total at its last value", async () => {
    const parts = routerParts();
    const a = scriptedTarget("an/m", [
      {
        events: [
          { type: "start" },
          { type: "usage", usage: { inputTokens: 3 } },
          { type: "text-delta", text: "ok" },
          { type: "usage", usage: { inputTokens: 3, outputTokens: 5 } },
          { type: "usage", usage: { outputTokens: 20 } },
          { type: "finish", reason: "stop" },
        ],
      },
    ]);
    await answer(parts, [[a.target]]);
    assert.equal(await counter(parts.metrics, "tandem_tokens_total", { target: "an/m", direction: "input" }), 3);
    assert.equal(await counter(parts.metrics, "tandem_tokens_total", { target: "an/m", direction: "output" }), 20);
  });
});

describe("tandem_failovers_total", () => {
  it("counts no move after a route's only target fails", async () => {
    const parts = routerParts();
    const a = scriptedTarget("a/m", [{ fail: new GatewayError("upstream_error", "500") }]);
    for (let i = 0; i < 3; i++) await answer(parts, [[a.target]]);
    assert.equal(await counter(parts.metrics, "tandem_failovers_total"), 0);
  });

  it("counts a move to a next target, and none after the last", async () => {
    const parts = routerParts();
    const a = scriptedTarget("a/m", [{ fail: new GatewayError("upstream_error", "500") }]);
    const b = scriptedTarget("b/m", [{ fail: new GatewayError("timeout", "slow") }]);
    await answer(parts, [[a.target], [b.target]]);
    assert.equal(await counter(parts.metrics, "tandem_failovers_total", { route: "r", code: "upstream_error" }), 1);
    assert.equal(await counter(parts.metrics, "tandem_failovers_total"), 1);
  });
});

describe("tandem_attempts_total", () => {
  it("counts an answer that finished as ok", async () => {
    const parts = routerParts();
    const a = scriptedTarget("a/m", [{ events: ANSWER }]);
    await answer(parts, [[a.target]]);
    assert.equal(await counter(parts.metrics, "tandem_attempts_total", { target: "a/m", outcome: "ok" }), 1);
    assert.equal(await counter(parts.metrics, "tandem_attempts_total"), 1);
  });

  it("counts a stream that broke mid-answer as failed with its error, not as ok", async () => {
    const parts = routerParts();
    const a = scriptedTarget("a/m", [
      {
        events: [{ type: "start" }, { type: "text-delta", text: "half" }],
        failAfter: new GatewayError("upstream_error", "socket closed"),
      },
    ]);
    const outcome = await answer(parts, [[a.target]]);
    assert.ok("events" in outcome && outcome.events instanceof GatewayError);
    assert.equal(await counter(parts.metrics, "tandem_attempts_total", { target: "a/m", outcome: "ok" }), 0);
    assert.equal(await counter(parts.metrics, "tandem_attempts_total", { target: "a/m", outcome: "upstream_error" }), 1);
    assert.equal(await counter(parts.metrics, "tandem_upstream_errors_total", { target: "a/m", code: "upstream_error" }), 1);
  });

  it("counts an answer its reader left before the finish as abandoned", async () => {
    const parts = routerParts();
    const a = scriptedTarget("a/m", [{ events: ANSWER }]);
    const plan = planOf([[a.target]]);
    const request = chatRequest();
    const outcome = await parts.loop.run(plan, context(), (target, timeouts, breaker, signal) =>
      parts.attempts.chat(target, request, context(signal), timeouts, breaker, undefined, true),
    );
    assert.ok("value" in outcome);
    const iterator = outcome.value.events[Symbol.asyncIterator]();
    await iterator.next();
    await iterator.return?.();
    assert.equal(await counter(parts.metrics, "tandem_attempts_total", { target: "a/m", outcome: "abandoned" }), 1);
    assert.equal(await counter(parts.metrics, "tandem_attempts_total", { target: "a/m", outcome: "ok" }), 0);
  });
});

describe("tandem_attempts_total when the client leaves", () => {
  /** A target that gives its start, then waits for the caller's abort before its first token. */
  function waiting(name: string): Target {
    const { target } = scriptedTarget(name, []);
    return {
      ...target,
      provider: {
        ...target.provider,
        chat: (_request, signal) =>
          (async function* () {
            await new Promise((_resolve, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
            yield* ANSWER;
          })(),
      } as Target["provider"],
    };
  }

  it("says abandoned, as README and the metric's help do, not canceled: before the first token", async () => {
    const parts = routerParts();
    const client = new AbortController();
    const request = chatRequest();
    const running = parts.loop.run(planOf([[waiting("a/m")]]), context(client.signal), (target, timeouts, breaker, signal) =>
      parts.attempts.chat(target, request, context(signal), timeouts, breaker, undefined, true),
    );
    setTimeout(() => client.abort(), 20);
    await assert.rejects(running, (err: GatewayError) => err.code === "canceled");
    assert.equal(await counter(parts.metrics, "tandem_attempts_total", { target: "a/m", outcome: "abandoned" }), 1);
    assert.equal(await counter(parts.metrics, "tandem_attempts_total", { target: "a/m", outcome: "canceled" }), 0);
  });

  it("says abandoned when the client's leaving aborts the upstream read mid-answer", async () => {
    const parts = routerParts();
    const a = scriptedTarget("a/m", [{ events: [{ type: "start" }, { type: "text-delta", text: "one" }, ...ANSWER] }]);
    const client = new AbortController();
    const request = chatRequest();
    const outcome = await parts.loop.run(planOf([[a.target]]), context(client.signal), (target, timeouts, breaker, signal) =>
      parts.attempts.chat(target, request, context(signal), timeouts, breaker, undefined, true),
    );
    assert.ok("value" in outcome);
    const iterator = outcome.value.events[Symbol.asyncIterator]();
    await iterator.next();
    await iterator.next();
    client.abort();
    await assert.rejects(iterator.next(), (err: GatewayError) => err.code === "canceled");
    assert.equal(await counter(parts.metrics, "tandem_attempts_total", { target: "a/m", outcome: "abandoned" }), 1);
    assert.equal(await counter(parts.metrics, "tandem_attempts_total", { target: "a/m", outcome: "canceled" }), 0);
  });
});

describe("tandem_retries_total", () => {
  it("counts a retry once it is sent, not one the breaker stopped during its backoff (listed as breaker_open)", async () => {
    // A breaker that opens at the first failure: the retry after it finds the circuit open and is never sent.
    const parts = routerParts({ breaker: { failureThreshold: 1, cooldownMs: 60_000 } });
    const a = scriptedTarget("a/m", [{ fail: new GatewayError("upstream_error", "500", { retryable: true }) }]);
    const b = scriptedTarget("b/m", [{ events: ANSWER }]);
    const plan = planOf([[a.target], [b.target]], { retry: { attempts: 2, baseMs: 1, maxMs: 2 } });
    const request = chatRequest();
    const outcome = await parts.loop.run(plan, context(), (target, timeouts, breaker, signal) =>
      parts.attempts.chat(target, request, context(signal), timeouts, breaker, undefined, true),
    );
    assert.ok("value" in outcome);
    await collect(outcome.value.events);
    assert.equal(a.calls(), 1, "the retry was not sent");
    assert.equal(await counter(parts.metrics, "tandem_retries_total"), 0);
    assert.match(outcome.meta.degraded ?? "", /a\/m: upstream_error after \d+ ms \(500\); a\/m: breaker_open after 0 ms/);
    assert.equal(await counter(parts.metrics, "tandem_failovers_total", { route: "r", code: "breaker_open" }), 1);
    assert.equal(await counter(parts.metrics, "tandem_attempts_total", { target: "a/m" }), 1);
  });

  it("counts each retry that was sent", async () => {
    const parts = routerParts();
    const a = scriptedTarget("a/m", [
      { fail: new GatewayError("upstream_error", "500", { retryable: true }) },
      { events: ANSWER },
    ]);
    const plan = planOf([[a.target]], { retry: { attempts: 3, baseMs: 1, maxMs: 2 } });
    const request = chatRequest();
    const outcome = await parts.loop.run(plan, context(), (target, timeouts, breaker, signal) =>
      parts.attempts.chat(target, request, context(signal), timeouts, breaker, undefined, true),
    );
    assert.ok("value" in outcome);
    await collect(outcome.value.events);
    assert.equal(a.calls(), 2);
    assert.equal(await counter(parts.metrics, "tandem_retries_total", { target: "a/m" }), 1);
  });
});
