import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type {
  ChatCompletionRetention,
  ChatCompletionStore,
  NewChatCompletion,
} from "../../../src/core/stored-chat-completions.js";
import type { SecondsClock } from "../../../src/harness/chat-completions/index.js";

/**
 * The ChatCompletionStore contract, run against every implementation (memory and the encrypted
 * store): a completion and its messages in and out unchanged and copied, listing order both ways
 * after a cursor, the model and metadata filters, metadata updates, deletes, and retention by days
 * and by count (gone, not only hidden).
 */
export function chatCompletionStoreSuite(
  name: string,
  open: (
    retention: ChatCompletionRetention,
    clock: SecondsClock,
  ) => Promise<{ store: ChatCompletionStore; close(): Promise<void> }>,
) {
  describe(`${name} (ChatCompletionStore contract)`, () => {
    let store: ChatCompletionStore;
    let close: () => Promise<void>;
    let now = 1_700_000_000;
    before(async () => {
      ({ store, close } = await open({ days: 30, maxCount: 6 }, () => now));
    });
    after(() => close());

    const input = (id: string, extra: Partial<NewChatCompletion> = {}): NewChatCompletion => ({
      id,
      model: "openai/gpt-4o-mini",
      requestModel: "auto",
      metadata: {},
      completion: { id, object: "chat.completion", created: 1, model: "openai/gpt-4o-mini", choices: [] },
      messages: [{ role: "user", content: `hi ${id}` }],
      ...extra,
    });

    it("stores a completion at the store's time and gives it back as a copy", async () => {
      const saved = await store.saveCompletion(input("chatcmpl-a", { metadata: { k: "v" } }));
      assert.deepEqual(saved, {
        id: "chatcmpl-a",
        storedAt: now,
        model: "openai/gpt-4o-mini",
        requestModel: "auto",
        metadata: { k: "v" },
        completion: input("chatcmpl-a").completion,
      });
      const got = await store.getCompletion("chatcmpl-a");
      assert.deepEqual(got, saved);
      (got as { metadata: Record<string, string> }).metadata.k = "changed";
      assert.equal((await store.getCompletion("chatcmpl-a"))?.metadata.k, "v");
      assert.equal(await store.getCompletion("chatcmpl-none"), undefined);
      assert.equal(await store.deleteCompletion("chatcmpl-a"), true);
      assert.equal(await store.deleteCompletion("chatcmpl-a"), false);
      assert.equal(await store.getCompletion("chatcmpl-a"), undefined);
      assert.equal(await store.listMessages("chatcmpl-a", { limit: 20, order: "asc" }), undefined);
    });

    it("answers an `after` that names nothing in the list (never one, or deleted since) as unknownCursor, not the first page", async () => {
      await store.saveCompletion(input("chatcmpl-k1"));
      await store.saveCompletion(input("chatcmpl-k2"));
      await store.deleteCompletion("chatcmpl-k1");
      for (const order of ["asc", "desc"] as const) {
        for (const after of ["chatcmpl-nowhere", "chatcmpl-k1"]) {
          assert.deepEqual(
            await store.listCompletions({ after, limit: 10, order }),
            { data: [], hasMore: false, unknownCursor: "after" },
            `${order} ${after}`,
          );
        }
        // A completion's messages: an index past its last, another completion's message, not a message id.
        for (const after of ["chatcmpl-k2-99", "chatcmpl-k1-0", "chatcmpl-k2-x", "msg_1"]) {
          assert.deepEqual(
            await store.listMessages("chatcmpl-k2", { after, limit: 10, order }),
            { data: [], hasMore: false, unknownCursor: "after" },
            `${order} ${after}`,
          );
        }
      }
      await store.deleteCompletion("chatcmpl-k2");
    });

    it("lists in the order stored both ways, after a cursor, filtered by model and metadata", async () => {
      const ids = ["chatcmpl-1", "chatcmpl-2", "chatcmpl-3", "chatcmpl-4"];
      await store.saveCompletion(input(ids[0] as string, { metadata: { team: "a", run: "1" } }));
      await store.saveCompletion(
        input(ids[1] as string, { model: "claude/sonnet", requestModel: "claude/sonnet", metadata: { team: "b" } }),
      );
      await store.saveCompletion(input(ids[2] as string, { metadata: { team: "a", run: "2" } }));
      await store.saveCompletion(input(ids[3] as string, { requestModel: "private", metadata: { team: "a", run: "1" } }));
      const asc = await store.listCompletions({ limit: 2, order: "asc" });
      assert.deepEqual(
        asc.data.map((c) => c.id),
        ids.slice(0, 2),
      );
      assert.equal(asc.hasMore, true);
      const next = await store.listCompletions({ limit: 2, order: "asc", after: "chatcmpl-2" });
      assert.deepEqual(
        next.data.map((c) => c.id),
        ids.slice(2),
      );
      assert.equal(next.hasMore, false);
      const desc = await store.listCompletions({ limit: 3, order: "desc", after: "chatcmpl-4" });
      assert.deepEqual(
        desc.data.map((c) => c.id),
        ["chatcmpl-3", "chatcmpl-2", "chatcmpl-1"],
      );
      assert.equal(desc.hasMore, false);
      const byModel = await store.listCompletions({ limit: 10, order: "asc", model: "claude/sonnet" });
      assert.deepEqual(
        byModel.data.map((c) => c.id),
        ["chatcmpl-2"],
      );
      // The model the request named matches too (a route).
      const byRoute = await store.listCompletions({ limit: 10, order: "asc", model: "private" });
      assert.deepEqual(
        byRoute.data.map((c) => c.id),
        ["chatcmpl-4"],
      );
      const byMetadata = await store.listCompletions({ limit: 10, order: "asc", metadata: { team: "a", run: "1" } });
      assert.deepEqual(
        byMetadata.data.map((c) => c.id),
        ["chatcmpl-1", "chatcmpl-4"],
      );
      const filteredPage = await store.listCompletions({ limit: 1, order: "desc", metadata: { team: "a" } });
      assert.deepEqual(
        filteredPage.data.map((c) => c.id),
        ["chatcmpl-4"],
      );
      assert.equal(filteredPage.hasMore, true);
      const none = await store.listCompletions({ limit: 10, order: "asc", metadata: { team: "z" } });
      assert.deepEqual(none, { data: [], hasMore: false });
      for (const id of ids) await store.deleteCompletion(id);
    });

    it("replaces metadata whole, and keeps the rest", async () => {
      await store.saveCompletion(input("chatcmpl-u", { metadata: { a: "1", b: "2" } }));
      const updated = await store.updateMetadata("chatcmpl-u", { c: "3" });
      assert.deepEqual(updated?.metadata, { c: "3" });
      assert.deepEqual((await store.getCompletion("chatcmpl-u"))?.metadata, { c: "3" });
      assert.deepEqual(
        (await store.listCompletions({ limit: 10, order: "asc", metadata: { c: "3" } })).data.map((c) => c.id),
        ["chatcmpl-u"],
      );
      assert.equal((await store.listCompletions({ limit: 10, order: "asc", metadata: { a: "1" } })).data.length, 0);
      assert.equal(await store.updateMetadata("chatcmpl-none", {}), undefined);
      await store.deleteCompletion("chatcmpl-u");
    });

    it("pages a completion's messages by their ids, both ways", async () => {
      const messages = [0, 1, 2, 3, 4].map((i) => ({ role: i % 2 ? "assistant" : "user", content: `m${i}` }));
      await store.saveCompletion(input("chatcmpl-m", { messages }));
      const first = await store.listMessages("chatcmpl-m", { limit: 2, order: "asc" });
      assert.deepEqual(first?.data, [
        { index: 0, message: messages[0] },
        { index: 1, message: messages[1] },
      ]);
      assert.equal(first?.hasMore, true);
      const rest = await store.listMessages("chatcmpl-m", { limit: 5, order: "asc", after: "chatcmpl-m-1" });
      assert.deepEqual(
        rest?.data.map((m) => m.index),
        [2, 3, 4],
      );
      assert.equal(rest?.hasMore, false);
      const desc = await store.listMessages("chatcmpl-m", { limit: 2, order: "desc", after: "chatcmpl-m-3" });
      assert.deepEqual(
        desc?.data.map((m) => m.index),
        [2, 1],
      );
      assert.equal(desc?.hasMore, true);
      // An id that is not one of its messages is an unknown cursor, not the first page again.
      const unknown = await store.listMessages("chatcmpl-m", { limit: 1, order: "asc", after: "chatcmpl-other-1" });
      assert.equal(unknown?.unknownCursor, "after");
      assert.deepEqual(unknown?.data, []);
      await store.deleteCompletion("chatcmpl-m");
    });

    it("keeps at most maxCount, dropping the oldest, and nothing past its days", async () => {
      for (let i = 0; i < 8; i++) {
        now += 1;
        await store.saveCompletion(input(`chatcmpl-r${i}`));
      }
      const kept = await store.listCompletions({ limit: 100, order: "asc" });
      assert.deepEqual(
        kept.data.map((c) => c.id),
        ["chatcmpl-r2", "chatcmpl-r3", "chatcmpl-r4", "chatcmpl-r5", "chatcmpl-r6", "chatcmpl-r7"],
      );
      assert.equal(await store.getCompletion("chatcmpl-r0"), undefined);
      now += 30 * 86_400 - 3;
      // r0..r3 were stored more than 30 days ago now; r4.. not yet.
      assert.equal(await store.getCompletion("chatcmpl-r3"), undefined);
      assert.equal(await store.listMessages("chatcmpl-r3", { limit: 1, order: "asc" }), undefined);
      assert.deepEqual(
        (await store.listCompletions({ limit: 100, order: "asc" })).data.map((c) => c.id),
        ["chatcmpl-r4", "chatcmpl-r5", "chatcmpl-r6", "chatcmpl-r7"],
      );
      now += 100;
      assert.deepEqual(await store.listCompletions({ limit: 100, order: "asc" }), { data: [], hasMore: false });
    });

    it("replaces a completion stored again under the same id, as the newest", async () => {
      now += 1;
      await store.saveCompletion(input("chatcmpl-x1"));
      await store.saveCompletion(input("chatcmpl-x2"));
      await store.saveCompletion(input("chatcmpl-x1", { metadata: { again: "yes" } }));
      const list = await store.listCompletions({ limit: 10, order: "asc" });
      assert.deepEqual(
        list.data.map((c) => [c.id, c.metadata]),
        [
          ["chatcmpl-x2", {}],
          ["chatcmpl-x1", { again: "yes" }],
        ],
      );
    });
  });
}
