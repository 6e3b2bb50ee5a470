import { hash } from "node:crypto";
import { join } from "node:path";
import type { Worker } from "node:worker_threads";
import { AuditJournal } from "./audit-journal.js";
import type { BatchTables } from "./batch-tables.js";
import type { ChatCompletionTables } from "./chat-completion-tables.js";
import { DATABASE_FILE, type DatabaseKey, resolveDatabaseKey } from "./database-key.js";
import type { FileTables } from "./file-tables.js";
import { egressValues } from "./log-tables.js";
import type { MemoryTables } from "./memory-tables.js";
import type { OpenDataStoreOptions } from "./open-data-store.js";
import type {
  AuditQuery,
  EgressAuditRow,
  EgressRecord,
  RequestLogEntry,
  RequestLogRow,
  UsageEntry,
  UsageRow,
} from "./records.js";
import { startStoreWorker } from "./start-worker.js";
import type { StateTables } from "./state-tables.js";
import type {
  BatchMethod,
  ChatCompletionMethod,
  FileMethod,
  FlushResult,
  MemoryMethod,
  StateMethod,
  StoreHealth,
  StoreOptions,
  VectorStoreMethod,
} from "./store.js";
import { StoreError, type StoreErrorCode } from "./store-error.js";
import {
  movableBuffer,
  type QueuedRow,
  type StoreThreadReply,
  type StoreThreadRequest,
  type StoreThreadStart,
} from "./store-protocol.js";
import type { VectorStoreTables } from "./vector-store-tables.js";

/**
 * How long logged rows wait on this thread before they go to the store's thread, in one message; the
 * store's thread then commits within STORE_FLUSH_MS. Together (50 ms, plus the commit itself) they
 * bound what a crash (kill -9, power cut) can lose of the request log and usage: the rows of about the
 * last 100 ms. The egress audit is not in this queue: its rows are committed before the bodies leave.
 */
const HAND_OVER_MS = 20;
const STORE_FLUSH_MS = 30;
const DAY_MS = 86_400_000;

/** One target's usage on one day, summed until the next hand-over. */
type UsageSum = Required<Omit<UsageEntry, "costUsd" | "time">> & { time: number; costUsd?: number };
type HashedEgress = Extract<EgressRecord, { sha256: string }>;

/**
 * The encrypted store for a running server, on a worker thread of its own: better-sqlite3 is
 * synchronous, and a commit (SQLCipher encryption, an fsync) would otherwise hold up every stream
 * the server is relaying. Logging here only queues: rows go over in one message every few
 * milliseconds, and the thread commits them in batches (see Store). Egress bodies are hashed here,
 * so only their digest crosses over. Queries and flush are asynchronous.
 *
 * The egress audit is the exception: auditEgress resolves only once the row is on disk, and a server
 * sends a body to a cloud target only then. With `durability: crash` (the default) the row is appended
 * to the audit journal on this thread (AuditJournal: one encrypted write(2), about 0.01 ms, what a
 * commit without fsync promises too) and committed on the store's thread with the next batch. With
 * `durability: power` every audit is a commit with an fsync on the store's thread: audits that arrive
 * while one is under way wait for the next one, together (one fsync per batch, however many requests).
 */
export class BackgroundStore {
  readonly logContent: boolean;
  readonly file: string;
  readonly #worker: Worker;
  #queue: QueuedRow[] = [];
  /** Usage waiting for the next hand-over, summed per target and UTC day (one row each, not one per request). */
  #usage = new Map<string, UsageSum>();
  #timer: NodeJS.Timeout | undefined;
  #nextId = 1;
  readonly #waiting = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>();
  #closed: Promise<FlushResult> | undefined;
  #exited = false;
  /** Audits waiting for the next commit, and whether one is under way (group commit). */
  #audits: { record: HashedEgress; resolve: (id: number) => void; reject: (err: Error) => void }[] = [];
  #auditing = false;
  /** Where audit rows go before a body leaves, unless every commit is an fsync (see AuditJournal). */
  readonly #journal: AuditJournal | undefined;
  /** The number auditEgress answers for the next journaled row (markEgressNotSent names it). */
  #nextToken = 1;

