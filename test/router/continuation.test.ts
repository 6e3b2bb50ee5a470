/**
 * Mid-stream continuation, driven directly: an answer that breaks or fails a quality check after it
 * has started goes on on the next target (or starts afresh for a client that did not stream); the
 * same when the upstream's events come in one read and are checked as one batch.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { GatewayError, type StreamEvent } from "../../src/core/index.js";
import type { AttemptUsage } from "../../src/router/attempt.js";
import type { Target } from "../../src/router/catalog.js";
import { CONTINUE_INSTRUCTION, continuationRequest, continuedUsage } from "../../src/router/continuation.js";
import {
  chatRequest,
  collect,
  context,
  counter,
  planOf,
  routerParts,
  scriptedTarget,
  streamScriptsInOneRead,
} from "../support/router-parts.js";

const broken = new GatewayError("upstream_error", "stream reset");

async function answer(parts: ReturnType<typeof routerParts>, tiers: Target[][], stream = true, route = {}) {
  const plan = planOf(tiers, { retry: { attempts: 1, baseMs: 0, maxMs: 0 }, ...route });
  const request = chatRequest(stream);
  const tried = new Set<string>();
  const outcome = await parts.loop.run(
    plan,
    context(),
    (target, timeouts, breaker, signal) =>
      parts.attempts.chat(target, request, context(signal), timeouts, breaker, undefined, true),
    tried,
  );
  assert.ok("value" in outcome);
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
  return { meta: outcome.meta, events };
}

describe("continuationRequest and continuedUsage", () => {
  it("hands the next target the partial answer and asks it to go on", () => {
    const request = chatRequest();
    const next = continuationRequest(request, "Once upon");
    assert.deepEqual(next.messages.slice(-2), [
      { role: "assistant", content: [{ type: "text", text: "Once upon" }] },
      { role: "user", content: [{ type: "text", text: CONTINUE_INSTRUCTION }] },
    ]);
    assert.equal(continuationRequest(request, ""), request, "nothing to go on from: the request as it was");
  });

  it("makes a raw prompt longer by the partial answer, its suffix kept (a text continuer needs no instruction)", () => {
    const request = { ...chatRequest(), completion: { prompt: "def add(a, b):\n    ", suffix: "\nprint(add(1, 2))" } };
    const next = continuationRequest(request, "return a");
    assert.deepEqual(next.completion, { prompt: "def add(a, b):\n    return a", suffix: "\nprint(add(1, 2))" });
    assert.equal(next.messages.at(-1)?.role, "user", "a target that can only chat is still told to go on");
  });

  it("continues a token-id prompt after its ids (the partial text follows them) and does not echo it again", () => {
    const request = { ...chatRequest(), completion: { prompt: "Hello", tokens: [1, 9906], echo: "logprobs" as const } };
    const next = continuationRequest(request, " there");
    assert.deepEqual(next.completion, { prompt: "Hello there", tokens: [1, 9906], tokensThen: " there" });
    assert.deepEqual(continuationRequest(next, "!").completion?.tokensThen, " there!");
    // Failed after the echo and before any text: the next target answers without echoing it again.
    assert.deepEqual(continuationRequest(request, "").completion, { prompt: "Hello", tokens: [1, 9906] });
  });

  it("reports the original input and the output of both parts", () => {
    assert.deepEqual(continuedUsage({ inputTokens: 50, outputTokens: 4 }, { inputTokens: 10 }, 3), {
      type: "usage",
      usage: { inputTokens: 10, outputTokens: 7 },
    });
  });

  it("keeps the prompt-cache counters with the input they are part of, never one prompt's input with another's", () => {
    const continuation = { inputTokens: 60, outputTokens: 4, cachedInputTokens: 40, cacheWriteInputTokens: 5 };
    // The first target's input and its own counters; the continuation's were of its longer prompt.
    assert.deepEqual(continuedUsage(continuation, { inputTokens: 515, cachedInputTokens: 300, cacheWriteInputTokens: 200 }, 3), {
      type: "usage",
      usage: { inputTokens: 515, cachedInputTokens: 300, cacheWriteInputTokens: 200, outputTokens: 7 },
    });
    assert.deepEqual(continuedUsage(continuation, { inputTokens: 10 }, 3), {
      type: "usage",
      usage: { inputTokens: 10, outputTokens: 7 },
    });
    // The first target never said its input: the continuation's, with its counters.
    assert.deepEqual(continuedUsage(continuation, {}, 3), { type: "usage", usage: { ...continuation, outputTokens: 7 } });
  });
});

for (const oneRead of [false, true]) {
  // Each upstream event on its own, and all of them in one network read (the relay checks a read's
  // events together: a failure still passes on what came before it first).
  describe(`Continuation (${oneRead ? "events in one read" : "events one at a time"})`, () => {
    before(() => streamScriptsInOneRead(oneRead));
    after(() => streamScriptsInOneRead(false));

    it("continues a broken stream on the next target, marking the seam", async () => {
      const parts = routerParts();
      const a = scriptedTarget("a/m", [
        {
          events: [{ type: "start" }, { type: "text-delta", text: "Once " }, { type: "text-delta", text: "upon" }],
          failAfter: broken,
        },
      ]);
      const b = scriptedTarget("b/m", [
        {
          events: [
            { type: "start" },
            { type: "text-delta", text: " a time" },
            { type: "usage", usage: { inputTokens: 30, outputTokens: 2 } },
            { type: "finish", reason: "stop" },
          ],
        },
      ]);
      const { meta, events } = await answer(parts, [[a.target], [b.target]]);
      const seen = await collect(events);
      assert.deepEqual(seen, [
        { type: "start" },
        { type: "text-delta", text: "Once " },
        { type: "text-delta", text: "upon" },
        { type: "switch", from: "a/m", to: "b/m", reason: "upstream_error" },
        { type: "text-delta", text: " a time" },
        { type: "usage", usage: { inputTokens: 30, outputTokens: 4 } },
        { type: "finish", reason: "stop" },
      ] satisfies StreamEvent[]);
      const sent = b.requests[0]?.messages.at(-2);
      assert.deepEqual(sent, { role: "assistant", content: [{ type: "text", text: "Once upon" }] });
      assert.equal(meta.attempts, 2);
      assert.match(meta.degraded ?? "", /switched mid-stream from a\/m to b\/m after a\/m failed \(upstream_error\)/);
      assert.equal(await counter(parts.metrics, "tandem_mid_stream_switches_total"), 1);
      assert.equal(await counter(parts.metrics, "tandem_degraded_answers_total", { reason: "mid_stream_switch" }), 1);
      assert.equal(await counter(parts.metrics, "tandem_failovers_total"), 0, "a streamed continuation is no failover");
    });

    it("tells each target's usage by the target that reported it, as /metrics counts it", async () => {
      const told: [string, AttemptUsage][] = [];
      const parts = routerParts({ usage: (target, usage) => told.push([target, usage]) });
      const a = scriptedTarget("a/m", [
        {
          // A token, by the tokenizer too (the broken part's output is counted from its text).
          events: [{ type: "start" }, { type: "usage", usage: { inputTokens: 7 } }, { type: "text-delta", text: "Once" }],
          failAfter: broken,
        },
      ]);
      const b = scriptedTarget("b/m", [
        {
          events: [
            { type: "start" },
            { type: "text-delta", text: "upon a time" },
            { type: "usage", usage: { inputTokens: 30, outputTokens: 2 } },
            { type: "finish", reason: "stop" },
          ],
        },
      ]);
      const { events } = await answer(parts, [[a.target], [b.target]]);
      const seen = await collect(events);
      // The client reads the first target's input and both outputs; each target is charged its own.
      assert.deepEqual(seen.at(-2), { type: "usage", usage: { inputTokens: 7, outputTokens: 3 } });
      assert.deepEqual(told, [
        ["a/m", { answered: false, inputTokens: 7 }],
        ["b/m", { answered: true, inputTokens: 30, outputTokens: 2 }],
      ]);
      for (const [target, usage] of told) {
        const ok = await counter(parts.metrics, "tandem_attempts_total", { target, outcome: "ok" });
        assert.equal(ok, usage.answered ? 1 : 0);
        assert.equal(await counter(parts.metrics, "tandem_tokens_total", { target, direction: "input" }), usage.inputTokens ?? 0);
        assert.equal(
          await counter(parts.metrics, "tandem_tokens_total", { target, direction: "output" }),
          usage.outputTokens ?? 0,
        );
      }
    });

    it("counts the output of every target before the one that answered, when two broke in turn", async () => {
      const parts = routerParts();
      const a = scriptedTarget("a/m", [{ events: [{ type: "start" }, { type: "text-delta", text: "Once" }], failAfter: broken }]);
      const b = scriptedTarget("b/m", [
        {
          events: [{ type: "start" }, { type: "text-delta", text: " upon" }, { type: "text-delta", text: " a" }],
          failAfter: broken,
        },
      ]);
      const c = scriptedTarget("c/m", [
        {
          events: [
            { type: "start" },
            { type: "text-delta", text: " time" },
            { type: "usage", usage: { inputTokens: 30, outputTokens: 1 } },
            { type: "finish", reason: "stop" },
          ],
        },
      ]);
      const seen = await collect((await answer(parts, [[a.target], [b.target], [c.target]])).events);
      // "Once", " upon", " a" before the answering target's one: four in all, not the first target's alone.
      assert.deepEqual(
        seen.filter((e) => e.type === "usage"),
        [{ type: "usage", usage: { inputTokens: 30, outputTokens: 4 } }],
      );
    });

    it("when the targets it could go on with fail too, ends with an error listing every attempt, the broken one first", async () => {
      const parts = routerParts();
      const a = scriptedTarget("a/m", [
        { events: [{ type: "start" }, { type: "text-delta", text: "Once " }], failAfter: broken },
      ]);
      const down = new GatewayError("unavailable", "connection refused", { retryable: true });
      const b = scriptedTarget("b/m", [{ fail: down }]);
      const c = scriptedTarget("c/m", [{ fail: down }]);
      const { events } = await answer(parts, [[a.target], [b.target], [c.target]]);
      await assert.rejects(collect(events), (err: unknown) => {
        assert.ok(err instanceof GatewayError);
        assert.equal(err.code, "unavailable");
        assert.match(
          err.message,
          /^No answer for '.*': every target failed\. Attempts: a\/m: upstream_error after \d+ ms \(stream reset\); b\/m: unavailable after \d+ ms \(connection refused\); c\/m: unavailable/,
        );
        return true;
      });
    });

    it("when no target is left to go on with, a client that did not stream gets the 503 listing every attempt", async () => {
      const parts = routerParts();
      const down = new GatewayError("unavailable", "connection refused", { retryable: true });
      const a = scriptedTarget("a/m", [{ fail: down }]);
      const b = scriptedTarget("b/m", [{ events: [{ type: "start" }, { type: "text-delta", text: "half" }], failAfter: broken }]);
      const c = scriptedTarget("c/m", [{ events: [{ type: "start" }, { type: "text-delta", text: "half" }], failAfter: broken }]);
      const { events } = await answer(parts, [[a.target], [b.target], [c.target]], false);
      await assert.rejects(collect(events), (err: unknown) => {
        assert.ok(err instanceof GatewayError);
        assert.equal(err.code, "unavailable");
        assert.equal(err.status, 503);
        assert.match(
          err.message,
          /^No answer for 'r': every target failed\. Attempts: a\/m: unavailable after \d+ ms \(connection refused\); b\/m: upstream_error after \d+ ms \(stream reset\); c\/m: upstream_error after \d+ ms \(stream reset\)$/,
        );
        return true;
      });
    });

    it("when every target timed out mid-answer, the error is the 504 listing them", async () => {
      const parts = routerParts();
      const stalled = new GatewayError("timeout", "no token for 1500 ms");
      const a = scriptedTarget("a/m", [
        { events: [{ type: "start" }, { type: "text-delta", text: "half" }], failAfter: stalled },
      ]);
      const b = scriptedTarget("b/m", [
        { events: [{ type: "start" }, { type: "text-delta", text: "half" }], failAfter: stalled },
      ]);
      for (const stream of [false, true]) {
        const { events } = await answer(parts, [[a.target], [b.target]], stream);
        await assert.rejects(collect(events), (err: unknown) => {
          assert.ok(err instanceof GatewayError);
          assert.equal(err.code, "timeout", `stream: ${stream}`);
          assert.match(
            err.message,
            /every target failed\. Attempts: a\/m: timeout after \d+ ms \(no token for 1500 ms\); b\/m: timeout/,
          );
          return true;
        });
      }
    });

    it("a lone target that breaks off ends with its own error, as before it started", async () => {
      const parts = routerParts();
      const a = scriptedTarget("a/m", [{ events: [{ type: "start" }, { type: "text-delta", text: "half" }], failAfter: broken }]);
      const { events } = await answer(parts, [[a.target]], false);
      await assert.rejects(collect(events), (err: unknown) => err === broken);
    });

    it("answers afresh for a client that did not stream", async () => {
      const parts = routerParts();
      const a = scriptedTarget("a/m", [{ events: [{ type: "start" }, { type: "text-delta", text: "half" }], failAfter: broken }]);
      const b = scriptedTarget("b/m", [
        { events: [{ type: "start" }, { type: "text-delta", text: "whole" }, { type: "finish", reason: "stop" }] },
      ]);
      const { meta, events } = await answer(parts, [[a.target], [b.target]], false);
      const seen = await collect(events);
      assert.deepEqual(seen.at(2), { type: "switch", from: "a/m", to: "b/m", reason: "upstream_error", restart: true });
      assert.equal(b.requests[0]?.messages.length, 1, "the client's own conversation, not a continuation");
      assert.match(meta.degraded ?? "", /^answered afresh on b\/m after a\/m failed \(upstream_error\)$/);
    });

    it("counts an answer given afresh as a failover to a lower tier, not as a mid-stream switch", async () => {
      const parts = routerParts();
      const a = scriptedTarget("a/m", [{ events: [{ type: "start" }, { type: "text-delta", text: "half" }], failAfter: broken }]);
      const b = scriptedTarget("b/m", [
        { events: [{ type: "start" }, { type: "text-delta", text: "whole" }, { type: "finish", reason: "stop" }] },
      ]);
      const { events } = await answer(parts, [[a.target], [b.target]], false);
      await collect(events);
      assert.equal(await counter(parts.metrics, "tandem_failovers_total", { route: "r", code: "upstream_error" }), 1);
      assert.equal(await counter(parts.metrics, "tandem_mid_stream_switches_total"), 0);
      assert.equal(await counter(parts.metrics, "tandem_degraded_answers_total", { route: "r", reason: "lower_tier" }), 1);
      assert.equal(await counter(parts.metrics, "tandem_degraded_answers_total", { reason: "mid_stream_switch" }), 0);
    });

    it("answers afresh within the same tier as a failover there: not degraded", async () => {
      const parts = routerParts();
      const a = scriptedTarget("a/m", [{ events: [{ type: "start" }, { type: "text-delta", text: "half" }], failAfter: broken }]);
      const b = scriptedTarget("b/m", [
        { events: [{ type: "start" }, { type: "text-delta", text: "whole" }, { type: "finish", reason: "stop" }] },
      ]);
      const { meta, events } = await answer(parts, [[a.target, b.target]], false);
      const seen = await collect(events);
      assert.ok(
        seen.some((e) => e.type === "switch" && e.restart === true),
        "the reader still drops a's half",
      );
      assert.equal(meta.target, "b/m");
      assert.equal(meta.degraded, undefined);
      assert.equal(await counter(parts.metrics, "tandem_failovers_total", { route: "r", code: "upstream_error" }), 1);
      assert.equal(await counter(parts.metrics, "tandem_degraded_answers_total"), 0);
    });

    it("counts an answer given by a lower tier once, however many failovers it took", async () => {
      const parts = routerParts();
      const a = scriptedTarget("a/m", [{ events: [{ type: "start" }, { type: "text-delta", text: "half" }], failAfter: broken }]);
      const b = scriptedTarget("b/m", [{ events: [{ type: "start" }, { type: "text-delta", text: "more" }], failAfter: broken }]);
      const down = new GatewayError("unavailable", "connection refused", { retryable: true });
      const c = scriptedTarget("c/m", [{ fail: down }]);
      const d = scriptedTarget("d/m", [
        { events: [{ type: "start" }, { type: "text-delta", text: "whole" }, { type: "finish", reason: "stop" }] },
      ]);
      const { meta, events } = await answer(parts, [[a.target], [b.target], [c.target], [d.target]], false);
      await collect(events);
      assert.equal(meta.target, "d/m");
      assert.match(meta.degraded ?? "", /^answered afresh on d\/m after b\/m failed \(upstream_error\)$/);
      assert.equal(await counter(parts.metrics, "tandem_failovers_total"), 3);
      assert.equal(await counter(parts.metrics, "tandem_degraded_answers_total", { reason: "lower_tier" }), 1);
      assert.equal(await counter(parts.metrics, "tandem_degraded_answers_total"), 1);
    });

    it("fails over when the answer fails a quality check at its finish", async () => {
      const parts = routerParts();
      const a = scriptedTarget("a/m", [{ events: [{ type: "start" }, { type: "finish", reason: "stop" }] }]);
      const b = scriptedTarget("b/m", [
        { events: [{ type: "start" }, { type: "text-delta", text: "something" }, { type: "finish", reason: "stop" }] },
      ]);
      const { meta, events } = await answer(parts, [[a.target], [b.target]]);
      const seen = await collect(events);
      // Nothing of a's answer was given (its start was held with it): b answers as the first would, no seam.
      assert.deepEqual(seen, [
        { type: "start" },
        { type: "text-delta", text: "something" },
        { type: "finish", reason: "stop" },
      ] satisfies StreamEvent[]);
      assert.equal(meta.target, "b/m");
      assert.match(meta.degraded ?? "", /^tier 2 answered; a\/m: upstream_error after \d+ ms \(.*the answer is empty\)$/);
      assert.equal(meta.attempts, 2);
      assert.equal(await counter(parts.metrics, "tandem_quality_failures_total", { target: "a/m", check: "empty_output" }), 1);
      assert.equal(await counter(parts.metrics, "tandem_mid_stream_switches_total"), 0);
    });

    it("gives nothing when an empty first answer has no replacement: the relay fails with the 503 before its first event", async () => {
      for (const stream of [true, false]) {
        const parts = routerParts();
        const a = scriptedTarget("a/m", [{ events: [{ type: "start" }, { type: "finish", reason: "stop" }] }]);
        const down = new GatewayError("unavailable", "connection refused", { retryable: true });
        const b = scriptedTarget("b/m", [{ fail: down }]);
        // Rejected before any event could be read, so the dialect answers with this status, not a 200.
        await assert.rejects(answer(parts, [[a.target], [b.target]], stream), (err: unknown) => {
          assert.ok(err instanceof GatewayError);
          assert.equal(err.status, 503, `stream: ${stream}`);
          assert.match(err.message, /every target failed\. Attempts: a\/m: upstream_error .*; b\/m: unavailable/);
          return true;
        });
      }
    });

    it("ends with the error once a tool call has reached a streaming client", async () => {
      const parts = routerParts();
      const a = scriptedTarget("a/m", [
        {
          events: [
            { type: "start" },
            { type: "tool-call-start", index: 0, id: "c1", name: "f" },
            { type: "tool-call-delta", index: 0, argumentsDelta: "{}" },
            { type: "tool-call-end", index: 0 },
          ],
          failAfter: broken,
        },
      ]);
      const b = scriptedTarget("b/m", [{ events: [{ type: "start" }, { type: "finish", reason: "stop" }] }]);
      const { events } = await answer(parts, [[a.target], [b.target]]);
      const seen: StreamEvent[] = [];
      await assert.rejects(
        (async () => {
          for await (const event of events) seen.push(event);
        })(),
        { code: "upstream_error" },
      );
      assert.equal(seen.filter((e) => e.type === "tool-call-end").length, 1, "the checked call went out");
      assert.equal(b.calls(), 0, "no second target after a call was passed on");
    });

    it("holds back a tool call whose arguments are not JSON and takes the next target", async () => {
      const parts = routerParts();
      const a = scriptedTarget("a/m", [
        {
          events: [
            { type: "start" },
            { type: "tool-call-start", index: 0, id: "c1", name: "f" },
            { type: "tool-call-delta", index: 0, argumentsDelta: '{"x":' },
            { type: "tool-call-end", index: 0 },
            { type: "finish", reason: "tool_calls" },
          ],
        },
      ]);
      const b = scriptedTarget("b/m", [
        { events: [{ type: "start" }, { type: "text-delta", text: "fine" }, { type: "finish", reason: "stop" }] },
      ]);
      const { events } = await answer(parts, [[a.target], [b.target]]);
      const seen = await collect(events);
      assert.equal(seen.filter((e) => e.type.startsWith("tool-call")).length, 0, "no broken call reached the client");
      assert.deepEqual(seen.at(-1), { type: "finish", reason: "stop" });
    });

    it("passes on a call whose arguments the token limit cut (finish length), in order, without trying elsewhere", async () => {
      const parts = routerParts();
      const a = scriptedTarget("a/m", [
        {
          events: [
            { type: "start" },
            { type: "tool-call-start", index: 0, id: "c1", name: "f" },
            { type: "tool-call-delta", index: 0, argumentsDelta: '{"x":' },
            { type: "tool-call-end", index: 0 },
            { type: "finish", reason: "length" },
          ],
        },
      ]);
      const b = scriptedTarget("b/m", [
        { events: [{ type: "start" }, { type: "text-delta", text: "b" }, { type: "finish", reason: "stop" }] },
      ]);
      const { events } = await answer(parts, [[a.target], [b.target]]);
      const seen = await collect(events);
      assert.deepEqual(
        seen.map((e) => e.type),
        ["start", "tool-call-start", "tool-call-delta", "tool-call-end", "finish"],
      );
      assert.deepEqual(seen.at(-1), { type: "finish", reason: "length" });
    });
  });
}
