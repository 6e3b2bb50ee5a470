/**
 * The store's write-ahead log is checkpointed on a thread of its own (Checkpointer), so that no commit
 * on the store's thread (a stored response a client waits for) waits for a checkpoint's fsyncs; the
 * store's own connection checkpoints only when that thread is not there.
 */
import assert from "node:assert/strict";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Checkpointer } from "../../src/store/checkpointer.js";
import { BackgroundStore, openStore } from "../../src/store/index.js";
import { randomKey, tempDataDir } from "./store-support.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** About 2.4 MB of request log: 600 rows of 4 KB, some 1200 pages in the log (SQLite's own checkpoint comes at 1000). */
async function writeManyPages(store: BackgroundStore): Promise<void> {
  for (let i = 0; i < 600; i++) {
    store.logRequest({ dialect: "openai", status: 200, content: { request: `${i} ${"x".repeat(4000)}` } });
    if (i % 100 === 99) await store.flush();
  }
  await store.flush();
}
const sizeOf = (file: string) => (existsSync(file) ? statSync(file).size : 0);

/** A store in a new data dir, its content logged (large rows), its log checkpointed every `intervalMs`; `before`: its file's size. */
async function openWithCheckpoints(intervalMs: number) {
  const dataDir = tempDataDir();
  const key = randomKey();
  const options = { dataDir, key, logContent: true, pruneIntervalMs: 0, checkpointIntervalMs: intervalMs };
  const store = await BackgroundStore.openWithKey(options);
  return { dataDir, key, store, before: sizeOf(join(dataDir, "tandem.db")) };
}

describe("checkpoints of the store's log", () => {
  it("are taken by the checkpoint thread while the store is open", async () => {
    const { dataDir, key, store, before } = await openWithCheckpoints(50);
    try {
      await writeManyPages(store);
      // Only a checkpoint writes to the database file itself: the rows reach it while the store is open.
      for (let i = 0; i < 200 && sizeOf(join(dataDir, "tandem.db")) - before <= 2_000_000; i++) await sleep(50);
      const after = sizeOf(join(dataDir, "tandem.db"));
      assert.ok(after - before > 2_000_000, `tandem.db grew by ${after - before} bytes`);
    } finally {
      await store.close();
    }
    const reopened = openStore({ dataDir, key, pruneIntervalMs: 0 });
    try {
      assert.equal(reopened.queryRequests({ limit: 1000 }).length, 600);
    } finally {
      reopened.close();
    }
  });

  it("are not taken by the store's own commits while the thread runs; close() checkpoints the rest and removes the log", async () => {
    // A checkpoint thread that would not get to its first checkpoint during the test.
    const { dataDir, store, before } = await openWithCheckpoints(3_600_000);
    try {
      // Once the thread's connection is open, the store's commits leave the log alone.
      for (let i = 0; i < 200 && !(await store.health()).checkpointThread; i++) await sleep(25);
      assert.equal((await store.health()).checkpointThread, true);
      await writeManyPages(store);
      const after = sizeOf(join(dataDir, "tandem.db"));
      assert.equal(after, before, "no commit checkpointed the log (SQLite would have, past 1000 pages)");
      assert.ok(sizeOf(join(dataDir, "tandem.db-wal")) > 2_000_000);
    } finally {
      await store.close();
    }
    assert.ok(sizeOf(join(dataDir, "tandem.db")) - before > 2_000_000, "the close checkpointed the log");
    assert.equal(existsSync(join(dataDir, "tandem.db-wal")), false, "and removed it (the last connection to close)");
  });

  it("say when the thread cannot start, so that the store's connection checkpoints again", async () => {
    const gone: string[] = [];
    let ready = false;
    const checkpointer = new Checkpointer({
      file: join(tempDataDir(), "missing.db"),
      key: randomKey(),
      intervalMs: 50,
      onReady: () => {
        ready = true;
      },
      onGone: (reason) => gone.push(reason),
      onError: () => {},
    });
    for (let i = 0; i < 100 && gone.length === 0; i++) await sleep(50);
    assert.equal(ready, false);
    assert.equal(gone.length, 1);
    assert.match(gone[0] ?? "", /missing\.db/);
    await checkpointer.stop();
  });

  it("stop: the thread closes its connection and ends", async () => {
    const dataDir = tempDataDir();
    const key = randomKey();
    openStore({ dataDir, key, pruneIntervalMs: 0 }).close();
    let ready = false;
    const gone: string[] = [];
    const checkpointer = new Checkpointer({
      file: join(dataDir, "tandem.db"),
      key,
      intervalMs: 20,
      onReady: () => {
        ready = true;
      },
      onGone: (reason) => gone.push(reason),
      onError: (message) => gone.push(`error: ${message}`),
    });
    for (let i = 0; i < 100 && !ready; i++) await sleep(50);
    assert.equal(ready, true);
    await sleep(100);
    await checkpointer.stop();
    await checkpointer.stop();
    assert.deepEqual(gone, [], "a stop asked for is not a thread gone, and no checkpoint failed");
  });
});