  private constructor(worker: Worker, logContent: boolean, file: string, journal: AuditJournal | undefined) {
    this.#worker = worker;
    this.#journal = journal;
    this.logContent = logContent;
    this.file = file;
    worker.on("message", (message: StoreThreadReply) => {
      if (message.op !== "reply") return;
      const waiting = this.#waiting.get(message.id);
      this.#waiting.delete(message.id);
      if (this.#waiting.size === 0) worker.unref();
      if (message.error) waiting?.reject(toStoreError(message.error));
      else waiting?.resolve(message.value);
    });
    worker.on("exit", () => {
      this.#exited = true;
      for (const w of this.#waiting.values()) w.reject(new StoreError("closed", "the store's thread has stopped"));
      this.#waiting.clear();
    });
    // An idle store thread does not keep the process alive (the server closes it on the way out).
    worker.unref();
  }

  /** Finds the database key (see resolveDatabaseKey) and opens `<dataDir>/tandem.db` on a thread of its own. */
  static async open(options: OpenDataStoreOptions): Promise<BackgroundStore> {
    const key = await resolveDatabaseKey(options);
    return BackgroundStore.openWithKey({ ...options, key });
  }

  /** Opens the store with a key in hand. Throws StoreError (wrong key, damaged file) as Store does. */
  static async openWithKey(options: Omit<StoreOptions, "report"> & { key: Buffer | DatabaseKey }): Promise<BackgroundStore> {
    const { key, ...rest } = options;
    const start: StoreThreadStart = {
      options: { ...rest, flushIntervalMs: rest.flushIntervalMs ?? STORE_FLUSH_MS },
      key: Buffer.isBuffer(key) ? { key, source: "env", where: "the given key", created: false } : key,
    };
    const worker = startStoreWorker("store-thread", start);
    const opened = await new Promise<StoreThreadReply>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
      worker.once("exit", (code) => reject(new StoreError("io", `the store's thread stopped while opening (exit code ${code})`)));
    });
    if (opened.op === "failed") {
      await worker.terminate();
      throw toStoreError(opened.error);
    }
    const file = join(options.dataDir, DATABASE_FILE);
    // With an fsync per commit (durability: power), a row is on disk only once committed: the store's
    // thread commits each, in groups.
    let journal: AuditJournal | undefined;
    if (rest.durability !== "power") {
      try {
        journal = new AuditJournal(options.dataDir, start.key.key);
      } catch (err) {
        await worker.terminate();
        throw new StoreError("io", `cannot create the egress audit journal in ${options.dataDir}: ${(err as Error).message}`, {
          file,
          cause: err,
        });
      }
    }
    return new BackgroundStore(worker, options.logContent ?? false, file, journal);
  }

  logRequest(entry: RequestLogEntry): void {
    // Stamped now, not when the store's thread gets to it.
    this.#push({ kind: "request", entry: entry.time === undefined ? { ...entry, time: Date.now() } : entry });
  }

  /**
   * Records bytes that left the machine, write-behind (like the request log): hashed here, the digest
   * queued (never the bytes). For bodies about to be sent, use auditEgress.
   */
  recordEgress(record: EgressRecord): void {
    this.#push({ kind: "egress", record: hashed(record) });
  }

