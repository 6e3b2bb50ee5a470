import type Sqlite from "better-sqlite3-multiple-ciphers";
import type { Attributes, AttributeValue } from "../core/attribute-filter.js";
import { matchesAttributeFilter } from "../core/attribute-filter.js";
import { makeId } from "../core/ids.js";
import { cosineSimilarity, memoryScore } from "../core/memory.js";
import { bm25, ftsQuery, ftsTerm, memoryTerms, memoryTokens } from "../core/memory-terms.js";
import type { Sensitivity } from "../core/sensitivity.js";
import { type ListPage, unknownCursorPage } from "../core/state.js";
import type {
  ChunkHit,
  ChunkSearch,
  IngestOutcome,
  NewVectorStore,
  NewVectorStoreFile,
  PagingOptions,
  VectorStoreChange,
  VectorStoreFileBatchRecord,
  VectorStoreFileCounts,
  VectorStoreFileListOptions,
  VectorStoreFileRecord,
  VectorStoreFileStatus,
  VectorStoreRecord,
} from "../core/vector-stores.js";

interface StoreRow {
  seq: number;
  id: string;
  created_at: number;
  name: string;
  description: string | null;
  metadata: string | null;
  expires_after_days: number | null;
  last_active_at: number;
}

interface FileRow {
  seq: number;
  store_id: string;
  file_id: string;
  created_at: number;
  filename: string;
  status: string;
  last_error: string | null;
  usage_bytes: number;
  attributes: string | null;
  chunk_max: number;
  chunk_overlap: number;
  ingest_id: string;
}

interface ChunkRow {
  seq: number;
  store_id: string;
  file_id: string;
  text: string;
  sensitivity: string;
}

const STORE_COLUMNS = "seq, id, created_at, name, description, metadata, expires_after_days, last_active_at";
const FILE_COLUMNS =
  "seq, store_id, file_id, created_at, filename, status, last_error, usage_bytes, attributes, chunk_max, chunk_overlap, ingest_id";
/** Word candidates read for one search before scoring: many more than a search returns, bounded. */
const LEXICAL_CANDIDATES = 500;
/** The stores a search names, as a JSON array bound to one parameter. */
const IN_STORES = "store_id IN (SELECT value FROM json_each(?))";

/**
 * Vector stores, their files and chunks (migration 9) over the store's open connection: the
 * synchronous half of the encrypted VectorStoreStore (harness/vector-stores/), run on the store's
 * thread. Every write is one transaction. A file's chunks are inserted in the transaction that marks
 * it completed, so a search never sees some of a file. Vectors are ranked by brute-force cosine over
 * the searched stores' chunks of the query's model (thousands of chunks are read in milliseconds).
 */
export class VectorStoreTables {
  readonly #db: Sqlite.Database;
  readonly #q;

