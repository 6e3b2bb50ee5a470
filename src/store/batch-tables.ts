import type Sqlite from "better-sqlite3-multiple-ciphers";
import {
  addBatchUsage,
  type Batch,
  type BatchCounts,
  type BatchLine,
  type BatchLineOutcome,
  type BatchLineResult,
  type BatchListOptions,
  type BatchPatch,
  type BatchRecord,
  type BatchStatus,
  type BatchUsage,
  batchLineId,
  type FinishedBatchLine,
  UNFINISHED_BATCH_STATUSES,
} from "../core/batches.js";
import { type ListPage, unknownCursorPage } from "../core/state.js";

interface BatchRow {
  seq: number;
  record: string;
}

interface LineRow {
  idx: number;
  custom_id: string;
  body: string;
  result: string | null;
  line_id: string | null;
  outcome: string | null;
}

/**
 * Batches and their lines (migration 13) over the store's open connection: the synchronous half of
 * the encrypted BatchStore (src/harness/batches/encrypted-batch-store.ts), run on the store's
 * thread. Every write is one transaction, committed before the method returns: a line's outcome and
 * the usage it adds to its batch together, so a crash leaves a line either finished or to be run again.
 */
export class BatchTables {
  readonly #db: Sqlite.Database;
  readonly #q;

