/**
 * Hedging, driven directly: the race between a slow first target and the hedge started beside it,
 * and what follows once it is decided. The target that lost was cancelled, not failed: when the
 * winner's answer then fails its checks or breaks, the route goes on to it as it would without a
 * hedge. Every attempt of the race is counted in tandem_attempts_total.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GatewayError, type ProviderChatRequest, type StreamEvent } from "../../src/core/index.js";
import type { Target } from "../../src/router/catalog.js";
import { chatRequest, collect, context, counter, planOf, routerParts, scriptedTarget } from "../support/router-parts.js";

/** One call's script: its first event after `delayMs`, then `events`, then (optionally) a break. */
type Timed = { delayMs: number; events: StreamEvent[]; breakAfter?: boolean };

/** A target whose calls play `scripts` in order (the last repeats), each waiting its delay first; it records aborts. */
function timedTarget(name: string, scripts: Timed[]) {
  const { target } = scriptedTarget(name, []);
  const requests: ProviderChatRequest[] = [];
  let aborted = 0;
  const provider = {
    ...target.provider,
    chat(request: ProviderChatRequest, signal: AbortSignal): AsyncIterable<StreamEvent> {
      requests.push(request);
      const script = scripts[Math.min(requests.length - 1, scripts.length - 1)] as Timed;
      return (async function* () {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, script.delayMs);
          signal.addEventListener("abort", () => {
            clearTimeout(timer);
            aborted++;
            reject(signal.reason);
          });
        });
        for (const event of script.events) {
          signal.throwIfAborted();
          yield event;
        }
        if (script.breakAfter) throw new GatewayError("upstream_error", `${name}: the stream broke off`);
      })();
    },
  } as Target["provider"];
  return { target: { ...target, provider } as Target, requests, aborted: () => aborted };
}

const answer = (text: string): StreamEvent[] => [
  { type: "start" },
  { type: "text-delta", text },
  { type: "finish", reason: "stop" },
];

/** A route of `tiers` with a hedge after 50 ms, answered as the router answers a chat (attempt loop, then the relay). */
async function hedgedAnswer(parts: ReturnType<typeof routerParts>, tiers: Target[][], stream = true) {
  const plan = planOf(tiers, {
    retry: { attempts: 1, baseMs: 0, maxMs: 0 },
    hedge: { afterMs: 50 },
    timeouts: { firstTokenMs: 5000, idleMs: 5000, totalMs: 10_000 },
  });
  const request = chatRequest(stream);
  const tried = new Set<string>();
  const outcome = await parts.loop.run(
    plan,
    context(),
    (target, timeouts, breaker, signal) =>
      parts.attempts.chat(target, request, context(signal), timeouts, breaker, undefined, true),
    tried,
  );
  assert.ok("value" in outcome, JSON.stringify(outcome));
  const events = await parts.continuation.relay(
    plan,
    request,
    context(),
    outcome.meta,
    outcome.value.events,
    tried,
    undefined,
    undefined,
    outcome.earlier,
    outcome.deadlineAt,
  );
  return { meta: outcome.meta, events: await collect(events) };
}

const textOf = (events: StreamEvent[]) =>
  events.map((e) => (e.type === "text-delta" ? e.text : e.type === "switch" ? "|" : "")).join("");