  constructor(db: Sqlite.Database) {
    this.#db = db;
    this.#q = {
      insertStore: db.prepare<[string, number, string, string | null, string | null, number | null, number]>(
        `INSERT INTO vector_stores (id, created_at, name, description, metadata, expires_after_days, last_active_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      store: db.prepare<[string], StoreRow>(`SELECT ${STORE_COLUMNS} FROM vector_stores WHERE id = ?`),
      storesAsc: db.prepare<[number, number, number], StoreRow>(
        `SELECT ${STORE_COLUMNS} FROM vector_stores WHERE seq > ? AND seq < ? ORDER BY seq LIMIT ?`,
      ),
      storesDesc: db.prepare<[number, number, number], StoreRow>(
        `SELECT ${STORE_COLUMNS} FROM vector_stores WHERE seq < ? AND seq > ? ORDER BY seq DESC LIMIT ?`,
      ),
      setStore: db.prepare<[string, string | null, number | null, number, string]>(
        "UPDATE vector_stores SET name = ?, metadata = ?, expires_after_days = ?, last_active_at = ? WHERE id = ?",
      ),
      touch: db.prepare<[number, string]>(
        "UPDATE vector_stores SET last_active_at = ? WHERE id IN (SELECT value FROM json_each(?))",
      ),
      deleteStore: db.prepare<[string]>("DELETE FROM vector_stores WHERE id = ?"),
      counts: db.prepare<[string], { status: string; n: number; bytes: number }>(
        "SELECT status, count(*) AS n, sum(usage_bytes) AS bytes FROM vector_store_files WHERE store_id = ? GROUP BY status",
      ),
      deleteFileRecord: db.prepare<[string, string]>("DELETE FROM vector_store_files WHERE store_id = ? AND file_id = ?"),
      insertFile: db.prepare<[string, string, number, string, string | null, number, number, string]>(
        `INSERT INTO vector_store_files (store_id, file_id, created_at, filename, status, last_error, usage_bytes, attributes, chunk_max, chunk_overlap, ingest_id)
         VALUES (?, ?, ?, ?, 'in_progress', NULL, 0, ?, ?, ?, ?)`,
      ),
      insertBatchFile: db.prepare<[string, string, string]>(
        "INSERT OR IGNORE INTO vector_store_file_batch_files (batch_id, store_id, file_id) VALUES (?, ?, ?)",
      ),
      deleteBatchFiles: db.prepare<[string, string]>(
        "DELETE FROM vector_store_file_batch_files WHERE store_id = ? AND file_id = ?",
      ),
      insertBatch: db.prepare<[string, string, number]>(
        "INSERT INTO vector_store_file_batches (id, store_id, created_at) VALUES (?, ?, ?)",
      ),
      batch: db.prepare<[string, string], { id: string; store_id: string; created_at: number; cancelled: number }>(
        "SELECT id, store_id, created_at, cancelled FROM vector_store_file_batches WHERE store_id = ? AND id = ?",
      ),
      batchCounts: db.prepare<[string, string], { status: string; n: number }>(
        `SELECT f.status, count(*) AS n FROM vector_store_file_batch_files m
         JOIN vector_store_files f ON f.store_id = m.store_id AND f.file_id = m.file_id
         WHERE m.store_id = ? AND m.batch_id = ? GROUP BY f.status`,
      ),
      cancelBatch: db.prepare<[string]>("UPDATE vector_store_file_batches SET cancelled = 1 WHERE id = ?"),
      cancelBatchFiles: db.prepare<[string, string]>(
        `UPDATE vector_store_files SET status = 'cancelled' WHERE store_id = ? AND status = 'in_progress'
         AND file_id IN (SELECT file_id FROM vector_store_file_batch_files WHERE batch_id = ?)`,
      ),
      file: db.prepare<[string, string], FileRow>(
        `SELECT ${FILE_COLUMNS} FROM vector_store_files WHERE store_id = ? AND file_id = ?`,
      ),
      filesAsc: db.prepare<[string, number, number, string | null, string | null, string | null, string | null, number], FileRow>(
        `SELECT ${FILE_COLUMNS} FROM vector_store_files WHERE store_id = ? AND seq > ? AND seq < ? AND (? IS NULL OR status = ?)
         AND (? IS NULL OR file_id IN (SELECT file_id FROM vector_store_file_batch_files WHERE batch_id = ?)) ORDER BY seq LIMIT ?`,
      ),
      filesDesc: db.prepare<
        [string, number, number, string | null, string | null, string | null, string | null, number],
        FileRow
      >(
        `SELECT ${FILE_COLUMNS} FROM vector_store_files WHERE store_id = ? AND seq < ? AND seq > ? AND (? IS NULL OR status = ?)
         AND (? IS NULL OR file_id IN (SELECT file_id FROM vector_store_file_batch_files WHERE batch_id = ?)) ORDER BY seq DESC LIMIT ?`,
      ),
      storesOfFile: db.prepare<[string], { store_id: string }>("SELECT store_id FROM vector_store_files WHERE file_id = ?"),
      setAttributes: db.prepare<[string | null, string, string]>(
        "UPDATE vector_store_files SET attributes = ? WHERE store_id = ? AND file_id = ?",
      ),
      complete: db.prepare<[number, string, string]>(
        "UPDATE vector_store_files SET status = 'completed', last_error = NULL, usage_bytes = ? WHERE store_id = ? AND file_id = ?",
      ),
      fail: db.prepare<[string, string, string]>(
        "UPDATE vector_store_files SET status = 'failed', last_error = ? WHERE store_id = ? AND file_id = ?",
      ),
      pending: db.prepare<[], FileRow>(
        `SELECT ${FILE_COLUMNS} FROM vector_store_files WHERE status = 'in_progress' ORDER BY seq`,
      ),
      insertChunk: db.prepare<[string, string, number, string, number, string, string | null, Buffer | null]>(
        `INSERT INTO vector_store_chunks (store_id, file_id, position, text, tokens, sensitivity, embedding_model, embedding)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      chunkTexts: db.prepare<[string, string], { text: string }>(
        "SELECT text FROM vector_store_chunks WHERE store_id = ? AND file_id = ? ORDER BY position",
      ),
      chunk: db.prepare<[number], ChunkRow>(
        "SELECT seq, store_id, file_id, text, sensitivity FROM vector_store_chunks WHERE seq = ?",
      ),
      lexical: db.prepare<[string, string, number], { seq: number; text: string }>(
        `SELECT c.seq, c.text FROM vector_store_chunks_fts f JOIN vector_store_chunks c ON c.seq = f.rowid
         WHERE vector_store_chunks_fts MATCH ? AND c.${IN_STORES} ORDER BY bm25(vector_store_chunks_fts) LIMIT ?`,
      ),
      having: db.prepare<[string, string], { doc: number }>(
        `SELECT count(*) AS doc FROM vector_store_chunks_fts f JOIN vector_store_chunks c ON c.seq = f.rowid
         WHERE vector_store_chunks_fts MATCH ? AND c.${IN_STORES}`,
      ),
      totals: db.prepare<[string], { documents: number; tokens: number | null }>(
        `SELECT count(*) AS documents, sum(tokens) AS tokens FROM vector_store_chunks WHERE ${IN_STORES}`,
      ),
      vectors: db.prepare<[string, string], { seq: number; embedding: Buffer }>(
        `SELECT seq, embedding FROM vector_store_chunks WHERE embedding_model = ? AND ${IN_STORES}`,
      ),
    };
  }

