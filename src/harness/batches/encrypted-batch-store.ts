import type {
  Batch,
  BatchLine,
  BatchLineOutcome,
  BatchListOptions,
  BatchPatch,
  BatchRecord,
  BatchStatus,
  BatchStore,
  BatchUsage,
  FinishedBatchLine,
} from "../../core/batches.js";
import type { ListPage } from "../../core/state.js";
import type { BackgroundStore } from "../../store/index.js";

/**
 * Batches in tandem's encrypted store (`<dataDir>/tandem.db`, the tables of migration 13), read and
 * written on the store's own thread as the other encrypted stores are: a write resolves once
 * committed, and calls are answered in the order they were made.
 */
export class EncryptedBatchStore implements BatchStore {
  readonly #store: BackgroundStore;

  constructor(store: BackgroundStore) {
    this.#store = store;
  }

  createBatch(batch: BatchRecord, lines?: readonly BatchLine[]): Promise<void> {
    return this.#store.batches("createBatch", batch, lines);
  }

  getBatch(id: string): Promise<Batch | undefined> {
    return this.#store.batches("getBatch", id);
  }

  listBatches(options: BatchListOptions): Promise<ListPage<Batch>> {
    return this.#store.batches("listBatches", options);
  }

  updateBatch(id: string, patch: BatchPatch, from: readonly BatchStatus[]): Promise<Batch | undefined> {
    return this.#store.batches("updateBatch", id, patch, from);
  }

  addLines(id: string, lines: readonly BatchLine[], patch: BatchPatch): Promise<boolean> {
    return this.#store.batches("addLines", id, lines, patch);
  }

  pendingLines(id: string, afterIndex: number, limit: number): Promise<BatchLine[]> {
    return this.#store.batches("pendingLines", id, afterIndex, limit);
  }

  finishLine(batchId: string, line: FinishedBatchLine, usage?: BatchUsage): Promise<boolean> {
    return this.#store.batches("finishLine", batchId, line, usage);
  }

  finishPending(batchId: string, result: "canceled" | "expired", outcome: BatchLineOutcome): Promise<number> {
    return this.#store.batches("finishPending", batchId, result, outcome);
  }

  finishedLines(batchId: string, afterIndex: number, limit: number): Promise<FinishedBatchLine[]> {
    return this.#store.batches("finishedLines", batchId, afterIndex, limit);
  }

  unfinishedBatches(): Promise<BatchRecord[]> {
    return this.#store.batches("unfinishedBatches");
  }

  deleteBatch(id: string): Promise<boolean> {
    return this.#store.batches("deleteBatch", id);
  }
}
