/**
 * The StateStore contract (src/core/state.ts) as one suite that every implementation runs: the
 * in-memory one and the encrypted store's. What one passes, the other must too, so a route written
 * against either behaves the same over both.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { StateStore, StoredItem, StoredResponse } from "../../../src/core/state.js";
import { canListState } from "../../../src/core/state-listing.js";

export interface StateStoreFixture {
  store: StateStore;
  close(): Promise<void>;
}

/** A user message item as the API stores it. */
export function message(id: string, text: string, role = "user"): StoredItem {
  return {
    item: { id, type: "message", role, status: "completed", content: [{ type: "input_text", text }] },
  };
}

/** A stored response with `inputs` input messages and one assistant message. */
export function response(
  id: string,
  options: { previous?: string; conversation?: string; through?: string; inputs?: number } = {},
): StoredResponse {
  const inputs = Array.from({ length: options.inputs ?? 1 }, (_, i) => message(`msg_${id}_in${i}`, `question ${i} of ${id}`));
  return {
    id,
    createdAt: 1_700_000_000,
    response: { id, object: "response", status: "completed", output: [{ id: `msg_${id}_out`, type: "message" }] },
    ...(options.previous !== undefined && { previousResponseId: options.previous }),
    ...(options.conversation !== undefined && { conversationId: options.conversation }),
    ...(options.through !== undefined && { conversationThrough: options.through }),
    input: inputs,
    output: [
      {
        item: {
          id: `msg_${id}_out`,
          type: "message",
          role: "assistant",
          status: "completed",
          content: [{ type: "output_text", text: `answer of ${id}`, annotations: [] }],
        },
        sensitivity: "private",
        origin: "openai/gpt-test",
      },
    ],
  };
}

const ids = (items: StoredItem[] | undefined) => items?.map((i) => i.item.id);

