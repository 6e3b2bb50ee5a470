/**
 * What a finished background run's events cost in memory: the newest runs' events are kept for
 * GET ?stream=true within a byte budget, the oldest forgotten first (then read from the store).
 * The turns are a fake Loopback's streams, so each run's size is known.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BackgroundResponses } from "../../../../src/dialects/openai/responses/background-responses.js";
import { parseResponsesRequest } from "../../../../src/dialects/openai/responses/parse-responses-request.js";
import type { Loopback } from "../../../../src/dialects/shared/index.js";
import { MemoryStateStore } from "../../../../src/harness/state/memory-state-store.js";

/** A turn that streams `deltas` text deltas of `size` characters each, then completes. */
function streamingLoopback(deltas: number, size: number): Loopback {
  return async () => ({
    status: 200,
    headers: { "content-type": "text/event-stream" },
    cancel() {},
    body: (async function* () {
      const response = { id: "resp_x", object: "response", status: "in_progress", output: [] };
      yield Buffer.from(`event: response.in_progress\ndata: ${JSON.stringify({ type: "response.in_progress", response })}\n\n`);
      for (let i = 0; i < deltas; i++) {
        const delta = {
          type: "response.output_text.delta",
          item_id: "msg_x",
          output_index: 0,
          content_index: 0,
          delta: "x".repeat(size),
        };
        yield Buffer.from(`event: ${delta.type}\ndata: ${JSON.stringify(delta)}\n\n`);
      }
      const done = { ...response, status: "completed" };
      yield Buffer.from(`event: response.completed\ndata: ${JSON.stringify({ type: "response.completed", response: done })}\n\n`);
    })(),
  });
}

async function finish(background: BackgroundResponses): Promise<string> {
  const body = { model: "m", input: "hi", background: true };
  const run = await background.start(body, parseResponsesRequest(body), {});
  await new Promise<void>((resolve) => {
    const stop = run.listen(() => {
      if (run.finished) {
        stop();
        resolve();
      }
    });
  });
  return run.id;
}

describe("a finished background run's events", () => {
  it("are kept for the newest runs within the byte budget; the oldest are forgotten first", async () => {
    // Each run: 100 deltas of 1,000 characters, a little over 200 KB in memory.
    const background = new BackgroundResponses(streamingLoopback(100, 1000), new MemoryStateStore(), {
      maxFinishedEventBytes: 500_000,
    });
    const first = await finish(background);
    const second = await finish(background);
    assert.ok(background.get(first), "two runs fit");
    assert.ok(background.get(second));
    const third = await finish(background);
    assert.equal(background.get(first), undefined, "the oldest is forgotten");
    assert.equal(background.get(second)?.events.length, 104, "created, queued, in_progress, 100 deltas, completed: kept whole");
    assert.ok(background.get(third));
  });

  it("of a run larger than the whole budget are not kept at all", async () => {
    const background = new BackgroundResponses(streamingLoopback(100, 1000), new MemoryStateStore(), {
      maxFinishedEventBytes: 100_000,
    });
    const id = await finish(background);
    assert.equal(background.get(id), undefined);
  });
});
