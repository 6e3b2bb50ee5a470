/**
 * The encrypted ChatCompletionStore passes the shared contract suite, and what only a store on disk
 * can promise: a stored completion's text is encrypted on disk, survives a restart, and is gone from
 * the file's decrypted pages once deleted (read back decrypted, so the check could fail).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EncryptedChatCompletionStore } from "../../../src/harness/chat-completions/index.js";
import { BackgroundStore } from "../../../src/store/index.js";
import { filesContaining, randomKey, tempDataDir } from "../../store/store-support.js";
import { pagesHold } from "../state/decrypt-pages.js";
import { chatCompletionStoreSuite } from "./chat-completion-store-suite.js";

chatCompletionStoreSuite("EncryptedChatCompletionStore", async (retention, clock) => {
  const store = await BackgroundStore.openWithKey({
    dataDir: tempDataDir("tandem-chat-store-"),
    key: randomKey(),
    pruneIntervalMs: 0,
  });
  return { store: new EncryptedChatCompletionStore(store, retention, clock), close: async () => void (await store.close()) };
});

describe("EncryptedChatCompletionStore on disk", () => {
  it("encrypts a completion and its messages, keeps them across a restart, and erases them when deleted", async () => {
    const dataDir = tempDataDir("tandem-chat-store-");
    const key = randomKey();
    const canary = (tag: string) => `canary-${tag}-${"z".repeat(5000)}`;
    const input = (id: string) => ({
      id,
      model: "openai/m",
      requestModel: "openai/m",
      metadata: { tag: id },
      completion: { id, choices: [{ message: { content: canary(`${id}-answer`) } }] },
      messages: [{ role: "user", content: canary(`${id}-question`) }],
    });
    const first = await BackgroundStore.openWithKey({ dataDir, key, pruneIntervalMs: 0 });
    const completions = new EncryptedChatCompletionStore(first);
    await completions.saveCompletion(input("kept"));
    await completions.saveCompletion(input("deleted"));
    await first.close();
    assert.deepEqual(filesContaining(dataDir, "canary-"), [], "nothing in the clear on disk");
    for (const tag of ["kept-answer", "kept-question", "deleted-answer", "deleted-question"])
      assert.equal(pagesHold(dataDir, key, `canary-${tag}-`), true, tag);

    const second = await BackgroundStore.openWithKey({ dataDir, key, pruneIntervalMs: 0 });
    try {
      const reopened = new EncryptedChatCompletionStore(second);
      assert.deepEqual((await reopened.getCompletion("kept"))?.metadata, { tag: "kept" });
      assert.equal((await reopened.listMessages("kept", { limit: 5, order: "asc" }))?.data.length, 1);
      assert.equal(await reopened.deleteCompletion("deleted"), true);
    } finally {
      await second.close();
    }
    assert.equal(pagesHold(dataDir, key, "canary-deleted-"), false, "a deleted completion's text is gone");
    assert.equal(pagesHold(dataDir, key, "canary-kept-answer-"), true);
  });
});
