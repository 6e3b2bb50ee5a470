import type { AttributeFilter, Attributes } from "./attribute-filter.js";
import type { MemoryEmbedding } from "./memory.js";
import type { Sensitivity } from "./sensitivity.js";
import type { ListPage } from "./state.js";

/**
 * Vector stores (OpenAI's Vector Stores API and the Responses API's `file_search` tool): files of
 * the Files API cut into chunks of text, each chunk kept with its sensitivity and, when an embedding
 * model is configured, its vector, all in the encrypted store. Two contracts: `VectorStoreStore`,
 * where the stores, their files and chunks live (harness/vector-stores/: the encrypted store and
 * memory), and `VectorStores`, what the HTTP API and the tool loop call (ingestion, bounds, search).
 */

/** How a file is cut into chunks, in tokens (OpenAI's `static` strategy; `auto` is 800 and 400). */
export interface ChunkingStrategy {
  maxChunkSizeTokens: number;
  chunkOverlapTokens: number;
}

/** OpenAI's `auto` chunking strategy, as it reports it on a file: static, 800 tokens, 400 of overlap. */
export const AUTO_CHUNKING: ChunkingStrategy = { maxChunkSizeTokens: 800, chunkOverlapTokens: 400 };

export type VectorStoreFileStatus = "in_progress" | "completed" | "failed" | "cancelled";

export interface VectorStoreFileCounts {
  in_progress: number;
  completed: number;
  failed: number;
  cancelled: number;
  total: number;
}

/** A vector store as it is kept; the API's `status` and `expires_at` are worked out from it. */
export interface VectorStoreRecord {
  /** `vs_` and 24 letters and digits. */
  id: string;
  /** Seconds since the epoch. */
  createdAt: number;
  name: string;
  description?: string;
  metadata?: Record<string, string>;
  /** `expires_after: {anchor: "last_active_at", days}`. */
  expiresAfterDays?: number;
  /** Seconds since the epoch: its creation, a change, a file added, a search. */
  lastActiveAt: number;
  fileCounts: VectorStoreFileCounts;
  /** The bytes of its chunks' text (what OpenAI bills as `usage_bytes`). */
  usageBytes: number;
}

export interface NewVectorStore {
  name: string;
  description?: string;
  metadata?: Record<string, string>;
  expiresAfterDays?: number;
}

/** A change of a vector store: `null` clears the field. */
export interface VectorStoreChange {
  name?: string | null;
  metadata?: Record<string, string> | null;
  expiresAfterDays?: number | null;
}

/** A file of a vector store. */
export interface VectorStoreFileRecord {
  /** The Files API file's id (a vector store file is named by its file's id, as OpenAI's). */
  fileId: string;
  vectorStoreId: string;
  createdAt: number;
  /** The file's name when it was added (search results show it). */
  filename: string;
  status: VectorStoreFileStatus;
  lastError?: { code: "server_error" | "unsupported_file" | "invalid_file"; message: string };
  usageBytes: number;
  attributes?: Attributes;
  chunking: ChunkingStrategy;
  /**
   * Names this ingestion of the file: a result is only taken by the file still waiting for it (not
   * by one removed and added again meanwhile).
   */
  ingestId: string;
}

/** A batch of files added to a store at once (`vector_store.files_batch`); its status is worked out from its files. */
export interface VectorStoreFileBatchRecord {
  /** `vsfb_` and 24 letters and digits. */
  id: string;
  vectorStoreId: string;
  createdAt: number;
  /** `cancelled` once cancelled; else `in_progress` while a file of it is, then `completed`. */
  status: "in_progress" | "completed" | "cancelled";
  /** Its files that are still its own (a file added again since counts for its new batch, or none). */
  fileCounts: VectorStoreFileCounts;
}

export interface NewVectorStoreFile {
  fileId: string;
  filename: string;
  attributes?: Attributes;
  chunking: ChunkingStrategy;
}

/** One chunk of a file, ready to be kept. */
export interface NewChunk {
  text: string;
  /** What privacy detection found in this chunk's text. */
  sensitivity: Sensitivity;
  /** Absent: no embedding model, or one that may not be given this chunk. */
  embedding?: MemoryEmbedding;
}

