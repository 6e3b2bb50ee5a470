/**
 * The egress audit's journal (src/store/audit-journal.ts): every cloud request waits for its row to be
 * on disk, which is one encrypted append to the journal, not a database commit; the row is committed
 * with the next batch, and whatever a crash leaves in the journal is committed when the store is next
 * opened, exactly once.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { appendFileSync, existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { describe, it } from "node:test";
import { AUDIT_JOURNAL_DIR, AuditJournal, ROTATE_AFTER_BYTES, ROTATE_AFTER_MS } from "../../src/store/audit-journal.js";
import { BackgroundStore, DATABASE_FILE, openEncryptedDatabase, openStore } from "../../src/store/index.js";
import { type EgressValues, egressValues } from "../../src/store/log-tables.js";
import { eventLog, fillUp, onTinyFilesystem, randomKey, tempDataDir } from "./store-support.js";

const row = (target: string, body: string): EgressValues =>
  egressValues({ target, sensitivity: "public", body, time: Date.now() }) as EgressValues;

/** A hand-over at this time ends the file in use, as one after ROTATE_AFTER_MS does. */
const ENDED = Number.POSITIVE_INFINITY;

function journalFiles(dataDir: string): string[] {
  const dir = join(dataDir, AUDIT_JOURNAL_DIR);
  return existsSync(dir) ? readdirSync(dir) : [];
}

/** Opens the store the way the CLI does after a crash, and reads the audit back. */
function auditAfterOpen(dataDir: string, key: Buffer) {
  const log = eventLog();
  const store = openStore({ dataDir, key, pruneIntervalMs: 0, report: log.report });
  try {
    return { rows: store.queryAudit({ limit: 1000 }), events: log.events };
  } finally {
    store.close();
  }
}