  createStore(
    store: NewVectorStore,
    now: number,
    files: NewVectorStoreFile[] = [],
  ): { store: VectorStoreRecord; files: VectorStoreFileRecord[] } {
    return this.#db.transaction(() => {
      const id = makeId("vs_", 24);
      this.#q.insertStore.run(
        id,
        now,
        store.name,
        store.description ?? null,
        store.metadata === undefined ? null : JSON.stringify(store.metadata),
        store.expiresAfterDays ?? null,
        now,
      );
      // A new store: no file it is given replaces one (no chunks to erase).
      const records = files.map((file) => this.#insertFile(id, file, now, null).record);
      return { store: this.#record(this.#q.store.get(id) as StoreRow), files: records };
    })();
  }

  getStore(id: string): VectorStoreRecord | undefined {
    const row = this.#q.store.get(id);
    return row && this.#record(row);
  }

  listStores(options: PagingOptions): ListPage<VectorStoreRecord> {
    // The cursors' places and the page are read in one transaction: a delete cannot come between.
    return this.#db
      .transaction((): ListPage<VectorStoreRecord> => {
        const after = options.after === undefined ? undefined : this.#q.store.get(options.after)?.seq;
        if (options.after !== undefined && after === undefined) return unknownCursorPage("after");
        const before = options.before === undefined ? undefined : this.#q.store.get(options.before)?.seq;
        if (options.before !== undefined && before === undefined) return unknownCursorPage("before");
        const page = pageBetween(options, after, before, (ascending, low, high, n) =>
          ascending ? this.#q.storesAsc.all(low, high, n) : this.#q.storesDesc.all(high, low, n),
        );
        return { data: page.data.map((row) => this.#record(row)), hasMore: page.hasMore };
      })
      .deferred();
  }

  updateStore(id: string, change: VectorStoreChange, now: number): VectorStoreRecord | undefined {
    return this.#db.transaction(() => {
      const row = this.#q.store.get(id);
      if (row === undefined) return undefined;
      const name = change.name === undefined ? row.name : (change.name ?? "");
      const metadata =
        change.metadata === undefined
          ? row.metadata
          : change.metadata === null || Object.keys(change.metadata).length === 0
            ? null
            : JSON.stringify(change.metadata);
      const days = change.expiresAfterDays === undefined ? row.expires_after_days : change.expiresAfterDays;
      this.#q.setStore.run(name, metadata, days, now, id);
      return this.#record(this.#q.store.get(id) as StoreRow);
    })();
  }

  deleteStore(id: string): boolean {
    // The files' records and their chunks go by the foreign keys' cascade (and the FTS rows by the chunks' trigger).
    return this.#erased(this.#q.deleteStore.run(id).changes > 0);
  }

  addFile(storeId: string, file: NewVectorStoreFile, now: number): VectorStoreFileRecord | undefined {
    const added = this.#db.transaction(() => {
      if (this.#q.store.get(storeId) === undefined) return { record: undefined, replaced: false };
      const { record, replaced } = this.#insertFile(storeId, file, now, null);
      this.#q.touch.run(now, JSON.stringify([storeId]));
      return { record, replaced };
    })();
    this.#erased(added.replaced);
    return added.record;
  }

  createBatch(
    storeId: string,
    files: NewVectorStoreFile[],
    now: number,
  ): { batch: VectorStoreFileBatchRecord; files: VectorStoreFileRecord[] } | undefined {
    const created = this.#db.transaction(() => {
      if (this.#q.store.get(storeId) === undefined) return undefined;
      const id = makeId("vsfb_", 24);
      this.#q.insertBatch.run(id, storeId, now);
      let replaced = false;
      const records = files.map((file) => {
        const inserted = this.#insertFile(storeId, file, now, id);
        replaced ||= inserted.replaced;
        return inserted.record;
      });
      this.#q.touch.run(now, JSON.stringify([storeId]));
      return { batch: this.getBatch(storeId, id) as VectorStoreFileBatchRecord, files: records, replaced };
    })();
    if (created === undefined) return undefined;
    this.#erased(created.replaced);
    return { batch: created.batch, files: created.files };
  }

  getBatch(storeId: string, batchId: string): VectorStoreFileBatchRecord | undefined {
    const row = this.#q.batch.get(storeId, batchId);
    if (row === undefined) return undefined;
    const fileCounts: VectorStoreFileCounts = { in_progress: 0, completed: 0, failed: 0, cancelled: 0, total: 0 };
    for (const { status, n } of this.#q.batchCounts.all(storeId, batchId)) {
      if (status in fileCounts) fileCounts[status as VectorStoreFileStatus] = n;
      fileCounts.total += n;
    }
    return {
      id: row.id,
      vectorStoreId: row.store_id,
      createdAt: row.created_at,
      status: row.cancelled === 1 ? "cancelled" : fileCounts.in_progress > 0 ? "in_progress" : "completed",
      fileCounts,
    };
  }

  cancelBatch(storeId: string, batchId: string): VectorStoreFileBatchRecord | undefined {
    return this.#db.transaction(() => {
      if (this.#q.batch.get(storeId, batchId) === undefined) return undefined;
      this.#q.cancelBatch.run(batchId);
      this.#q.cancelBatchFiles.run(storeId, batchId);
      return this.getBatch(storeId, batchId);
    })();
  }

  /** A file's new record, `in_progress` (added again: its old record and chunks go, and it is ingested anew). */
  #insertFile(
    storeId: string,
    file: NewVectorStoreFile,
    now: number,
    batchId: string | null,
  ): { record: VectorStoreFileRecord; replaced: boolean } {
    const replaced = this.#q.deleteFileRecord.run(storeId, file.fileId).changes > 0;
    this.#q.insertFile.run(
      storeId,
      file.fileId,
      now,
      file.filename,
      file.attributes === undefined ? null : JSON.stringify(file.attributes),
      file.chunking.maxChunkSizeTokens,
      file.chunking.chunkOverlapTokens,
      makeId("ing_", 16),
    );
    // A file a batch adds is that batch's for good (another batch adding it again adds it to that one too).
    if (batchId !== null) this.#q.insertBatchFile.run(batchId, storeId, file.fileId);
    return { record: fileRecord(this.#q.file.get(storeId, file.fileId) as FileRow), replaced };
  }

  getFile(storeId: string, fileId: string): VectorStoreFileRecord | undefined {
    const row = this.#q.file.get(storeId, fileId);
    return row && fileRecord(row);
  }

  listFiles(storeId: string, options: VectorStoreFileListOptions): ListPage<VectorStoreFileRecord> {
    // The cursors' places and the page are read in one transaction: a delete cannot come between.
    return this.#db.transaction(() => this.#filePage(storeId, options)).deferred();
  }

  #filePage(storeId: string, options: VectorStoreFileListOptions): ListPage<VectorStoreFileRecord> {
    const after = options.after === undefined ? undefined : this.#q.file.get(storeId, options.after)?.seq;
    if (options.after !== undefined && after === undefined) return unknownCursorPage("after");
    const before = options.before === undefined ? undefined : this.#q.file.get(storeId, options.before)?.seq;
    if (options.before !== undefined && before === undefined) return unknownCursorPage("before");
    const status = options.status ?? null;
    const batch = options.batchId ?? null;
    const page = pageBetween(options, after, before, (ascending, low, high, n) =>
      ascending
        ? this.#q.filesAsc.all(storeId, low, high, status, status, batch, batch, n)
        : this.#q.filesDesc.all(storeId, high, low, status, status, batch, batch, n),
    );
    return { data: page.data.map(fileRecord), hasMore: page.hasMore };
  }

  setAttributes(storeId: string, fileId: string, attributes: Attributes | null): VectorStoreFileRecord | undefined {
    const empty = attributes === null || Object.keys(attributes).length === 0;
    if (this.#q.setAttributes.run(empty ? null : JSON.stringify(attributes), storeId, fileId).changes === 0) return undefined;
    return this.getFile(storeId, fileId);
  }

  removeFile(storeId: string, fileId: string): boolean {
    const removed = this.#db.transaction(() => this.#removeFile(storeId, fileId))();
    return this.#erased(removed);
  }

  /** A file leaving a store leaves its batches too (a batch re-adding it only replaces its record). */
  #removeFile(storeId: string, fileId: string): boolean {
    this.#q.deleteBatchFiles.run(storeId, fileId);
    return this.#q.deleteFileRecord.run(storeId, fileId).changes > 0;
  }

  removeFileEverywhere(fileId: string): number {
    const removed = this.#db.transaction(() => {
      const stores = this.#q.storesOfFile.all(fileId);
      for (const { store_id } of stores) this.#removeFile(store_id, fileId);
      return stores.length;
    })();
    this.#erased(removed > 0);
    return removed;
  }

  finishFile(storeId: string, fileId: string, ingestId: string, outcome: IngestOutcome, now: number): void {
    this.#db.transaction(() => {
      const row = this.#q.file.get(storeId, fileId);
      if (row === undefined || row.status !== "in_progress" || row.ingest_id !== ingestId) return;
      if ("error" in outcome) {
        this.#q.fail.run(JSON.stringify(outcome.error), storeId, fileId);
        return;
      }
      let bytes = 0;
      for (const [position, chunk] of outcome.chunks.entries()) {
        bytes += Buffer.byteLength(chunk.text);
        this.#q.insertChunk.run(
          storeId,
          fileId,
          position,
          chunk.text,
          memoryTokens(chunk.text).length,
          chunk.sensitivity,
          chunk.embedding?.model ?? null,
          chunk.embedding ? vectorBytes(chunk.embedding.vector) : null,
        );
      }
      this.#q.complete.run(bytes, storeId, fileId);
      this.#q.touch.run(now, JSON.stringify([storeId]));
    })();
  }

  pendingFiles(): VectorStoreFileRecord[] {
    return this.#q.pending.all().map(fileRecord);
  }

  fileChunks(storeId: string, fileId: string): string[] | undefined {
    if (this.#q.file.get(storeId, fileId) === undefined) return undefined;
    return this.#q.chunkTexts.all(storeId, fileId).map((row) => row.text);
  }

  search(search: ChunkSearch, now: number): ChunkHit[] {
    const stores = JSON.stringify(search.vectorStoreIds);
    this.#q.touch.run(now, stores);
    const terms = memoryTerms(search.text);
    const lexical = new Map<number, number>();
    if (terms.length > 0) {
      const rows = this.#q.lexical.all(ftsQuery(terms), stores, LEXICAL_CANDIDATES);
      if (rows.length > 0) {
        // FTS5 finds and orders the candidates; they are scored with the idf that stays positive (see bm25).
        const totals = this.#q.totals.get(stores) ?? { documents: 0, tokens: 0 };
        const having = new Map(terms.map((term) => [term, this.#q.having.get(ftsTerm(term), stores)?.doc ?? 0]));
        // Every statistic is of the searched stores' chunks alone, so a store's scores (and what its
        // score_threshold keeps) never move when another store gains or loses files.
        const stats = {
          documents: totals.documents,
          averageLength: totals.documents === 0 ? 0 : (totals.tokens ?? 0) / totals.documents,
          having: (term: string) => having.get(term) ?? 0,
        };
        for (const row of rows) lexical.set(row.seq, bm25(terms, memoryTokens(row.text), stats));
      }
    }
    const cosines = new Map<number, number>();
    if (search.embedding !== undefined) {
      const query = search.embedding.vector;
      for (const row of this.#q.vectors.iterate(search.embedding.model, stores)) {
        cosines.set(row.seq, cosineSimilarity(query, vectorOf(row.embedding)));
      }
    }
    const scored: { seq: number; score: number }[] = [];
    for (const seq of new Set([...lexical.keys(), ...cosines.keys()])) {
      const score = memoryScore(lexical.get(seq) ?? 0, cosines.get(seq));
      if (score > 0 && score >= search.minScore) scored.push({ seq, score });
    }
    scored.sort((a, b) => b.score - a.score || a.seq - b.seq);
    const hits: ChunkHit[] = [];
    const files = new Map<string, FileRow | undefined>();
    for (const { seq, score } of scored) {
      if (hits.length >= search.limit) break;
      const chunk = this.#q.chunk.get(seq);
      if (chunk === undefined) continue;
      const key = `${chunk.store_id}\u0000${chunk.file_id}`;
      if (!files.has(key)) files.set(key, this.#q.file.get(chunk.store_id, chunk.file_id));
      const file = files.get(key);
      if (file === undefined) continue;
      const attributes = file.attributes === null ? undefined : (JSON.parse(file.attributes) as Attributes);
      if (search.filter !== undefined && !matchesAttributeFilter(attributes, search.filter)) continue;
      hits.push({
        vectorStoreId: chunk.store_id,
        fileId: chunk.file_id,
        filename: file.filename,
        ...(attributes !== undefined && { attributes }),
        text: chunk.text,
        score,
        sensitivity: chunk.sensitivity as Sensitivity,
      });
    }
    return hits;
  }

  #record(row: StoreRow): VectorStoreRecord {
    const fileCounts: VectorStoreFileCounts = { in_progress: 0, completed: 0, failed: 0, cancelled: 0, total: 0 };
    let usageBytes = 0;
    for (const { status, n, bytes } of this.#q.counts.all(row.id)) {
      if (status in fileCounts) fileCounts[status as VectorStoreFileStatus] = n;
      fileCounts.total += n;
      usageBytes += bytes;
    }
    return {
      id: row.id,
      createdAt: row.created_at,
      name: row.name,
      ...(row.description !== null && { description: row.description }),
      ...(row.metadata !== null && { metadata: JSON.parse(row.metadata) as Record<string, string> }),
      ...(row.expires_after_days !== null && { expiresAfterDays: row.expires_after_days }),
      lastActiveAt: row.last_active_at,
      fileCounts,
      usageBytes,
    };
  }

  /**
   * After a delete commits, a checkpoint that truncates the WAL puts the pages secure_delete
   * overwrote in place and leaves no older copy of the chunks' text behind (as FileTables does).
   */
  #erased(changed: boolean): boolean {
    if (changed) this.#db.pragma("wal_checkpoint(TRUNCATE)");
    return changed;
  }
}

function fileRecord(row: FileRow): VectorStoreFileRecord {
  return {
    fileId: row.file_id,
    vectorStoreId: row.store_id,
    createdAt: row.created_at,
    filename: row.filename,
    status: row.status as VectorStoreFileStatus,
    ...(row.last_error !== null && { lastError: JSON.parse(row.last_error) as VectorStoreFileRecord["lastError"] & object }),
    usageBytes: row.usage_bytes,
    ...(row.attributes !== null && { attributes: JSON.parse(row.attributes) as Record<string, AttributeValue> }),
    chunking: { maxChunkSizeTokens: row.chunk_max, chunkOverlapTokens: row.chunk_overlap },
    ingestId: row.ingest_id,
  };
}

/** A vector as float32 little-endian bytes (as the memories keep theirs). */
function vectorBytes(vector: readonly number[]): Buffer {
  const floats = Float32Array.from(vector);
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength);
}

function vectorOf(bytes: Buffer): Float32Array {
  // Copied: a Buffer's offset into its pool need not be 4-byte aligned.
  const copy = new Uint8Array(bytes);
  return new Float32Array(copy.buffer, 0, Math.floor(copy.byteLength / 4));
}

/**
 * One page of a list ordered by `seq` (`asc`, or its reverse), between the cursors' places (their
 * `seq`s, exclusive): the `limit` rows just after `after`, or with `before`, the `limit` rows just
 * before it (the previous page, as OpenAI's lists give it), in the list's order either way.
 * `hasMore`: more rows lie past the page in the direction it was read. `read` gives up to `n` rows
 * strictly between `low` and `high`, nearest the start of its reading direction first.
 */
function pageBetween<R>(
  options: { order: "asc" | "desc"; limit: number },
  after: number | undefined,
  before: number | undefined,
  read: (ascending: boolean, low: number, high: number, n: number) => R[],
): { data: R[]; hasMore: boolean } {
  const asc = options.order === "asc";
  const [low, high] = asc ? [after ?? -1, before ?? Number.MAX_SAFE_INTEGER] : [before ?? -1, after ?? Number.MAX_SAFE_INTEGER];
  // Paging back reads from the `before` end, against the list's order, and turns the page round.
  const back = before !== undefined;
  const rows = read(asc !== back, low, high, options.limit + 1);
  const data = rows.slice(0, options.limit);
  if (back) data.reverse();
  return { data, hasMore: rows.length > options.limit };
}
