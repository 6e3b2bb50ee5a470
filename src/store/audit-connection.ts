import Sqlite from "better-sqlite3-multiple-ciphers";
import { type EgressValues, egressValues, INSERT_EGRESS } from "./log-tables.js";
import type { EgressRecord } from "./records.js";

/**
 * A second connection to the store's file, on the server's own thread, that commits one egress audit
 * row at a time when the store's thread is not already committing some: the common case of requests
 * that do not overlap. A commit without an fsync (store.durability: crash, the default) takes about
 * 0.05 ms, while handing the row to the store's thread and waiting for its answer takes two thread
 * wake-ups, 0.2 ms and more (much more when the cores are busy), on the path of every cloud request.
 *
 * It never waits: when the file is locked by the store's thread (a batch, a flush) or a commit fails
 * for any reason, `commit` answers undefined and the row goes to the store's thread as before, which
 * commits it or reports why it cannot. It never checkpoints the write-ahead log either (the store's
 * thread does), so a commit here never copies pages into the file on this thread.
 */
export class AuditConnection {
  readonly #db: Sqlite.Database;
  readonly #insert: Sqlite.Statement<EgressValues>;

  private constructor(db: Sqlite.Database) {
    this.#db = db;
    this.#insert = db.prepare<EgressValues>(INSERT_EGRESS);
  }

  /**
   * Opens the file the store's thread has opened (and migrated) with the same key; undefined when it
   * cannot (the row then always goes to the store's thread).
   */
  static open(file: string, key: Buffer): AuditConnection | undefined {
    let db: Sqlite.Database | undefined;
    try {
      db = new Sqlite(file, { fileMustExist: true, timeout: 0 });
      db.pragma("cipher = 'sqlcipher'");
      db.pragma("legacy = 4");
      db.pragma(`key = "x'${key.toString("hex")}'"`);
      // As the store's connection (open-database.ts): durable against a crash of tandem, no fsync.
      db.pragma("synchronous = NORMAL");
      db.pragma("temp_store = MEMORY");
      db.pragma("wal_autocheckpoint = 0");
      if (db.pragma("journal_mode", { simple: true }) !== "wal") throw new Error("not in WAL mode");
      return new AuditConnection(db);
    } catch {
      db?.close();
      return undefined;
    }
  }

  /** Commits the row and answers its id, or undefined when it was not committed here. */
  commit(record: EgressRecord): number | undefined {
    const values = egressValues(record);
    if (values === undefined) return undefined;
    try {
      return Number(this.#insert.run(...values).lastInsertRowid);
    } catch {
      return undefined;
    }
  }

  close(): void {
    try {
      this.#db.close();
    } catch {
      // Closing on the way out: nothing left to do with it.
    }
  }
}