describe("egress audit journal", () => {
  it("answers once the row is in the journal, even while another writer holds the database, and commits it once it lets go", async () => {
    const dataDir = tempDataDir();
    const key = randomKey();
    const store = await BackgroundStore.openWithKey({ dataDir, key, pruneIntervalMs: 0 });
    const other = openEncryptedDatabase(join(dataDir, DATABASE_FILE), key);
    try {
      const first = await store.auditEgress({ target: "cloud/a", sensitivity: "public", body: '{"n":1}' });
      other.exec("BEGIN IMMEDIATE");
      const second = await store.auditEgress({
        target: "cloud/b",
        sensitivity: "private",
        redactions: { email: 1 },
        body: '{"n":2}',
      });
      assert.notEqual(first, second);
      // On disk, encrypted: neither the target nor the digest is readable in the journal.
      const names = journalFiles(dataDir);
      assert.ok(names.length >= 1, "the rows are in the journal");
      const bytes = Buffer.concat(names.map((n) => readFileSync(join(dataDir, AUDIT_JOURNAL_DIR, n))));
      assert.ok(!bytes.includes("cloud/b") && !bytes.includes("private"), "the journal is encrypted");
      other.exec("COMMIT");
      const rows = await store.queryAudit();
      assert.deepEqual(
        rows.map((r) => [r.target, r.sensitivity, r.redactions]),
        [
          ["cloud/b", "private", { email: 1 }],
          ["cloud/a", "public", {}],
        ],
      );
    } finally {
      other.close();
      await store.close();
    }
    // Committed and closed: the journal files are gone.
    assert.deepEqual(journalFiles(dataDir), []);
  });

  it("gives concurrent audits their own numbers, and a body that was not sent is marked on its own row", async () => {
    const store = await BackgroundStore.openWithKey({ dataDir: tempDataDir(), key: randomKey(), pruneIntervalMs: 0 });
    try {
      const ids = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          store.auditEgress({ target: `cloud/${i}`, sensitivity: "public", body: `{"n":${i}}` }),
        ),
      );
      assert.equal(new Set(ids).size, 40);
      store.markEgressNotSent(ids[7] as number);
      const rows = await store.queryAudit({ limit: 100 });
      assert.equal(rows.length, 40);
      assert.deepEqual(
        rows.filter((r) => !r.sent).map((r) => r.target),
        ["cloud/7"],
      );
    } finally {
      await store.close();
    }
  });

  it("commits what a crash left in the journal at the next open, stops at a torn record, and removes the files", () => {
    const dataDir = tempDataDir();
    const key = randomKey();
    openStore({ dataDir, key, pruneIntervalMs: 0 }).close();
    // A writer that never sealed its file (the process was killed), then one whose last write was cut short.
    const crashed = new AuditJournal(dataDir, key);
    crashed.append(row("cloud/a", "one"));
    crashed.append(row("cloud/b", "two"));
    const [file] = crashed.handOver(ENDED).sealed;
    crashed.append(row("cloud/c", "three"));
    crashed.close();
    appendFileSync(file as string, Buffer.from([0, 0, 0, 90, 1, 2, 3]));
    const { rows, events } = auditAfterOpen(dataDir, key);
    assert.deepEqual(rows.map((r) => r.target).sort(), ["cloud/a", "cloud/b", "cloud/c"]);
    assert.deepEqual(
      events.map((e) => e.type),
      ["journal_unreadable"],
    );
    assert.match(
      (events[0] as { reason: string }).reason,
      /last 7 bytes are not a whole record \(a write cut short by a crash or a full disk\) and were left out; the other 2 rows were committed$/,
    );
    assert.deepEqual(journalFiles(dataDir), []);
    // Opened again: nothing is replayed twice.
    assert.equal(auditAfterOpen(dataDir, key).rows.length, 3);
  });

  for (const damage of [
    { name: "a flipped byte in its ciphertext", offset: (start: number) => start + 10 },
    { name: "a flipped byte in its tag", offset: (_start: number, end: number) => end - 3 },
    { name: "a flipped byte in its length", offset: (start: number) => start + 2 },
  ]) {
    it(`skips only a record with ${damage.name}, keeps every later one, says so, and keeps the file aside`, () => {
      const dataDir = tempDataDir();
      const key = randomKey();
      openStore({ dataDir, key, pruneIntervalMs: 0 }).close();
      const crashed = new AuditJournal(dataDir, key);
      const sizes: number[] = [];
      let file = "";
      for (let i = 0; i < 6; i++) {
        crashed.append(row(`cloud/${i}`, `body ${i}`));
        file = readdirSync(join(dataDir, AUDIT_JOURNAL_DIR)).map((n) => join(dataDir, AUDIT_JOURNAL_DIR, n))[0] as string;
        sizes.push(readFileSync(file).length);
      }
      crashed.close();
      // The second record (index 1) runs from the first's end to its own.
      const bytes = readFileSync(file);
      const at = damage.offset(sizes[0] as number, sizes[1] as number);
      bytes[at] = (bytes[at] as number) ^ 0xff;
      writeFileSync(file, bytes);
      const { rows, events } = auditAfterOpen(dataDir, key);
      assert.deepEqual(rows.map((r) => r.target).sort(), ["cloud/0", "cloud/2", "cloud/3", "cloud/4", "cloud/5"]);
      assert.equal(events.length, 1);
      const reason = (events[0] as { reason: string }).reason;
      assert.match(reason, /^1 record could not be authenticated \(the file was damaged or altered/);
      assert.match(reason, /the other 5 rows were committed; the file is kept as .*\.jrn\.damaged/);
      assert.doesNotMatch(reason, /cut short/);
      assert.deepEqual(journalFiles(dataDir), [`${basename(file)}.damaged`]);
      assert.deepEqual(readFileSync(`${file}.damaged`), bytes, "kept as it was");
      // Opened again: nothing is replayed twice, nothing is reported again.
      const again = auditAfterOpen(dataDir, key);
      assert.equal(again.rows.length, 5);
      assert.deepEqual(again.events, []);
    });
  }

  it("reports a damaged last record as damage, not as a write cut short", () => {
    const dataDir = tempDataDir();
    const key = randomKey();
    openStore({ dataDir, key, pruneIntervalMs: 0 }).close();
    const crashed = new AuditJournal(dataDir, key);
    crashed.append(row("cloud/only", "x"));
    const [file] = crashed.handOver(ENDED).sealed as [string];
    const bytes = readFileSync(file);
    bytes[bytes.length - 20] = (bytes[bytes.length - 20] as number) ^ 1;
    writeFileSync(file, bytes);
    const { rows, events } = auditAfterOpen(dataDir, key);
    assert.equal(rows.length, 0);
    assert.match((events[0] as { reason: string }).reason, /^1 record could not be authenticated/);
    assert.deepEqual(journalFiles(dataDir), [`${basename(file)}.damaged`]);
  });

  it("never replays a file whose rows were committed before the crash removed it", async () => {
    const dataDir = tempDataDir();
    const key = randomKey();
    const store = await BackgroundStore.openWithKey({ dataDir, key, pruneIntervalMs: 0 });
    await store.auditEgress({ target: "cloud/a", sensitivity: "public", body: "x" });
    const [name] = journalFiles(dataDir);
    const file = join(dataDir, AUDIT_JOURNAL_DIR, name as string);
    const kept = `${file}.kept`;
    // Keep a copy aside while the store commits and removes it, then put it back: as if the process
    // died between the commit (with the file's done mark) and the removal.
    const copy = readFileSync(file);
    // A close ends the file in use: its rows are committed with its done mark, then it is removed.
    await store.close();
    assert.equal(existsSync(file), false, "removed once committed");
    appendFileSync(kept, copy);
    // The mark outlives the file only until its removal is committed; re-create both states.
    renameSync(kept, file);
    const db = openEncryptedDatabase(join(dataDir, DATABASE_FILE), key);
    db.prepare("INSERT OR IGNORE INTO audit_journal_done (file) VALUES (?)").run(name);
    db.close();
    const { rows } = auditAfterOpen(dataDir, key);
    assert.equal(rows.length, 1, "the row is in once");
    assert.deepEqual(journalFiles(dataDir), []);
  });

  it("keeps one file across hand-overs, and replays a crashed file from the count its last commit marked", () => {
    const dataDir = tempDataDir();
    const key = randomKey();
    const store = openStore({ dataDir, key, pruneIntervalMs: 0, flushIntervalMs: 60_000 });
    const journal = new AuditJournal(dataDir, key);
    const a = row("cloud/a", "one");
    const b = row("cloud/b", "two");
    journal.append(a);
    journal.append(b);
    const first = journal.handOver();
    assert.deepEqual(first.sealed, []);
    assert.equal(first.through?.records, 2);
    store.recordJournaledEgress(a, 1);
    store.recordJournaledEgress(b, 2);
    store.journalsHandedOver(first.sealed, first.through);
    assert.equal(store.flush().ok, true);
    // The next hand-over goes on in the same file: no file is created per hand-over.
    journal.append(row("cloud/c", "three"));
    const second = journal.handOver();
    assert.deepEqual(second, { sealed: [], through: { file: first.through?.file, records: 3 } });
    assert.deepEqual(journalFiles(dataDir), [basename(first.through?.file as string)]);
    // The process dies before the store's thread commits that hand-over: "cloud/c" is only in the file.
    store.close();
    const { rows, events } = auditAfterOpen(dataDir, key);
    assert.deepEqual(events, []);
    assert.deepEqual(rows.map((r) => r.target).sort(), ["cloud/a", "cloud/b", "cloud/c"], "each row once");
    assert.deepEqual(journalFiles(dataDir), []);
    assert.equal(auditAfterOpen(dataDir, key).rows.length, 3, "nothing is replayed twice");
  });

  it("ends the file in use at a hand-over once it is old or long enough, and the next row opens another", () => {
    const dataDir = tempDataDir();
    const journal = new AuditJournal(dataDir, randomKey());
    journal.append(row("cloud/a", "one"));
    const kept = journal.handOver();
    const file = kept.through?.file as string;
    assert.deepEqual(journal.handOver(Date.now() + ROTATE_AFTER_MS - 1_000), { sealed: [], through: { file, records: 1 } });
    assert.deepEqual(journal.handOver(Date.now() + ROTATE_AFTER_MS), { sealed: [file] });
    assert.deepEqual(journal.handOver(), { sealed: [] }, "an empty journal hands nothing over");
    // Long enough: rows of 64 KiB bodies' digests are small, so many rows make the bytes.
    let rows = 0;
    while (journal.handOver().sealed.length === 0) {
      journal.append(row("cloud/b", `row ${rows++}`));
      assert.ok(rows < ROTATE_AFTER_BYTES, "a file ends within ROTATE_AFTER_BYTES of rows");
    }
    assert.ok(rows * 150 > ROTATE_AFTER_BYTES / 2, `${rows} rows before the file ended on its length`);
    journal.close();
  });

  it("leaves alone the files of a writer that is still running", () => {
    const dataDir = tempDataDir();
    const key = randomKey();
    openStore({ dataDir, key, pruneIntervalMs: 0 }).close();
    const live = spawn(process.execPath, ["-e", "setTimeout(() => {}, 30000)"], { stdio: "ignore" });
    try {
      const journal = new AuditJournal(dataDir, key);
      journal.append(row("cloud/live", "x"));
      const [file] = journal.handOver(ENDED).sealed;
      const theirs = join(dataDir, AUDIT_JOURNAL_DIR, `${live.pid}-1-00000001.jrn`);
      // Same bytes under the other writer's name: its records are bound to their file's name, so write anew.
      rmSync(file as string);
      const other = new AuditJournal(dataDir, key);
      other.append(row("cloud/live", "x"));
      const [mine] = other.handOver(ENDED).sealed;
      renameSync(mine as string, theirs);
      assert.equal(auditAfterOpen(dataDir, key).rows.length, 0, "a running writer's file is its own to hand over");
      assert.deepEqual(journalFiles(dataDir), [`${live.pid}-1-00000001.jrn`]);
    } finally {
      live.kill();
    }
  });

  it("goes on when its folder was removed while the server ran", async () => {
    const dataDir = tempDataDir();
    const store = await BackgroundStore.openWithKey({ dataDir, key: randomKey(), pruneIntervalMs: 0 });
    try {
      await store.auditEgress({ target: "cloud/a", sensitivity: "public", body: "one" });
      await store.flush();
      rmSync(join(dataDir, AUDIT_JOURNAL_DIR), { recursive: true, force: true });
      await store.auditEgress({ target: "cloud/b", sensitivity: "public", body: "two" });
      // The next hand-over finds the file in use deleted and ends it: the next row makes a new one.
      await store.flush();
      await store.auditEgress({ target: "cloud/c", sensitivity: "public", body: "three" });
      assert.equal(journalFiles(dataDir).length, 1, "journaled again, in a new folder");
      assert.deepEqual(
        (await store.queryAudit()).map((r) => r.target),
        ["cloud/c", "cloud/b", "cloud/a"],
      );
    } finally {
      await store.close();
    }
  });

  it("refuses an audit on a full disk (the server then sends nothing), and journals again once space is back", async (t) => {
    await onTinyFilesystem(t, async (dir) => {
      const dataDir = join(dir, "data");
      const store = await BackgroundStore.openWithKey({ dataDir, key: randomKey(), pruneIntervalMs: 0 });
      await store.auditEgress({ target: "cloud/m", sensitivity: "public", body: "before" });
      await store.flush();
      const filler = fillUp(dir);
      // Rows that fit in the space the file in use already holds are written; the first that needs
      // more is refused.
      let accepted = 0;
      let refused: { code?: string } | undefined;
      while (refused === undefined && accepted < 1000) {
        try {
          await store.auditEgress({ target: "cloud/m", sensitivity: "public", body: "during" });
          accepted++;
        } catch (err) {
          refused = err as { code?: string };
        }
      }
      assert.equal(refused?.code, "disk_full", `refused after ${accepted} rows`);
      rmSync(filler);
      await store.auditEgress({ target: "cloud/m", sensitivity: "public", body: "after!!" });
      assert.deepEqual(
        (await store.queryAudit({ limit: 10_000 })).map((r) => r.bytes),
        [7, ...Array(accepted).fill(6), 6],
        "nothing of the refused audit is in the audit",
      );
      await store.close();
    });
  });
});
