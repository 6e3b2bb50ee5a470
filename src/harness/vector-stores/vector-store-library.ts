import { setTimeout as sleep } from "node:timers/promises";
import { isDeepStrictEqual } from "node:util";
import type { Attributes } from "../../core/attribute-filter.js";
import { isTextMediaType } from "../../core/file-media-type.js";
import type { DocumentText, FileStore } from "../../core/files.js";
import type { Sensitivity } from "../../core/sensitivity.js";
import type { ListPage } from "../../core/state.js";
import { isTransientFailure } from "../../core/transient-failure.js";
import {
  AUTO_CHUNKING,
  type ChunkHit,
  type ChunkingStrategy,
  type IngestOutcome,
  type NewChunk,
  type NewVectorStore,
  type PagingOptions,
  type VectorSearchQuery,
  type VectorStoreChange,
  VectorStoreError,
  type VectorStoreFileBatchRecord,
  type VectorStoreFileListOptions,
  type VectorStoreFileRecord,
  type VectorStoreRecord,
  type VectorStoreStore,
  type VectorStores,
} from "../../core/vector-stores.js";
import { higherSensitivity } from "../../privacy/sensitivity.js";
import type { FileClock } from "../files/file-clock.js";
import { systemClock } from "../files/file-clock.js";
import type { MemoryEmbedder } from "../memory/memory-embedder.js";
import { chunkText } from "./chunk-text.js";

/** The bounds of `vectorStores` in the config (see config/schema.ts). */
export interface VectorStoreLimits {
  /** Files one vector store may hold. */
  maxFiles: number;
  /** Chunks one file may be cut into: a file with more fails (`invalid_file`). */
  maxChunksPerFile: number;
  /** Characters of one search query. */
  maxQueryChars: number;
}

export interface VectorStoreLibraryOptions {
  store: VectorStoreStore;
  files: FileStore;
  /** A PDF's text (harness/files/pdf-text-reader.ts). */
  documentText: DocumentText;
  /** What privacy detection finds in a text: each chunk is kept with it. */
  classify: (text: string) => Sensitivity;
  /** The embedding model's client, when semantic search is on (the memories' embedder class). */
  embedder?: MemoryEmbedder;
  limits: VectorStoreLimits;
  clock?: FileClock;
  /** Why a file's ingestion failed, for the server's log (never its text). */
  onIngestFailed?: (report: { vectorStoreId: string; fileId: string; code: string }) => void;
  /**
   * How long to wait before trying again to keep a file's outcome the store could not take for a
   * passing reason (a full disk). Default 1000 ms.
   */
  retryDelayMs?: number;
}

interface Ingestion {
  vectorStoreId: string;
  fileId: string;
  ingestId: string;
  chunking: ChunkingStrategy;
}

/** Seconds in a day, for `expires_after.days`. */
const DAY_S = 86_400;

/**
 * The vector stores as the HTTP API and the `file_search` tool use them. Files are ingested one at a
 * time in the background (text or a PDF's text, cut by tokens, each chunk classified and, with an
 * embedding model, embedded through the router with its sensitivity), and kept all at once when
 * done: a crash mid-ingestion leaves the file `in_progress` with no chunk, and `start()` (at
 * startup) ingests every such file again.
 */
export class VectorStoreLibrary implements VectorStores {
  readonly #o: VectorStoreLibraryOptions;
  readonly #now: FileClock;
  readonly #queue: Ingestion[] = [];
  readonly #closing = new AbortController();
  #worker: Promise<void> | undefined;

  constructor(options: VectorStoreLibraryOptions) {
    this.#o = options;
    this.#now = options.clock ?? systemClock;
  }

  get maxQueryChars(): number {
    return this.#o.limits.maxQueryChars;
  }

  get semantic(): boolean {
    return this.#o.embedder !== undefined;
  }

  now(): number {
    return this.#now();
  }

