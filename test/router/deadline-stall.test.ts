import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Deadline } from "../../src/router/deadline.js";

/** Holds the event loop for `ms`, as tandem's own work on a large body did. */
function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy
  }
}

describe("Deadline and a stalled event loop", () => {
  it("does not count time tandem's own loop was held up against the upstream's first token", async () => {
    const deadline = new Deadline(new AbortController().signal, { firstTokenMs: 100, idleMs: 100, totalMs: 10_000 }, "oa/m1");
    // The loop is held past the limit; the upstream's first event waits in the socket meanwhile and
    // is read right after (I/O comes after timers in a turn; setImmediate stands for it).
    // The stall ends with the limit's timer due: the next turn of the loop runs timers first, before
    // the I/O (and the setImmediate standing for it) of that turn.
    await new Promise<void>((resolve) =>
      setImmediate(() => {
        block(400);
        setImmediate(() => {
          deadline.tick();
          resolve();
        });
      }),
    );
    assert.equal(deadline.signal.aborted, false, "an answer that arrived in time is not a timeout");
    deadline.dispose();
  });

  it("still times out an upstream that sends nothing, once the span has passed with the loop free", async () => {
    const deadline = new Deadline(new AbortController().signal, { firstTokenMs: 100, idleMs: 100, totalMs: 10_000 }, "oa/m1");
    const started = performance.now();
    block(300);
    await new Promise<void>((resolve) => deadline.signal.addEventListener("abort", () => resolve(), { once: true }));
    assert.ok(performance.now() - started >= 300);
    assert.match(deadline.error(new Error("aborted")).message, /no first token within 100 ms/);
  });
});
