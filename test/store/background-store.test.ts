/**
 * The server's store runs on a worker thread: rows logged on the serving thread reach the encrypted
 * database, queries see them, close() commits what is queued, and a store that cannot be opened is
 * refused with the same StoreError as the synchronous one.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { BackgroundStore, openStore, StoreError } from "../../src/store/index.js";
import { filesContaining, randomKey, tempDataDir } from "./store-support.js";

describe("background store", () => {
  it("writes on its own thread what the server logs, and close() commits what is still queued", async () => {
    const dataDir = tempDataDir();
    const key = randomKey();
    const store = await BackgroundStore.openWithKey({ dataDir, key, pruneIntervalMs: 0 });
    store.logRequest({ dialect: "openai", status: 200, target: "a/m", attempts: 1, latencyMs: 12.5 });
    store.recordEgress({ target: "a/m", sensitivity: "private", redactions: { email: 1 }, body: '{"canary":"ana@example.org"}' });
    store.addUsage({ target: "a/m", inputTokens: 5, outputTokens: 7 });
    const audit = await store.queryAudit();
    assert.equal(audit.length, 1);
    assert.equal(audit[0]?.sha256, createHash("sha256").update('{"canary":"ana@example.org"}').digest("hex"));
    assert.deepEqual(audit[0]?.redactions, { email: 1 });
    assert.equal((await store.queryRequests())[0]?.target, "a/m");
    assert.equal((await store.queryUsage())[0]?.outputTokens, 7);
    // Logged just before close: committed by it, not lost.
    for (let i = 0; i < 50; i++) store.logRequest({ dialect: "anthropic", status: 200 + i });
    const closed = await store.close();
    assert.equal(closed.ok, true);
    await store.close();
    store.logRequest({ dialect: "openai", status: 200 });
    const reopened = openStore({ dataDir, key, pruneIntervalMs: 0 });
    try {
      assert.equal(reopened.queryRequests({ limit: 1000 }).length, 51);
    } finally {
      reopened.close();
    }
    assert.deepEqual(filesContaining(dataDir, "ana@example.org"), [], "only the digest was stored");
  });

  it("sums usage per target and day before it crosses over, with the same totals as one row per request", async () => {
    const store = await BackgroundStore.openWithKey({ dataDir: tempDataDir(), key: randomKey(), pruneIntervalMs: 0 });
    try {
      const yesterday = Date.now() - 86_400_000;
      for (let i = 0; i < 100; i++) store.addUsage({ target: "a/m", inputTokens: 2, outputTokens: 3, costUsd: 0.01 });
      store.addUsage({ target: "a/m", inputTokens: 1, outputTokens: 1 });
      store.addUsage({ target: "b/m", inputTokens: 4, outputTokens: 5 });
      store.addUsage({ target: "a/m", time: yesterday, inputTokens: 6, outputTokens: 6, requests: 2 });
      const rows = await store.queryUsage({ since: yesterday - 86_400_000 });
      const today = new Date().toISOString().slice(0, 10);
      const row = (day: string, target: string) => rows.find((r) => r.day === day && r.target === target);
      const a = row(today, "a/m");
      assert.deepEqual([a?.requests, a?.inputTokens, a?.outputTokens], [101, 201, 301]);
      assert.ok(Math.abs((a?.costUsd ?? 0) - 1) < 1e-9, `cost ${a?.costUsd}`);
      const b = row(today, "b/m");
      assert.deepEqual([b?.requests, b?.inputTokens, b?.outputTokens, b?.costUsd], [1, 4, 5, null]);
      const before = row(new Date(yesterday).toISOString().slice(0, 10), "a/m");
      assert.deepEqual([before?.requests, before?.inputTokens], [2, 6]);
    } finally {
      await store.close();
    }
  });

  it("refuses a wrong key with the store's own error", async () => {
    const dataDir = tempDataDir();
    const first = await BackgroundStore.openWithKey({ dataDir, key: randomKey(), pruneIntervalMs: 0 });
    first.logRequest({ dialect: "openai", status: 200 });
    await first.close();
    await assert.rejects(
      BackgroundStore.openWithKey({ dataDir, key: randomKey(), pruneIntervalMs: 0 }),
      (err: unknown) => err instanceof StoreError && err.code === "key_mismatch" && /tandem\.db/.test(err.message),
    );
  });
});
