/**
 * The encrypted BatchStore passes the shared contract suite, and what only a store on disk can
 * promise: a batch and its lines' outcomes survive a restart, and are encrypted on disk.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NO_BATCH_USAGE } from "../../../src/core/batches.js";
import { EncryptedBatchStore } from "../../../src/harness/batches/encrypted-batch-store.js";
import { BackgroundStore } from "../../../src/store/index.js";
import { filesContaining, randomKey, tempDataDir } from "../../store/store-support.js";
import { batchStoreSuite } from "./batch-store-suite.js";

batchStoreSuite("EncryptedBatchStore", async () => {
  const store = await BackgroundStore.openWithKey({
    dataDir: tempDataDir("tandem-batches-"),
    key: randomKey(),
    pruneIntervalMs: 0,
  });
  return { store: new EncryptedBatchStore(store), close: async () => void (await store.close()) };
});

describe("EncryptedBatchStore on disk", () => {
  it("keeps a batch, its pending lines and finished outcomes across a restart, encrypted", async () => {
    const dataDir = tempDataDir("tandem-batches-");
    const key = randomKey();
    const first = await BackgroundStore.openWithKey({ dataDir, key, pruneIntervalMs: 0 });
    const batches = new EncryptedBatchStore(first);
    await batches.createBatch(
      {
        id: "batch_disk",
        endpoint: "/v1/chat/completions",
        completionWindow: "24h",
        status: "in_progress",
        createdAt: 1,
        expiresAt: 2,
        usage: NO_BATCH_USAGE,
      },
      [
        { index: 0, customId: "a", body: { messages: "canary-line-zero" } },
        { index: 1, customId: "b", body: { messages: "canary-line-one" } },
      ],
    );
    await batches.finishLine("batch_disk", {
      index: 0,
      customId: "a",
      id: "batch_req_x",
      result: "succeeded",
      outcome: { kind: "response", statusCode: 200, requestId: "req_x", body: "canary-answer" },
    });
    await first.close();
    assert.deepEqual(filesContaining(dataDir, "canary-"), [], "nothing in the clear on disk");

    const second = await BackgroundStore.openWithKey({ dataDir, key, pruneIntervalMs: 0 });
    try {
      const reopened = new EncryptedBatchStore(second);
      assert.deepEqual(
        (await reopened.unfinishedBatches()).map((b) => b.id),
        ["batch_disk"],
      );
      assert.deepEqual(
        (await reopened.pendingLines("batch_disk", -1, 10)).map((l) => l.customId),
        ["b"],
      );
      const [done] = await reopened.finishedLines("batch_disk", -1, 10);
      assert.deepEqual(done?.outcome, { kind: "response", statusCode: 200, requestId: "req_x", body: "canary-answer" });
    } finally {
      await second.close();
    }
  });
});
