import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { FileStore, NewFile } from "../../../src/core/files.js";
import type { FileClock } from "../../../src/harness/files/file-clock.js";

/**
 * The FileStore contract, run against every implementation (memory and the encrypted store): ids,
 * bytes in and out unchanged and copied, listing order, cursor and purpose filter, expiry by the
 * store's clock (gone, not only hidden), and deletes.
 */
export function fileStoreSuite(name: string, open: (clock: FileClock) => Promise<{ store: FileStore; close(): Promise<void> }>) {
  describe(`${name} (FileStore contract)`, () => {
    let store: FileStore;
    let close: () => Promise<void>;
    let now = 1_700_000_000;
    before(async () => {
      ({ store, close } = await open(() => now));
    });
    after(() => close());

    const text = (s: string) => new TextEncoder().encode(s);
    const input = (filename: string, extra: Partial<NewFile> = {}): NewFile => ({
      filename,
      purpose: "user_data",
      mediaType: "text/plain",
      ...extra,
    });

    it("creates a file with a new id at the store's time, and gives back its bytes as a copy", async () => {
      const data = text("hello");
      const file = await store.createFile(input("a.txt"), data);
      assert.match(file.id, /^file-[A-Za-z0-9]{24}$/);
      assert.deepEqual(file, {
        id: file.id,
        createdAt: now,
        filename: "a.txt",
        purpose: "user_data",
        bytes: 5,
        mediaType: "text/plain",
      });
      data[0] = 0;
      assert.deepEqual(await store.getFile(file.id), file);
      const content = await store.fileContent(file.id);
      assert.deepEqual(content?.file, file);
      assert.equal(new TextDecoder().decode(content?.data), "hello");
      (content?.data as Uint8Array)[0] = 0;
      assert.equal(new TextDecoder().decode((await store.fileContent(file.id))?.data), "hello");
      assert.equal(await store.deleteFile(file.id), true);
      assert.equal(await store.deleteFile(file.id), false);
      assert.equal(await store.getFile(file.id), undefined);
      assert.equal(await store.fileContent(file.id), undefined);
    });

    it("keeps the level an upload declared, in every read of the file; none when none was declared", async (t) => {
      const secret = await store.createFile(input("s.txt", { sensitivity: "private" }), text("s"));
      const inner = await store.createFile(input("i.txt", { sensitivity: "internal" }), text("i"));
      const plain = await store.createFile(input("p.txt"), text("p"));
      // Deleted whatever the checks find, so the listing tests after this one see only their own files.
      t.after(() => Promise.all([secret, inner, plain].map((file) => store.deleteFile(file.id))));
      assert.equal(secret.sensitivity, "private");
      assert.equal((await store.getFile(secret.id))?.sensitivity, "private");
      assert.equal((await store.fileContent(secret.id))?.file.sensitivity, "private");
      assert.equal((await store.getFile(inner.id))?.sensitivity, "internal");
      assert.ok(!("sensitivity" in ((await store.getFile(plain.id)) ?? {})));
      const listed = await store.listFiles({ limit: 100, order: "asc" });
      assert.deepEqual(
        listed.data.filter((f) => [secret.id, inner.id, plain.id].includes(f.id)).map((f) => f.sensitivity),
        ["private", "internal", undefined],
      );
    });

    it("lists in creation order both ways, after a cursor, filtered by purpose", async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        ids.push((await store.createFile(input(`f${i}`, { purpose: i % 2 === 0 ? "evals" : "batch" }), text(`${i}`))).id);
      }
      const asc = await store.listFiles({ limit: 2, order: "asc" });
      assert.deepEqual(
        asc.data.map((f) => f.id),
        ids.slice(0, 2),
      );
      assert.equal(asc.hasMore, true);
      const next = await store.listFiles({ limit: 10, order: "asc", after: ids[1] as string });
      assert.deepEqual(
        next.data.map((f) => f.id),
        ids.slice(2),
      );
      assert.equal(next.hasMore, false);
      const desc = await store.listFiles({ limit: 10, order: "desc" });
      assert.deepEqual(
        desc.data.map((f) => f.id),
        [...ids].reverse(),
      );
      const evals = await store.listFiles({ limit: 10, order: "asc", purpose: "evals" });
      assert.deepEqual(
        evals.data.map((f) => f.id),
        [ids[0], ids[2], ids[4]],
      );
      const evalsAfter = await store.listFiles({ limit: 1, order: "asc", purpose: "evals", after: ids[0] as string });
      assert.deepEqual(
        evalsAfter.data.map((f) => f.id),
        [ids[2]],
      );
      assert.equal(evalsAfter.hasMore, true);
      // A file of another purpose is no file of the evals list: its cursor names nothing there.
      for (const order of ["asc", "desc"] as const) {
        assert.deepEqual(
          await store.listFiles({ limit: 10, order, purpose: "evals", after: ids[1] as string }),
          { data: [], hasMore: false, unknownCursor: "after" },
          order,
        );
      }
      for (const id of ids) await store.deleteFile(id);
    });

    it("answers an `after` that names no file (never one, or deleted since) as unknownCursor, not the first page", async () => {
      const a = await store.createFile(input("a"), text("a"));
      const b = await store.createFile(input("b"), text("b"));
      await store.deleteFile(a.id);
      for (const order of ["asc", "desc"] as const) {
        for (const after of ["file-nowhere", a.id]) {
          assert.deepEqual(
            await store.listFiles({ after, limit: 10, order }),
            { data: [], hasMore: false, unknownCursor: "after" },
            `${order} ${after}`,
          );
        }
      }
      await store.deleteFile(b.id);
    });

    it("expires a file at its time: not read, not listed, and gone after the clock goes back", async () => {
      const short = await store.createFile(input("short", { expiresAfter: 3600 }), text("x"));
      const kept = await store.createFile(input("kept"), text("y"));
      assert.equal(short.expiresAt, now + 3600);
      const start = now;
      now += 3599;
      assert.ok(await store.getFile(short.id));
      now += 1;
      assert.equal(await store.getFile(short.id), undefined);
      assert.equal(await store.fileContent(short.id), undefined);
      assert.deepEqual(
        (await store.listFiles({ limit: 10, order: "asc" })).data.map((f) => f.id),
        [kept.id],
      );
      now = start;
      assert.equal(await store.getFile(short.id), undefined, "its bytes were deleted, not hidden");
      await store.deleteFile(kept.id);
    });

    it("keeps binary bytes exactly, a few MiB of them", async () => {
      const data = new Uint8Array(3 * 1024 * 1024);
      for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff;
      // The store takes the bytes it is given (it may move them to another thread): compare with a copy.
      const expected = data.slice();
      const file = await store.createFile(input("big.bin", { mediaType: "application/octet-stream" }), data);
      assert.equal(file.bytes, expected.length);
      assert.deepEqual((await store.fileContent(file.id))?.data, expected);
      await store.deleteFile(file.id);
    });
  });
}
