/**
 * The encrypted StateStore passes the shared contract suite, and what only a store on disk can
 * promise: its content survives a restart, deleted content is gone from the file's pages (read
 * back decrypted, so the check could fail), and retention prunes old responses and conversations.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { StoredItem } from "../../../src/core/state.js";
import { EncryptedStateStore } from "../../../src/harness/state/encrypted-state-store.js";
import { BackgroundStore, openStore } from "../../../src/store/index.js";
import { filesContaining, randomKey, tempDataDir } from "../../store/store-support.js";
import { pagesHold } from "./decrypt-pages.js";
import { message, response, stateStoreSuite } from "./state-store-suite.js";

stateStoreSuite("EncryptedStateStore", async () => {
  const store = await BackgroundStore.openWithKey({
    dataDir: tempDataDir("tandem-state-"),
    key: randomKey(),
    pruneIntervalMs: 0,
  });
  return { store: new EncryptedStateStore(store), close: async () => void (await store.close()) };
});

const DAY_MS = 86_400_000;

describe("EncryptedStateStore on disk", () => {
  it("keeps responses and conversations across a restart with the same key", async () => {
    const dataDir = tempDataDir("tandem-state-");
    const key = randomKey();
    const first = await BackgroundStore.openWithKey({ dataDir, key, pruneIntervalMs: 0 });
    const state = new EncryptedStateStore(first);
    const saved = response("resp_restart", { conversation: "conv_restart", inputs: 2 });
    await state.saveResponse(saved);
    await state.saveResponse(response("resp_restart2", { previous: "resp_restart" }));
    const conversation = await state.createConversation({ project: "tandem" }, [message("msg_kept", "still here")]);
    await first.close();

    const second = await BackgroundStore.openWithKey({ dataDir, key, pruneIntervalMs: 0 });
    try {
      const reopened = new EncryptedStateStore(second);
      assert.deepEqual(await reopened.getResponse("resp_restart"), saved);
      assert.equal((await reopened.responseHistory("resp_restart2"))?.length, 5);
      assert.deepEqual(await reopened.getConversation(conversation.id), conversation);
      assert.deepEqual((await reopened.conversationItems(conversation.id))?.[0], message("msg_kept", "still here"));
    } finally {
      await second.close();
    }
  });

  it("leaves no trace of deleted content in the file's decrypted pages, while the store stays open", async () => {
    const dataDir = tempDataDir("tandem-state-");
    const key = randomKey();
    const store = await BackgroundStore.openWithKey({ dataDir, key, pruneIntervalMs: 0 });
    const state = new EncryptedStateStore(store);
    try {
      const secret = (tag: string) => `canary-${tag}-${"x".repeat(6000)}`; // longer than a page: overflow pages too
      const saved = response("resp_gone");
      (saved.input[0] as StoredItem).item.content = [{ type: "input_text", text: secret("response") }];
      await state.saveResponse(saved);
      const conversation = await state.createConversation({}, [message("msg_gone", secret("conversation"))]);
      const other = await state.createConversation({}, [message("msg_item_gone", secret("item")), message("msg_stays", "kept")]);
      await store.flush();
      // The positive control: before the deletes, the decrypted pages hold every canary (and the
      // encrypted file none of them).
      for (const tag of ["response", "conversation", "item"]) assert.equal(pagesHold(dataDir, key, `canary-${tag}-`), true, tag);
      assert.deepEqual(filesContaining(dataDir, "canary-"), []);

      assert.equal(await state.deleteResponse("resp_gone"), true);
      assert.equal(await state.deleteConversation(conversation.id), true);
      assert.equal(await state.deleteConversationItem(other.id, "msg_item_gone"), true);
      for (const tag of ["response", "conversation", "item"]) assert.equal(pagesHold(dataDir, key, `canary-${tag}-`), false, tag);
      assert.equal(pagesHold(dataDir, key, "msg_stays"), true, "what was not deleted is still there");
    } finally {
      await store.close();
    }
  });

  it("keeps state until deleted by default, and prunes it after state retention days when set", async () => {
    const dataDir = tempDataDir("tandem-state-");
    const key = randomKey();
    const now = Date.now();
    const kept = await BackgroundStore.openWithKey({ dataDir, key, pruneIntervalMs: 0 });
    const state = new EncryptedStateStore(kept);
    await state.saveResponse({ ...response("resp_old"), createdAt: Math.floor((now - 40 * DAY_MS) / 1000) });
    await state.saveResponse({ ...response("resp_new"), createdAt: Math.floor(now / 1000) });
    const conversation = await state.createConversation({}, [message("msg_conv", "c")]);
    await kept.close();

    // Reopened without a retention setting: the pruning that runs at open deletes nothing.
    const again = await BackgroundStore.openWithKey({ dataDir, key, pruneIntervalMs: 0 });
    assert.ok(await new EncryptedStateStore(again).getResponse("resp_old"));
    await again.close();

    // With one: the pruning at open deletes the response older than 30 days, with its items.
    const pruning = await BackgroundStore.openWithKey({ dataDir, key, pruneIntervalMs: 0, stateRetentionDays: 30 });
    const pruned = new EncryptedStateStore(pruning);
    assert.equal(await pruned.getResponse("resp_old"), undefined);
    assert.ok(await pruned.getResponse("resp_new"));
    assert.ok(await pruned.getConversation(conversation.id));
    await pruning.close();

    // The job itself (Store.pruneState) deletes, 31 days on, the response and the conversation.
    const direct = openStore({ dataDir, key, pruneIntervalMs: 0, stateRetentionDays: 30, report: () => {} });
    try {
      assert.deepEqual(direct.pruneState(now + 31 * DAY_MS), { responsesDeleted: 1, conversationsDeleted: 1 });
      assert.equal(direct.state.getConversation(conversation.id), undefined);
      assert.equal(direct.state.getConversationItem(conversation.id, "msg_conv"), undefined);
      assert.equal(direct.state.getResponse("resp_new"), undefined);
    } finally {
      direct.close();
    }
    assert.equal(pagesHold(dataDir, key, "msg_conv"), false);
  });
});

describe("EncryptedStateStore paging a long input", () => {
  it("reads one page of a response's 20,000 input items, not all of them, for each page", async () => {
    const store = await BackgroundStore.openWithKey({
      dataDir: tempDataDir("tandem-state-"),
      key: randomKey(),
      pruneIntervalMs: 0,
    });
    try {
      const state = new EncryptedStateStore(store);
      const big = response("resp_big", { inputs: 20_000 });
      await state.saveResponse(big);
      const median = (times: number[]) => [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)] as number;
      const timed = async (read: () => Promise<unknown>) => {
        const started = performance.now();
        await read();
        return performance.now() - started;
      };
      // Against reading the whole response (its 20,000 items), measured alongside, so that a busy
      // machine slows both alike: a page read whole took as long; one page's rows, a small part of it.
      const pages: number[] = [];
      const wholes: number[] = [];
      for (let k = 1; k <= 7; k++) {
        const after = `msg_resp_big_in${k * 2000}`;
        let page: Awaited<ReturnType<typeof state.listInputItems>>;
        pages.push(await timed(async () => (page = await state.listInputItems("resp_big", { limit: 100, order: "asc", after }))));
        wholes.push(await timed(() => state.getResponse("resp_big")));
        assert.equal(page?.data[0]?.item.id, `msg_resp_big_in${k * 2000 + 1}`);
        assert.equal(page?.data.length, 100);
      }
      assert.ok(
        median(pages) * 5 < median(wholes),
        `a page took ${Math.round(median(pages))} ms, the whole response ${Math.round(median(wholes))} ms`,
      );
    } finally {
      await store.close();
    }
  });
});
