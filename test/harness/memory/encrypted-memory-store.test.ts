/**
 * The encrypted MemoryStore passes the shared contract suite, and what only a store on disk can
 * promise: memories survive a restart, and a forgotten memory's text is gone from the file's
 * decrypted pages (the table's and the full-text index's), which the positive control shows were there.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EncryptedMemoryStore } from "../../../src/harness/memory/encrypted-memory-store.js";
import { BackgroundStore } from "../../../src/store/index.js";
import { filesContaining, randomKey, tempDataDir } from "../../store/store-support.js";
import { pagesHold } from "../state/decrypt-pages.js";
import { memory, memoryStoreSuite } from "./memory-store-suite.js";

memoryStoreSuite("EncryptedMemoryStore", async () => {
  const store = await BackgroundStore.openWithKey({
    dataDir: tempDataDir("tandem-memory-"),
    key: randomKey(),
    pruneIntervalMs: 0,
  });
  return { store: new EncryptedMemoryStore(store), close: async () => void (await store.close()) };
});

describe("EncryptedMemoryStore on disk", () => {
  it("keeps memories, their vectors and their index across a restart with the same key", async () => {
    const dataDir = tempDataDir("tandem-memory-");
    const key = randomKey();
    const first = await BackgroundStore.openWithKey({ dataDir, key, pruneIntervalMs: 0 });
    const added = await new EncryptedMemoryStore(first).add(
      memory("The user's sister lives in Porto", { metadata: { from: "chat" }, embedding: { model: "e/m", vector: [0.5, 0.5] } }),
    );
    await first.close();
    const second = await BackgroundStore.openWithKey({ dataDir, key, pruneIntervalMs: 0 });
    try {
      const reopened = new EncryptedMemoryStore(second);
      assert.deepEqual(await reopened.get(added.id), added);
      assert.equal((await reopened.search({ text: "Porto", limit: 5, minScore: 0 }))[0]?.memory.id, added.id);
      const byVector = await reopened.search({ text: "", embedding: { model: "e/m", vector: [1, 1] }, limit: 5, minScore: 0 });
      assert.equal(byVector[0]?.memory.id, added.id);
      assert.ok(Math.abs((byVector[0]?.score ?? 0) - 0.7) < 1e-6, "cosine 1, no word: 0.7");
    } finally {
      await second.close();
    }
  });

  it("leaves no trace of a forgotten memory's text in the decrypted pages (table and full-text index)", async () => {
    const dataDir = tempDataDir("tandem-memory-");
    const key = randomKey();
    const store = await BackgroundStore.openWithKey({ dataDir, key, pruneIntervalMs: 0 });
    const memories = new EncryptedMemoryStore(store);
    try {
      const gone = await memories.add(memory("zqcanarygone is what the user whispered"));
      await memories.add(memory("zqcanarykept stays"));
      await store.flush();
      assert.equal(pagesHold(dataDir, key, "zqcanarygone"), true, "the positive control: the pages hold it before the delete");
      assert.deepEqual(filesContaining(dataDir, "zqcanary"), [], "and the encrypted file does not");
      assert.equal(await memories.delete(gone.id), true);
      assert.equal(pagesHold(dataDir, key, "zqcanarygone"), false);
      assert.equal(pagesHold(dataDir, key, "zqcanarykept"), true, "what was not deleted is still there");
    } finally {
      await store.close();
    }
  });
});
