import { accessSync, constants, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import Sqlite from "better-sqlite3-multiple-ciphers";
import { DATABASE_FILE } from "./database-key.js";
import { assertWritable } from "./open-database.js";
import { StoreError, sqliteCode, storeErrorFrom } from "./store-error.js";

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
    createDataDir(dataDir);
    // A folder it cannot write is said as such, not as a lock it cannot take.
    assertWritable(dataDir, "the data folder", join(dataDir, DATABASE_FILE));
    const file = join(dataDir, DATA_DIR_LOCK_FILE);
    let db: Sqlite.Database;
    try {
      db = new Sqlite(file, { timeout: 0 });
    } catch (err) {
      // A StoreError, as the store's own: the start stops with exit code 2 and one line (a full disk said as such).
      throw storeErrorFrom(err, file, "open the lock file");
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
      throw storeErrorFrom(err, file, "lock");
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

/**
 * Makes the data folder (and its parents) when it does not exist yet. One that cannot be made (a
 * read-only file system, a parent this user may not write, a file where a folder should be) stops
 * the start as a store that cannot be opened does: a StoreError naming the folder and why, not a stack.
 */
function createDataDir(dataDir: string): void {
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    // A recursive mkdir reports some of these as ENOENT; the nearest folder that exists says why.
    const parent = nearestExisting(dirname(dataDir));
    let why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    if (parent !== undefined) {
      try {
        accessSync(parent, constants.W_OK);
      } catch (denied) {
        const code = (denied as NodeJS.ErrnoException).code;
        why = `${parent} ${code === "EROFS" ? "is on a read-only file system" : `cannot be written (${code})`}`;
      }
    }
    throw new StoreError(
      "io",
      `the data folder ${dataDir} cannot be created (${why}): make its parent writable, or point dataDir at a folder that is`,
      { file: join(dataDir, DATABASE_FILE), cause: err },
    );
  }
}

/** The nearest of `path` and its parents that exists, if any does. */
function nearestExisting(path: string): string | undefined {
  for (let dir = path; ; dir = dirname(dir)) {
    if (existsSync(dir)) return dir;
    if (dirname(dir) === dir) return undefined;
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
