/**
 * A foreground response the client deleted while it was answered (PendingResponse.discard): nothing
 * of it is kept, and its turn does not join its conversation, however late before its end the delete
 * came, also while its end was being saved.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ResponseMeta } from "../../../../src/core/index.js";
import type { StoredResponse } from "../../../../src/core/state.js";
import type { ParsedResponsesRequest } from "../../../../src/dialects/openai/responses/parse-responses-request.js";
import { PendingResponse } from "../../../../src/dialects/openai/responses/pending-response.js";
import { MemoryStateStore } from "../../../../src/harness/state/memory-state-store.js";

const META: ResponseMeta = { route: undefined, target: "oa/model", attempts: 1, degraded: undefined };
const question = { id: "msg_q", type: "message", role: "user", content: [{ type: "input_text", text: "Q" }] };
const answer = {
  id: "msg_a",
  type: "message",
  role: "assistant",
  status: "completed",
  content: [{ type: "output_text", text: "A", annotations: [] }],
};

/** A store whose saves of responses call `during` before they are committed. */
class SlowSaves extends MemoryStateStore {
  during: () => void = () => undefined;
  saves = 0;
  override async saveResponse(response: StoredResponse): Promise<void> {
    this.saves++;
    this.during();
    await new Promise((resolve) => setTimeout(resolve, 5));
    return super.saveResponse(response);
  }
}

async function turnInConversation(state: SlowSaves): Promise<{ pending: PendingResponse; conversationId: string }> {
  const conversation = await state.createConversation({}, [
    { item: { id: "msg_seed", type: "message", role: "user", content: [{ type: "input_text", text: "seed" }] } },
  ]);
  const request = {
    echo: { store: true, conversation: { id: conversation.id } },
    store: true,
    conversationId: conversation.id,
  } as unknown as ParsedResponsesRequest;
  const pending = new PendingResponse(
    request,
    { input: [{ item: question }], conversationThrough: "msg_seed" },
    state,
    undefined,
  );
  return { pending, conversationId: conversation.id };
}

describe("a response deleted while it was answered", () => {
  it("deleted before its end is saved: nothing is saved, in its conversation neither", async () => {
    const state = new SlowSaves();
    const { pending, conversationId } = await turnInConversation(state);
    pending.discard();
    await pending.finish(META, { status: "completed", output: [answer], usage: undefined });
    assert.equal(state.saves, 0);
    assert.equal(await state.getResponse(pending.id), undefined);
    assert.deepEqual(
      (await state.conversationItems(conversationId))?.map(({ item }) => item.id),
      ["msg_seed"],
    );
  });

  it("deleted while its end is being saved: what was saved is taken back, from its conversation too", async () => {
    const state = new SlowSaves();
    const { pending, conversationId } = await turnInConversation(state);
    state.during = () => pending.discard();
    await pending.finish(META, { status: "completed", output: [answer], usage: undefined });
    assert.equal(state.saves, 1);
    assert.equal(await state.getResponse(pending.id), undefined);
    assert.deepEqual(
      (await state.conversationItems(conversationId))?.map(({ item }) => item.id),
      ["msg_seed"],
    );
  });

  it("not deleted: the response is kept and its turn joins its conversation", async () => {
    const state = new SlowSaves();
    const { pending, conversationId } = await turnInConversation(state);
    await pending.finish(META, { status: "completed", output: [answer], usage: undefined });
    assert.equal((await state.getResponse(pending.id))?.response.status, "completed");
    assert.deepEqual(
      (await state.conversationItems(conversationId))?.map(({ item }) => item.id),
      ["msg_seed", "msg_q", "msg_a"],
    );
  });
});
