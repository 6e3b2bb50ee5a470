/**
 * A chat attempt counts in its target's circuit breaker once, when its answer is over: a stream that
 * starts and then breaks off is a failure (never a success at its start and a failure at its break,
 * which would reset the count, so that a target whose every stream broke would never open its
 * breaker), a finished answer a success, and an answer the client left counts against no target.
 * The same on every path: a lone target, a mid-stream continuation, a hedge, a half-open trial.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GatewayError, type StreamEvent } from "../../src/core/index.js";
import type { Target } from "../../src/router/catalog.js";
import {
  chatRequest,
  collect,
  context,
  counter,
  planOf,
  routerParts,
  type Script,
  scriptedTarget,
} from "../support/router-parts.js";

const ANSWER: StreamEvent[] = [{ type: "start" }, { type: "text-delta", text: "ok" }, { type: "finish", reason: "stop" }];
/** 200, some deltas, then the connection is gone: a broken stream. */
const BREAKS: Script = {
  events: [{ type: "start" }, { type: "text-delta", text: "The quick " }, { type: "text-delta", text: "brown " }],
  failAfter: new GatewayError("upstream_error", "the stream broke off before it finished (socket closed)"),
};

type Parts = ReturnType<typeof routerParts>;

/** One request through the loop and the continuation, as the router runs it; its events, or the error it ended with. */
async function ask(parts: Parts, tiers: Target[][], route = {}, signal?: AbortSignal): Promise<StreamEvent[] | GatewayError> {
  const plan = planOf(tiers, { retry: { attempts: 1, baseMs: 0, maxMs: 0 }, ...route });
  const request = chatRequest();
  const tried = new Set<string>();
  const outcome = await parts.loop.run(
    plan,
    context(signal),
    (target, timeouts, breaker, attemptSignal) =>
      parts.attempts.chat(target, request, context(attemptSignal), timeouts, breaker, undefined, true),
    tried,
  );
  if (!("value" in outcome)) return new GatewayError("unavailable", "no answer");
  try {
    const events = await parts.continuation.relay(
      plan,
      request,
      context(signal),
      outcome.meta,
      outcome.value.events,
      tried,
      undefined,
      undefined,
      outcome.earlier,
      outcome.deadlineAt,
    );
    return await collect(events);
  } catch (err) {
    return GatewayError.from(err);
  }
}

