/**
 * The egress audit's commit, which every cloud request waits for: when the store's thread is idle a
 * row is committed on the serving thread (no thread wake-ups on the request's path); when the file is
 * locked, the row goes through the store's thread, and is never reported committed before it is.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { BackgroundStore, DATABASE_FILE, openEncryptedDatabase } from "../../src/store/index.js";
import { randomKey, tempDataDir } from "./store-support.js";

describe("egress audit commit", () => {
  it("commits each row before it answers, waiting for a write lock someone else holds", async () => {
    const dataDir = tempDataDir();
    const key = randomKey();
    const store = await BackgroundStore.openWithKey({ dataDir, key, pruneIntervalMs: 0 });
    const other = openEncryptedDatabase(join(dataDir, DATABASE_FILE), key);
    try {
      const first = await store.auditEgress({ target: "cloud/a", sensitivity: "public", body: '{"n":1}' });
      // Another writer holds the file: the row cannot be committed until it lets go.
      other.exec("BEGIN IMMEDIATE");
      let answered = false;
      const second = store
        .auditEgress({ target: "cloud/b", sensitivity: "private", redactions: { email: 1 }, body: '{"n":2}' })
        .then((id) => {
          answered = true;
          return id;
        });
      await new Promise((resolve) => setTimeout(resolve, 150));
      assert.equal(answered, false, "answered while the file was locked: the row cannot have been committed");
      other.exec("COMMIT");
      const id = await second;
      assert.ok(id > first, `ids ${first}, ${id}`);
      const rows = other.prepare("SELECT id, target, sensitivity FROM egress_audit ORDER BY id").all();
      assert.deepEqual(rows, [
        { id: first, target: "cloud/a", sensitivity: "public" },
        { id, target: "cloud/b", sensitivity: "private" },
      ]);
      assert.deepEqual(
        (await store.queryAudit()).map((row) => row.target),
        ["cloud/b", "cloud/a"],
      );
    } finally {
      other.close();
      await store.close();
    }
  });

  it("commits concurrent audits, some together on the store's thread, each with its own id", async () => {
    const store = await BackgroundStore.openWithKey({ dataDir: tempDataDir(), key: randomKey(), pruneIntervalMs: 0 });
    try {
      const ids = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          store.auditEgress({ target: `cloud/${i}`, sensitivity: "public", body: `{"n":${i}}` }),
        ),
      );
      assert.equal(new Set(ids).size, 40);
      const rows = await store.queryAudit({ limit: 100 });
      assert.equal(rows.length, 40);
      for (const [i, id] of ids.entries()) assert.equal(rows.find((row) => row.id === id)?.target, `cloud/${i}`);
    } finally {
      await store.close();
    }
  });
});