describe("a hedge winner whose answer then fails", () => {
  for (const stream of [true, false]) {
    it(`goes on to the cancelled target when the winner's answer is empty (${stream ? "stream" : "whole"})`, async () => {
      const parts = routerParts();
      const a = timedTarget("a/m", [{ delayMs: 200, events: answer("from a") }]);
      // b, started by the hedge, answers at once but with nothing: the empty-answer check fails it.
      const b = timedTarget("b/m", [{ delayMs: 0, events: [{ type: "start" }, { type: "finish", reason: "stop" }] }]);
      const { meta, events } = await hedgedAnswer(parts, [[a.target], [b.target]], stream);
      assert.equal(textOf(events), "from a");
      assert.equal(meta.target, "a/m");
      assert.equal(meta.degraded, undefined, "the first tier answered the whole answer");
      assert.equal(a.aborted(), 1, "a was cancelled when b won the race");
      assert.equal(a.requests.length, 2, "and asked again once b's answer failed");
    });
  }

  it("goes on to the cancelled target from the text so far when the winner breaks mid-answer", async () => {
    const parts = routerParts();
    const a = timedTarget("a/m", [
      {
        delayMs: 100,
        events: [{ type: "start" }, { type: "text-delta", text: "One" }, { type: "text-delta", text: " two" }],
        breakAfter: true,
      },
    ]);
    const b = timedTarget("b/m", [
      { delayMs: 2000, events: answer("never") },
      { delayMs: 0, events: answer(" three") },
    ]);
    const { meta, events } = await hedgedAnswer(parts, [[a.target], [b.target]]);
    assert.equal(textOf(events), "One two| three");
    assert.equal(b.aborted(), 1, "b, the hedge, was cancelled when a won the race");
    assert.equal(b.requests.length, 2);
    assert.match(JSON.stringify(b.requests[1]?.messages), /One two/, "b is given the text so far to go on from");
    assert.match(meta.degraded ?? "", /switched mid-stream from a\/m to b\/m/);
  });

  it("goes on to the cancelled first target when the hedge wins and then breaks (same tier)", async () => {
    const parts = routerParts();
    const a = timedTarget("a/m", [{ delayMs: 300, events: answer(" three") }]);
    const b = timedTarget("b/m", [
      { delayMs: 0, events: [{ type: "start" }, { type: "text-delta", text: "One two" }], breakAfter: true },
    ]);
    const { meta, events } = await hedgedAnswer(parts, [[a.target, b.target]]);
    assert.equal(textOf(events), "One two| three");
    assert.equal(a.requests.length, 2);
    assert.equal(meta.target, "b/m", "the stream's first writer");
  });

  it("lists a target that failed before the race was decided, and does not go back to it", async () => {
    const parts = routerParts();
    const a = timedTarget("a/m", [
      { delayMs: 200, events: [{ type: "start" }, { type: "text-delta", text: "x" }], breakAfter: true },
    ]);
    // b fails (before a's first token) while a runs on.
    const { target: b, calls } = scriptedTarget("b/m", [{ fail: new GatewayError("upstream_error", "b is down") }]);
    await assert.rejects(hedgedAnswer(parts, [[a.target], [b]]), (err: GatewayError) => {
      assert.match(err.message, /b\/m: upstream_error/);
      assert.match(err.message, /a\/m: upstream_error/);
      return true;
    });
    assert.equal(calls(), 1);
  });
});

describe("tandem_attempts_total with a hedge", () => {
  it("counts the cancelled loser's attempt beside the winner's", async () => {
    const parts = routerParts();
    const a = timedTarget("a/m", [{ delayMs: 2000, events: answer("from a") }]);
    const b = timedTarget("b/m", [{ delayMs: 0, events: answer("from b") }]);
    const { meta, events } = await hedgedAnswer(parts, [[a.target], [b.target]]);
    assert.equal(textOf(events), "from b");
    assert.equal(meta.attempts, 2);
    // The loser's outcome is counted once its attempt has ended (its cancellation is asynchronous).
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(await counter(parts.metrics, "tandem_attempts_total", { target: "b/m", outcome: "ok" }), 1);
    assert.equal(await counter(parts.metrics, "tandem_attempts_total", { target: "a/m" }), 1, "a's cancelled attempt");
  });

  it("counts both attempts when the client leaves while both wait for a first token", async () => {
    const parts = routerParts();
    const a = timedTarget("a/m", [{ delayMs: 2000, events: answer("from a") }]);
    const b = timedTarget("b/m", [{ delayMs: 2000, events: answer("from b") }]);
    const client = new AbortController();
    const request = chatRequest();
    const plan = planOf([[a.target], [b.target]], { hedge: { afterMs: 20 } });
    setTimeout(() => client.abort(), 80);
    await assert.rejects(
      parts.loop.run(plan, context(client.signal), (target, timeouts, breaker, signal) =>
        parts.attempts.chat(target, request, context(signal), timeouts, breaker, undefined, true),
      ),
      (err: GatewayError) => err.code === "canceled",
    );
    assert.equal(await counter(parts.metrics, "tandem_attempts_total", { target: "a/m" }), 1);
    assert.equal(await counter(parts.metrics, "tandem_attempts_total", { target: "b/m" }), 1);
  });
});

describe("the default hedge delay", () => {
  it("is said in whole milliseconds in x-tandem-degraded", async () => {
    const parts = routerParts();
    // Twice an observed time to first token that is no whole number of milliseconds.
    parts.stats.firstEvent("a/m", 30.123456);
    const a = timedTarget("a/m", [{ delayMs: 1000, events: answer("from a") }]);
    const b = timedTarget("b/m", [{ delayMs: 0, events: answer("from b") }]);
    const plan = planOf([[a.target], [b.target]], { hedge: {} });
    const request = chatRequest();
    const outcome = await parts.loop.run(plan, context(), (target, timeouts, breaker, signal) =>
      parts.attempts.chat(target, request, context(signal), timeouts, breaker, undefined, true),
    );
    assert.ok("value" in outcome);
    assert.equal(outcome.meta.degraded, "tier 2 answered; a/m: hedged after 60 ms (no first token yet)");
    await outcome.value.discard?.();
  });
});
