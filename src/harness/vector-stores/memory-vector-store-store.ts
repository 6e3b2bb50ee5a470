import { type Attributes, matchesAttributeFilter } from "../../core/attribute-filter.js";
import { makeId } from "../../core/ids.js";
import { cosineSimilarity, memoryScore } from "../../core/memory.js";
import { bm25, memoryTerms, memoryTokens, stemMatches } from "../../core/memory-terms.js";
import { startAfter } from "../../core/page-items.js";
import { type ListPage, unknownCursorPage } from "../../core/state.js";
import type {
  ChunkHit,
  ChunkSearch,
  IngestOutcome,
  NewChunk,
  NewVectorStore,
  NewVectorStoreFile,
  PagingOptions,
  VectorStoreChange,
  VectorStoreFileBatchRecord,
  VectorStoreFileListOptions,
  VectorStoreFileRecord,
  VectorStoreRecord,
  VectorStoreStore,
} from "../../core/vector-stores.js";

interface KeptChunk extends NewChunk {
  seq: number;
  tokens: string[];
}

interface KeptFile {
  record: VectorStoreFileRecord;
  chunks: KeptChunk[];
}

interface KeptStore {
  record: Omit<VectorStoreRecord, "fileCounts" | "usageBytes">;
  /** In the order they were added (a Map keeps insertion order). */
  files: Map<string, KeptFile>;
  /** Each batch with the files it added (a later batch adding one again leaves it in this one too). */
  batches: Map<string, { createdAt: number; cancelled: boolean; fileIds: Set<string> }>;
}

/**
 * Vector stores kept in this process only, lost at exit: for servers running without the encrypted
 * store (`store.enabled: false`) and for tests. Scores as the encrypted store does (the memories'
 * bm25 over the searched stores' chunks, cosine for vectors of the query's model); what it hands out
 * is a copy.
 */
export class MemoryVectorStoreStore implements VectorStoreStore {
  readonly #stores = new Map<string, KeptStore>();
  #seq = 0;

