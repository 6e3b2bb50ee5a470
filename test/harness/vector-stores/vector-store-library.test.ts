/**
 * VectorStoreLibrary's ingestion over the in-memory stores: a file removed and added again while its
 * first ingestion runs is completed by the second only (never by the stale one), a stop mid-ingestion
 * leaves the file in_progress with no chunk and a new library resumes it, a cancelled batch's file
 * gets no chunk, and a file past
 * maxChunksPerFile fails naming the setting.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { FileStore } from "../../../src/core/files.js";
import { MemoryFileStore } from "../../../src/harness/files/memory-file-store.js";
import { MemoryVectorStoreStore } from "../../../src/harness/vector-stores/memory-vector-store-store.js";
import { VectorStoreLibrary } from "../../../src/harness/vector-stores/vector-store-library.js";
import { gatedFileStore } from "../../support/gated-file-store.js";

const TEXT = Array.from({ length: 600 }, (_, i) => `word${i}`).join(" ");

function library(
  store: MemoryVectorStoreStore,
  files: FileStore,
  maxChunksPerFile = 100,
  retryDelayMs?: number,
): VectorStoreLibrary {
  return new VectorStoreLibrary({
    ...(retryDelayMs !== undefined && { retryDelayMs }),
    store,
    files,
    documentText: async () => undefined,
    classify: () => "public",
    limits: { maxFiles: 10, maxChunksPerFile, maxQueryChars: 100 },
  });
}

/** The store's error for a full disk, as store/store-error.ts makes it (the fields callers decide on). */
function diskFull(): Error {
  return Object.assign(new Error("cannot write to the database: the disk is full (SQLITE_FULL)"), {
    code: "disk_full",
    transient: true,
  });
}

