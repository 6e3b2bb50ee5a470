import {
  addBatchUsage,
  type Batch,
  type BatchCounts,
  type BatchLine,
  type BatchLineOutcome,
  type BatchListOptions,
  type BatchPatch,
  type BatchRecord,
  type BatchStatus,
  type BatchStore,
  type BatchUsage,
  batchLineId,
  type FinishedBatchLine,
  UNFINISHED_BATCH_STATUSES,
} from "../../core/batches.js";
import { startAfter } from "../../core/page-items.js";
import { type ListPage, unknownCursorPage } from "../../core/state.js";

interface Entry {
  record: BatchRecord;
  lines: BatchLine[];
  /** By line index. */
  finished: Map<number, FinishedBatchLine>;
}

/**
 * Batches kept in this process only, lost at exit: for servers running without the encrypted store
 * (`store.enabled: false`) and for tests. Everything is copied in and out (structuredClone), so a
 * caller that changes what it saved or read changes nothing here.
 */
export class MemoryBatchStore implements BatchStore {
  /** In creation order (a Map keeps insertion order). */
  readonly #batches = new Map<string, Entry>();

  async createBatch(batch: BatchRecord, lines?: readonly BatchLine[]): Promise<void> {
    this.#batches.set(batch.id, {
      record: structuredClone(batch),
      lines: structuredClone([...(lines ?? [])]),
      finished: new Map(),
    });
  }

  async getBatch(id: string): Promise<Batch | undefined> {
    const entry = this.#batches.get(id);
    return entry && view(entry);
  }

  async listBatches(options: BatchListOptions): Promise<ListPage<Batch>> {
    const newest = [...this.#batches.values()].filter((e) => e.record.id.startsWith(options.prefix)).reverse();
    if (options.before !== undefined) {
      const at = newest.findIndex((e) => e.record.id === options.before);
      if (at === -1) return unknownCursorPage("before");
      const from = Math.max(0, at - options.limit);
      return { data: newest.slice(from, at).map(view), hasMore: from > 0 };
    }
    const start = startAfter(newest, options.after, (e) => e.record.id);
    if (start === undefined) return unknownCursorPage("after");
    return { data: newest.slice(start, start + options.limit).map(view), hasMore: start + options.limit < newest.length };
  }

  async updateBatch(id: string, patch: BatchPatch, from: readonly BatchStatus[]): Promise<Batch | undefined> {
    const entry = this.#batches.get(id);
    if (entry === undefined || !from.includes(entry.record.status)) return undefined;
    entry.record = { ...entry.record, ...structuredClone(patch) };
    return view(entry);
  }

  async addLines(id: string, lines: readonly BatchLine[], patch: BatchPatch): Promise<boolean> {
    const entry = this.#batches.get(id);
    if (entry === undefined || entry.record.status !== "validating") return false;
    entry.lines.push(...structuredClone([...lines]));
    entry.record = { ...entry.record, ...structuredClone(patch) };
    return true;
  }

  async pendingLines(id: string, afterIndex: number, limit: number): Promise<BatchLine[]> {
    const entry = this.#batches.get(id);
    if (entry === undefined) return [];
    const pending = entry.lines.filter((l) => l.index > afterIndex && !entry.finished.has(l.index));
    return structuredClone(pending.slice(0, limit));
  }

  async finishLine(batchId: string, line: FinishedBatchLine, usage?: BatchUsage): Promise<boolean> {
    const entry = this.#batches.get(batchId);
    if (entry === undefined || entry.finished.has(line.index) || !entry.lines.some((l) => l.index === line.index)) return false;
    entry.finished.set(line.index, structuredClone(line));
    if (usage !== undefined) entry.record = { ...entry.record, usage: addBatchUsage(entry.record.usage, usage) };
    return true;
  }

  async finishPending(batchId: string, result: "canceled" | "expired", outcome: BatchLineOutcome): Promise<number> {
    const entry = this.#batches.get(batchId);
    if (entry === undefined) return 0;
    let n = 0;
    for (const line of entry.lines) {
      if (entry.finished.has(line.index)) continue;
      entry.finished.set(line.index, {
        index: line.index,
        customId: line.customId,
        id: batchLineId(),
        result,
        outcome: structuredClone(outcome),
      });
      n++;
    }
    return n;
  }

  async finishedLines(batchId: string, afterIndex: number, limit: number): Promise<FinishedBatchLine[]> {
    const entry = this.#batches.get(batchId);
    if (entry === undefined) return [];
    const done = [...entry.finished.values()].filter((l) => l.index > afterIndex).sort((a, b) => a.index - b.index);
    return structuredClone(done.slice(0, limit));
  }

  async unfinishedBatches(): Promise<BatchRecord[]> {
    return [...this.#batches.values()]
      .filter((e) => UNFINISHED_BATCH_STATUSES.includes(e.record.status))
      .map((e) => structuredClone(e.record));
  }

  async deleteBatch(id: string): Promise<boolean> {
    return this.#batches.delete(id);
  }
}

function view(entry: Entry): Batch {
  const counts: BatchCounts = { total: entry.lines.length, processing: 0, succeeded: 0, errored: 0, canceled: 0, expired: 0 };
  counts.processing = entry.lines.length - entry.finished.size;
  for (const line of entry.finished.values()) counts[line.result]++;
  return { ...structuredClone(entry.record), counts };
}
