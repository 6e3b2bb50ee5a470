import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { openStore, parseDatabaseKey, resolveDatabaseKey, StoreError } from "../../src/store/index.js";
import { FakeKeychain } from "../secrets/fake-keychain.js";
import { tempDataDir } from "./store-support.js";

const NO_KEYCHAIN = "no Secret Service is running on this session's D-Bus";

function warnings(): { lines: string[]; warn: (line: string) => void } {
  const lines: string[] = [];
  return { lines, warn: (line) => lines.push(line) };
}

describe("database key", () => {
  it("reads TANDEM_DB_KEY as 64 hex digits or base64 of 32 bytes, before any other source", async () => {
    const bytes = randomBytes(32);
    const keychain = new FakeKeychain({ entries: { "database-key": randomBytes(32).toString("hex") } });
    for (const text of [
      bytes.toString("hex"),
      bytes.toString("hex").toUpperCase(),
      bytes.toString("base64"),
      bytes.toString("base64url"),
      ` ${bytes.toString("hex")}\n`,
    ]) {
      const found = await resolveDatabaseKey({ dataDir: tempDataDir(), env: { TANDEM_DB_KEY: text }, keychain });
      assert.deepEqual(found.key, bytes);
      assert.equal(found.source, "env");
    }
    assert.equal(keychain.calls, 0, "the keychain is not even asked");
  });

  it("refuses an invalid TANDEM_DB_KEY with a clear error that does not echo it", async () => {
    for (const bad of [
      "0123abcd",
      "z".repeat(64),
      randomBytes(31).toString("base64"),
      randomBytes(33).toString("hex"),
      "correct horse battery staple",
    ]) {
      const dataDir = tempDataDir();
      await assert.rejects(
        resolveDatabaseKey({ dataDir, env: { TANDEM_DB_KEY: bad }, keychain: new FakeKeychain() }),
        (err: unknown) =>
          err instanceof StoreError &&
          err.code === "invalid_key" &&
          err.message.startsWith(
            "TANDEM_DB_KEY is not a valid database key: expected 32 bytes written as 64 hex digits or as base64",
          ) &&
          !err.message.includes(bad),
      );
      assert.equal(existsSync(join(dataDir, "db.key")), false, "no key file is made instead");
    }
    assert.throws(() => parseDatabaseKey("abc", "somewhere"), /somewhere is not a valid database key/);
  });

  it("makes a random key in the keychain on first use and finds it there afterwards, with nothing on disk", async () => {
    const dataDir = tempDataDir();
    const keychain = new FakeKeychain();
    const { lines, warn } = warnings();
    const first = await resolveDatabaseKey({ dataDir, env: {}, keychain, warn });
    assert.equal(first.source, "keychain");
    assert.equal(first.created, true);
    assert.equal(first.key.length, 32);
    assert.equal(keychain.entries.get("database-key"), first.key.toString("hex"));
    const second = await resolveDatabaseKey({ dataDir, env: {}, keychain, warn });
    assert.deepEqual(second.key, first.key);
    assert.equal(second.created, false);
    assert.equal(existsSync(join(dataDir, "db.key")), false);
    assert.deepEqual(lines, []);
  });

  it("without a keychain, makes <dataDir>/db.key with mode 0600 and warns in one line that the key sits next to the data", async () => {
    const dataDir = join(tempDataDir(), "fresh");
    const keychain = new FakeKeychain({ unavailable: NO_KEYCHAIN });
    const { lines, warn } = warnings();
    const first = await resolveDatabaseKey({ dataDir, env: {}, keychain, warn });
    const file = join(dataDir, "db.key");
    assert.equal(first.source, "file");
    assert.equal(first.where, file);
    assert.equal(first.created, true);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(readFileSync(file, "utf8"), `${first.key.toString("hex")}\n`);
    assert.equal(lines.length, 1);
    assert.ok(!lines[0]?.includes("\n"));
    assert.match(
      lines[0] ?? "",
      /^tandem: warning: the database key is in .*db\.key, next to the data it protects, because no OS keychain is available/,
    );
    const second = await resolveDatabaseKey({ dataDir, env: {}, keychain, warn });
    assert.deepEqual(second.key, first.key);
    assert.equal(second.created, false);
    // And the key really opens the store it made.
    const store = openStore({ dataDir, key: second, pruneIntervalMs: 0 });
    store.close();
  });

  it("refuses a key file that other users can read, saying how to fix it", async () => {
    const dataDir = tempDataDir();
    const file = join(dataDir, "db.key");
    writeFileSync(file, `${randomBytes(32).toString("hex")}\n`, { mode: 0o644 });
    chmodSync(file, 0o644);
    await assert.rejects(
      resolveDatabaseKey({ dataDir, env: {}, keychain: new FakeKeychain({ unavailable: NO_KEYCHAIN }), warn: () => {} }),
      (err: unknown) =>
        err instanceof StoreError &&
        err.code === "unsafe_key_file" &&
        err.message ===
          `refusing to use the database key file ${file}: other users can read it (mode 0644); make it private with: chmod 600 ${file}`,
    );
    chmodSync(file, 0o600);
    const found = await resolveDatabaseKey({
      dataDir,
      env: {},
      keychain: new FakeKeychain({ unavailable: NO_KEYCHAIN }),
      warn: () => {},
    });
    assert.equal(found.source, "file");
  });

  it("refuses a key file that is a symlink", async () => {
    const dataDir = tempDataDir();
    const target = join(tempDataDir(), "elsewhere.key");
    writeFileSync(target, randomBytes(32).toString("hex"), { mode: 0o600 });
    symlinkSync(target, join(dataDir, "db.key"));
    await assert.rejects(
      resolveDatabaseKey({ dataDir, env: {}, keychain: new FakeKeychain({ unavailable: NO_KEYCHAIN }), warn: () => {} }),
      /cannot read the database key file .*db\.key/,
    );
  });

  it("keeps using an existing key file when a keychain appears later, instead of making a key that would not open the data", async () => {
    const dataDir = tempDataDir();
    const made = await resolveDatabaseKey({
      dataDir,
      env: {},
      keychain: new FakeKeychain({ unavailable: NO_KEYCHAIN }),
      warn: () => {},
    });
    const keychain = new FakeKeychain();
    const { lines, warn } = warnings();
    const later = await resolveDatabaseKey({ dataDir, env: {}, keychain, warn });
    assert.deepEqual(later.key, made.key);
    assert.equal(later.source, "file");
    assert.equal(keychain.entries.size, 0);
    assert.match(lines[0] ?? "", /because it was made when no OS keychain was available/);
  });

  it("will not make a new key for an existing database whose key is missing", async () => {
    const dataDir = tempDataDir();
    const store = openStore({ dataDir, key: randomBytes(32), pruneIntervalMs: 0 });
    store.close();
    const keychain = new FakeKeychain();
    await assert.rejects(
      resolveDatabaseKey({ dataDir, env: {}, keychain, warn: () => {} }),
      (err: unknown) =>
        err instanceof StoreError &&
        err.code === "no_key" &&
        err.message.startsWith(`${join(dataDir, "tandem.db")} exists but its key was not found`),
    );
    assert.equal(keychain.entries.size, 0);
    assert.equal(existsSync(join(dataDir, "db.key")), false);
  });

  it("makes no key for a command that only reads, when there is no database", async () => {
    const dataDir = tempDataDir();
    const keychain = new FakeKeychain();
    await assert.rejects(
      resolveDatabaseKey({ dataDir, env: {}, keychain, create: false }),
      (err: unknown) => err instanceof StoreError && err.code === "not_found",
    );
    assert.equal(keychain.entries.size, 0);
    assert.equal(existsSync(join(dataDir, "db.key")), false);
  });
});
