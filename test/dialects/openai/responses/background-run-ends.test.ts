/**
 * How a background run's streams end when its turn does not finish: refused before it began (the
 * shutdown's 503), or cancelled mid-answer. The turns are a fake Loopback's answers.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BackgroundResponses, type BackgroundRun } from "../../../../src/dialects/openai/responses/background-responses.js";
import { parseResponsesRequest } from "../../../../src/dialects/openai/responses/parse-responses-request.js";
import type { Loopback } from "../../../../src/dialects/shared/index.js";
import { MemoryStateStore } from "../../../../src/harness/state/memory-state-store.js";

const BODY = { model: "m", input: "hi", background: true };

function sse(data: Record<string, unknown>): Buffer {
  return Buffer.from(`event: ${String(data.type)}\ndata: ${JSON.stringify(data)}\n\n`);
}

/** A turn that opens a message, streams two deltas, then waits until it is cancelled. */
function stalledLoopback(): Loopback {
  return async () => {
    let cancelled = () => {};
    const stopped = new Promise<void>((resolve) => {
      cancelled = resolve;
    });
    return {
      status: 200,
      headers: { "content-type": "text/event-stream" },
      cancel: () => cancelled(),
      body: (async function* () {
        const response = { id: "resp_x", object: "response", status: "in_progress", background: true, output: [] };
        const item = { id: "msg_1", type: "message", status: "in_progress", content: [], role: "assistant" };
        const at = { item_id: "msg_1", output_index: 0, content_index: 0 };
        yield sse({ type: "response.in_progress", response });
        yield sse({ type: "response.output_item.added", output_index: 0, item });
        yield sse({
          type: "response.content_part.added",
          ...at,
          part: { type: "output_text", annotations: [], logprobs: [], text: "" },
        });
        yield sse({ type: "response.output_text.delta", ...at, delta: "Hello " });
        yield sse({ type: "response.output_text.delta", ...at, delta: "world" });
        await stopped;
      })(),
    };
  };
}

/** A turn refused before it began, as tandem's shutdown refuses one that has not started answering. */
const shutdownLoopback: Loopback = async () => ({
  status: 503,
  headers: { "content-type": "application/json" },
  cancel() {},
  body: (async function* () {
    yield Buffer.from(
      JSON.stringify({
        error: {
          message: "tandem is shutting down; the request was not completed, send it again once tandem is back",
          type: "server_error",
          param: null,
          code: "shutting_down",
        },
      }),
    );
  })(),
});

function until(run: BackgroundRun, done: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (!done()) return;
      stop();
      resolve();
    };
    const stop = run.listen(check);
    check();
  });
}

const events = (run: BackgroundRun) => run.events.map((event) => JSON.parse(event.data) as Record<string, unknown>);

describe("a background run's streams, when its turn does not finish", () => {
  it("end with an error event, then response.failed, when the turn is refused before it began (a shutdown)", async () => {
    const background = new BackgroundResponses(shutdownLoopback, new MemoryStateStore());
    const run = await background.start(BODY, parseResponsesRequest(BODY), {});
    await until(run, () => run.finished);
    const sent = events(run);
    assert.deepEqual(
      sent.map((event) => event.type),
      ["response.created", "response.queued", "error", "response.failed"],
    );
    assert.deepEqual(
      sent.map((event) => event.sequence_number),
      [0, 1, 2, 3],
    );
    assert.equal(sent[2]?.code, "shutting_down");
    assert.match(String(sent[2]?.message), /shutting down/);
    assert.equal((sent[3]?.response as { error: { code: string } }).error.code, "server_error");
  });

  it("close the item the turn had opened when it is cancelled, and its Response (and the store) keep it", async () => {
    const state = new MemoryStateStore();
    const background = new BackgroundResponses(stalledLoopback(), state);
    const run = await background.start(BODY, parseResponsesRequest(BODY), {});
    await until(run, () => run.events.filter((event) => event.type === "response.output_text.delta").length === 2);
    background.cancel(run);
    await until(run, () => run.finished);
    const sent = events(run);
    assert.deepEqual(
      sent.slice(-4).map((event) => event.type),
      ["response.output_text.done", "response.content_part.done", "response.output_item.done", "response.incomplete"],
    );
    assert.deepEqual(
      sent.map((event) => event.sequence_number),
      sent.map((_, i) => i),
    );
    assert.equal(sent.at(-4)?.text, "Hello world");
    const message = {
      id: "msg_1",
      type: "message",
      status: "incomplete",
      content: [{ type: "output_text", annotations: [], logprobs: [], text: "Hello world" }],
      role: "assistant",
    };
    assert.deepEqual(sent.at(-2)?.item, message);
    const last = sent.at(-1)?.response as { status: string; output: unknown[] };
    assert.equal(last.status, "cancelled");
    assert.deepEqual(last.output, [message]);
    assert.deepEqual(run.response.output, [message]);
    const stored = await state.getResponse(run.id);
    assert.equal(stored?.response.status, "cancelled");
    assert.deepEqual(stored?.response.output, [message]);
    assert.deepEqual(
      stored?.output.map((entry) => entry.item),
      [message],
    );
  });
});
