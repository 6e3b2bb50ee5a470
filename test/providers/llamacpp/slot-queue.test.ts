/** The slot queue's refusal when full, and the Retry-After it gives: the expected time until a slot frees. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GatewayError } from "../../../src/core/index.js";
import { RETRY_AFTER_MAX_MS, RETRY_AFTER_MIN_MS, SlotQueue } from "../../../src/providers/llamacpp/slot-queue.js";

function refusal(queue: SlotQueue): Promise<GatewayError> {
  return queue.acquire().then(
    () => assert.fail("a full queue took the request"),
    (err: unknown) => {
      assert.ok(err instanceof GatewayError);
      assert.equal(err.code, "overloaded");
      assert.equal(err.retryable, false, "the router moves on rather than retry a full queue");
      return err;
    },
  );
}

describe("SlotQueue's Retry-After", () => {
  it("is the mean time requests held a slot over the slots, between its bounds", async () => {
    let now = 0;
    const queue = new SlotQueue("local/m", 2, 0, () => now);
    const first = [await queue.acquire(), await queue.acquire()];
    // Nothing has finished yet: the shortest wait.
    assert.equal((await refusal(queue)).retryAfterMs, RETRY_AFTER_MIN_MS);
    now += 10_000;
    for (const release of first) release();
    const second = [await queue.acquire(), await queue.acquire()];
    // Two slots, each held 10 s: one frees every 5 s.
    assert.equal((await refusal(queue)).retryAfterMs, 5000);
    now += 1_000_000;
    for (const release of second) release();
    await queue.acquire();
    await queue.acquire();
    assert.equal((await refusal(queue)).retryAfterMs, RETRY_AFTER_MAX_MS);
  });

  it("never tells a client to come back sooner than the minimum, however short the answers", async () => {
    let now = 0;
    const queue = new SlotQueue("local/m", 1, 0, () => now);
    for (let i = 0; i < 5; i++) {
      const release = await queue.acquire();
      now += 5;
      release();
    }
    await queue.acquire();
    assert.equal((await refusal(queue)).retryAfterMs, RETRY_AFTER_MIN_MS);
  });
});
