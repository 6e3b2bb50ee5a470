import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Sqlite from "better-sqlite3-multiple-ciphers";
import { DATABASE_FILE } from "./database-key.js";
import { assertWritable } from "./open-database.js";
import { sqliteCode } from "./store-error.js";

/** The file whose lock a running server holds: empty, an SQLite database only for its lock. */
export const DATA_DIR_LOCK_FILE = "tandem.lock";
/** Who holds the lock: `{"pid":…,"port":…}`, for the message a second server gets. */
export const DATA_DIR_HOLDER_FILE = "tandem.lock.json";

/** A second server was started on a data dir a running one holds. */
export class DataDirInUseError extends Error {
  override readonly name = "DataDirInUseError";
}

/** Who holds a data dir's lock, as the holder wrote it. */
export interface DataDirHolder {
  pid: number;
  port?: number;
  host?: string;
}

/**
 * A server's hold on its data dir: one server per data dir, since two would each take the other's
 * running work (background responses, batches) for what a crash left, fail it or run it again.
 *
 * The lock is the operating system's (SQLite's exclusive lock on `tandem.lock`, an fcntl lock on
 * Unix, LockFileEx on Windows), so it goes with the process however it ends: a kill -9 leaves no
 * stale lock behind, and a pid reused after a reboot cannot hold the dir. Commands that only read or
 * replay the store (`tandem audit`) do not take it and work beside a running server.
 */
export class DataDirLock {
  readonly dataDir: string;
  #db: Sqlite.Database | undefined;

  private constructor(dataDir: string, db: Sqlite.Database) {
    this.dataDir = dataDir;
    this.#db = db;
  }

  /** Takes the lock, or throws a DataDirInUseError naming the server that holds it. */
  static acquire(dataDir: string): DataDirLock {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    // A folder it cannot write is said as such, not as a lock it cannot take.
    assertWritable(dataDir, "the data folder", join(dataDir, DATABASE_FILE));
    const file = join(dataDir, DATA_DIR_LOCK_FILE);
    let db: Sqlite.Database;
    try {
      db = new Sqlite(file, { timeout: 0 });
    } catch (err) {
      throw new Error(`cannot open ${file}, the lock that keeps a second tandem off this data dir: ${(err as Error).message}`, {
        cause: err,
      });
    }
    try {
      // An exclusive transaction left open: the lock is held until the connection closes or the
      // process ends. Nothing is written, so the file stays empty.
      db.exec("BEGIN EXCLUSIVE");
    } catch (err) {
      db.close();
      const code = sqliteCode(err);
      if (code?.startsWith("SQLITE_BUSY") || code?.startsWith("SQLITE_LOCKED")) {
        throw new DataDirInUseError(inUseMessage(dataDir, readHolder(dataDir)));
      }
      throw new Error(`cannot lock ${file}: ${(err as Error).message}`, { cause: err });
    }
    const lock = new DataDirLock(dataDir, db);
    lock.describe({ pid: process.pid });
    return lock;
  }

  /** Says who holds the lock (the port once the server listens), for a second server's message. */
  describe(holder: DataDirHolder): void {
    try {
      writeFileSync(join(this.dataDir, DATA_DIR_HOLDER_FILE), `${JSON.stringify(holder)}\n`, { mode: 0o600 });
    } catch {
      // Only the message a second server gets is poorer without it; the lock holds either way.
    }
  }

  /** Lets the data dir go (the process's end does the same). */
  release(): void {
    this.#db?.close();
    this.#db = undefined;
  }
}

/** What the holder wrote about itself; undefined when it cannot be read (it may be writing it now). */
export function readHolder(dataDir: string): DataDirHolder | undefined {
  try {
    const value: unknown = JSON.parse(readFileSync(join(dataDir, DATA_DIR_HOLDER_FILE), "utf8"));
    if (typeof value !== "object" || value === null || typeof (value as DataDirHolder).pid !== "number") return undefined;
    return value as DataDirHolder;
  } catch {
    return undefined;
  }
}

function inUseMessage(dataDir: string, holder: DataDirHolder | undefined): string {
  const who =
    holder === undefined
      ? "another tandem"
      : `another tandem (pid ${holder.pid}${holder.port !== undefined ? `, listening on ${holder.host ?? "127.0.0.1"}:${holder.port}` : ""})`;
  return `the data dir ${dataDir} is in use by ${who}; one server per data dir, since a second would take the first's running background responses and batches for work a crash left. Stop that one first, or give this one another dataDir (TANDEM_DATA_DIR)`;
}