export function stateStoreSuite(name: string, makeStore: () => Promise<StateStoreFixture>): void {
  describe(`StateStore contract: ${name}`, () => {
    let fixture: StateStoreFixture;
    let state: StateStore;
    before(async () => {
      fixture = await makeStore();
      state = fixture.store;
    });
    after(async () => {
      await fixture.close();
    });

    it("saves, reads back and deletes a response with every field, item sensitivity and origin", async () => {
      const saved = response("resp_crud", { previous: "resp_elsewhere", conversation: "conv_x", inputs: 2 });
      saved.input.push({
        item: { id: "fc_1", type: "function_call_output", call_id: "call_1", output: "42" },
        sensitivity: "internal",
      });
      await state.saveResponse(saved);
      assert.deepEqual(await state.getResponse("resp_crud"), saved);
      assert.equal(await state.deleteResponse("resp_crud"), true);
      assert.equal(await state.getResponse("resp_crud"), undefined);
      assert.equal(await state.deleteResponse("resp_crud"), false);
      assert.equal(await state.listInputItems("resp_crud", { limit: 20, order: "asc" }), undefined);
    });

    it("keeps an item's declared-private mark: in a response, its chain's history and a conversation's items", async () => {
      const marked: StoredItem = {
        item: { id: "msg_declared", type: "message", role: "user", content: [{ type: "input_text", text: "codename" }] },
        sensitivity: "private",
        declaredPrivate: true,
      };
      const saved = response("resp_declared");
      saved.input.push(marked);
      await state.saveResponse(saved);
      assert.deepEqual((await state.getResponse("resp_declared"))?.input.at(-1), marked);
      assert.deepEqual(
        (await state.responseHistory("resp_declared"))?.find((s) => s.item.id === "msg_declared"),
        marked,
      );
      assert.equal("declaredPrivate" in ((await state.getResponse("resp_declared"))?.input[0] as StoredItem), false);
      const conversation = await state.createConversation({}, [{ ...marked, item: { ...marked.item, id: "msg_declared_c" } }]);
      const items = await state.conversationItems(conversation.id);
      assert.equal(items?.[0]?.declaredPrivate, true);
    });

    it("keeps optional fields absent when they were not given", async () => {
      const saved = response("resp_plain");
      await state.saveResponse(saved);
      const read = await state.getResponse("resp_plain");
      assert.ok(read);
      assert.equal("previousResponseId" in read, false);
      assert.equal("conversationId" in read, false);
      assert.equal("sensitivity" in (read.input[0] as StoredItem), false);
      assert.equal("origin" in (read.input[0] as StoredItem), false);
    });

    it("saving a response again replaces it, items included", async () => {
      await state.saveResponse(response("resp_again", { inputs: 3 }));
      const second = response("resp_again", { inputs: 1 });
      second.response = { id: "resp_again", object: "response", status: "incomplete" };
      await state.saveResponse(second);
      assert.deepEqual(await state.getResponse("resp_again"), second);
    });

    it("answers undefined or false for unknown ids, never throws", async () => {
      assert.equal(await state.getResponse("resp_nope"), undefined);
      assert.equal(await state.deleteResponse("resp_nope"), false);
      assert.equal(await state.responseHistory("resp_nope"), undefined);
      assert.equal(await state.listInputItems("resp_nope", { limit: 5, order: "desc" }), undefined);
      assert.equal(await state.getConversation("conv_nope"), undefined);
      assert.equal(await state.updateConversation("conv_nope", { a: "b" }), undefined);
      assert.equal(await state.deleteConversation("conv_nope"), false);
      assert.equal(await state.addConversationItems("conv_nope", [message("msg_x", "x")]), undefined);
      assert.equal(await state.listConversationItems("conv_nope", { limit: 5, order: "asc" }), undefined);
      assert.equal(await state.conversationItems("conv_nope"), undefined);
      assert.equal(await state.getConversationItem("conv_nope", "msg_x"), undefined);
      assert.equal(await state.deleteConversationItem("conv_nope", "msg_x"), false);
      const conversation = await state.createConversation({}, []);
      assert.equal(await state.getConversationItem(conversation.id, "msg_missing"), undefined);
      assert.equal(await state.deleteConversationItem(conversation.id, "msg_missing"), false);
    });

    it("walks a previous_response_id chain oldest first, each response's input then output", async () => {
      await state.saveResponse(response("resp_h1", { inputs: 2 }));
      await state.saveResponse(response("resp_h2", { previous: "resp_h1" }));
      await state.saveResponse(response("resp_h3", { previous: "resp_h2" }));
      // A branch from h1 does not see h2 or h3.
      await state.saveResponse(response("resp_h2b", { previous: "resp_h1" }));
      assert.deepEqual(ids(await state.responseHistory("resp_h3")), [
        "msg_resp_h1_in0",
        "msg_resp_h1_in1",
        "msg_resp_h1_out",
        "msg_resp_h2_in0",
        "msg_resp_h2_out",
        "msg_resp_h3_in0",
        "msg_resp_h3_out",
      ]);
      assert.deepEqual(ids(await state.responseHistory("resp_h2b")), [
        "msg_resp_h1_in0",
        "msg_resp_h1_in1",
        "msg_resp_h1_out",
        "msg_resp_h2b_in0",
        "msg_resp_h2b_out",
      ]);
      const history = await state.responseHistory("resp_h1");
      assert.equal(history?.[2]?.sensitivity, "private");
      assert.equal(history?.[2]?.origin, "openai/gpt-test");
    });

    it("a chain ends where a response was deleted or never stored, and a cycle ends at its first repeat", async () => {
      await state.saveResponse(response("resp_d1"));
      await state.saveResponse(response("resp_d2", { previous: "resp_d1" }));
      await state.saveResponse(response("resp_d3", { previous: "resp_d2" }));
      await state.deleteResponse("resp_d2");
      assert.deepEqual(ids(await state.responseHistory("resp_d3")), ["msg_resp_d3_in0", "msg_resp_d3_out"]);
      await state.saveResponse(response("resp_c1", { previous: "resp_c2" }));
      await state.saveResponse(response("resp_c2", { previous: "resp_c1" }));
      assert.deepEqual(ids(await state.responseHistory("resp_c2")), [
        "msg_resp_c1_in0",
        "msg_resp_c1_out",
        "msg_resp_c2_in0",
        "msg_resp_c2_out",
      ]);
    });

    it("has no history for a response that has not finished (a background response queued or running), until it is saved finished", async () => {
      const { store: state } = fixture;
      for (const status of ["queued", "in_progress"]) {
        const id = `resp_unfinished_${status}`;
        await state.saveResponse({
          id,
          createdAt: 1_700_000_000,
          response: { id, object: "response", status, output: [] },
          input: [],
          output: [],
        });
        assert.equal(await state.responseHistory(id), undefined, status);
        assert.equal((await state.getResponse(id))?.response.status, status);
        await state.saveResponse(response(id));
        assert.deepEqual(ids(await state.responseHistory(id)), [`msg_${id}_in0`, `msg_${id}_out`]);
      }
    });

    it("walks a chain of 1,000 responses", async () => {
      const saves: Promise<void>[] = [];
      for (let i = 0; i < 1000; i++) {
        saves.push(state.saveResponse(response(`resp_long${i}`, i === 0 ? {} : { previous: `resp_long${i - 1}` })));
      }
      await Promise.all(saves);
      const history = await state.responseHistory("resp_long999");
      assert.equal(history?.length, 2000);
      assert.equal(history?.[0]?.item.id, "msg_resp_long0_in0");
      assert.equal(history?.[1999]?.item.id, "msg_resp_long999_out");
      for (let i = 0; i < 1000; i++) assert.equal(history?.[2 * i]?.item.id, `msg_resp_long${i}_in0`);
    });

    it("pages a response's chain history and its own input as one list, across the seam, either way", async () => {
      await state.saveResponse(response("resp_seam1", { inputs: 3 }));
      const own = response("resp_seam2", { previous: "resp_seam1", inputs: 4 });
      await state.saveResponse(own);
      const all = [...(ids(await state.responseHistory("resp_seam1")) ?? []), ...(ids(own.input) ?? [])];
      assert.equal(all.length, 8);
      for (const order of ["asc", "desc"] as const) {
        const ordered = order === "asc" ? all : [...all].reverse();
        for (const limit of [1, 2, 3, 5, 8, 20]) {
          const seen: string[] = [];
          let after: string | undefined;
          for (;;) {
            const page = await state.listInputItems("resp_seam2", { limit, order, ...(after !== undefined && { after }) });
            assert.ok(page && !page.unknownCursor);
            seen.push(...(ids(page.data) ?? []));
            assert.equal(page.hasMore, seen.length < ordered.length, `${order} ${limit} after ${after}`);
            if (!page.hasMore) break;
            after = seen.at(-1);
          }
          assert.deepEqual(seen, ordered, `${order} by ${limit}`);
        }
        const unknown = await state.listInputItems("resp_seam2", { limit: 2, order, after: "msg_nowhere" });
        assert.equal(unknown?.unknownCursor, "after");
      }
    });

    it("pages a response's input items with after, limit and order", async () => {
      await state.saveResponse(response("resp_pages", { inputs: 5 }));
      const all = ["msg_resp_pages_in0", "msg_resp_pages_in1", "msg_resp_pages_in2", "msg_resp_pages_in3", "msg_resp_pages_in4"];
      const first = await state.listInputItems("resp_pages", { limit: 2, order: "asc" });
      assert.deepEqual(ids(first?.data), all.slice(0, 2));
      assert.equal(first?.hasMore, true);
      const second = await state.listInputItems("resp_pages", { after: all[1], limit: 2, order: "asc" });
      assert.deepEqual(ids(second?.data), all.slice(2, 4));
      assert.equal(second?.hasMore, true);
      const last = await state.listInputItems("resp_pages", { after: all[3], limit: 2, order: "asc" });
      assert.deepEqual(ids(last?.data), all.slice(4));
      assert.equal(last?.hasMore, false);
      const exact = await state.listInputItems("resp_pages", { limit: 5, order: "asc" });
      assert.equal(exact?.hasMore, false, "a page that ends exactly at the last item has no more");
      const desc = await state.listInputItems("resp_pages", { limit: 3, order: "desc" });
      assert.deepEqual(ids(desc?.data), [...all].reverse().slice(0, 3));
      assert.equal(desc?.hasMore, true);
      const descNext = await state.listInputItems("resp_pages", { after: all[2], limit: 3, order: "desc" });
      assert.deepEqual(ids(descNext?.data), [all[1], all[0]]);
      assert.equal(descNext?.hasMore, false);
      // Output items are not input items.
      assert.equal(
        exact?.data.some((i) => i.item.id === "msg_resp_pages_out"),
        false,
      );
      const empty = await state.listInputItems("resp_pages", { after: all[4], limit: 2, order: "asc" });
      assert.deepEqual(empty, { data: [], hasMore: false });
    });

    it("answers an `after` that names no item of the list (never one, or deleted since) as unknownCursor, not the first page", async () => {
      await state.saveResponse(response("resp_cursor", { inputs: 3 }));
      for (const after of ["msg_nowhere", "msg_resp_cursor_out", "msg_resp_pages_in0"]) {
        const page = await state.listInputItems("resp_cursor", { after, limit: 2, order: "asc" });
        assert.deepEqual(page, { data: [], hasMore: false, unknownCursor: "after" }, after);
      }
      const conversation = await state.createConversation({}, [
        message("msg_k0", "zero"),
        message("msg_k1", "one"),
        message("msg_k2", "two"),
      ]);
      const other = await state.createConversation({}, [message("msg_elsewhere", "x")]);
      for (const order of ["asc", "desc"] as const) {
        for (const after of ["msg_nowhere", "msg_elsewhere"]) {
          const page = await state.listConversationItems(conversation.id, { after, limit: 2, order });
          assert.deepEqual(page, { data: [], hasMore: false, unknownCursor: "after" }, `${order} ${after}`);
        }
      }
      assert.equal(await state.deleteConversationItem(conversation.id, "msg_k1"), true);
      const afterDeleted = await state.listConversationItems(conversation.id, { after: "msg_k1", limit: 2, order: "asc" });
      assert.deepEqual(afterDeleted, { data: [], hasMore: false, unknownCursor: "after" }, "a deleted cursor");
      await state.deleteConversation(conversation.id);
      await state.deleteConversation(other.id);
    });

    it("lists a response's input items after the history it was given: its chain, or its conversation as it stood", async () => {
      // OpenAI's input_items are "the items used to generate this response"; a conversation's items
      // "are prepended to input_items" (ConversationParam in openai/openai-openapi).
      await state.saveResponse(response("resp_ctx1", { inputs: 2 }));
      await state.saveResponse(response("resp_ctx2", { previous: "resp_ctx1" }));
      const chained = await state.listInputItems("resp_ctx2", { limit: 20, order: "asc" });
      assert.deepEqual(ids(chained?.data), ["msg_resp_ctx1_in0", "msg_resp_ctx1_in1", "msg_resp_ctx1_out", "msg_resp_ctx2_in0"]);
      assert.equal(chained?.data[2]?.sensitivity, "private", "items come back as stored");
      const newest = await state.listInputItems("resp_ctx2", { limit: 2, order: "desc" });
      assert.deepEqual(ids(newest?.data), ["msg_resp_ctx2_in0", "msg_resp_ctx1_out"]);
      assert.equal(newest?.hasMore, true);
      const older = await state.listInputItems("resp_ctx2", { after: "msg_resp_ctx1_out", limit: 2, order: "desc" });
      assert.deepEqual(ids(older?.data), ["msg_resp_ctx1_in1", "msg_resp_ctx1_in0"]);
      assert.equal(older?.hasMore, false);

      const conversation = await state.createConversation({}, [message("msg_ctx_a", "a"), message("msg_ctx_b", "b")]);
      // A response that began when the conversation ended at msg_ctx_a; another turn's item came later.
      await state.addConversationItems(conversation.id, [message("msg_ctx_later", "later")]);
      await state.saveResponse(response("resp_ctx3", { conversation: conversation.id, through: "msg_ctx_b" }));
      await state.addConversationItems(conversation.id, response("resp_ctx3").input);
      const inConversation = await state.listInputItems("resp_ctx3", { limit: 20, order: "asc" });
      assert.deepEqual(ids(inConversation?.data), ["msg_ctx_a", "msg_ctx_b", "msg_resp_ctx3_in0"]);
      // A conversation item deleted since is gone from it too.
      await state.deleteConversationItem(conversation.id, "msg_ctx_a");
      const afterDelete = await state.listInputItems("resp_ctx3", { limit: 20, order: "asc" });
      assert.deepEqual(ids(afterDelete?.data), ["msg_ctx_b", "msg_resp_ctx3_in0"]);
      // A conversation that was empty when the response began gives it nothing before its own input.
      const empty = await state.createConversation({}, []);
      await state.saveResponse(response("resp_ctx4", { conversation: empty.id }));
      assert.deepEqual(ids((await state.listInputItems("resp_ctx4", { limit: 20, order: "asc" }))?.data), ["msg_resp_ctx4_in0"]);
      // A response that continues one made in a conversation continues what that one was given too.
      await state.saveResponse(response("resp_ctx5", { previous: "resp_ctx3" }));
      assert.deepEqual(ids(await state.responseHistory("resp_ctx5")), [
        "msg_ctx_b",
        "msg_resp_ctx3_in0",
        "msg_resp_ctx3_out",
        "msg_resp_ctx5_in0",
        "msg_resp_ctx5_out",
      ]);
      assert.deepEqual(ids((await state.listInputItems("resp_ctx5", { limit: 20, order: "asc" }))?.data), [
        "msg_ctx_b",
        "msg_resp_ctx3_in0",
        "msg_resp_ctx3_out",
        "msg_resp_ctx5_in0",
      ]);
      // A predecessor deleted since: the chain ends there.
      await state.deleteResponse("resp_ctx1");
      assert.deepEqual(ids((await state.listInputItems("resp_ctx2", { limit: 20, order: "asc" }))?.data), ["msg_resp_ctx2_in0"]);
    });

    it("gives a response back with its place in its conversation, so that saved again it is given the same items", async () => {
      // A background run's turn is saved as it begins and saved again as it ends (or is failed after
      // a stop) from what getResponse gives: it must still list, and continue from, the conversation's items.
      const conversation = await state.createConversation({}, [
        message("msg_keep_a", "a"),
        message("msg_keep_b", "b"),
        message("msg_keep_c", "c"),
      ]);
      const started = response("resp_keep", { conversation: conversation.id, through: "msg_keep_b" });
      started.response = { id: "resp_keep", object: "response", status: "in_progress", background: true };
      started.output = [];
      await state.saveResponse(started);
      const read = await state.getResponse("resp_keep");
      assert.equal(read?.conversationThrough, "msg_keep_b");
      // The item it was last given deleted since: the one before it stands for the same place.
      await state.deleteConversationItem(conversation.id, "msg_keep_b");
      const again = await state.getResponse("resp_keep");
      assert.equal(again?.conversationThrough, "msg_keep_a");
      assert.ok(again);
      await state.saveResponse({ ...again, response: { ...again.response, status: "failed" } });
      assert.deepEqual(ids((await state.listInputItems("resp_keep", { limit: 20, order: "asc" }))?.data), [
        "msg_keep_a",
        "msg_resp_keep_in0",
      ]);
      assert.deepEqual(ids(await state.responseHistory("resp_keep")), ["msg_keep_a", "msg_resp_keep_in0"]);
      // Every item it was given deleted: it has no place to give back, and is given none.
      await state.deleteConversationItem(conversation.id, "msg_keep_a");
      assert.equal("conversationThrough" in ((await state.getResponse("resp_keep")) ?? {}), false);
    });
    it("creates, reads, updates and deletes a conversation", async () => {
      const created = await state.createConversation({ topic: "demo" }, [message("msg_c1", "hello")]);
      assert.match(created.id, /^conv_[A-Za-z0-9]{48}$/);
      assert.ok(Math.abs(created.createdAt - Date.now() / 1000) < 600);
      assert.deepEqual(created.metadata, { topic: "demo" });
      assert.deepEqual(await state.getConversation(created.id), created);
      const updated = await state.updateConversation(created.id, { topic: "other", more: "yes" });
      assert.deepEqual(updated, { ...created, metadata: { topic: "other", more: "yes" } });
      assert.deepEqual(await state.getConversation(created.id), updated);
      assert.deepEqual(ids(await state.conversationItems(created.id)), ["msg_c1"]);
      assert.equal(await state.deleteConversation(created.id), true);
      assert.equal(await state.getConversation(created.id), undefined);
      assert.equal(await state.conversationItems(created.id), undefined);
      assert.equal(await state.getConversationItem(created.id, "msg_c1"), undefined);
      assert.equal(await state.deleteConversation(created.id), false);
      const other = await state.createConversation({}, []);
      assert.notEqual(other.id, created.id);
    });

    it("saves a turn's response and appends its conversation items together (conversationItems), not kept on the response", async () => {
      const conversation = await state.createConversation({}, [message("msg_t0", "zero")]);
      const turn = response("resp_turn", { conversation: conversation.id, through: "msg_t0" });
      await state.saveResponse({ ...turn, conversationItems: [...turn.input, ...turn.output] });
      assert.deepEqual(ids(await state.conversationItems(conversation.id)), ["msg_t0", "msg_resp_turn_in0", "msg_resp_turn_out"]);
      const stored = await state.getResponse("resp_turn");
      assert.ok(stored !== undefined && !("conversationItems" in stored));
      const page = await state.listInputItems("resp_turn", { limit: 100, order: "asc" });
      assert.deepEqual(
        ids(page?.data),
        ["msg_t0", "msg_resp_turn_in0"],
        "its input items: the conversation as it stood, then its own",
      );
      // A conversation deleted meanwhile takes none; the response is still saved.
      await state.deleteConversation(conversation.id);
      await state.saveResponse({ ...response("resp_turn2", { conversation: conversation.id }), conversationItems: turn.output });
      assert.equal(await state.conversationItems(conversation.id), undefined);
      assert.equal((await state.getResponse("resp_turn2"))?.id, "resp_turn2");
    });

    it("adds, reads, pages and deletes conversation items in order", async () => {
      const conversation = await state.createConversation({}, [message("msg_i0", "zero"), message("msg_i1", "one")]);
      const added = await state.addConversationItems(conversation.id, [
        message("msg_i2", "two"),
        { item: { id: "fc_i3", type: "function_call", call_id: "call_3", name: "f", arguments: "{}" }, sensitivity: "private" },
        message("msg_i4", "four", "assistant"),
      ]);
      assert.deepEqual(ids(added), ["msg_i2", "fc_i3", "msg_i4"]);
      assert.deepEqual(ids(await state.conversationItems(conversation.id)), ["msg_i0", "msg_i1", "msg_i2", "fc_i3", "msg_i4"]);
      assert.deepEqual(await state.getConversationItem(conversation.id, "fc_i3"), {
        item: { id: "fc_i3", type: "function_call", call_id: "call_3", name: "f", arguments: "{}" },
        sensitivity: "private",
      });
      const desc = await state.listConversationItems(conversation.id, { limit: 2, order: "desc" });
      assert.deepEqual(ids(desc?.data), ["msg_i4", "fc_i3"]);
      assert.equal(desc?.hasMore, true);
      const descNext = await state.listConversationItems(conversation.id, { after: "fc_i3", limit: 2, order: "desc" });
      assert.deepEqual(ids(descNext?.data), ["msg_i2", "msg_i1"]);
      assert.equal(descNext?.hasMore, true);
      const asc = await state.listConversationItems(conversation.id, { after: "msg_i1", limit: 10, order: "asc" });
      assert.deepEqual(ids(asc?.data), ["msg_i2", "fc_i3", "msg_i4"]);
      assert.equal(asc?.hasMore, false);

      assert.equal(await state.deleteConversationItem(conversation.id, "msg_i2"), true);
      assert.equal(await state.deleteConversationItem(conversation.id, "msg_i2"), false);
      assert.equal(await state.getConversationItem(conversation.id, "msg_i2"), undefined);
      assert.deepEqual(ids(await state.conversationItems(conversation.id)), ["msg_i0", "msg_i1", "fc_i3", "msg_i4"]);
      // Items added after a delete still come last.
      await state.addConversationItems(conversation.id, [message("msg_i5", "five")]);
      assert.deepEqual(ids((await state.listConversationItems(conversation.id, { limit: 100, order: "asc" }))?.data), [
        "msg_i0",
        "msg_i1",
        "fc_i3",
        "msg_i4",
        "msg_i5",
      ]);
      // An item is found only in its own conversation.
      const elsewhere = await state.createConversation({}, []);
      assert.equal(await state.getConversationItem(elsewhere.id, "msg_i0"), undefined);
      assert.equal(await state.deleteConversationItem(elsewhere.id, "msg_i0"), false);
      assert.deepEqual(await state.listConversationItems(elsewhere.id, { limit: 20, order: "desc" }), {
        data: [],
        hasMore: false,
      });
    });

    it("finds any stored item by its id, where the store can (StoredItemFinder, for item_reference)", async (t) => {
      const finder = state as StateStore & { findItem?: (id: string) => Promise<StoredItem | undefined> };
      if (typeof finder.findItem !== "function") return t.skip("this store resolves references from histories only");
      const findItem = (id: string) => finder.findItem?.(id);
      await state.saveResponse(response("resp_find", { inputs: 2 }));
      assert.deepEqual(await findItem("msg_resp_find_in1"), message("msg_resp_find_in1", "question 1 of resp_find"));
      assert.deepEqual(await findItem("msg_resp_find_out"), (await state.getResponse("resp_find"))?.output[0]);
      const conversation = await state.createConversation({}, [message("msg_find_conv", "in a conversation")]);
      assert.deepEqual(await findItem("msg_find_conv"), message("msg_find_conv", "in a conversation"));
      assert.equal(await findItem("msg_nowhere"), undefined);
      await state.deleteResponse("resp_find");
      await state.deleteConversation(conversation.id);
      assert.equal(await findItem("msg_resp_find_in1"), undefined, "deleted with its response");
      assert.equal(await findItem("msg_find_conv"), undefined, "deleted with its conversation");
    });

    it("lists responses newest first as summaries, a page after a cursor, where the store can (StoredStateLister)", async (t) => {
      if (!canListState(state)) return t.skip("this store does not list");
      // Newer than anything else saved here.
      const a = { ...response("resp_list_a", { inputs: 2 }), createdAt: 1_900_000_001 };
      const b = { ...response("resp_list_b", { previous: "resp_list_a" }), createdAt: 1_900_000_002 };
      const conversation = await state.createConversation({}, []);
      const c = { ...response("resp_list_c", { conversation: conversation.id }), createdAt: 1_900_000_003 };
      c.response.model = "gpt-test";
      for (const r of [a, b, c]) await state.saveResponse(r);
      const first = await state.listResponses({ limit: 2, order: "desc" });
      assert.deepEqual(
        first?.data.map((r) => r.id),
        ["resp_list_c", "resp_list_b"],
      );
      assert.equal(first?.hasMore, true);
      assert.deepEqual(first?.data[0], {
        id: "resp_list_c",
        createdAt: 1_900_000_003,
        model: "gpt-test",
        status: "completed",
        previousResponseId: null,
        conversationId: conversation.id,
        inputPreview: "question 0 of resp_list_c",
        outputPreview: "answer of resp_list_c",
      });
      assert.equal(first?.data[1]?.previousResponseId, "resp_list_a");
      const next = await state.listResponses({ limit: 1, order: "desc", after: "resp_list_b" });
      assert.deepEqual(
        next?.data.map((r) => [r.id, r.inputPreview]),
        [["resp_list_a", "question 1 of resp_list_a"]],
        "the last user message of its input",
      );
      const ascending = await state.listResponses({ limit: 5, order: "asc", after: "resp_list_a" });
      assert.deepEqual(ascending, { data: [first?.data[1], first?.data[0]], hasMore: false });
      assert.deepEqual(await state.listResponses({ limit: 5, order: "desc", after: "resp_list_nowhere" }), {
        data: [],
        hasMore: false,
        unknownCursor: "after",
      });
      await state.deleteResponse("resp_list_b");
      assert.deepEqual(
        (await state.listResponses({ limit: 2, order: "desc" }))?.data.map((r) => r.id),
        ["resp_list_c", "resp_list_a"],
      );
      assert.deepEqual(
        await state.listResponses({ limit: 5, order: "desc", after: "resp_list_b" }),
        { data: [], hasMore: false, unknownCursor: "after" },
        "a deleted cursor",
      );
      await state.deleteResponse("resp_list_a");
      await state.deleteResponse("resp_list_c");
      await state.deleteConversation(conversation.id);
    });

    it("lists responses made within one second in the order they were stored; one saved again keeps its place", async (t) => {
      if (!canListState(state)) return t.skip("this store does not list");
      // Ids against the order they are made in: a list by created_at then id would reverse them.
      const ids = ["resp_second_z", "resp_second_m", "resp_second_a"];
      for (const id of ids) await state.saveResponse({ ...response(id), createdAt: 1_900_000_100 });
      // The first one saved again (as a background response is when it ends).
      await state.saveResponse({ ...response("resp_second_z"), createdAt: 1_900_000_100 });
      const listed = await state.listResponses({ limit: 3, order: "desc" });
      assert.deepEqual(
        listed?.data.map((r) => r.id),
        ["resp_second_a", "resp_second_m", "resp_second_z"],
      );
      const after = await state.listResponses({ limit: 3, order: "asc", after: "resp_second_z" });
      assert.deepEqual(
        after?.data.map((r) => r.id),
        ["resp_second_m", "resp_second_a"],
      );
      for (const id of ids) await state.deleteResponse(id);
    });

    it("lists conversations by last change, with their item count and first user message, where the store can", async (t) => {
      if (!canListState(state)) return t.skip("this store does not list");
      const older = await state.createConversation({ n: "1" }, [
        message("msg_lc_sys", "be brief", "system"),
        message("msg_lc_q", "  first\n question  "),
        message("msg_lc_q2", "second question"),
      ]);
      await sleep(5);
      const newer = await state.createConversation({}, []);
      const page = await state.listConversations({ limit: 2, order: "desc" });
      assert.deepEqual(
        page?.data.map((c) => c.conversation.id),
        [newer.id, older.id],
      );
      assert.deepEqual(page?.data[1]?.conversation, older);
      assert.equal(page?.data[1]?.itemCount, 3);
      assert.equal(page?.data[1]?.preview, "first question");
      assert.equal(page?.data[0]?.preview, null, "no user message");
      assert.ok(Math.abs((page?.data[0]?.updatedAt ?? 0) - Date.now() / 1000) < 60, "seconds");
      await sleep(5);
      await state.addConversationItems(older.id, [message("msg_lc_more", "more")]);
      const after = await state.listConversations({ limit: 2, order: "desc" });
      assert.deepEqual(
        after?.data.map((c) => [c.conversation.id, c.itemCount]),
        [
          [older.id, 4],
          [newer.id, 0],
        ],
      );
      const rest = await state.listConversations({ limit: 100, order: "desc", after: newer.id });
      assert.ok(!rest?.data.some((c) => c.conversation.id === older.id || c.conversation.id === newer.id));
      assert.deepEqual(await state.listConversations({ limit: 2, order: "asc", after: "conv_nowhere" }), {
        data: [],
        hasMore: false,
        unknownCursor: "after",
      });
      await state.deleteConversation(older.id);
      assert.deepEqual(await state.listConversations({ limit: 2, order: "desc", after: older.id }), {
        data: [],
        hasMore: false,
        unknownCursor: "after",
      });
      assert.deepEqual(
        (await state.listConversations({ limit: 1, order: "desc" }))?.data.map((c) => c.conversation.id),
        [newer.id],
      );
      await state.deleteConversation(newer.id);
    });

    it("hands out copies: changing what was saved or read changes nothing stored", async () => {
      const saved = response("resp_copy");
      const savePromise = state.saveResponse(saved);
      (saved.input[0] as StoredItem).item.id = "changed";
      saved.response.status = "changed";
      await savePromise;
      const read = await state.getResponse("resp_copy");
      assert.equal(read?.input[0]?.item.id, "msg_resp_copy_in0");
      assert.equal(read?.response.status, "completed");
      (read?.output[0] as StoredItem).item.id = "changed";
      assert.equal((await state.getResponse("resp_copy"))?.output[0]?.item.id, "msg_resp_copy_out");
      const history = await state.responseHistory("resp_copy");
      (history?.[0] as StoredItem).item.id = "changed";
      assert.equal((await state.responseHistory("resp_copy"))?.[0]?.item.id, "msg_resp_copy_in0");

      const metadata = { k: "v" };
      const items = [message("msg_copy", "copy")];
      const conversationPromise = state.createConversation(metadata, items);
      metadata.k = "changed";
      (items[0] as StoredItem).item.id = "changed";
      const conversation = await conversationPromise;
      conversation.metadata.k = "changed too";
      assert.deepEqual((await state.getConversation(conversation.id))?.metadata, { k: "v" });
      assert.deepEqual(ids(await state.conversationItems(conversation.id)), ["msg_copy"]);
      const item = await state.getConversationItem(conversation.id, "msg_copy");
      (item as StoredItem).item.type = "changed";
      const listed = await state.listConversationItems(conversation.id, { limit: 1, order: "asc" });
      (listed?.data[0] as StoredItem).item.type = "changed";
      assert.equal((await state.getConversationItem(conversation.id, "msg_copy"))?.item.type, "message");
    });

    it("a read made after a write was called sees it, even before the write is awaited", async () => {
      const saving = state.saveResponse(response("resp_pending"));
      const read = state.getResponse("resp_pending");
      assert.equal((await read)?.id, "resp_pending");
      await saving;
      const conversation = await state.createConversation({}, []);
      const adding = state.addConversationItems(conversation.id, [message("msg_pending", "p")]);
      const listed = state.conversationItems(conversation.id);
      assert.deepEqual(ids(await listed), ["msg_pending"]);
      await adding;
    });

    it("keeps every write when many run at once", async () => {
      const conversation = await state.createConversation({}, []);
      const writes: Promise<unknown>[] = [];
      for (let i = 0; i < 100; i++) {
        writes.push(state.addConversationItems(conversation.id, [message(`msg_many${i}`, `n${i}`)]));
        writes.push(state.saveResponse(response(`resp_many${i}`, { conversation: conversation.id })));
      }
      writes.push(state.updateConversation(conversation.id, { done: "yes" }));
      await Promise.all(writes);
      const items = await state.conversationItems(conversation.id);
      assert.deepEqual(
        ids(items),
        Array.from({ length: 100 }, (_, i) => `msg_many${i}`),
        "items appended in the order the calls were made",
      );
      const reads = await Promise.all(Array.from({ length: 100 }, (_, i) => state.getResponse(`resp_many${i}`)));
      assert.equal(reads.filter((r) => r?.conversationId === conversation.id).length, 100);
      assert.deepEqual((await state.getConversation(conversation.id))?.metadata, { done: "yes" });
    });
  });
}
