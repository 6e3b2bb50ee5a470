import { basename, join } from "node:path";
import type Sqlite from "better-sqlite3-multiple-ciphers";
import { backoffDelayMs } from "../core/backoff.js";
import {
  DAMAGED_JOURNAL_SUFFIX,
  journalNames,
  keepDamagedJournal,
  type LeftJournal,
  leftJournals,
  readJournal,
  removeJournal,
} from "./audit-journal.js";
import { BatchTables } from "./batch-tables.js";
import { ChatCompletionTables } from "./chat-completion-tables.js";
import { DATABASE_FILE, type DatabaseKey } from "./database-key.js";
import { FileTables } from "./file-tables.js";
import {
  type EgressValues,
  egressValues,
  type LogInserts,
  prepareLogInserts,
  pruneLogs,
  type RequestValues,
  requestValues,
  selectAudit,
  selectRequests,
  selectUsage,
  type UsageValues,
  usageValues,
} from "./log-tables.js";
import { MemoryTables } from "./memory-tables.js";
import { openEncryptedDatabase } from "./open-database.js";
import type {
  AuditQuery,
  EgressAuditRow,
  EgressRecord,
  PruneResult,
  RequestLogEntry,
  RequestLogRow,
  SecretInfo,
  UsageEntry,
  UsageRow,
} from "./records.js";
import { readSecret, removeSecret, secretNames, writeSecret } from "./secrets-table.js";
import { type StatePruneResult, StateTables } from "./state-tables.js";
import { StoreError, storeErrorFrom } from "./store-error.js";
import { VectorStoreTables } from "./vector-store-tables.js";

export interface StoreOptions {
  /** The data dir; the database is `<dataDir>/tandem.db`. */
  dataDir: string;
  /** The 32-byte database key, or what resolveDatabaseKey returned (its source is named in errors). */
  key: Buffer | DatabaseKey;
  /** Keep request and response content in the request log. Default false: metadata only. */
  logContent?: boolean;
  /** Days that logged content is kept before prune() clears it. Default 7. */
  retentionDays?: number;
  /** Days that request log and egress audit rows are kept before prune() deletes them. Default 365. */
  logRetentionDays?: number;
  /**
   * Days that stored responses (since created) and conversations (since last changed) are kept before
   * the pruning job deletes them with their items. Default: kept until deleted.
   */
  stateRetentionDays?: number;
  /**
   * Days that stored chat completions are kept after they were stored before the pruning job deletes
   * them (the ChatCompletionStore also drops them at its next call). Default 30, as OpenAI keeps them.
   */
  chatCompletionRetentionDays?: number;
  /** What a committed row survives (see OpenDatabaseOptions). Default crash. */
  durability?: "crash" | "power";
  /** How long a logged row may wait before its batch is committed. Default 100 ms (one fsync per batch). */
  flushIntervalMs?: number;
  /** A batch this large is committed at once, without waiting for the interval. Default 500. */
  maxBatch?: number;
  /**
   * Rows kept in memory while writes fail (disk full); past this, the oldest are dropped and counted.
   * Default 20000.
   */
  maxPending?: number;
  /**
   * A file up to this size is checked whole at open (`PRAGMA quick_check`); a larger one has its
   * egress audit, keys and usage checked (see checkDatabase in open-database.ts). Default 128 MiB.
   */
  checkMaxBytes?: number;
  /**
   * How often the checkpoint thread of a BackgroundStore copies committed pages from the write-ahead
   * log into the database file (see Checkpointer), in ms. Default 1000.
   */
  checkpointIntervalMs?: number;
  /** How often prune() runs by itself, in ms; 0 for never (it also runs once at open). Default 6 hours. */
  pruneIntervalMs?: number;
  /** Where write failures, recoveries and dropped rows are reported. Default: one line each on stderr. */
  report?: (event: StoreEvent) => void;
}

/** Something the server operator should hear about; the store goes on working after each of them. */
export type StoreEvent =
  | { type: "write_failed"; error: StoreError; pending: number; retryInMs: number }
  | { type: "write_resumed"; written: number; failedForMs: number }
  | { type: "rows_dropped"; count: number; reason: string }
  /** An audit journal file a crash left could not be replayed whole (see audit-journal.ts). */
  | { type: "journal_unreadable"; file: string; reason: string }
  /** The checkpoint thread could not start or stopped: the store's own connection checkpoints again. */
  | { type: "checkpointer_gone"; reason: string }
  /** A checkpoint of the write-ahead log failed (the checkpoint thread tries again at its next turn). */
  | { type: "checkpoint_failed"; reason: string };