  /**
   * Commits the audit row of a body about to be sent and resolves with its id once it is on disk.
   * Rejects with a StoreError when it cannot be committed (disk full, I/O error, store closed): the
   * body must then not be sent.
   */
  auditEgress(record: EgressRecord): Promise<number> {
    if (this.#closed || this.#exited) return Promise.reject(new StoreError("closed", "the store is closed"));
    const row = hashed(record);
    if (this.#journal) {
      const values = egressValues(row);
      if (values === undefined)
        return Promise.reject(new StoreError("sqlite", "auditEgress: sha256 must be 64 lowercase hex digits"));
      try {
        this.#journal.append(values);
      } catch (err) {
        return Promise.reject(err);
      }
      const token = this.#nextToken++;
      this.#push({ kind: "journaled", values, token });
      return Promise.resolve(token);
    }
    return new Promise((resolve, reject) => {
      this.#audits.push({ record: row, resolve, reject });
      if (!this.#auditing) this.#commitAudits();
    });
  }

  /** Marks an audited body as not sent after all (its connection was never made); best-effort, write-behind. */
  markEgressNotSent(id: number): void {
    this.#push(this.#journal ? { kind: "not_sent_token", token: id } : { kind: "not_sent", id });
  }

  addUsage(entry: UsageEntry): void {
    if (this.#closed || this.#exited) return;
    const time = entry.time === undefined ? Date.now() : +entry.time;
    const key = `${Math.floor(time / DAY_MS)}\0${entry.target}`;
    let sum = this.#usage.get(key);
    if (sum === undefined) {
      sum = { target: entry.target, time, requests: 0, inputTokens: 0, outputTokens: 0 };
      this.#usage.set(key, sum);
    }
    sum.requests += entry.requests ?? 1;
    sum.inputTokens += entry.inputTokens ?? 0;
    sum.outputTokens += entry.outputTokens ?? 0;
    // No price known for any of them: no cost (the store keeps "unknown" apart from 0).
    if (entry.costUsd !== undefined) sum.costUsd = (sum.costUsd ?? 0) + entry.costUsd;
    this.#schedule();
  }

  /** Commits everything logged so far. */
  async flush(): Promise<FlushResult> {
    this.#handOver();
    return (await this.#ask({ op: "flush" })) as FlushResult;
  }

  async queryAudit(query: AuditQuery = {}): Promise<EgressAuditRow[]> {
    this.#handOver();
    return (await this.#ask({ op: "queryAudit", query })) as EgressAuditRow[];
  }

  async queryRequests(query: { since?: Date | number; limit?: number } = {}): Promise<RequestLogRow[]> {
    await this.flush();
    return (await this.#ask({ op: "queryRequests", query })) as RequestLogRow[];
  }

  async queryUsage(query: { since?: Date | number } = {}): Promise<UsageRow[]> {
    await this.flush();
    return (await this.#ask({ op: "queryUsage", query })) as UsageRow[];
  }

  /** A secret from the store's secrets table (`tandem keys set NAME --store`), for `store:NAME` key references. */
  async getSecret(name: string): Promise<string | undefined> {
    return (await this.#ask({ op: "getSecret", name })) as string | undefined;
  }

  /**
   * Calls a method of the stored responses and conversations on the store's thread. Resolves once
   * a write is committed; calls are answered in the order they were made, so a read made after a
   * write (even one not yet awaited) sees it.
   */
  async state<M extends StateMethod>(method: M, ...args: Parameters<StateTables[M]>): Promise<ReturnType<StateTables[M]>> {
    return (await this.#ask({ op: "state", method, args })) as ReturnType<StateTables[M]>;
  }

  /** Calls a method of the memories on the store's thread, as state() does for responses. */
  async memory<M extends MemoryMethod>(method: M, ...args: Parameters<MemoryTables[M]>): Promise<ReturnType<MemoryTables[M]>> {
    return (await this.#ask({ op: "memory", method, args })) as ReturnType<MemoryTables[M]>;
  }

  /**
   * Calls a method of the Files API's files on the store's thread, as state() does. A file's bytes
   * come back moved, not copied, when they fill their own buffer (see movableBuffer); they go by
   * saveFile.
   */
  async files<M extends Exclude<FileMethod, "saveFile">>(
    method: M,
    ...args: Parameters<FileTables[M]>
  ): Promise<ReturnType<FileTables[M]>> {
    return (await this.#ask({ op: "files", method, args })) as ReturnType<FileTables[M]>;
  }

  /**
   * Saves a new file on the store's thread; resolves once committed. Its bytes are moved to the
   * thread, not copied, when they fill their own buffer (see movableBuffer): `data` is then empty
   * afterwards, so the caller must not need it again.
   */
  async saveFile(...args: Parameters<FileTables["saveFile"]>): Promise<void> {
    const moved = movableBuffer(args[1]);
    await this.#ask({ op: "files", method: "saveFile", args }, moved && [moved]);
  }

  /** Calls a method of the stored chat completions on the store's thread, as state() does. */
  async chatCompletions<M extends ChatCompletionMethod>(
    method: M,
    ...args: Parameters<ChatCompletionTables[M]>
  ): Promise<ReturnType<ChatCompletionTables[M]>> {
    return (await this.#ask({ op: "chatCompletions", method, args })) as ReturnType<ChatCompletionTables[M]>;
  }

  /** Calls a method of the vector stores on the store's thread, as state() does. */
  async vectorStores<M extends VectorStoreMethod>(
    method: M,
    ...args: Parameters<VectorStoreTables[M]>
  ): Promise<ReturnType<VectorStoreTables[M]>> {
    return (await this.#ask({ op: "vectorStores", method, args })) as ReturnType<VectorStoreTables[M]>;
  }

  /** Calls a method of the batches on the store's thread, as state() does. */
  async batches<M extends BatchMethod>(method: M, ...args: Parameters<BatchTables[M]>): Promise<ReturnType<BatchTables[M]>> {
    return (await this.#ask({ op: "batches", method, args })) as ReturnType<BatchTables[M]>;
  }

  async health(): Promise<StoreHealth> {
    return (await this.#ask({ op: "health" })) as StoreHealth;
  }

  /** Commits what is queued, closes the database and stops the thread. Safe to call twice. */
  close(): Promise<FlushResult> {
    this.#closed ??= (async () => {
      // Its last file goes over with the last rows, to be committed and removed by the close.
      this.#journal?.close();
      this.#handOver();
      try {
        return (await this.#ask({ op: "close" })) as FlushResult;
      } catch (err) {
        return { ok: false, written: 0, error: err as StoreError };
      } finally {
        await this.#worker.terminate();
      }
    })();
    return this.#closed;
  }

  /** One commit for every audit waiting; those that arrive meanwhile go in the next. */
  #commitAudits(): void {
    const batch = this.#audits;
    this.#audits = [];
    this.#auditing = true;
    // Logged rows waiting for their hand-over stay for it: sent now they would cost this request a
    // message to the thread, and the commit the thread awaits would write them too (see Store.commitEgress).
    this.#ask({ op: "audit", records: batch.map((a) => a.record) }).then(
      (ids) => {
        const list = ids as number[];
        for (const [i, a] of batch.entries()) a.resolve(list[i] ?? 0);
        this.#nextAudits();
      },
      (err: Error) => {
        for (const a of batch) a.reject(err);
        this.#nextAudits();
      },
    );
  }

  #nextAudits(): void {
    this.#auditing = false;
    if (this.#audits.length > 0) this.#commitAudits();
  }

  #push(row: QueuedRow): void {
    if (this.#closed || this.#exited) return;
    this.#queue.push(row);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.#handOver(), HAND_OVER_MS);
      this.#timer.unref();
    }
  }

  #handOver(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const entry of this.#usage.values()) this.#queue.push({ kind: "usage", entry });
    this.#usage.clear();
    // Every journaled row since the last hand-over is in this queue: how far their files go goes over with them.
    const { sealed, through } = this.#journal?.handOver() ?? { sealed: [] };
    if ((this.#queue.length === 0 && sealed.length === 0) || this.#exited) return;
    const rows = this.#queue;
    this.#queue = [];
    this.#worker.postMessage({
      op: "rows",
      rows,
      ...(sealed.length > 0 && { journals: sealed }),
      ...(through && { through }),
    } satisfies StoreThreadRequest);
  }

  /** `transfer`: buffers of the request moved to the thread rather than copied (see movableBuffer). */
  #ask(request: DistributiveOmit<Exclude<StoreThreadRequest, { op: "rows" }>, "id">, transfer?: ArrayBuffer[]): Promise<unknown> {
    if (this.#exited) return Promise.reject(new StoreError("closed", "the store's thread has stopped"));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      // Someone awaits an answer: the thread keeps the process alive until it comes.
      this.#worker.ref();
      this.#worker.postMessage({ ...request, id } as StoreThreadRequest, transfer);
    });
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** An egress record with its body hashed (a string as UTF-8, in place, without a copy into a Buffer). */
function hashed(record: EgressRecord): HashedEgress {
  if (!("body" in record)) return record.time === undefined ? { ...record, time: Date.now() } : record;
  const { body, ...rest } = record;
  const bytes = typeof body === "string" ? Buffer.byteLength(body, "utf8") : body.byteLength;
  return { time: Date.now(), ...rest, sha256: hash("sha256", body, "hex"), bytes };
}

function toStoreError(error: { code: string; message: string; file?: string }): StoreError {
  return new StoreError(error.code as StoreErrorCode, error.message, error.file === undefined ? {} : { file: error.file });
}
