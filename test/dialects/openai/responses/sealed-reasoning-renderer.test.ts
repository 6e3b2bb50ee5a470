/**
 * On the canonical path (a Responses client's answer rendered from canonical events), a Responses
 * upstream's sealed reasoning is kept with the reasoning item that shows it, with the target that
 * sealed it, as Anthropic's signatures are: stored in place of the client's view, not shown, so the
 * next turn can send it back to that upstream (convert-items-to-messages.ts reads it from there).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ResponseMeta, StreamEvent } from "../../../../src/core/index.js";
import type { ParsedResponsesRequest } from "../../../../src/dialects/openai/responses/parse-responses-request.js";
import { PendingResponse } from "../../../../src/dialects/openai/responses/pending-response.js";
import { ResponseStreamRenderer } from "../../../../src/dialects/openai/responses/response-stream-renderer.js";
import { signedWholeReasoning } from "../../../../src/dialects/openai/state/index.js";
import { MemoryStateStore } from "../../../../src/harness/state/memory-state-store.js";

const META: ResponseMeta = { route: undefined, target: "gpt/gpt-5-mini", attempts: 1, degraded: undefined };

function renderer(options: { encrypted?: boolean } = {}): ResponseStreamRenderer {
  const request = { echo: { store: true }, store: true } as unknown as ParsedResponsesRequest;
  return new ResponseStreamRenderer(
    new PendingResponse(request, { input: [] }, new MemoryStateStore(), undefined),
    META,
    options,
  );
}

describe("a Responses upstream's sealed reasoning on the canonical path", () => {
  it("streamed: kept with its item and its maker, not shown; a sealed item without a summary is an item of its own", () => {
    const r = renderer();
    const events: StreamEvent[] = [
      { type: "start" },
      { type: "reasoning-delta", text: "Think." },
      { type: "reasoning-encrypted", data: "gAAAA1", producer: "gpt/gpt-5-mini" },
      { type: "reasoning-encrypted", data: "gAAAA2", producer: "gpt/gpt-5-mini" },
      { type: "text-delta", text: "Hi" },
    ];
    const written = events.map((e) => r.event(e)).join("");
    assert.doesNotMatch(written, /gAAAA/, "the client is not shown the sealed content");
    const [first, second, message] = r.progress.output;
    assert.equal(first?.type, "reasoning");
    assert.equal(second?.type, "reasoning");
    assert.equal(message?.type, "message");
    assert.deepEqual(r.progress.sealed.get(0), {
      item: { ...first, encrypted_content: "gAAAA1" },
      origin: "gpt/gpt-5-mini",
    });
    assert.deepEqual(r.progress.sealed.get(1), {
      item: { ...second, encrypted_content: "gAAAA2" },
      origin: "gpt/gpt-5-mini",
    });
  });

  it("streamed, to a client that asked for it (include): shown in the item as well", () => {
    const r = renderer({ encrypted: true });
    const written = [
      r.event({ type: "start" }),
      r.event({ type: "reasoning-delta", text: "Think." }),
      r.event({ type: "reasoning-encrypted", data: "gAAAA1", producer: "gpt/gpt-5-mini" }),
    ].join("");
    const done = written
      .split("\n\n")
      .map((frame) => frame.split("\ndata: ")[1])
      .filter((data) => data !== undefined)
      .map((data) => JSON.parse(data) as { type: string; item?: Record<string, unknown> })
      .find((event) => event.type === "response.output_item.done");
    assert.equal(done?.item?.encrypted_content, "gAAAA1");
    assert.equal(r.progress.output[0]?.encrypted_content, "gAAAA1");
  });

  it("whole: each reasoning block's sealed content kept with its item and its maker", () => {
    const output = [
      { id: "rs_1", type: "reasoning", summary: [{ type: "summary_text", text: "Think." }] },
      { id: "msg_1", type: "message", role: "assistant", content: [] },
    ];
    const kept = signedWholeReasoning(
      [{ type: "reasoning", text: "Think.", encryptedContent: "gAAAA1", producer: "gpt/gpt-5-mini" }],
      output,
      "other/answering-target",
    );
    assert.deepEqual(kept?.get(0), { item: { ...output[0], encrypted_content: "gAAAA1" }, origin: "gpt/gpt-5-mini" });
  });
});