  constructor(db: Sqlite.Database) {
    this.#db = db;
    this.#q = {
      insert: db.prepare<[string, string, string]>("INSERT INTO batches (id, status, record) VALUES (?, ?, ?)"),
      get: db.prepare<[string], BatchRow>("SELECT seq, record FROM batches WHERE id = ?"),
      update: db.prepare<[string, string, number]>("UPDATE batches SET status = ?, record = ? WHERE seq = ?"),
      seq: db.prepare<[string], { seq: number }>("SELECT seq FROM batches WHERE id = ?"),
      pageOlder: db.prepare<[number, string, string, number], BatchRow>(
        "SELECT seq, record FROM batches WHERE seq < ? AND substr(id, 1, length(?)) = ? ORDER BY seq DESC LIMIT ?",
      ),
      pageNewer: db.prepare<[number, string, string, number], BatchRow>(
        "SELECT seq, record FROM batches WHERE seq > ? AND substr(id, 1, length(?)) = ? ORDER BY seq ASC LIMIT ?",
      ),
      unfinished: db.prepare<[], BatchRow>(
        `SELECT seq, record FROM batches WHERE status IN (${UNFINISHED_BATCH_STATUSES.map((s) => `'${s}'`).join(", ")}) ORDER BY seq`,
      ),
      delete: db.prepare<[string]>("DELETE FROM batches WHERE id = ?"),
      counts: db.prepare<[number], { result: string | null; n: number }>(
        "SELECT result, count(*) AS n FROM batch_lines WHERE batch_seq = ? GROUP BY result",
      ),
      insertLine: db.prepare<[number, number, string, string]>(
        "INSERT INTO batch_lines (batch_seq, idx, custom_id, body) VALUES (?, ?, ?, ?)",
      ),
      pending: db.prepare<[number, number, number], LineRow>(
        "SELECT idx, custom_id, body, result, line_id, outcome FROM batch_lines WHERE batch_seq = ? AND result IS NULL AND idx > ? ORDER BY idx LIMIT ?",
      ),
      finished: db.prepare<[number, number, number], LineRow>(
        "SELECT idx, custom_id, body, result, line_id, outcome FROM batch_lines WHERE batch_seq = ? AND result IS NOT NULL AND idx > ? ORDER BY idx LIMIT ?",
      ),
      pendingIds: db.prepare<[number], { idx: number }>(
        "SELECT idx FROM batch_lines WHERE batch_seq = ? AND result IS NULL ORDER BY idx",
      ),
      finish: db.prepare<[string, string, string, number, number]>(
        "UPDATE batch_lines SET result = ?, line_id = ?, outcome = ? WHERE batch_seq = ? AND idx = ? AND result IS NULL",
      ),
    };
  }

  createBatch(batch: BatchRecord, lines?: readonly BatchLine[]): void {
    this.#db
      .transaction(() => {
        const seq = Number(this.#q.insert.run(batch.id, batch.status, JSON.stringify(batch)).lastInsertRowid);
        for (const line of lines ?? []) this.#q.insertLine.run(seq, line.index, line.customId, JSON.stringify(line.body));
      })
      .immediate();
  }

  getBatch(id: string): Batch | undefined {
    const row = this.#q.get.get(id);
    return row && this.#withCounts(row);
  }

  listBatches(options: BatchListOptions): ListPage<Batch> {
    return this.#db
      .transaction((): ListPage<Batch> => {
        if (options.before !== undefined) {
          const before = options.before.startsWith(options.prefix) ? this.#q.seq.get(options.before)?.seq : undefined;
          if (before === undefined) return unknownCursorPage("before");
          // The page just newer than `before`, still shown newest first.
          const rows = this.#q.pageNewer.all(before, options.prefix, options.prefix, options.limit + 1);
          return {
            data: rows
              .slice(0, options.limit)
              .reverse()
              .map((r) => this.#withCounts(r)),
            hasMore: rows.length > options.limit,
          };
        }
        const after =
          options.after === undefined
            ? Number.MAX_SAFE_INTEGER
            : options.after.startsWith(options.prefix)
              ? this.#q.seq.get(options.after)?.seq
              : undefined;
        if (after === undefined) return unknownCursorPage("after");
        const rows = this.#q.pageOlder.all(after, options.prefix, options.prefix, options.limit + 1);
        return { data: rows.slice(0, options.limit).map((r) => this.#withCounts(r)), hasMore: rows.length > options.limit };
      })
      .deferred();
  }

  updateBatch(id: string, patch: BatchPatch, from: readonly BatchStatus[]): Batch | undefined {
    return this.#db
      .transaction((): Batch | undefined => {
        const row = this.#q.get.get(id);
        if (row === undefined) return undefined;
        const record = JSON.parse(row.record) as BatchRecord;
        if (!from.includes(record.status)) return undefined;
        const next = { ...record, ...patch };
        this.#q.update.run(next.status, JSON.stringify(next), row.seq);
        return this.#withCounts({ seq: row.seq, record: JSON.stringify(next) });
      })
      .immediate();
  }

  addLines(id: string, lines: readonly BatchLine[], patch: BatchPatch): boolean {
    return this.#db
      .transaction((): boolean => {
        const row = this.#q.get.get(id);
        if (row === undefined) return false;
        const record = JSON.parse(row.record) as BatchRecord;
        if (record.status !== "validating") return false;
        for (const line of lines) this.#q.insertLine.run(row.seq, line.index, line.customId, JSON.stringify(line.body));
        const next = { ...record, ...patch };
        this.#q.update.run(next.status, JSON.stringify(next), row.seq);
        return true;
      })
      .immediate();
  }

  pendingLines(id: string, afterIndex: number, limit: number): BatchLine[] {
    const seq = this.#q.seq.get(id)?.seq;
    if (seq === undefined) return [];
    return this.#q.pending.all(seq, afterIndex, limit).map((r) => ({
      index: r.idx,
      customId: r.custom_id,
      body: JSON.parse(r.body) as Record<string, unknown>,
    }));
  }

  finishLine(batchId: string, line: FinishedBatchLine, usage?: BatchUsage): boolean {
    return this.#db
      .transaction((): boolean => {
        const row = this.#q.get.get(batchId);
        if (row === undefined) return false;
        const done = this.#q.finish.run(line.result, line.id, JSON.stringify(line.outcome), row.seq, line.index).changes > 0;
        if (done && usage !== undefined) {
          const record = JSON.parse(row.record) as BatchRecord;
          const next = { ...record, usage: addBatchUsage(record.usage, usage) };
          this.#q.update.run(next.status, JSON.stringify(next), row.seq);
        }
        return done;
      })
      .immediate();
  }

  finishPending(batchId: string, result: "canceled" | "expired", outcome: BatchLineOutcome): number {
    return this.#db
      .transaction((): number => {
        const seq = this.#q.seq.get(batchId)?.seq;
        if (seq === undefined) return 0;
        const text = JSON.stringify(outcome);
        let n = 0;
        for (const { idx } of this.#q.pendingIds.all(seq)) n += this.#q.finish.run(result, batchLineId(), text, seq, idx).changes;
        return n;
      })
      .immediate();
  }

  finishedLines(batchId: string, afterIndex: number, limit: number): FinishedBatchLine[] {
    const seq = this.#q.seq.get(batchId)?.seq;
    if (seq === undefined) return [];
    return this.#q.finished.all(seq, afterIndex, limit).map((r) => ({
      index: r.idx,
      customId: r.custom_id,
      id: r.line_id ?? "",
      result: r.result as BatchLineResult,
      outcome: JSON.parse(r.outcome ?? "null") as BatchLineOutcome,
    }));
  }

  unfinishedBatches(): BatchRecord[] {
    return this.#q.unfinished.all().map((r) => JSON.parse(r.record) as BatchRecord);
  }

  deleteBatch(id: string): boolean {
    return this.#db.transaction(() => this.#q.delete.run(id).changes > 0).immediate();
  }

  #withCounts(row: BatchRow): Batch {
    const counts: BatchCounts = { total: 0, processing: 0, succeeded: 0, errored: 0, canceled: 0, expired: 0 };
    for (const { result, n } of this.#q.counts.all(row.seq)) {
      counts.total += n;
      if (result === null) counts.processing += n;
      else if (result in counts) counts[result as BatchLineResult] += n;
    }
    return { ...(JSON.parse(row.record) as BatchRecord), counts };
  }
}