  /** Resumes the ingestions a stop or a crash left unfinished. */
  async start(): Promise<void> {
    for (const file of await this.#o.store.pendingFiles()) this.#enqueue(file);
  }

  /** Stops ingesting (an unfinished file stays `in_progress`, resumed at the next start). */
  async close(): Promise<void> {
    this.#closing.abort();
    this.#queue.length = 0;
    await this.#worker;
  }

  /** Resolves once every queued ingestion has ended (for tests and a graceful wait). */
  async idle(): Promise<void> {
    while (this.#worker !== undefined) await this.#worker;
  }

  async create(input: NewVectorStore & { fileIds: string[]; chunking?: ChunkingStrategy }): Promise<VectorStoreRecord> {
    if (input.fileIds.length > this.#o.limits.maxFiles) throw tooManyFiles(this.#o.limits.maxFiles, "file_ids");
    const files = await Promise.all(input.fileIds.map((id) => this.#file(id, "file_ids")));
    const { fileIds: _ids, chunking, ...store } = input;
    const first = [...new Map(files.map((f) => [f.id, f])).values()].map((file) => ({
      fileId: file.id,
      filename: file.filename,
      chunking: chunking ?? AUTO_CHUNKING,
    }));
    const created = await this.#o.store.createStore(store, this.#now(), first);
    for (const added of created.files) this.#enqueue(added);
    return (await this.#o.store.getStore(created.store.id)) ?? created.store;
  }

  get(id: string): Promise<VectorStoreRecord | undefined> {
    return this.#o.store.getStore(id);
  }

  list(options: PagingOptions): Promise<ListPage<VectorStoreRecord>> {
    return this.#o.store.listStores(options);
  }

  update(id: string, change: VectorStoreChange): Promise<VectorStoreRecord | undefined> {
    return this.#o.store.updateStore(id, change, this.#now());
  }

  delete(id: string): Promise<boolean> {
    return this.#o.store.deleteStore(id);
  }

  async addFile(
    vectorStoreId: string,
    input: { fileId: string; attributes?: Attributes; chunking?: ChunkingStrategy },
  ): Promise<VectorStoreFileRecord | undefined> {
    const store = await this.#o.store.getStore(vectorStoreId);
    if (store === undefined) return undefined;
    this.#refuseExpired(store);
    const file = await this.#file(input.fileId, "file_id");
    const already = await this.#o.store.getFile(vectorStoreId, input.fileId);
    if (already === undefined && store.fileCounts.total >= this.#o.limits.maxFiles) {
      throw tooManyFiles(this.#o.limits.maxFiles, "file_id");
    }
    const chunking = input.chunking ?? AUTO_CHUNKING;
    // Added again as it is (ingested or being ingested, chunked the same): kept, not ingested again;
    // attributes given replace its own, as an update would.
    if (already !== undefined && unchanged(already, chunking)) {
      return input.attributes === undefined ? already : this.#o.store.setAttributes(vectorStoreId, file.id, input.attributes);
    }
    const attributes = input.attributes ?? already?.attributes;
    const added = await this.#o.store.addFile(
      vectorStoreId,
      { fileId: file.id, filename: file.filename, chunking, ...(attributes !== undefined && { attributes }) },
      this.#now(),
    );
    if (added) this.#enqueue(added);
    return added;
  }

  async getFile(vectorStoreId: string, fileId: string): Promise<VectorStoreFileRecord | undefined> {
    const file = await this.#o.store.getFile(vectorStoreId, fileId);
    return file && (await this.#gone([fileId])).size > 0 ? undefined : file;
  }

  async createBatch(
    vectorStoreId: string,
    input: Array<{ fileId: string; attributes?: Attributes; chunking?: ChunkingStrategy }>,
  ): Promise<VectorStoreFileBatchRecord | undefined> {
    const store = await this.#o.store.getStore(vectorStoreId);
    if (store === undefined) return undefined;
    this.#refuseExpired(store);
    // The last naming of a file wins (as adding it again does).
    const unique = [...new Map(input.map((file) => [file.fileId, file])).values()];
    if (unique.length > this.#o.limits.maxFiles) throw tooManyFiles(this.#o.limits.maxFiles, "file_ids");
    const files = await Promise.all(unique.map((file) => this.#file(file.fileId, "file_ids")));
    const held = await Promise.all(unique.map((file) => this.#o.store.getFile(vectorStoreId, file.fileId)));
    const adding = held.filter((file) => file === undefined).length;
    if (store.fileCounts.total + adding > this.#o.limits.maxFiles) throw tooManyFiles(this.#o.limits.maxFiles, "file_ids");
    const created = await this.#o.store.createBatch(
      vectorStoreId,
      unique.map((file, i) => {
        // A file the store holds keeps its attributes unless the batch gives it others.
        const attributes = file.attributes ?? held[i]?.attributes;
        return {
          fileId: file.fileId,
          filename: files[i]?.filename ?? "",
          chunking: file.chunking ?? AUTO_CHUNKING,
          ...(attributes !== undefined && { attributes }),
        };
      }),
      this.#now(),
    );
    if (created === undefined) return undefined;
    for (const file of created.files) this.#enqueue(file);
    return created.batch;
  }

  getBatch(vectorStoreId: string, batchId: string): Promise<VectorStoreFileBatchRecord | undefined> {
    return this.#o.store.getBatch(vectorStoreId, batchId);
  }

  /** Cancels a batch still in progress; one that has ended is answered as it ended (nothing is left to cancel). */
  async cancelBatch(vectorStoreId: string, batchId: string): Promise<VectorStoreFileBatchRecord | undefined> {
    const batch = await this.#o.store.getBatch(vectorStoreId, batchId);
    if (batch === undefined || batch.status !== "in_progress") return batch;
    return this.#o.store.cancelBatch(vectorStoreId, batchId);
  }

  async listFiles(
    vectorStoreId: string,
    options: VectorStoreFileListOptions,
  ): Promise<ListPage<VectorStoreFileRecord> | undefined> {
    if ((await this.#o.store.getStore(vectorStoreId)) === undefined) return undefined;
    // A page with a file that expired is read again once it has left (each round removes one at least).
    for (;;) {
      const page = await this.#o.store.listFiles(vectorStoreId, options);
      if ((await this.#gone(page.data.map((file) => file.fileId))).size === 0) return page;
    }
  }

  setAttributes(
    vectorStoreId: string,
    fileId: string,
    attributes: Attributes | null,
  ): Promise<VectorStoreFileRecord | undefined> {
    return this.#o.store.setAttributes(vectorStoreId, fileId, attributes);
  }

  removeFile(vectorStoreId: string, fileId: string): Promise<boolean> {
    return this.#o.store.removeFile(vectorStoreId, fileId);
  }

  async forgetFile(fileId: string): Promise<void> {
    await this.#o.store.removeFileEverywhere(fileId);
  }

  async fileChunks(vectorStoreId: string, fileId: string): Promise<string[] | undefined> {
    const chunks = await this.#o.store.fileChunks(vectorStoreId, fileId);
    return chunks && (await this.#gone([fileId])).size > 0 ? undefined : chunks;
  }

  /**
   * Each query searched in turn (its words, and its vector when semantic search is on); a chunk
   * several queries find counts with its best score. An unknown store is not searched; an expired
   * one is refused.
   */
  async search(query: VectorSearchQuery, signal: AbortSignal): Promise<ChunkHit[]> {
    for (const text of query.queries) {
      if (text.length > this.#o.limits.maxQueryChars) {
        throw new VectorStoreError(
          "invalid",
          `Invalid 'query': string too long. Expected a string with maximum length ${this.#o.limits.maxQueryChars} (vectorStores.maxQueryChars), but got a string with length ${text.length} instead.`,
          "query",
        );
      }
    }
    for (const id of query.vectorStoreIds) {
      const store = await this.#o.store.getStore(id);
      if (store) this.#refuseExpired(store);
    }
    const best = new Map<string, ChunkHit>();
    for (const text of query.queries) {
      signal.throwIfAborted();
      // A query known to be private is never offered to a cloud model. Any other is the router's to
      // classify (undefined): a lower level given as the header would skip detection of the query;
      // a conversation known to be internal is the least level detection may find.
      const known = query.sensitivity === "private" ? "private" : undefined;
      const floor = query.sensitivity === "internal" ? "internal" : undefined;
      const embedding = this.#o.embedder && (await this.#o.embedder.embed(text, known, signal, query.route, floor));
      const hits = await this.#o.store.search(
        {
          vectorStoreIds: query.vectorStoreIds,
          text,
          ...(embedding && { embedding }),
          ...(query.filter !== undefined && { filter: query.filter }),
          limit: query.limit,
          minScore: query.scoreThreshold,
        },
        this.#now(),
      );
      for (const hit of hits) {
        const key = `${hit.vectorStoreId}\u0000${hit.fileId}\u0000${hit.text}`;
        const seen = best.get(key);
        if (seen === undefined || seen.score < hit.score) best.set(key, hit);
      }
    }
    return this.#live([...best.values()].sort((a, b) => b.score - a.score).slice(0, query.limit));
  }

  /**
   * The hits whose Files API file still exists. A file that expired (`expires_after`) leaves the
   * stores here the first time a search, a list or a read of it finds it (#gone): its chunks are
   * deleted then, and never shown.
   */
  async #live(hits: ChunkHit[]): Promise<ChunkHit[]> {
    const gone = await this.#gone(hits.map((hit) => hit.fileId));
    return gone.size === 0 ? hits : hits.filter((hit) => !gone.has(hit.fileId));
  }

  /**
   * Which of these files the Files API no longer has (expired): each leaves every store here at
   * once (its record and chunks), so no read of a store shows it or serves its text.
   */
  async #gone(fileIds: string[]): Promise<Set<string>> {
    const gone = new Set<string>();
    for (const fileId of new Set(fileIds)) {
      if ((await this.#o.files.getFile(fileId)) === undefined) gone.add(fileId);
    }
    for (const fileId of gone) await this.#o.store.removeFileEverywhere(fileId);
    return gone;
  }

  /** A Files API file a request names, or OpenAI's 404 for it. */
  async #file(id: string, param: string) {
    const file = await this.#o.files.getFile(id);
    if (file === undefined) throw new VectorStoreError("not_found", `No such File object: ${id.slice(0, 200)}`, param);
    return file;
  }

  #refuseExpired(store: VectorStoreRecord): void {
    if (store.expiresAfterDays !== undefined && store.lastActiveAt + store.expiresAfterDays * DAY_S <= this.#now()) {
      throw new VectorStoreError("invalid", `Vector store ${store.id} has expired.`, "vector_store_id");
    }
  }

  #enqueue(file: VectorStoreFileRecord): void {
    if (this.#closing.signal.aborted) return;
    this.#queue.push({
      vectorStoreId: file.vectorStoreId,
      fileId: file.fileId,
      ingestId: file.ingestId,
      chunking: file.chunking,
    });
    this.#worker ??= this.#drain().finally(() => {
      this.#worker = undefined;
    });
  }

  async #drain(): Promise<void> {
    for (let next = this.#queue.shift(); next !== undefined; next = this.#queue.shift()) {
      const signal = this.#closing.signal;
      let outcome: IngestOutcome;
      try {
        // Removed, added again or cancelled since it was queued: nothing to do.
        const current = await this.#o.store.getFile(next.vectorStoreId, next.fileId);
        if (current?.status !== "in_progress" || current.ingestId !== next.ingestId) continue;
        outcome = await this.#ingest(next, signal);
      } catch (err) {
        if (signal.aborted) return; // stopped: the file stays in_progress and is resumed at the next start
        outcome = { error: { code: "server_error", message: "The file could not be processed." } };
        void err;
      }
      if ("error" in outcome)
        this.#o.onIngestFailed?.({ vectorStoreId: next.vectorStoreId, fileId: next.fileId, code: outcome.error.code });
      if (!(await this.#keep(next, outcome, signal))) return;
    }
  }

  /**
   * Keeps a file's outcome (its chunks, or why it failed). A passing store failure (a full disk) is
   * tried again every retryDelayMs until the store takes it, so the file ends once space is back, not
   * at the next start; a lasting one leaves it in_progress, ingested again at the next start. False:
   * stopped meanwhile (it stays in_progress, resumed at the next start).
   */
  async #keep(job: Ingestion, outcome: IngestOutcome, signal: AbortSignal): Promise<boolean> {
    for (;;) {
      try {
        await this.#o.store.finishFile(job.vectorStoreId, job.fileId, job.ingestId, outcome, this.#now());
        return true;
      } catch (err) {
        if (signal.aborted) return false;
        if (!isTransientFailure(err)) return true;
      }
      const waited = await sleep(this.#o.retryDelayMs ?? 1000, undefined, { signal }).then(
        () => true,
        () => false,
      );
      if (!waited) return false;
    }
  }

  async #ingest(job: Ingestion, signal: AbortSignal): Promise<IngestOutcome> {
    const found = await this.#o.files.fileContent(job.fileId);
    if (found === undefined) return { error: { code: "invalid_file", message: `The file ${job.fileId} no longer exists.` } };
    const { file, data } = found;
    let text: string | undefined;
    if (isTextMediaType(file.mediaType)) text = new TextDecoder().decode(data);
    else if (file.mediaType === "application/pdf") text = await this.#o.documentText(data, file.mediaType, signal);
    else {
      return {
        error: {
          code: "unsupported_file",
          message: `Files of type ${file.mediaType} are not supported for retrieval: upload text or a PDF.`,
        },
      };
    }
    if (text === undefined || text.trim().length === 0) {
      return { error: { code: "invalid_file", message: "The file has no text that can be read." } };
    }
    const limit = this.#o.limits.maxChunksPerFile;
    const texts = await chunkText(text, job.chunking, limit);
    if (texts.length > limit) {
      return {
        error: {
          code: "invalid_file",
          message: `The file is cut into more than ${limit} chunks (vectorStores.maxChunksPerFile); split it or use larger chunks.`,
        },
      };
    }
    // The level the client declared at upload is each chunk's least: a private file's chunks are
    // private (never embedded by a cloud model, never handed to a cloud turn as public) even where
    // no detector finds anything in them.
    const declared = file.sensitivity;
    const chunks: NewChunk[] = [];
    // Up to maxChunksPerFile chunks are classified (and embedded) a few ms at a time: a file of
    // thousands of chunks would otherwise hold every other client up for the whole of them.
    let deadline = performance.now() + INGEST_TURN_MS;
    for (const chunk of texts) {
      signal.throwIfAborted();
      if (performance.now() >= deadline) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        deadline = performance.now() + INGEST_TURN_MS;
      }
      const found = this.#o.classify(chunk);
      const sensitivity = higherSensitivity(declared, found);
      const embedding = this.#o.embedder && (await this.#o.embedder.embed(chunk, sensitivity, signal));
      chunks.push({ text: chunk, sensitivity, ...(embedding && { embedding }) });
    }
    return { chunks };
  }
}

/** How long an ingestion's classification runs before it leaves the event loop, in ms. */
const INGEST_TURN_MS = 4;

function tooManyFiles(max: number, param: string): VectorStoreError {
  return new VectorStoreError("invalid", `A vector store may hold at most ${max} files (vectorStores.maxFiles).`, param);
}

/** A file the store holds that adding again would not change: ingested or being ingested, chunked as asked. */
function unchanged(file: VectorStoreFileRecord, chunking: ChunkingStrategy): boolean {
  return (file.status === "completed" || file.status === "in_progress") && isDeepStrictEqual(file.chunking, chunking);
}