/** How the store's writing is going: for /v1/status and tests. */
export interface StoreHealth {
  file: string;
  /** Rows queued and not yet committed. */
  pending: number;
  /** Rows committed since open. */
  committed: number;
  /** Flushes that failed since open. */
  writeErrors: number;
  /** Rows given up on (queue overflow during a long outage, a row SQLite refused, use after close). */
  dropped: number;
  /** The last write failure, until writes succeed again. */
  lastError: StoreError | undefined;
  /** Time the last successful flush held the event loop, and the longest since open. */
  lastFlushMs: number;
  maxFlushMs: number;
  /** The log is checkpointed by the checkpoint thread (see Checkpointer), not by this connection's commits. */
  checkpointThread: boolean;
}

export interface FlushResult {
  ok: boolean;
  /** Rows committed by this flush. */
  written: number;
  error?: StoreError;
}

/** The StateTables methods a BackgroundStore may call on the store's thread. */
export type StateMethod = Exclude<keyof StateTables, "prune">;

/** The MemoryTables methods a BackgroundStore may call on the store's thread. */
export type MemoryMethod = keyof MemoryTables;
/** The FileTables methods a BackgroundStore may call on the store's thread. */
export type FileMethod = Exclude<keyof FileTables, "prune">;
/** The ChatCompletionTables methods a BackgroundStore may call on the store's thread. */
export type ChatCompletionMethod = Exclude<keyof ChatCompletionTables, "prune">;

/** The VectorStoreTables methods a BackgroundStore may call on the store's thread. */
export type VectorStoreMethod = keyof VectorStoreTables;

/** The BatchTables methods a BackgroundStore may call on the store's thread. */
export type BatchMethod = keyof BatchTables;

type PendingRow =
  | { kind: "request"; values: RequestValues }
  /** `token`: the number the server answered for a journaled row (see recordJournaledEgress). */
  | { kind: "egress"; values: EgressValues; token?: number }
  | { kind: "usage"; values: UsageValues }
  | { kind: "not_sent"; values: [number] }
  | { kind: "not_sent_token"; token: number }
  /** An audit journal file whose rows are all queued before this: marked done with them, then deleted. */
  | { kind: "journal_done"; file: string }
  /** A journal file in use whose first `records` records are queued before this: their count is marked with them. */
  | { kind: "journal_through"; file: string; records: number }
  /** A deleted journal file's done mark, no longer needed. */
  | { kind: "journal_forget"; name: string };

const DAY_MS = 86_400_000;
/** SQLite's own threshold for an automatic checkpoint. */
const DEFAULT_AUTO_CHECKPOINT_PAGES = 1000;
/** Journaled rows whose token a not-sent mark may still name (a mark comes within a connect timeout). */
const MAX_TOKENS = 100_000;
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 10_000;

/**
 * Opens the encrypted store in `<dataDir>/tandem.db` (creating it on first use), migrating an older
 * schema. Throws StoreError when the key does not match, the file is damaged, or it comes from a newer
 * tandem; the file is then left untouched.
 */
export function openStore(options: StoreOptions): Store {
  return new Store(options);
}

/**
 * The encrypted SQLite store: request log, egress audit, usage, and `store:` secrets.
 *
 * better-sqlite3 is synchronous, so logging never writes on the caller's turn: rows are queued and
 * committed in one transaction per batch, every flushIntervalMs (or at once past maxBatch). One commit
 * per batch is what keeps the per-row cost in microseconds with synchronous=FULL.
 *
 * Logging never throws. When a commit fails (disk full, I/O error), the batch stays queued, the failure
 * is reported once and counted, and the commit is retried with backoff until it succeeds: no row that
 * was queued is lost while the queue has room, and no committed row is ever lost.
 */
