/**
 * A store refused at open (damage, a wrong key) after a crash keeps the files the crash left byte for
 * byte: tandem.db, its write-ahead log (the last commits before the crash) and SQLite's index of it.
 * A data folder tandem cannot write is named as such, not as a file it cannot read.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import Sqlite from "better-sqlite3-multiple-ciphers";
import { openStore, StoreError } from "../../src/store/index.js";

const SIDE = ["tandem.db", "tandem.db-wal", "tandem.db-shm"];

/**
 * A data dir as a kill -9 leaves it: a store with rows, then commits that are only in tandem.db-wal
 * (copied while the connection that wrote them is still open, as a crash would leave them).
 */
function crashedDataDir(key: Buffer): string {
  const home = mkdtempSync(join(tmpdir(), "tandem-refused-"));
  const live = join(home, "live");
  const store = openStore({ dataDir: live, key, pruneIntervalMs: 0, report: () => {} });
  for (let i = 0; i < 200; i++) store.recordEgress({ target: "cloud/m", sensitivity: "public", body: `body ${i}` });
  store.close();
  const db = new Sqlite(join(live, "tandem.db"));
  db.pragma("cipher = 'sqlcipher'");
  db.pragma("legacy = 4");
  db.pragma(`key = "x'${key.toString("hex")}'"`);
  db.pragma("journal_mode = WAL");
  db.pragma("wal_autocheckpoint = 0");
  db.exec("CREATE TABLE after_the_crash (x TEXT)");
  const insert = db.prepare("INSERT INTO after_the_crash VALUES (?)");
  for (let i = 0; i < 2000; i++) insert.run(`row ${i} ${"y".repeat(300)}`);
  const crashed = join(home, "data");
  mkdirSync(crashed);
  for (const name of SIDE) copyFileSync(join(live, name), join(crashed, name));
  db.close();
  return crashed;
}

function hashes(dataDir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of SIDE) {
    const file = join(dataDir, name);
    out[name] = existsSync(file) ? createHash("sha256").update(readFileSync(file)).digest("hex") : "absent";
  }
  return out;
}

describe("a store refused at open after a crash", () => {
  const cases: { name: string; damage: (dataDir: string) => void; code: string; openWith?: Buffer }[] = [
    {
      name: "a truncated tandem.db",
      damage: (dataDir) => truncateSync(join(dataDir, "tandem.db"), 8 * 4096),
      code: "corrupt",
    },
    {
      name: "damaged pages in tandem.db",
      damage: (dataDir) => {
        const file = join(dataDir, "tandem.db");
        const bytes = readFileSync(file);
        const late = Math.floor((bytes.length / 4096) * 0.8) * 4096;
        bytes.write("not what was written here", late + 512, "latin1");
        writeFileSync(file, bytes);
      },
      code: "corrupt",
    },
    { name: "a wrong key", damage: () => {}, code: "key_mismatch", openWith: randomBytes(32) },
  ];
  for (const c of cases) {
    it(`${c.name}: tandem.db, -wal and -shm stay byte for byte`, () => {
      const key = randomBytes(32);
      const dataDir = crashedDataDir(key);
      c.damage(dataDir);
      const before = hashes(dataDir);
      assert.notEqual(before["tandem.db-wal"], "absent");
      assert.throws(
        () => openStore({ dataDir, key: c.openWith ?? key, pruneIntervalMs: 0, report: () => {} }),
        (err: unknown) => err instanceof StoreError && err.code === c.code,
      );
      assert.deepEqual(hashes(dataDir), before);
    });
  }

  it("an undamaged one opens with the commits its write-ahead log holds", () => {
    const key = randomBytes(32);
    const dataDir = crashedDataDir(key);
    const store = openStore({ dataDir, key, pruneIntervalMs: 0, report: () => {} });
    store.close();
    const db = new Sqlite(join(dataDir, "tandem.db"));
    db.pragma("cipher = 'sqlcipher'");
    db.pragma("legacy = 4");
    db.pragma(`key = "x'${key.toString("hex")}'"`);
    assert.deepEqual(db.prepare("SELECT count(*) AS n FROM after_the_crash").get(), { n: 2000 });
    db.close();
  });

  it("a cleanly closed file refused for its key gets no -wal or -shm", () => {
    const key = randomBytes(32);
    const dataDir = join(mkdtempSync(join(tmpdir(), "tandem-refused-")), "data");
    openStore({ dataDir, key, pruneIntervalMs: 0, report: () => {} }).close();
    const before = hashes(dataDir);
    assert.equal(before["tandem.db-wal"], "absent");
    assert.throws(() => openStore({ dataDir, key: randomBytes(32), pruneIntervalMs: 0, report: () => {} }), StoreError);
    assert.deepEqual(hashes(dataDir), before);
  });
});

describe("a data folder tandem cannot write", () => {
  it("is named as the folder that cannot be written", { skip: process.getuid?.() === 0 && "root writes anyway" }, () => {
    const key = randomBytes(32);
    const dataDir = join(mkdtempSync(join(tmpdir(), "tandem-readonly-")), "data");
    openStore({ dataDir, key, pruneIntervalMs: 0, report: () => {} }).close();
    chmodSync(dataDir, 0o500);
    try {
      assert.throws(
        () => openStore({ dataDir, key, pruneIntervalMs: 0, report: () => {} }),
        (err: unknown) => err instanceof StoreError && err.message.includes(`the data folder ${dataDir} cannot be written`),
      );
    } finally {
      chmodSync(dataDir, 0o700);
    }
  });
});
