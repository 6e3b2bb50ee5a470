/**
 * The encrypted FileStore passes the shared contract suite, and what only a store on disk can
 * promise: a file's bytes are encrypted on disk, survive a restart, and are gone from the file's
 * decrypted pages once deleted or expired (read back decrypted, so the check could fail).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EncryptedFileStore } from "../../../src/harness/files/encrypted-file-store.js";
import { BackgroundStore } from "../../../src/store/index.js";
import { filesContaining, randomKey, tempDataDir } from "../../store/store-support.js";
import { pagesHold } from "../state/decrypt-pages.js";
import { fileStoreSuite } from "./file-store-suite.js";

fileStoreSuite("EncryptedFileStore", async (clock) => {
  const store = await BackgroundStore.openWithKey({
    dataDir: tempDataDir("tandem-files-"),
    key: randomKey(),
    pruneIntervalMs: 0,
  });
  return { store: new EncryptedFileStore(store, clock), close: async () => void (await store.close()) };
});

describe("EncryptedFileStore on disk", () => {
  it("moves a file's bytes to the store's thread rather than copying them, and copies a view of a shared buffer", async () => {
    const store = await BackgroundStore.openWithKey({
      dataDir: tempDataDir("tandem-files-"),
      key: randomKey(),
      pruneIntervalMs: 0,
    });
    try {
      const files = new EncryptedFileStore(store);
      const big = new Uint8Array(new ArrayBuffer(3 * 1024 * 1024)).fill(7);
      big[12_345] = 1;
      const expected = Buffer.from(big);
      const saved = await files.createFile(
        { filename: "big.bin", purpose: "user_data", mediaType: "application/octet-stream" },
        big,
      );
      assert.equal(big.byteLength, 0, "moved: the caller's view is left empty");
      // Node's small Buffers share one pool: moving its buffer would empty every other Buffer in it.
      const small = Buffer.from("a small file");
      const neighbour = Buffer.from("its neighbour in the pool");
      assert.equal(small.buffer, neighbour.buffer);
      const savedSmall = await files.createFile({ filename: "s.txt", purpose: "user_data", mediaType: "text/plain" }, small);
      assert.equal(small.toString(), "a small file");
      assert.equal(neighbour.toString(), "its neighbour in the pool");
      assert.deepEqual(Buffer.from((await files.fileContent(saved.id))?.data ?? []), expected);
      assert.equal(Buffer.from((await files.fileContent(savedSmall.id))?.data ?? []).toString(), "a small file");
      assert.equal(saved.bytes, expected.byteLength);
    } finally {
      await store.close();
    }
  });

  it("encrypts a file's bytes, keeps them across a restart, and erases them when deleted or expired", async () => {
    const dataDir = tempDataDir("tandem-files-");
    const key = randomKey();
    let now = 1_700_000_000;
    const canary = (tag: string) => new TextEncoder().encode(`canary-${tag}-${"z".repeat(9000)}`);
    const first = await BackgroundStore.openWithKey({ dataDir, key, pruneIntervalMs: 0 });
    const files = new EncryptedFileStore(first, () => now);
    const kept = await files.createFile({ filename: "kept.txt", purpose: "user_data", mediaType: "text/plain" }, canary("kept"));
    const deleted = await files.createFile(
      { filename: "d.txt", purpose: "user_data", mediaType: "text/plain" },
      canary("deleted"),
    );
    const expiring = await files.createFile(
      { filename: "e.txt", purpose: "user_data", mediaType: "text/plain", expiresAfter: 3600 },
      canary("expiring"),
    );
    await first.close();
    assert.deepEqual(filesContaining(dataDir, "canary-"), [], "nothing in the clear on disk");
    for (const tag of ["kept", "deleted", "expiring"]) assert.equal(pagesHold(dataDir, key, `canary-${tag}-`), true, tag);

    const second = await BackgroundStore.openWithKey({ dataDir, key, pruneIntervalMs: 0 });
    try {
      const reopened = new EncryptedFileStore(second, () => now);
      assert.deepEqual(await reopened.getFile(kept.id), kept);
      assert.equal(await reopened.deleteFile(deleted.id), true);
      now += 3600;
      assert.equal(await reopened.getFile(expiring.id), undefined);
      assert.equal(pagesHold(dataDir, key, "canary-deleted-"), false);
      assert.equal(pagesHold(dataDir, key, "canary-expiring-"), false);
      assert.equal(pagesHold(dataDir, key, "canary-kept-"), true);
    } finally {
      await second.close();
    }
  });

  it("deletes files that expired while the server was stopped when the store opens (its pruning job)", async () => {
    const dataDir = tempDataDir("tandem-files-");
    const key = randomKey();
    const first = await BackgroundStore.openWithKey({ dataDir, key, pruneIntervalMs: 0 });
    // Made an hour before the epoch's second hour: long expired by the real clock the pruning job reads.
    const old = new EncryptedFileStore(first, () => 3600);
    await old.createFile(
      { filename: "old.txt", purpose: "batch", mediaType: "text/plain", expiresAfter: 3600 },
      new TextEncoder().encode(`canary-expired-${"q".repeat(5000)}`),
    );
    await first.close();
    assert.equal(pagesHold(dataDir, key, "canary-expired-"), true, "the positive control");
    const second = await BackgroundStore.openWithKey({ dataDir, key, pruneIntervalMs: 0 });
    await second.close();
    assert.equal(pagesHold(dataDir, key, "canary-expired-"), false);
  });
});