export class Store {
  readonly file: string;
  readonly logContent: boolean;
  readonly retentionDays: number;
  readonly logRetentionDays: number;
  readonly stateRetentionDays: number | undefined;
  /** Stored responses and conversations (the encrypted StateStore's tables). */
  readonly state: StateTables;
  /** Memories (the encrypted MemoryStore's tables). */
  readonly memory: MemoryTables;
  /** The Files API's files (the encrypted FileStore's table). */
  readonly files: FileTables;
  /** Stored chat completions (the encrypted ChatCompletionStore's table). */
  readonly chatCompletions: ChatCompletionTables;
  readonly chatCompletionRetentionDays: number;
  /** Vector stores, their files and chunks (the encrypted VectorStoreStore's tables). */
  readonly vectorStores: VectorStoreTables;
  /** Batches and their lines (the encrypted BatchStore's tables). */
  readonly batches: BatchTables;
  readonly #db: Sqlite.Database;
  readonly #flushIntervalMs: number;
  readonly #maxBatch: number;
  readonly #maxPending: number;
  readonly #report: (event: StoreEvent) => void;
  readonly #insert: LogInserts;
  #pending: PendingRow[] = [];
  #timer: NodeJS.Timeout | undefined;
  #pruneTimer: NodeJS.Timeout | undefined;
  #retryMs = 0;
  /** Failed commits in a row: the write retries back off exponentially. */
  #failures = 0;
  readonly #pruneEveryMs: number;
  #failingSince: number | undefined;
  #closed = false;
  #checkpointElsewhere = false;
  #health = { committed: 0, writeErrors: 0, dropped: 0, lastFlushMs: 0, maxFlushMs: 0 };
  #lastError: StoreError | undefined;
  /** Row ids of recently committed journaled rows, by the token the server answered for them. */
  readonly #tokens = new Map<number, number>();