  async createStore(
    store: NewVectorStore,
    now: number,
    files: NewVectorStoreFile[] = [],
  ): Promise<{ store: VectorStoreRecord; files: VectorStoreFileRecord[] }> {
    const id = makeId("vs_", 24);
    const kept: KeptStore = {
      record: { id, createdAt: now, lastActiveAt: now, ...structuredClone(store) },
      files: new Map(),
      batches: new Map(),
    };
    this.#stores.set(id, kept);
    const records = files.map((file) => this.#add(kept, file, now, undefined));
    return { store: this.#record(id) as VectorStoreRecord, files: records };
  }

  async getStore(id: string): Promise<VectorStoreRecord | undefined> {
    return this.#record(id);
  }

  async listStores(options: PagingOptions): Promise<ListPage<VectorStoreRecord>> {
    return page([...this.#stores.keys()], options, (id) => this.#record(id) as VectorStoreRecord);
  }

  async updateStore(id: string, change: VectorStoreChange, now: number): Promise<VectorStoreRecord | undefined> {
    const kept = this.#stores.get(id);
    if (kept === undefined) return undefined;
    const record = kept.record;
    if (change.name !== undefined) record.name = change.name ?? "";
    if (change.metadata !== undefined) {
      if (change.metadata === null || Object.keys(change.metadata).length === 0) delete record.metadata;
      else record.metadata = { ...change.metadata };
    }
    if (change.expiresAfterDays !== undefined) {
      if (change.expiresAfterDays === null) delete record.expiresAfterDays;
      else record.expiresAfterDays = change.expiresAfterDays;
    }
    record.lastActiveAt = now;
    return this.#record(id);
  }

  async deleteStore(id: string): Promise<boolean> {
    return this.#stores.delete(id);
  }

  async addFile(vectorStoreId: string, file: NewVectorStoreFile, now: number): Promise<VectorStoreFileRecord | undefined> {
    const kept = this.#stores.get(vectorStoreId);
    if (kept === undefined) return undefined;
    return this.#add(kept, file, now, undefined);
  }

  async createBatch(
    vectorStoreId: string,
    files: NewVectorStoreFile[],
    now: number,
  ): Promise<{ batch: VectorStoreFileBatchRecord; files: VectorStoreFileRecord[] } | undefined> {
    const kept = this.#stores.get(vectorStoreId);
    if (kept === undefined) return undefined;
    const batchId = makeId("vsfb_", 24);
    kept.batches.set(batchId, { createdAt: now, cancelled: false, fileIds: new Set() });
    const records = files.map((file) => this.#add(kept, file, now, batchId));
    return { batch: this.#batch(kept, vectorStoreId, batchId) as VectorStoreFileBatchRecord, files: records };
  }

  async getBatch(vectorStoreId: string, batchId: string): Promise<VectorStoreFileBatchRecord | undefined> {
    const kept = this.#stores.get(vectorStoreId);
    return kept && this.#batch(kept, vectorStoreId, batchId);
  }

  async cancelBatch(vectorStoreId: string, batchId: string): Promise<VectorStoreFileBatchRecord | undefined> {
    const kept = this.#stores.get(vectorStoreId);
    const batch = kept?.batches.get(batchId);
    if (kept === undefined || batch === undefined) return undefined;
    batch.cancelled = true;
    for (const fileId of batch.fileIds) {
      const file = kept.files.get(fileId);
      if (file?.record.status === "in_progress") file.record.status = "cancelled";
    }
    return this.#batch(kept, vectorStoreId, batchId);
  }

  #batch(kept: KeptStore, vectorStoreId: string, batchId: string): VectorStoreFileBatchRecord | undefined {
    const batch = kept.batches.get(batchId);
    if (batch === undefined) return undefined;
    const fileCounts = { in_progress: 0, completed: 0, failed: 0, cancelled: 0, total: 0 };
    for (const fileId of batch.fileIds) {
      const file = kept.files.get(fileId);
      if (file === undefined) continue;
      fileCounts[file.record.status]++;
      fileCounts.total++;
    }
    return {
      id: batchId,
      vectorStoreId,
      createdAt: batch.createdAt,
      status: batch.cancelled ? "cancelled" : fileCounts.in_progress > 0 ? "in_progress" : "completed",
      fileCounts,
    };
  }

  #add(kept: KeptStore, file: NewVectorStoreFile, now: number, batchId: string | undefined): VectorStoreFileRecord {
    const vectorStoreId = kept.record.id;
    kept.files.delete(file.fileId);
    const record: VectorStoreFileRecord = {
      fileId: file.fileId,
      vectorStoreId,
      createdAt: now,
      filename: file.filename,
      status: "in_progress",
      usageBytes: 0,
      ...(file.attributes !== undefined && { attributes: { ...file.attributes } }),
      chunking: { ...file.chunking },
      ingestId: makeId("ing_", 16),
    };
    kept.files.set(file.fileId, { record, chunks: [] });
    if (batchId !== undefined) kept.batches.get(batchId)?.fileIds.add(file.fileId);
    kept.record.lastActiveAt = now;
    return structuredClone(record);
  }

  async getFile(vectorStoreId: string, fileId: string): Promise<VectorStoreFileRecord | undefined> {
    const file = this.#stores.get(vectorStoreId)?.files.get(fileId);
    return file && structuredClone(file.record);
  }

  async listFiles(vectorStoreId: string, options: VectorStoreFileListOptions): Promise<ListPage<VectorStoreFileRecord>> {
    const files = this.#stores.get(vectorStoreId)?.files;
    if (files === undefined) return { data: [], hasMore: false };
    const batch = options.batchId === undefined ? undefined : this.#stores.get(vectorStoreId)?.batches.get(options.batchId);
    const record = (id: string) => files.get(id)?.record as VectorStoreFileRecord;
    // A cursor names a file of the store, whatever the filters: the cursors' own files stay in the
    // list only to find the page's place (a page never holds its cursors; one the store does not
    // have is not in it, and page() says so).
    const isCursor = (id: string) => id === options.after || id === options.before;
    const ids = [...files.keys()].filter(
      (id) =>
        isCursor(id) ||
        ((options.batchId === undefined || batch?.fileIds.has(id) === true) &&
          (options.status === undefined || record(id).status === options.status)),
    );
    return page(ids, options, (id) => structuredClone(record(id)));
  }

  async setAttributes(
    vectorStoreId: string,
    fileId: string,
    attributes: Attributes | null,
  ): Promise<VectorStoreFileRecord | undefined> {
    const file = this.#stores.get(vectorStoreId)?.files.get(fileId);
    if (file === undefined) return undefined;
    if (attributes === null || Object.keys(attributes).length === 0) delete file.record.attributes;
    else file.record.attributes = { ...attributes };
    return structuredClone(file.record);
  }

  async removeFile(vectorStoreId: string, fileId: string): Promise<boolean> {
    const kept = this.#stores.get(vectorStoreId);
    return kept !== undefined && this.#remove(kept, fileId);
  }

  async removeFileEverywhere(fileId: string): Promise<number> {
    let removed = 0;
    for (const kept of this.#stores.values()) if (this.#remove(kept, fileId)) removed++;
    return removed;
  }

  /** A file leaving a store leaves its batches too (a batch re-adding it only replaces its record). */
  #remove(kept: KeptStore, fileId: string): boolean {
    for (const batch of kept.batches.values()) batch.fileIds.delete(fileId);
    return kept.files.delete(fileId);
  }

  async finishFile(vectorStoreId: string, fileId: string, ingestId: string, outcome: IngestOutcome, now: number): Promise<void> {
    const kept = this.#stores.get(vectorStoreId);
    const file = kept?.files.get(fileId);
    if (kept === undefined || file === undefined || file.record.status !== "in_progress" || file.record.ingestId !== ingestId)
      return;
    if ("error" in outcome) {
      file.record.status = "failed";
      file.record.lastError = { ...outcome.error };
      return;
    }
    file.chunks = outcome.chunks.map((chunk) => ({
      ...structuredClone(chunk),
      seq: ++this.#seq,
      tokens: memoryTokens(chunk.text),
    }));
    file.record.usageBytes = outcome.chunks.reduce((sum, chunk) => sum + Buffer.byteLength(chunk.text), 0);
    file.record.status = "completed";
    kept.record.lastActiveAt = now;
  }

  async pendingFiles(): Promise<VectorStoreFileRecord[]> {
    return [...this.#stores.values()].flatMap((kept) =>
      [...kept.files.values()].filter((f) => f.record.status === "in_progress").map((f) => structuredClone(f.record)),
    );
  }

  async fileChunks(vectorStoreId: string, fileId: string): Promise<string[] | undefined> {
    return this.#stores
      .get(vectorStoreId)
      ?.files.get(fileId)
      ?.chunks.map((chunk) => chunk.text);
  }

  async search(search: ChunkSearch, now: number): Promise<ChunkHit[]> {
    const candidates: { store: KeptStore; file: KeptFile; chunk: KeptChunk }[] = [];
    for (const id of search.vectorStoreIds) {
      const store = this.#stores.get(id);
      if (store === undefined) continue;
      store.record.lastActiveAt = now;
      for (const file of store.files.values()) for (const chunk of file.chunks) candidates.push({ store, file, chunk });
    }
    const terms = memoryTerms(search.text);
    // Every statistic is of the searched stores' chunks alone, so a store's scores (and what its
    // score_threshold keeps) never move when another store gains or loses files.
    const stats = {
      documents: candidates.length,
      averageLength:
        candidates.length === 0 ? 0 : candidates.reduce((sum, c) => sum + c.chunk.tokens.length, 0) / candidates.length,
      having: (term: string) => candidates.filter((c) => c.chunk.tokens.some((token) => stemMatches(term, token))).length,
    };
    const having = new Map(terms.map((term) => [term, stats.having(term)]));
    const scored: { hit: (typeof candidates)[number]; score: number }[] = [];
    for (const hit of candidates) {
      const lexical = terms.length === 0 ? 0 : bm25(terms, hit.chunk.tokens, { ...stats, having: (t) => having.get(t) ?? 0 });
      const embedding = hit.chunk.embedding;
      const cosine =
        search.embedding !== undefined && embedding?.model === search.embedding.model
          ? cosineSimilarity(search.embedding.vector, embedding.vector)
          : undefined;
      if (lexical === 0 && cosine === undefined) continue;
      const score = memoryScore(lexical, cosine);
      if (score > 0 && score >= search.minScore) scored.push({ hit, score });
    }
    scored.sort((a, b) => b.score - a.score || a.hit.chunk.seq - b.hit.chunk.seq);
    const hits: ChunkHit[] = [];
    for (const { hit, score } of scored) {
      if (hits.length >= search.limit) break;
      const attributes = hit.file.record.attributes;
      if (search.filter !== undefined && !matchesAttributeFilter(attributes, search.filter)) continue;
      hits.push({
        vectorStoreId: hit.store.record.id,
        fileId: hit.file.record.fileId,
        filename: hit.file.record.filename,
        ...(attributes !== undefined && { attributes: { ...attributes } }),
        text: hit.chunk.text,
        score,
        sensitivity: hit.chunk.sensitivity,
      });
    }
    return hits;
  }

  #record(id: string): VectorStoreRecord | undefined {
    const kept = this.#stores.get(id);
    if (kept === undefined) return undefined;
    const fileCounts = { in_progress: 0, completed: 0, failed: 0, cancelled: 0, total: 0 };
    let usageBytes = 0;
    for (const { record } of kept.files.values()) {
      fileCounts[record.status]++;
      fileCounts.total++;
      usageBytes += record.usageBytes;
    }
    return { ...structuredClone(kept.record), fileCounts, usageBytes };
  }
}

/**
 * One page of ids in insertion order (`asc`) or its reverse: the `limit` after a cursor id, or the
 * `limit` just before another (the previous page, as OpenAI's lists give it); either of them naming
 * no id of the list: `unknownCursor`. As the store's tables page (vector-store-tables.ts).
 */
function page<T>(ids: string[], options: PagingOptions, read: (id: string) => T): ListPage<T> {
  const ordered = options.order === "desc" ? [...ids].reverse() : ids;
  const start = startAfter(ordered, options.after, (id) => id);
  if (start === undefined) return unknownCursorPage("after");
  if (options.before === undefined) {
    return { data: ordered.slice(start, start + options.limit).map(read), hasMore: start + options.limit < ordered.length };
  }
  const end = ordered.indexOf(options.before);
  if (end === -1) return unknownCursorPage("before");
  const from = Math.max(start, end - options.limit);
  return { data: ordered.slice(from, Math.max(from, end)).map(read), hasMore: from > start };
}