describe("VectorStoreLibrary ingestion", () => {
  it("a store created with file_ids keeps all of them or is not made: a failed write never leaves it with some", async () => {
    const files = new MemoryFileStore();
    const ids: string[] = [];
    for (const name of ["a.txt", "b.txt"]) {
      ids.push(
        (await files.createFile({ filename: name, purpose: "assistants", mediaType: "text/plain" }, Buffer.from(TEXT))).id,
      );
    }
    const store = new MemoryVectorStoreStore();
    // A full disk after the first file's record: the second cannot be written.
    let writes = 0;
    const addFile = store.addFile.bind(store);
    store.addFile = (...args: Parameters<typeof addFile>) => (++writes > 1 ? Promise.reject(diskFull()) : addFile(...args));
    const lib = library(store, files);
    const made = await lib.create({ name: "x", fileIds: ids }).catch((err: unknown) => err as Error);
    await lib.idle();
    const listed = await store.listStores({ limit: 100, order: "asc" });
    if (made instanceof Error) {
      assert.deepEqual(listed.data, [], "a store is listed with some of the files it was created with");
    } else {
      assert.equal(made.fileCounts.total, 2);
      assert.deepEqual(
        (await store.listFiles(made.id, { limit: 100, order: "asc" })).data.map((f) => f.fileId).sort(),
        [...ids].sort(),
      );
    }
  });

  it("a file whose chunks cannot be kept for a while (a full disk) is kept once the store takes writes again, not left in_progress until a restart", async () => {
    const files = new MemoryFileStore();
    const file = await files.createFile({ filename: "a.txt", purpose: "assistants", mediaType: "text/plain" }, Buffer.from(TEXT));
    const store = new MemoryVectorStoreStore();
    let failures = 3;
    const finishFile = store.finishFile.bind(store);
    store.finishFile = (...args: Parameters<typeof finishFile>) =>
      failures-- > 0 ? Promise.reject(diskFull()) : finishFile(...args);
    const lib = library(store, files, 100, 1);
    const vs = await lib.create({ name: "x", fileIds: [file.id] });
    await lib.idle();
    assert.equal(failures, -1, "tried again until the store took it");
    assert.equal((await lib.getFile(vs.id, file.id))?.status, "completed");
    assert.ok(((await lib.fileChunks(vs.id, file.id)) ?? []).length > 0);
  });

  it("a file added again mid-ingestion is completed by its new ingestion, never by the stale one", async () => {
    const files = new MemoryFileStore();
    const file = await files.createFile({ filename: "a.txt", purpose: "assistants", mediaType: "text/plain" }, Buffer.from(TEXT));
    const { files: slow, open } = gatedFileStore(files);
    const store = new MemoryVectorStoreStore();
    const lib = library(store, slow);
    const vs = await lib.create({ name: "x", fileIds: [] });
    await lib.addFile(vs.id, { fileId: file.id, chunking: { maxChunkSizeTokens: 1000, chunkOverlapTokens: 0 } });
    assert.equal(await lib.removeFile(vs.id, file.id), true);
    await lib.addFile(vs.id, { fileId: file.id, chunking: { maxChunkSizeTokens: 100, chunkOverlapTokens: 0 } });
    open();
    await lib.idle();
    const done = await lib.getFile(vs.id, file.id);
    assert.equal(done?.status, "completed");
    const chunks = (await lib.fileChunks(vs.id, file.id)) ?? [];
    assert.ok(chunks.length > 5, `chunked by the second strategy (100 tokens): ${chunks.length}`);
    assert.equal((await lib.get(vs.id))?.fileCounts.completed, 1);
  });

  it("a file added again as it is keeps its attributes and is not ingested again; new attributes replace them", async () => {
    const files = new MemoryFileStore();
    const file = await files.createFile({ filename: "a.txt", purpose: "assistants", mediaType: "text/plain" }, Buffer.from(TEXT));
    const store = new MemoryVectorStoreStore();
    const lib = library(store, files);
    const vs = await lib.create({ name: "x", fileIds: [] });
    await lib.addFile(vs.id, { fileId: file.id, attributes: { team: "a" } });
    await lib.idle();
    const first = await lib.getFile(vs.id, file.id);
    assert.equal(first?.status, "completed");
    const again = await lib.addFile(vs.id, { fileId: file.id });
    assert.deepEqual(again, first, "the same record: not reset to in_progress");
    const relabelled = await lib.addFile(vs.id, { fileId: file.id, attributes: { team: "b" } });
    assert.deepEqual(relabelled?.attributes, { team: "b" });
    assert.equal(relabelled?.status, "completed");
    // Chunked another way: ingested again, keeping its attributes.
    await lib.addFile(vs.id, { fileId: file.id, chunking: { maxChunkSizeTokens: 100, chunkOverlapTokens: 0 } });
    await lib.idle();
    assert.deepEqual((await lib.getFile(vs.id, file.id))?.attributes, { team: "b" });
    // In a batch too.
    await lib.createBatch(vs.id, [{ fileId: file.id }]);
    await lib.idle();
    assert.deepEqual((await lib.getFile(vs.id, file.id))?.attributes, { team: "b" });
  });

  it("cancels a batch in progress; cancelling one that has ended answers it as it ended", async () => {
    const files = new MemoryFileStore();
    const file = await files.createFile({ filename: "a.txt", purpose: "assistants", mediaType: "text/plain" }, Buffer.from(TEXT));
    const { files: slow, open } = gatedFileStore(files);
    const running = library(new MemoryVectorStoreStore(), slow);
    const held = await running.create({ name: "x", fileIds: [] });
    const inProgress = await running.createBatch(held.id, [{ fileId: file.id }]);
    assert.equal(inProgress?.status, "in_progress");
    const stopped = await running.cancelBatch(held.id, inProgress?.id as string);
    assert.equal(stopped?.status, "cancelled");
    assert.equal(stopped?.fileCounts.cancelled, 1);
    open();
    await running.idle();

    const lib = library(new MemoryVectorStoreStore(), files);
    const vs = await lib.create({ name: "x", fileIds: [] });
    const batch = await lib.createBatch(vs.id, [{ fileId: file.id }]);
    await lib.idle();
    const cancelled = await lib.cancelBatch(vs.id, batch?.id as string);
    assert.equal(cancelled?.status, "completed");
    assert.equal(cancelled?.fileCounts.completed, 1);
    assert.equal((await lib.getBatch(vs.id, batch?.id as string))?.status, "completed");
  });

  it("a stop mid-ingestion leaves the file in_progress with no chunk; the next start resumes it", async () => {
    const files = new MemoryFileStore();
    const file = await files.createFile({ filename: "a.txt", purpose: "assistants", mediaType: "text/plain" }, Buffer.from(TEXT));
    const { files: slow, open } = gatedFileStore(files);
    const store = new MemoryVectorStoreStore();
    const first = library(store, slow);
    const vs = await first.create({ name: "x", fileIds: [file.id] });
    const closing = first.close();
    open();
    await closing;
    assert.equal((await store.getFile(vs.id, file.id))?.status, "in_progress");
    assert.deepEqual(await store.fileChunks(vs.id, file.id), []);
    assert.deepEqual(await store.search({ vectorStoreIds: [vs.id], text: "word5", limit: 5, minScore: 0 }, 0), []);

    const second = library(store, files);
    await second.start();
    await second.idle();
    assert.equal((await store.getFile(vs.id, file.id))?.status, "completed");
    assert.ok(((await store.fileChunks(vs.id, file.id)) ?? []).length > 0);
  });

  it("a batch cancelled mid-ingestion leaves its files cancelled, with no chunk", async () => {
    const files = new MemoryFileStore();
    const file = await files.createFile({ filename: "a.txt", purpose: "assistants", mediaType: "text/plain" }, Buffer.from(TEXT));
    const { files: slow, open } = gatedFileStore(files);
    const lib = library(new MemoryVectorStoreStore(), slow);
    const vs = await lib.create({ name: "x", fileIds: [] });
    const batch = await lib.createBatch(vs.id, [{ fileId: file.id }]);
    assert.equal(batch?.status, "in_progress");
    const cancelled = await lib.cancelBatch(vs.id, batch?.id as string);
    assert.equal(cancelled?.status, "cancelled");
    assert.deepEqual(cancelled?.fileCounts, { in_progress: 0, completed: 0, failed: 0, cancelled: 1, total: 1 });
    open();
    await lib.idle();
    assert.equal((await lib.getFile(vs.id, file.id))?.status, "cancelled");
    assert.deepEqual(await lib.fileChunks(vs.id, file.id), []);
  });

  it("a file cut into more than maxChunksPerFile chunks fails, naming the setting", async () => {
    const files = new MemoryFileStore();
    const file = await files.createFile({ filename: "a.txt", purpose: "assistants", mediaType: "text/plain" }, Buffer.from(TEXT));
    const lib = library(new MemoryVectorStoreStore(), files, 2);
    const vs = await lib.create({ name: "x", fileIds: [file.id], chunking: { maxChunkSizeTokens: 100, chunkOverlapTokens: 0 } });
    await lib.idle();
    const failed = await lib.getFile(vs.id, file.id);
    assert.equal(failed?.status, "failed");
    assert.equal(failed?.lastError?.code, "invalid_file");
    assert.match(failed?.lastError?.message ?? "", /vectorStores\.maxChunksPerFile/);
  });
});