/** What an ingestion ended with: the file's chunks (all kept at once, with `completed`), or why it failed. */
export type IngestOutcome =
  | { chunks: NewChunk[] }
  | { error: { code: "server_error" | "unsupported_file" | "invalid_file"; message: string } };

export interface VectorStoreFileListOptions {
  after?: string;
  /** Stop before the file with this id (exclusive): with `after`, the page is what lies between them. */
  before?: string;
  limit: number;
  order: "asc" | "desc";
  status?: VectorStoreFileStatus;
  /** Only the files of this batch. */
  batchId?: string;
}

export interface PagingOptions {
  after?: string;
  /** Stop before the object with this id (exclusive): with `after`, the page is what lies between them. */
  before?: string;
  limit: number;
  order: "asc" | "desc";
}

export interface ChunkSearch {
  vectorStoreIds: string[];
  /** The words to match (FTS5 bm25, the memory's terms). */
  text: string;
  /** The query's vector, when semantic search is on: chunks with a vector of its model are ranked by cosine too. */
  embedding?: MemoryEmbedding;
  filter?: AttributeFilter;
  limit: number;
  /** Hits below this score (0..1) are left out. */
  minScore: number;
}

/** One chunk a search found; `score` in 0..1, as a memory's (core/memory.ts: memoryScore). */
export interface ChunkHit {
  vectorStoreId: string;
  fileId: string;
  filename: string;
  attributes?: Attributes;
  text: string;
  score: number;
  sensitivity: Sensitivity;
}

/**
 * Where vector stores live. Every method may be called concurrently; an unknown id answers
 * `undefined` (or `false`), never throws. `now` is the caller's clock (seconds).
 * A file's chunks appear all at once, when its ingestion is finished, never some of them.
 */
export interface VectorStoreStore {
  /**
   * Creates a store with its first files (each added as addFile does), in one transaction: a crash
   * or a failed write never leaves a store holding some of the files it was created with.
   */
  createStore(
    store: NewVectorStore,
    now: number,
    files?: NewVectorStoreFile[],
  ): Promise<{ store: VectorStoreRecord; files: VectorStoreFileRecord[] }>;
  getStore(id: string): Promise<VectorStoreRecord | undefined>;
  listStores(options: PagingOptions): Promise<ListPage<VectorStoreRecord>>;
  updateStore(id: string, change: VectorStoreChange, now: number): Promise<VectorStoreRecord | undefined>;
  /** Deletes the store, its files' records and their chunks (never the Files API's files). */
  deleteStore(id: string): Promise<boolean>;
  /** Adds (or adds again, dropping its chunks) a file as `in_progress`; undefined: no such store. */
  addFile(vectorStoreId: string, file: NewVectorStoreFile, now: number): Promise<VectorStoreFileRecord | undefined>;
  getFile(vectorStoreId: string, fileId: string): Promise<VectorStoreFileRecord | undefined>;
  listFiles(vectorStoreId: string, options: VectorStoreFileListOptions): Promise<ListPage<VectorStoreFileRecord>>;
  /** Adds the files as one batch, each as addFile does, in one transaction; undefined: no such store. */
  createBatch(
    vectorStoreId: string,
    files: NewVectorStoreFile[],
    now: number,
  ): Promise<{ batch: VectorStoreFileBatchRecord; files: VectorStoreFileRecord[] } | undefined>;
  getBatch(vectorStoreId: string, batchId: string): Promise<VectorStoreFileBatchRecord | undefined>;
  /** Cancels a batch: its files still in progress become `cancelled` (an ingestion that ends later is dropped). */
  cancelBatch(vectorStoreId: string, batchId: string): Promise<VectorStoreFileBatchRecord | undefined>;
  /** Replaces a file's attributes (`null` clears them). */
  setAttributes(vectorStoreId: string, fileId: string, attributes: Attributes | null): Promise<VectorStoreFileRecord | undefined>;
  /** Removes a file and its chunks from the store (the Files API's file stays). */
  removeFile(vectorStoreId: string, fileId: string): Promise<boolean>;
  /** Removes a file from every store (its Files API file was deleted); how many stores had it. */
  removeFileEverywhere(fileId: string): Promise<number>;
  /**
   * Ends the ingestion `ingestId` of a file, in one transaction: its chunks and `completed`, or
   * `failed` and why. Nothing happens when the file is no longer waiting for that ingestion.
   */
  finishFile(vectorStoreId: string, fileId: string, ingestId: string, outcome: IngestOutcome, now: number): Promise<void>;
  /** Every file still `in_progress` (after a restart: ingestions that did not finish). */
  pendingFiles(): Promise<VectorStoreFileRecord[]>;
  /** A completed file's chunks' text, in order; undefined: no such file in that store. */
  fileChunks(vectorStoreId: string, fileId: string): Promise<string[] | undefined>;
  /** Best first; ties by the order they were kept. Marks the stores active at `now`. */
  search(search: ChunkSearch, now: number): Promise<ChunkHit[]>;
}

