import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { openStore } from "../../src/store/index.js";
import { eventLog, fillUp, onTinyFilesystem } from "./store-support.js";

describe("store on a full disk", () => {
  it("reports SQLITE_FULL cleanly, keeps serving, keeps the rows queued and writes them once space is back", async (t) => {
    await onTinyFilesystem(t, async (dir) => {
      const dataDir = join(dir, "data");
      const { events, report } = eventLog();
      const store = openStore({
        dataDir,
        key: randomBytes(32),
        logContent: true,
        flushIntervalMs: 5,
        pruneIntervalMs: 0,
        report,
      });
      store.setSecret("openai", "sk-test-before-full");
      store.logRequest({ dialect: "openai", status: 200, route: "before" });
      assert.equal(store.flush().ok, true);

      const filler = fillUp(dir);
      const content = { request: "q".repeat(4000), response: "a".repeat(4000) };
      for (let i = 0; i < 200; i++) store.logRequest({ dialect: "openai", status: 200, route: `during-${i}`, content });
      const failed = store.flush();
      assert.equal(failed.ok, false);
      assert.equal(failed.error?.code, "disk_full");
      assert.equal(failed.error?.message, `cannot write to ${join(dataDir, "tandem.db")}: the disk is full (SQLITE_FULL)`);
      const health = store.health();
      assert.equal(health.pending, 200);
      assert.ok(health.writeErrors >= 1);
      assert.equal(health.lastError?.code, "disk_full");
      assert.deepEqual(
        events.map((e) => e.type),
        ["write_failed"],
        "reported once, not once per retry",
      );

      // The server side keeps working: logging does not throw, reads answer from what is committed.
      assert.doesNotThrow(() => store.logRequest({ dialect: "openai", status: 200, route: "during-200", content }));
      assert.equal(store.getSecret("openai"), "sk-test-before-full");
      assert.deepEqual(
        store.queryRequests().map((r) => r.route),
        ["before"],
      );
      await new Promise((r) => setTimeout(r, 600)); // a retry or two, still failing
      assert.equal(store.health().pending, 201);
      assert.deepEqual(
        events.map((e) => e.type),
        ["write_failed"],
      );

      rmSync(filler);
      const until = Date.now() + 15_000;
      while (store.health().pending > 0) {
        if (Date.now() > until) assert.fail("queued rows were not written after space came back");
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(events.at(-1)?.type, "write_resumed");
      assert.equal(store.health().lastError, undefined);
      const routes = new Set(store.queryRequests({ limit: 1000 }).map((r) => r.route));
      assert.equal(routes.size, 202);
      for (let i = 0; i <= 200; i++) assert.ok(routes.has(`during-${i}`), `during-${i}`);
      store.setSecret("openai", "sk-test-after-full");
      assert.equal(store.getSecret("openai"), "sk-test-after-full");
      assert.equal(store.health().dropped, 0);
      store.close();
    });
  });
  it("refuses to commit an egress audit row on a full disk (the server then sends nothing), and commits again once space is back", async (t) => {
    await onTinyFilesystem(t, async (dir) => {
      const dataDir = join(dir, "data");
      const store = openStore({ dataDir, key: randomBytes(32), logContent: true, pruneIntervalMs: 0, report: () => {} });
      assert.equal(store.commitEgress([{ target: "cloud/m", sensitivity: "public", body: "before" }]).length, 1);
      const filler = fillUp(dir);
      // Queued rows fill what the WAL had left, so the audit's commit finds the disk full.
      const content = { request: "q".repeat(4000), response: "a".repeat(4000) };
      for (let i = 0; i < 200; i++) store.logRequest({ dialect: "openai", status: 200, content });
      assert.throws(
        () => store.commitEgress([{ target: "cloud/m", sensitivity: "public", body: "during" }]),
        (err: unknown) => (err as { code?: string }).code === "disk_full",
      );
      assert.deepEqual(
        store.queryAudit().map((r) => r.bytes),
        [6],
        "nothing of the failed commit is in the audit",
      );
      rmSync(filler);
      const [id] = store.commitEgress([{ target: "cloud/m", sensitivity: "public", body: "after!!" }]);
      assert.ok(id !== undefined && id > 0);
      assert.deepEqual(
        store.queryAudit().map((r) => r.bytes),
        [7, 6],
      );
      store.close();
    });
  });
});

describe("opening a store on a full disk", () => {
  it("says the disk is full (code disk_full), not only SQLite's 'disk I/O error'", async (t) => {
    await onTinyFilesystem(t, async (dir) => {
      const dataDir = join(dir, "data");
      const key = randomBytes(32);
      const first = openStore({ dataDir, key, pruneIntervalMs: 0, report: () => {} });
      first.logRequest({ dialect: "openai", status: 200 });
      first.close();
      fillUp(dir);
      assert.throws(
        () => openStore({ dataDir, key, pruneIntervalMs: 0, report: () => {} }).close(),
        (err: unknown) => {
          const { code, message } = err as { code?: string; message?: string };
          assert.equal(code, "disk_full", message);
          assert.match(String(message), /the disk is full/);
          assert.match(String(message), /tandem\.db/);
          return true;
        },
      );
    });
  });
});