describe("VectorStoreLibrary search", () => {
  it("a file that expired leaves the stores the first time a search finds it, and is never shown", async () => {
    let now = 1_800_000_000;
    const files = new MemoryFileStore(() => now);
    const kept = await files.createFile(
      { filename: "kept.txt", purpose: "assistants", mediaType: "text/plain" },
      Buffer.from("harbour pier"),
    );
    const brief = await files.createFile(
      { filename: "brief.txt", purpose: "assistants", mediaType: "text/plain", expiresAfter: 3600 },
      Buffer.from("harbour boats"),
    );
    const store = new MemoryVectorStoreStore();
    const lib = library(store, files);
    const vs = await lib.create({ name: "x", fileIds: [kept.id, brief.id] });
    await lib.idle();
    const query = { vectorStoreIds: [vs.id], queries: ["harbour"], limit: 10, scoreThreshold: 0 };
    assert.equal((await lib.search(query, new AbortController().signal)).length, 2);
    now += 3601;
    const hits = await lib.search(query, new AbortController().signal);
    assert.deepEqual(
      hits.map((hit) => hit.filename),
      ["kept.txt"],
    );
    assert.equal(await store.getFile(vs.id, brief.id), undefined, "its record and chunks are gone");
    assert.equal((await lib.get(vs.id))?.fileCounts.total, 1);
  });
});