  constructor(options: StoreOptions) {
    this.file = join(options.dataDir, DATABASE_FILE);
    this.logContent = options.logContent ?? false;
    this.retentionDays = positive(options.retentionDays ?? 7, "retentionDays");
    this.logRetentionDays = positive(options.logRetentionDays ?? 365, "logRetentionDays");
    this.stateRetentionDays =
      options.stateRetentionDays === undefined ? undefined : positive(options.stateRetentionDays, "stateRetentionDays");
    this.chatCompletionRetentionDays = positive(options.chatCompletionRetentionDays ?? 30, "chatCompletionRetentionDays");
    this.#flushIntervalMs = Math.max(0, options.flushIntervalMs ?? 100);
    this.#maxBatch = Math.max(1, options.maxBatch ?? 500);
    this.#maxPending = Math.max(this.#maxBatch, options.maxPending ?? 20_000);
    this.#report = options.report ?? reportToStderr;
    this.#pruneEveryMs = Math.max(0, options.pruneIntervalMs ?? 6 * 3_600_000);
    const key = Buffer.isBuffer(options.key) ? options.key : options.key.key;
    const keySource = Buffer.isBuffer(options.key) ? undefined : options.key.where;
    this.#db = openEncryptedDatabase(this.file, key, {
      keySource,
      ...(options.checkMaxBytes !== undefined && { checkMaxBytes: options.checkMaxBytes }),
      ...(options.durability !== undefined && { durability: options.durability }),
    });
    try {
      this.#insert = prepareLogInserts(this.#db);
      this.state = new StateTables(this.#db);
      this.memory = new MemoryTables(this.#db);
      this.files = new FileTables(this.#db);
      this.chatCompletions = new ChatCompletionTables(this.#db);
      this.vectorStores = new VectorStoreTables(this.#db);
      this.batches = new BatchTables(this.#db);
    } catch (err) {
      this.#db.close();
      throw storeErrorFrom(err, this.file, "prepare statements for");
    }
    this.#replayJournals(options.dataDir, key);
    this.#pruneQuietly();
    if (this.#pruneEveryMs > 0) {
      this.#pruneTimer = setInterval(() => this.#pruneQuietly(), this.#pruneEveryMs);
      this.#pruneTimer.unref();
    }
  }

  /** Queues one request's log row. Never throws; content is dropped unless logContent is on. */
  logRequest(entry: RequestLogEntry): void {
    const content = this.logContent ? entry.content : undefined;
    this.#enqueue({ kind: "request", values: requestValues(entry, content) });
  }

  /**
   * Queues one egress audit row: the digest and size of what was sent, never the bytes themselves.
   * Write-behind, like the request log: for bodies recorded after the fact. A server records a body
   * before sending it, with commitEgress.
   */
  recordEgress(record: EgressRecord): void {
    const values = egressValues(record);
    if (values === undefined) {
      this.#drop(1, "recordEgress: sha256 must be 64 lowercase hex digits");
      return;
    }
    this.#enqueue({ kind: "egress", values });
  }

  /**
   * Commits egress audit rows now, in a transaction of their own, and returns their ids in order. The
   * rows are on disk when this returns: a server calls it before any byte of the bodies leaves, so
   * its time is every cloud request's. Queued log and usage rows do not ride along: each would add
   * its own encrypted pages to this commit (about 0.15 ms a request at p50, and much of its p99),
   * and they wait for their own flush, which costs nothing on a request's path. Throws a StoreError
   * when the rows cannot be committed (disk full, I/O error, closed); then none of them is.
   */
  commitEgress(records: readonly EgressRecord[]): number[] {
    this.#assertOpen();
    const rows = records.map((record) => {
      const values = egressValues(record);
      if (values === undefined) throw new StoreError("sqlite", "commitEgress: sha256 must be 64 lowercase hex digits");
      return values;
    });
    let ids: number[];
    try {
      ids = this.#db.transaction(() => rows.map((values) => Number(this.#insert.egress.run(...values).lastInsertRowid)))();
    } catch (err) {
      throw this.#auditFailed(err);
    }
    // Counted only: whether the queued rows' writes are failing is for their own flush to say.
    this.#health.committed += rows.length;
    return ids;
  }

  /**
   * Queues an egress audit row a server has already put in its audit journal (see audit-journal.ts),
   * as the values it journaled (checked there), under the token it answered for it, which a later
   * markJournaledEgressNotSent names.
   */
  recordJournaledEgress(values: EgressValues, token: number): void {
    this.#enqueue({ kind: "egress", values, token });
  }

  /**
   * Audit journal files whose rows were all queued before this call (`sealed`): each is marked done in
   * the transaction that commits them, and deleted once that commit succeeded. `through`: the file
   * still in use, and how many of its records were queued before this call, marked in the same way.
   */
  journalsHandedOver(sealed: readonly string[], through?: { file: string; records: number }): void {
    for (const file of sealed) this.#enqueue({ kind: "journal_done", file });
    if (through) this.#enqueue({ kind: "journal_through", file: through.file, records: through.records });
  }

  /** Queues the mark that an audited body was not sent after all (see EgressAuditRow.sent). */
  markEgressNotSent(id: number): void {
    this.#enqueue({ kind: "not_sent", values: [Math.trunc(id)] });
  }

  /** The same, for a journaled row, by its token (a row a crash left to replay has none: no mark). */
  markJournaledEgressNotSent(token: number): void {
    this.#enqueue({ kind: "not_sent_token", token });
  }

  /** Queues usage to add to the target's total for the (UTC) day. */
  addUsage(entry: UsageEntry): void {
    this.#enqueue({ kind: "usage", values: usageValues(entry) });
  }

  /**
   * Commits everything queued now, in one transaction. Never throws: a failure is returned (and
   * reported, counted, and retried later) with the rows kept queued.
   */
  flush(): FlushResult {
    this.#clearTimer();
    if (this.#pending.length === 0) return { ok: true, written: 0 };
    if (this.#closed) return { ok: false, written: 0, error: this.#closedError() };
    const batch = this.#pending;
    const started = performance.now();
    try {
      this.#writeBatch(batch);
    } catch (err) {
      const error = storeErrorFrom(err, this.file, "write to");
      if (!error.transient) return this.#isolateRejected(batch, error);
      this.#failed(error);
      return { ok: false, written: 0, error };
    }
    const took = performance.now() - started;
    this.#pending = [];
    this.#committed(batch.length, took);
    for (const row of batch) this.#afterCommit(row);
    return { ok: true, written: batch.length };
  }

  /** Newest egress audit rows first. Queued rows are flushed first, so the caller sees its own writes. */
  queryAudit(query: AuditQuery = {}): EgressAuditRow[] {
    this.flush();
    return this.#sql(() => selectAudit(this.#db, query), "read the egress audit of");
  }

  /** Newest request log rows first (queued rows are flushed first). */
  queryRequests(query: { since?: Date | number; limit?: number } = {}): RequestLogRow[] {
    this.flush();
    return this.#sql(() => selectRequests(this.#db, query), "read the request log of");
  }

  /** Usage per target per day, newest day first (queued rows are flushed first). */
  queryUsage(query: { since?: Date | number } = {}): UsageRow[] {
    this.flush();
    return this.#sql(() => selectUsage(this.#db, query), "read the usage of");
  }

  /**
   * Clears logged content older than retentionDays and deletes log and audit rows older than
   * logRetentionDays. Runs at open and every pruneIntervalMs; call it after changing nothing else.
   */
  prune(now: number = Date.now()): PruneResult {
    this.#assertOpen();
    try {
      return pruneLogs(this.#db, now - this.retentionDays * DAY_MS, now - this.logRetentionDays * DAY_MS);
    } catch (err) {
      throw storeErrorFrom(err, this.file, "prune");
    }
  }

  /**
   * Deletes stored responses and conversations older than stateRetentionDays (nothing when it is
   * unset). Runs with prune(), at open and every pruneIntervalMs.
   */
  pruneState(now: number = Date.now()): StatePruneResult {
    this.#assertOpen();
    if (this.stateRetentionDays === undefined) return { responsesDeleted: 0, conversationsDeleted: 0 };
    try {
      return this.state.prune(this.stateRetentionDays, now);
    } catch (err) {
      throw storeErrorFrom(err, this.file, "prune");
    }
  }

  /** Runs one StateTables method on this store's connection, turning SQLite's errors into StoreErrors. */
  stateCall<M extends StateMethod>(method: M, args: Parameters<StateTables[M]>): ReturnType<StateTables[M]> {
    return this.#sql(
      () => (this.state[method] as (...a: unknown[]) => ReturnType<StateTables[M]>).apply(this.state, args),
      "use the stored responses and conversations in",
    );
  }

  /** Runs one MemoryTables method on this store's connection, turning SQLite's errors into StoreErrors. */
  memoryCall<M extends MemoryMethod>(method: M, args: Parameters<MemoryTables[M]>): ReturnType<MemoryTables[M]> {
    return this.#sql(
      () => (this.memory[method] as (...a: unknown[]) => ReturnType<MemoryTables[M]>).apply(this.memory, args),
      "use the memories in",
    );
  }

  /** Runs one FileTables method on this store's connection, turning SQLite's errors into StoreErrors. */
  fileCall<M extends FileMethod>(method: M, args: Parameters<FileTables[M]>): ReturnType<FileTables[M]> {
    return this.#sql(
      () => (this.files[method] as (...a: unknown[]) => ReturnType<FileTables[M]>).apply(this.files, args),
      "use the stored files in",
    );
  }

  /** Runs one ChatCompletionTables method on this store's connection, turning SQLite's errors into StoreErrors. */
  chatCompletionCall<M extends ChatCompletionMethod>(
    method: M,
    args: Parameters<ChatCompletionTables[M]>,
  ): ReturnType<ChatCompletionTables[M]> {
    return this.#sql(
      () =>
        (this.chatCompletions[method] as (...a: unknown[]) => ReturnType<ChatCompletionTables[M]>).apply(
          this.chatCompletions,
          args,
        ),
      "use the stored chat completions in",
    );
  }

  /** Runs one VectorStoreTables method on this store's connection, turning SQLite's errors into StoreErrors. */
  vectorStoreCall<M extends VectorStoreMethod>(
    method: M,
    args: Parameters<VectorStoreTables[M]>,
  ): ReturnType<VectorStoreTables[M]> {
    return this.#sql(
      () => (this.vectorStores[method] as (...a: unknown[]) => ReturnType<VectorStoreTables[M]>).apply(this.vectorStores, args),
      "use the vector stores in",
    );
  }

  /** Runs one BatchTables method on this store's connection, turning SQLite's errors into StoreErrors. */
  batchCall<M extends BatchMethod>(method: M, args: Parameters<BatchTables[M]>): ReturnType<BatchTables[M]> {
    return this.#sql(
      () => (this.batches[method] as (...a: unknown[]) => ReturnType<BatchTables[M]>).apply(this.batches, args),
      "use the batches in",
    );
  }

  /** The secret stored under the name (for `store:NAME`), read afresh each time. */
  getSecret(name: string): string | undefined {
    return this.#sql(() => readSecret(this.#db, name), "read a secret from");
  }

  /** Stores or replaces a secret; committed (and synced) before this returns. */
  setSecret(name: string, value: string): void {
    this.#sql(() => writeSecret(this.#db, name, value), "store a secret in");
  }

  /** Removes a secret; false when there was none. */
  deleteSecret(name: string): boolean {
    return this.#sql(() => removeSecret(this.#db, name), "remove a secret from");
  }

  /** The secrets' names and dates, by name; never their values. */
  listSecrets(): SecretInfo[] {
    return this.#sql(() => secretNames(this.#db), "list the secrets in");
  }

  health(): StoreHealth {
    return {
      file: this.file,
      pending: this.#pending.length,
      ...this.#health,
      lastError: this.#lastError,
      checkpointThread: this.#checkpointElsewhere,
    };
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Whether the write-ahead log is checkpointed by another connection (a Checkpointer's): if so, this
   * connection's automatic checkpoint (on the commit that takes the log past 1000 pages) is off, so
   * that no commit here waits for a checkpoint's fsyncs; if not, it is on, SQLite's default.
   */
  checkpointElsewhere(elsewhere: boolean): void {
    if (this.#closed) return;
    this.#checkpointElsewhere = elsewhere;
    this.#db.pragma(`wal_autocheckpoint = ${elsewhere ? 0 : DEFAULT_AUTO_CHECKPOINT_PAGES}`);
  }

  /** Reports something about the store from the thread that owns it (see StoreEvent). */
  report(event: StoreEvent): void {
    this.#report(event);
  }

  /**
   * Commits what is queued and closes the file. Rows that cannot be committed now (disk full) are
   * reported as dropped: there is nowhere left to keep them.
   */
  close(): FlushResult {
    if (this.#closed) return { ok: true, written: 0 };
    let result = this.flush();
    // A commit of journal files' done marks queues their removal: in, before the file closes.
    if (result.ok && this.#pending.length > 0) result = this.flush();
    if (!result.ok && this.#pending.length > 0)
      this.#drop(this.#pending.length, `the store closed while writes were failing (${result.error?.message})`);
    this.#pending = [];
    this.#clearTimer();
    if (this.#pruneTimer) clearInterval(this.#pruneTimer);
    this.#closed = true;
    this.#db.close();
    return result;
  }

  /** Pruning on a timer (or at open on a full disk) must not throw into nowhere: report and try next time. */
  #pruneQuietly(): void {
    try {
      this.prune();
      this.pruneState();
      // Expired files' bytes go even when no one uses the Files API for a while.
      this.files.prune(Math.floor(Date.now() / 1000));
      this.chatCompletions.prune(Math.floor(Date.now() / 1000) - this.chatCompletionRetentionDays * 86_400);
    } catch (err) {
      const error = storeErrorFrom(err, this.file, "prune");
      this.#health.writeErrors += 1;
      this.#report({ type: "write_failed", error, pending: this.#pending.length, retryInMs: this.#pruneEveryMs });
    }
  }

  #enqueue(row: PendingRow): void {
    if (this.#closed) {
      this.#drop(1, this.#closedError().message);
      return;
    }
    this.#pending.push(row);
    if (this.#pending.length > this.#maxPending) {
      const over = this.#pending.length - this.#maxPending;
      this.#pending.splice(0, over);
      this.#drop(over, `more than ${this.#maxPending} rows were waiting while writes failed; the oldest were dropped`);
    }
    if (this.#failingSince !== undefined) return; // the retry timer is already set
    if (this.#pending.length >= this.#maxBatch) this.#schedule(0);
    else if (!this.#timer) this.#schedule(this.#flushIntervalMs);
  }

  #schedule(ms: number, unref = false): void {
    this.#clearTimer();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.flush();
    }, ms);
    // A retry after a failure must not keep a finished process alive forever; a normal flush must
    // run before the process exits, so that one keeps it alive for its few ms.
    if (unref) this.#timer.unref();
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #writeBatch(batch: readonly PendingRow[]): void {
    this.#db.transaction(() => this.#writeRows(batch))();
  }

  /** Writes queued rows inside the caller's transaction. */
  #writeRows(batch: readonly PendingRow[]): void {
    const insert = this.#insert;
    for (const row of batch) {
      switch (row.kind) {
        case "request":
          insert.request.run(...row.values);
          break;
        case "egress": {
          const id = Number(insert.egress.run(...row.values).lastInsertRowid);
          if (row.token !== undefined) this.#remember(row.token, id);
          break;
        }
        case "usage":
          insert.usage.run(...row.values);
          break;
        case "not_sent":
          insert.notSent.run(...row.values);
          break;
        case "not_sent_token": {
          const id = this.#tokens.get(row.token);
          if (id !== undefined) insert.notSent.run(id);
          break;
        }
        case "journal_done":
          insert.journalDone.run(basename(row.file));
          break;
        case "journal_through":
          insert.journalThrough.run(basename(row.file), row.records);
          break;
        case "journal_forget":
          insert.journalForget.run(row.name);
          break;
      }
    }
  }

  /** After the commit of a journal file's done mark: the file goes, then (in a later batch) the mark. */
  #afterCommit(row: PendingRow): void {
    if (row.kind !== "journal_done") return;
    removeJournal(row.file);
    this.#enqueue({ kind: "journal_forget", name: basename(row.file) });
  }

  #remember(token: number, id: number): void {
    this.#tokens.set(token, id);
    if (this.#tokens.size > MAX_TOKENS) this.#tokens.delete(this.#tokens.keys().next().value as number);
  }

  /**
   * Commits the rows of audit journal files a crashed server left (see audit-journal.ts), each file in
   * one transaction with its done mark, but for those its mark says are in already; then deletes them.
   * A failure leaves a file for the next open and is reported: it never stops the store from opening.
   */
  #replayJournals(dataDir: string, key: Buffer): void {
    for (const file of leftJournals(dataDir)) {
      const name = basename(file);
      let journal: LeftJournal;
      try {
        journal = readJournal(file, key);
      } catch (err) {
        this.#report({ type: "journal_unreadable", file, reason: (err as Error).message });
        continue;
      }
      try {
        // IMMEDIATE: the write lock first, so two processes opening the store at once (a restarted
        // server and `tandem audit`) cannot both find the file not done and both replay it.
        this.#db
          .transaction(() => {
            const mark = this.#insert.journalMark.get(name);
            if (mark !== undefined && mark.records === null) return;
            // A file its writer handed over in part: the first `records` records are in already.
            const from = mark?.records ?? 0;
            journal.rows.forEach((values, i) => {
              if ((journal.indexes[i] as number) >= from) this.#insert.egress.run(...values);
            });
            this.#insert.journalDone.run(name);
          })
          .immediate();
      } catch (err) {
        this.#report({ type: "journal_unreadable", file, reason: storeErrorFrom(err, this.file, "replay into").message });
        continue;
      }
      const problem = journalProblem(journal);
      if (problem !== undefined) this.#report({ type: "journal_unreadable", file, reason: problem });
      if (journal.damagedRecords === 0) {
        removeJournal(file);
        continue;
      }
      // Its damaged records are rows that may stand for bodies that left, and the file is the only
      // evidence of them: it is kept, under a name the next open does not replay.
      try {
        keepDamagedJournal(file);
      } catch (err) {
        this.#report({ type: "journal_unreadable", file, reason: `it could not be set aside: ${(err as Error).message}` });
      }
    }
    // Marks whose files are gone (a crash between a removal and its mark's): nothing left to skip.
    try {
      const names = new Set(journalNames(dataDir));
      for (const { file } of this.#db.prepare("SELECT file FROM audit_journal_done").all() as { file: string }[]) {
        if (!names.has(file)) this.#insert.journalForget.run(file);
      }
    } catch {
      // They cost nothing where they are; the next open tries again.
    }
  }

  /** An audit commit failed: counted and reported like any failed write; the caller refuses to send. */
  #auditFailed(err: unknown): StoreError {
    const error = storeErrorFrom(err, this.file, "write the egress audit to");
    this.#health.writeErrors += 1;
    this.#lastError = error;
    return error;
  }

  #committed(rows: number, took: number): void {
    this.#health.committed += rows;
    this.#health.lastFlushMs = took;
    this.#health.maxFlushMs = Math.max(this.#health.maxFlushMs, took);
    if (this.#failingSince !== undefined) {
      this.#report({ type: "write_resumed", written: rows, failedForMs: Date.now() - this.#failingSince });
    }
    this.#failingSince = undefined;
    this.#retryMs = 0;
    this.#failures = 0;
    this.#lastError = undefined;
  }

  /** A transient failure: keep the rows, report the first failure of an outage, retry with backoff. */
  #failed(error: StoreError): void {
    this.#health.writeErrors += 1;
    this.#lastError = error;
    this.#retryMs = backoffDelayMs(this.#failures++, { baseMs: RETRY_MIN_MS, maxMs: RETRY_MAX_MS });
    if (this.#failingSince === undefined) {
      this.#failingSince = Date.now();
      this.#report({ type: "write_failed", error, pending: this.#pending.length, retryInMs: this.#retryMs });
    }
    this.#schedule(this.#retryMs, true);
  }

  /** SQLite refused the batch for a reason retrying will not fix: write row by row, drop the ones it refuses. */
  #isolateRejected(batch: PendingRow[], error: StoreError): FlushResult {
    this.#health.writeErrors += 1;
    let written = 0;
    let rejected = 0;
    const done: PendingRow[] = [];
    for (const row of batch) {
      try {
        this.#writeBatch([row]);
        written += 1;
        done.push(row);
      } catch (err) {
        const again = storeErrorFrom(err, this.file, "write to");
        if (again.transient) {
          // The disk filled up meanwhile: keep this row and the rest for the retry.
          this.#pending = batch.slice(written + rejected);
          for (const row of done) this.#afterCommit(row);
          this.#failed(again);
          return { ok: false, written, error: again };
        }
        rejected += 1;
      }
    }
    this.#pending = [];
    for (const row of done) this.#afterCommit(row);
    this.#health.committed += written;
    if (rejected > 0) this.#drop(rejected, error.message);
    return { ok: rejected === 0, written, error };
  }

  #drop(count: number, reason: string): void {
    this.#health.dropped += count;
    this.#report({ type: "rows_dropped", count, reason });
  }

  /** Runs a read or an immediate (unqueued) write, turning SQLite's errors into StoreErrors. */
  #sql<T>(fn: () => T, doing: string): T {
    this.#assertOpen();
    try {
      return fn();
    } catch (err) {
      throw storeErrorFrom(err, this.file, doing);
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw this.#closedError();
  }

  #closedError(): StoreError {
    return new StoreError("closed", `the store ${this.file} is closed`, { file: this.file });
  }
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number of days, got ${value}`);
  return value;
}

function reportToStderr(event: StoreEvent): void {
  switch (event.type) {
    case "write_failed":
      process.stderr.write(
        `tandem: store: ${event.error.message}; ${event.pending} rows wait in memory and are retried (next in ${event.retryInMs} ms)\n`,
      );
      break;
    case "write_resumed":
      process.stderr.write(
        `tandem: store: writes resumed after ${Math.round(event.failedForMs / 1000)} s; ${event.written} waiting rows written\n`,
      );
      break;
    case "rows_dropped":
      process.stderr.write(`tandem: store: ${event.count} rows dropped: ${event.reason}\n`);
      break;
    case "journal_unreadable":
      process.stderr.write(`tandem: store: audit journal ${event.file}: ${event.reason}\n`);
      break;
    case "checkpointer_gone":
      process.stderr.write(
        `tandem: store: the checkpoint thread stopped (${event.reason}); the store's thread checkpoints its log again\n`,
      );
      break;
    case "checkpoint_failed":
      process.stderr.write(`tandem: store: a checkpoint of the write-ahead log failed (${event.reason}); retried\n`);
      break;
  }
}

/** What a replayed journal file held that is not in the store now, in words; undefined when nothing. */
function journalProblem(journal: LeftJournal): string | undefined {
  const parts: string[] = [];
  if (journal.damagedRecords > 0) {
    const records = journal.damagedRecords === 1 ? "1 record" : `${journal.damagedRecords} records`;
    parts.push(
      `${records} could not be authenticated (the file was damaged or altered after it was written, which a crash does not do) and ${journal.damagedRecords === 1 ? "was" : "were"} left out: an audit row each that may stand for a body sent to a cloud target`,
    );
  }
  if (journal.tornBytes > 0) {
    parts.push(
      `its last ${journal.tornBytes} bytes are not a whole record (a write cut short by a crash or a full disk) and were left out`,
    );
  }
  if (parts.length === 0) return undefined;
  const kept = `the other ${journal.rows.length} row${journal.rows.length === 1 ? " was" : "s were"} committed`;
  const where =
    journal.damagedRecords > 0
      ? `; the file is kept as ${basename(journal.file)}${DAMAGED_JOURNAL_SUFFIX} for you to inspect`
      : "";
  return `${parts.join("; ")}; ${kept}${where}`;
}