describe("a broken stream in its target's circuit breaker", () => {
  it("opens the breaker of a lone target whose every stream breaks mid-answer, after the threshold in a row", async () => {
    const parts = routerParts({ breaker: { failureThreshold: 3, cooldownMs: 60_000 } });
    const a = scriptedTarget("a/m", [BREAKS]);
    for (let i = 0; i < 3; i++) assert.ok((await ask(parts, [[a.target]])) instanceof GatewayError);
    assert.equal(parts.breakers.state("a/m"), "open");
    assert.equal(await counter(parts.metrics, "tandem_breaker_transitions_total", { target: "a/m", to: "open" }), 1);
    await ask(parts, [[a.target]]);
    assert.equal(a.calls(), 3, "an open breaker does not call the target");
  });

  it("opens it when each broken stream is continued on the next target, which then answers without it", async () => {
    const parts = routerParts({ breaker: { failureThreshold: 3, cooldownMs: 60_000 } });
    const a = scriptedTarget("a/m", [BREAKS]);
    const b = scriptedTarget("b/m", [{ events: ANSWER }]);
    for (let i = 0; i < 3; i++) {
      const events = await ask(parts, [[a.target], [b.target]]);
      assert.ok(Array.isArray(events) && events.some((e) => e.type === "switch"), "continued on b/m mid-stream");
    }
    assert.equal(parts.breakers.state("a/m"), "open");
    assert.equal(parts.breakers.state("b/m"), "closed");
    const events = await ask(parts, [[a.target], [b.target]]);
    assert.ok(Array.isArray(events) && !events.some((e) => e.type === "switch"), "b/m answered from the start");
    assert.equal(a.calls(), 3);
  });

  it("opens it when the broken streams are a hedge's that won the race", async () => {
    const parts = routerParts({ breaker: { failureThreshold: 2, cooldownMs: 60_000 } });
    // The primary has no first token before the hedge starts; the hedge answers first, then breaks off.
    const slow = scriptedTarget("slow/m", []);
    const primary: Target = {
      ...slow.target,
      provider: {
        ...slow.target.provider,
        chat: (_request, signal) =>
          (async function* () {
            await new Promise((resolve) => setTimeout(resolve, 200));
            signal.throwIfAborted();
            yield* ANSWER;
          })(),
      } as Target["provider"],
    };
    const hedge = scriptedTarget("h/m", [BREAKS]);
    const c = scriptedTarget("c/m", [{ events: ANSWER }]);
    const route = { hedge: { afterMs: 20 } };
    for (let i = 0; i < 2; i++) await ask(parts, [[primary], [hedge.target], [c.target]], route);
    assert.equal(hedge.calls(), 2);
    assert.equal(parts.breakers.state("h/m"), "open", "the hedge's broken streams count against it");
    assert.equal(parts.breakers.state("slow/m"), "closed", "the primary the hedge cancelled counts against nothing");
  });

  it("reopens a half-open breaker whose trial stream breaks mid-answer, and a finished trial closes it", async () => {
    const parts = routerParts({ breaker: { failureThreshold: 1, cooldownMs: 50 } });
    const a = scriptedTarget("a/m", [BREAKS, BREAKS, { events: ANSWER }]);
    await ask(parts, [[a.target]]);
    assert.equal(parts.breakers.state("a/m"), "open");
    // Past the cooldown: the next request is the one trial.
    await new Promise((resolve) => setTimeout(resolve, 80));
    await ask(parts, [[a.target]]);
    assert.equal(a.calls(), 2, "the trial was sent");
    assert.equal(parts.breakers.state("a/m"), "open", "its broken stream opened the breaker again");
    await new Promise((resolve) => setTimeout(resolve, 80));
    await ask(parts, [[a.target]]);
    assert.equal(parts.breakers.state("a/m"), "closed", "a trial whose answer finished closes it");
  });

  it("counts an answer the client left mid-stream against no target, and as abandoned", async () => {
    const parts = routerParts({ breaker: { failureThreshold: 1, cooldownMs: 60_000 } });
    const a = scriptedTarget("a/m", [
      {
        events: [{ type: "start" }, { type: "text-delta", text: "one " }, { type: "text-delta", text: "two" }, ...ANSWER],
      },
    ]);
    for (let i = 0; i < 3; i++) {
      const client = new AbortController();
      const plan = planOf([[a.target]], { retry: { attempts: 1, baseMs: 0, maxMs: 0 } });
      const request = chatRequest();
      const outcome = await parts.loop.run(plan, context(client.signal), (target, timeouts, breaker, signal) =>
        parts.attempts.chat(target, request, context(signal), timeouts, breaker, undefined, true),
      );
      assert.ok("value" in outcome);
      const iterator = outcome.value.events[Symbol.asyncIterator]();
      // The start and the first delta, which the attempt held when it began.
      await iterator.next();
      await iterator.next();
      // The client leaves: its signal aborts the upstream read under way.
      client.abort();
      await assert.rejects(iterator.next(), (err: GatewayError) => err.code === "canceled");
    }
    assert.equal(parts.breakers.state("a/m"), "closed");
    assert.equal(parts.stats.snapshot("a/m").failures, 0);
    assert.equal(await counter(parts.metrics, "tandem_attempts_total", { target: "a/m", outcome: "abandoned" }), 3);
    assert.equal(await counter(parts.metrics, "tandem_attempts_total", { target: "a/m", outcome: "canceled" }), 0);
  });

  it("counts a finished stream as the success that ends a run of failures", async () => {
    const parts = routerParts({ breaker: { failureThreshold: 2, cooldownMs: 60_000 } });
    const a = scriptedTarget("a/m", [BREAKS, { events: ANSWER }, BREAKS]);
    for (let i = 0; i < 3; i++) await ask(parts, [[a.target]]);
    assert.equal(parts.breakers.state("a/m"), "closed", "the finished answer between the breaks reset the count");
  });
});
