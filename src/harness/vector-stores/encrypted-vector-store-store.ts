import type { Attributes } from "../../core/attribute-filter.js";
import type { ListPage } from "../../core/state.js";
import type {
  ChunkHit,
  ChunkSearch,
  IngestOutcome,
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
import type { BackgroundStore } from "../../store/index.js";

/**
 * Vector stores in tandem's encrypted store (`<dataDir>/tandem.db`, the tables of migration 9), read
 * and written on the store's own thread: a write resolves once committed, and calls are answered in
 * the order they were made.
 */
export class EncryptedVectorStoreStore implements VectorStoreStore {
  readonly #store: BackgroundStore;

  constructor(store: BackgroundStore) {
    this.#store = store;
  }

  createStore(
    store: NewVectorStore,
    now: number,
    files?: NewVectorStoreFile[],
  ): Promise<{ store: VectorStoreRecord; files: VectorStoreFileRecord[] }> {
    return this.#store.vectorStores("createStore", store, now, files);
  }

  getStore(id: string): Promise<VectorStoreRecord | undefined> {
    return this.#store.vectorStores("getStore", id);
  }

  listStores(options: PagingOptions): Promise<ListPage<VectorStoreRecord>> {
    return this.#store.vectorStores("listStores", options);
  }

  updateStore(id: string, change: VectorStoreChange, now: number): Promise<VectorStoreRecord | undefined> {
    return this.#store.vectorStores("updateStore", id, change, now);
  }

  deleteStore(id: string): Promise<boolean> {
    return this.#store.vectorStores("deleteStore", id);
  }

  addFile(vectorStoreId: string, file: NewVectorStoreFile, now: number): Promise<VectorStoreFileRecord | undefined> {
    return this.#store.vectorStores("addFile", vectorStoreId, file, now);
  }

  getFile(vectorStoreId: string, fileId: string): Promise<VectorStoreFileRecord | undefined> {
    return this.#store.vectorStores("getFile", vectorStoreId, fileId);
  }

  listFiles(vectorStoreId: string, options: VectorStoreFileListOptions): Promise<ListPage<VectorStoreFileRecord>> {
    return this.#store.vectorStores("listFiles", vectorStoreId, options);
  }

  createBatch(
    vectorStoreId: string,
    files: NewVectorStoreFile[],
    now: number,
  ): Promise<{ batch: VectorStoreFileBatchRecord; files: VectorStoreFileRecord[] } | undefined> {
    return this.#store.vectorStores("createBatch", vectorStoreId, files, now);
  }

  getBatch(vectorStoreId: string, batchId: string): Promise<VectorStoreFileBatchRecord | undefined> {
    return this.#store.vectorStores("getBatch", vectorStoreId, batchId);
  }

  cancelBatch(vectorStoreId: string, batchId: string): Promise<VectorStoreFileBatchRecord | undefined> {
    return this.#store.vectorStores("cancelBatch", vectorStoreId, batchId);
  }

  setAttributes(
    vectorStoreId: string,
    fileId: string,
    attributes: Attributes | null,
  ): Promise<VectorStoreFileRecord | undefined> {
    return this.#store.vectorStores("setAttributes", vectorStoreId, fileId, attributes);
  }

  removeFile(vectorStoreId: string, fileId: string): Promise<boolean> {
    return this.#store.vectorStores("removeFile", vectorStoreId, fileId);
  }

  removeFileEverywhere(fileId: string): Promise<number> {
    return this.#store.vectorStores("removeFileEverywhere", fileId);
  }

  finishFile(vectorStoreId: string, fileId: string, ingestId: string, outcome: IngestOutcome, now: number): Promise<void> {
    return this.#store.vectorStores("finishFile", vectorStoreId, fileId, ingestId, outcome, now);
  }

  pendingFiles(): Promise<VectorStoreFileRecord[]> {
    return this.#store.vectorStores("pendingFiles");
  }

  fileChunks(vectorStoreId: string, fileId: string): Promise<string[] | undefined> {
    return this.#store.vectorStores("fileChunks", vectorStoreId, fileId);
  }

  search(search: ChunkSearch, now: number): Promise<ChunkHit[]> {
    return this.#store.vectorStores("search", search, now);
  }
}