/** Why a VectorStores call was refused: the HTTP API turns it into OpenAI's error. */
export class VectorStoreError extends Error {
  override readonly name = "VectorStoreError";
  readonly kind: "not_found" | "invalid";
  readonly param: string | undefined;

  constructor(kind: "not_found" | "invalid", message: string, param?: string) {
    super(message);
    this.kind = kind;
    this.param = param;
  }
}

/** A search through one or more vector stores, as the HTTP API and the `file_search` tool ask it. */
export interface VectorSearchQuery {
  vectorStoreIds: string[];
  queries: string[];
  limit: number;
  filter?: AttributeFilter;
  scoreThreshold: number;
  /**
   * How sensitive the queries are known to be: the client's declaration, or the conversation's that
   * wrote them (a file_search call). A private query is never embedded by a cloud model; an internal
   * one is classified by the router, at least internal (its privacy floor); undefined or public: the
   * router classifies each query as it is embedded.
   */
  sensitivity?: Sensitivity;
  /**
   * The model the request that wrote the queries named (a file_search call's): when it is a route,
   * its privacy decides where each query may be embedded, as it decides for the request itself.
   */
  route?: string;
}

/**
 * The vector stores as the HTTP API and the tool loop use them: bounds checked, files ingested in
 * the background, searches embedded with the configured model. Throws `VectorStoreError` for
 * what the caller asked wrong; an unknown id answers undefined (false) as the store does.
 */
export interface VectorStores {
  create(store: NewVectorStore & { fileIds: string[]; chunking?: ChunkingStrategy }): Promise<VectorStoreRecord>;
  get(id: string): Promise<VectorStoreRecord | undefined>;
  list(options: PagingOptions): Promise<ListPage<VectorStoreRecord>>;
  update(id: string, change: VectorStoreChange): Promise<VectorStoreRecord | undefined>;
  delete(id: string): Promise<boolean>;
  addFile(
    vectorStoreId: string,
    file: { fileId: string; attributes?: Attributes; chunking?: ChunkingStrategy },
  ): Promise<VectorStoreFileRecord | undefined>;
  getFile(vectorStoreId: string, fileId: string): Promise<VectorStoreFileRecord | undefined>;
  listFiles(vectorStoreId: string, options: VectorStoreFileListOptions): Promise<ListPage<VectorStoreFileRecord> | undefined>;
  createBatch(
    vectorStoreId: string,
    files: Array<{ fileId: string; attributes?: Attributes; chunking?: ChunkingStrategy }>,
  ): Promise<VectorStoreFileBatchRecord | undefined>;
  getBatch(vectorStoreId: string, batchId: string): Promise<VectorStoreFileBatchRecord | undefined>;
  cancelBatch(vectorStoreId: string, batchId: string): Promise<VectorStoreFileBatchRecord | undefined>;
  setAttributes(vectorStoreId: string, fileId: string, attributes: Attributes | null): Promise<VectorStoreFileRecord | undefined>;
  removeFile(vectorStoreId: string, fileId: string): Promise<boolean>;
  /** The Files API deleted this file: it leaves every vector store. */
  forgetFile(fileId: string): Promise<void>;
  fileChunks(vectorStoreId: string, fileId: string): Promise<string[] | undefined>;
  search(query: VectorSearchQuery, signal: AbortSignal): Promise<ChunkHit[]>;
  /** The longest query accepted, in characters. */
  readonly maxQueryChars: number;
  /** Whether searches rank by meaning too (an embedding model is configured). */
  readonly semantic: boolean;
  /** The clock the stores' `expires_at` is judged by (seconds). */
  now(): number;
}
