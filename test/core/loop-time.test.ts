/**
 * Timeouts that leave out the time tandem's own event loop was held up (src/core/loop-time.ts).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LoopTimeout, loopStalledMs } from "../../src/core/loop-time.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function holdLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // The loop is held: no timer or I/O runs.
  }
}

describe("LoopTimeout", () => {
  it("does not count a stall of the loop against its span", async () => {
    const started = performance.now();
    let firedAt = 0;
    const timeout = new LoopTimeout(() => {
      firedAt = performance.now();
    }, 150);
    await sleep(60);
    const before = loopStalledMs();
    holdLoop(300);
    await sleep(400);
    timeout.clear();
    assert.ok(loopStalledMs() - before >= 250, "the stall was seen");
    // Without the stall it would have fired 150 ms after the start; the 300 ms held are waited out again.
    assert.ok(firedAt - started >= 400, `fired ${(firedAt - started).toFixed(0)} ms after the start`);
  });

  it("fires on time when the loop was free", async () => {
    const started = performance.now();
    const fired = await new Promise<number>((resolve) => new LoopTimeout(() => resolve(performance.now()), 80));
    assert.ok(fired - started >= 79 && fired - started < 1_000);
  });

  it("keeps one watcher while timeouts come and go one after another, as requests do", async () => {
    const real = globalThis.setInterval;
    let intervals = 0;
    globalThis.setInterval = ((...args: Parameters<typeof setInterval>) => {
      intervals++;
      return real(...args);
    }) as typeof setInterval;
    try {
      await sleep(200); // any watcher of the tests before has stopped
      for (let i = 0; i < 100; i++) new LoopTimeout(() => {}, 10_000).clear();
      assert.equal(intervals, 1, "one watcher for a hundred timeouts armed and cleared in turn");
      // A period after the last is cleared, the watcher stops: the next timeout starts another.
      await sleep(200);
      new LoopTimeout(() => {}, 10_000).clear();
      assert.equal(intervals, 2);
    } finally {
      globalThis.setInterval = real;
    }
  });
});
