import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname } from "node:path";
import Sqlite from "better-sqlite3-multiple-ciphers";
import { ftsText } from "../core/memory-terms.js";
import { migrate } from "./migrations.js";
import { StoreError, sqliteCode, storeErrorFrom } from "./store-error.js";

export interface OpenDatabaseOptions {
  /**
   * What a committed row survives: `crash` (a crash or kill -9 of tandem) or `power` (also a power
   * cut or an OS crash: an fsync per commit). Default crash.
   */
  durability?: "crash" | "power";
  /** Where the key came from, named in a key-mismatch message. */
  keySource?: string;
  /** How long to wait for another process's write lock before SQLITE_BUSY. Default 5000 ms. */
  busyTimeoutMs?: number;
  /**
   * A file up to this size is checked whole when it opens (`PRAGMA quick_check`); a larger one has
   * its egress audit, keys and usage checked (see checkDatabase). Default 128 MiB.
   */
  checkMaxBytes?: number;
}

/**
 * quick_check reads every page (and SQLCipher decrypts and authenticates each): about 100 MB/s on a
 * busy 2-core machine, so 128 MiB is about a second added to a start.
 */
const CHECK_MAX_BYTES = 128 * 1024 * 1024;

/**
 * The tables checked even in a file too large to check whole: what left the machine, the keys, the
 * usage. They stay small (metadata rows); the tables that grow with content (the request log, stored
 * responses and conversations) are the ones left out.
 */
const CHECKED_WHEN_LARGE: readonly string[] = ["egress_audit", "secrets", "usage"];

/** The first 16 bytes of every unencrypted SQLite file. */
const PLAIN_SQLITE_HEADER = Buffer.from("SQLite format 3\0", "latin1");

/**
 * Opens (or creates) an SQLCipher-encrypted SQLite file with a raw 256-bit key, checks the key before
 * anything is written, sets the connection up, and migrates the schema.
 *
 * Never re-creates or overwrites an existing file: a wrong key, a damaged file (damaged pages found by
 * a check at open, an empty file tandem is not creating right now) or a file from a newer tandem is a
 * StoreError naming the file, and the file is left exactly as it was: nothing is written to it before
 * the check has passed. The check runs on a read-only connection of its own (see checkBeforeUse),
 * because the last read-write connection to close checkpoints a write-ahead log a crash left into the
 * file and deletes it: a refused file keeps its -wal (the last commits before the crash) as it was.
 */
export function openEncryptedDatabase(file: string, key: Buffer, options: OpenDatabaseOptions = {}): Sqlite.Database {
  if (key.length !== 32) throw new StoreError("invalid_key", `the key for ${file} must be 32 bytes, got ${key.length}`, { file });
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const existing = inspectExisting(file);
  // An empty file left by a creation that was cut short (its marker is still there) is resumed.
  const created = createPrivately(file) || (existing.size === 0 && existsSync(creationMarker(file)));
  if (existing.size === 0 && !created) {
    throw new StoreError(
      "corrupt",
      `${file} is empty (0 bytes): not a database tandem wrote (tandem writes the first page as it creates one). tandem leaves it as it is: move it away to start a new database, or restore it from a backup`,
      { file },
    );
  }
  if (existing.size !== undefined) checkWritable(file);
  if (!created) checkBeforeUse(file, key, existing, options);
  let db: Sqlite.Database;
  try {
    db = new Sqlite(file, { timeout: options.busyTimeoutMs ?? 5000 });
  } catch (err) {
    throw storeErrorFrom(err, file, "open");
  }
  try {
    // SQLCipher 4's format (legacy=4), so the file is a standard SQLCipher database. The key is raw
    // (x'...'): 32 random bytes need no passphrase stretching, which would cost ~300 ms per open.
    applyKey(db, key);
    checkKey(db, file, existing, options.keySource);
    // Before anything reads or writes the full-text indexes, whose triggers and sources call it.
    db.function("tandem_fts_text", { deterministic: true }, (text: unknown) => (typeof text === "string" ? ftsText(text) : text));
    // Temporary tables and sort spills stay in memory: temp files would not be encrypted.
    db.pragma("temp_store = MEMORY");
    db.pragma("journal_mode = WAL");
    // In WAL mode, NORMAL makes every commit durable against a crash of tandem (kill -9 included: the
    // commit is in the OS's hands before it returns) without an fsync per commit; an fsync costs 1-2
    // ms, and the egress audit commits before every cloud request. FULL also survives a power cut or
    // an OS crash, at that price per commit (store.durability: power).
    db.pragma(options.durability === "power" ? "synchronous = FULL" : "synchronous = NORMAL");
    // Pruned content is overwritten, not just unlinked from the b-tree.
    db.pragma("secure_delete = ON");
    db.pragma("foreign_keys = ON");
    migrate(db, file);
    // Always: a marker left by a creation cut short after its first page must not outlive it.
    finishCreation(file);
    return db;
  } catch (err) {
    db.close();
    throw err instanceof StoreError ? err : storeErrorFrom(err, file, "open");
  }
}

/**
 * Checks an existing file's key and pages on a read-only connection, before any read-write connection
 * opens it. A read-only connection never checkpoints and never deletes the write-ahead log, so a file
 * the check refuses keeps tandem.db and tandem.db-wal byte for byte. It does touch SQLite's index of
 * the log (tandem.db-shm: it rebuilds it and marks its reads there), so a refused check puts that
 * file back as it found it, or removes the -shm and empty -wal it made where there were none.
 */
function checkBeforeUse(file: string, key: Buffer, existing: ExistingFile, options: OpenDatabaseOptions): void {
  const before = sideFilesOf(file);
  let db: Sqlite.Database;
  try {
    db = new Sqlite(file, { readonly: true, fileMustExist: true, timeout: options.busyTimeoutMs ?? 5000 });
  } catch (err) {
    throw storeErrorFrom(err, file, "open");
  }
  let refused: unknown;
  try {
    applyKey(db, key);
    checkKey(db, file, existing, options.keySource);
    db.pragma("temp_store = MEMORY");
    db.function("tandem_fts_text", { deterministic: true }, (text: unknown) => (typeof text === "string" ? ftsText(text) : text));
    checkDatabase(db, file, existing.size, options.checkMaxBytes ?? CHECK_MAX_BYTES);
  } catch (err) {
    refused = err instanceof StoreError ? err : storeErrorFrom(err, file, "open");
  }
  db.close();
  if (refused === undefined) return;
  restoreSideFiles(file, before);
  throw refused;
}

/** The -wal and -shm beside a database file as they were: the -shm's bytes, the -wal's size and time. */
interface SideFiles {
  shm: Buffer | undefined;
  wal: { size: number; mtimeMs: number } | undefined;
  mainMtimeMs: number;
}

function sideFilesOf(file: string): SideFiles {
  let shm: Buffer | undefined;
  try {
    shm = readFileSync(`${file}-shm`);
  } catch {
    shm = undefined;
  }
  return { shm, wal: statOrUndefined(`${file}-wal`), mainMtimeMs: statOrUndefined(file)?.mtimeMs ?? 0 };
}

function statOrUndefined(file: string): { size: number; mtimeMs: number } | undefined {
  try {
    const info = statSync(file);
    return { size: info.size, mtimeMs: info.mtimeMs };
  } catch {
    return undefined;
  }
}

/**
 * After a refused check: removes the -shm and (empty) -wal the read-only connection made, or puts an
 * existing -shm's bytes back. The bytes go back only while the file and its log are unchanged since
 * before the check, so the index put back still describes them (another process that wrote meanwhile
 * keeps the index it made); the index holds nothing of its own, SQLite rebuilds it from the log.
 */
function restoreSideFiles(file: string, before: SideFiles): void {
  try {
    const wal = statOrUndefined(`${file}-wal`);
    if (before.wal === undefined) {
      if (wal?.size === 0) unlinkSync(`${file}-wal`);
      if (before.shm === undefined && statOrUndefined(`${file}-wal`) === undefined) unlinkSync(`${file}-shm`);
      return;
    }
    const unchanged =
      wal !== undefined &&
      wal.size === before.wal.size &&
      wal.mtimeMs === before.wal.mtimeMs &&
      statOrUndefined(file)?.mtimeMs === before.mainMtimeMs;
    if (!unchanged) return;
    if (before.shm !== undefined) writeFileSync(`${file}-shm`, before.shm);
    else unlinkSync(`${file}-shm`);
  } catch {
    // A side file that cannot be put back is SQLite's to rebuild; the file and its log are untouched.
  }
}

/**
 * SQLite opens a file it cannot write read-only and fails only later (SQLITE_CANTOPEN on its -wal),
 * which reads as if the file could not be read: a data folder tandem cannot write is named as such.
 */
function checkWritable(file: string): void {
  assertWritable(dirname(file), "the data folder", file);
  assertWritable(file, "the database file", file);
}

/** Throws a StoreError naming `path` (`what` it is) when this process cannot write it. */
export function assertWritable(path: string, what: string, file: string): void {
  try {
    accessSync(path, constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "EROFS" ? "it is on a read-only file system" : `${code ?? (err as Error).message}`;
    throw new StoreError(
      "io",
      `${what} ${path} cannot be written (${why}): tandem writes ${file} and its -wal and -shm beside it; make it writable, or point dataDir at a folder that is`,
      { file, cause: err },
    );
  }
}

/** SQLCipher 4's format, and the raw key: what every connection to the file is set up with first. */
function applyKey(db: Sqlite.Database, key: Buffer): void {
  db.pragma("cipher = 'sqlcipher'");
  db.pragma("legacy = 4");
  db.pragma(`key = "x'${key.toString("hex")}'"`);
}

/**
 * A second connection to a database a Store has open, for checkpoints only (see checkpoint-thread.ts):
 * the file must exist, and it is neither checked nor migrated (its Store's connection did both).
 */
export function openForCheckpoints(file: string, key: Buffer): Sqlite.Database {
  let db: Sqlite.Database;
  try {
    db = new Sqlite(file, { fileMustExist: true, timeout: 5000 });
  } catch (err) {
    throw storeErrorFrom(err, file, "open");
  }
  try {
    applyKey(db, key);
    db.prepare("SELECT count(*) FROM sqlite_master").get();
    return db;
  } catch (err) {
    db.close();
    throw storeErrorFrom(err, file, "open");
  }
}

/**
 * Creates a new database file with mode 0600 before SQLite opens it: SQLite gives its -wal and -shm
 * files the main file's mode, so all three stay private whatever the umask. An existing file is kept as it is.
 */
function createPrivately(file: string): boolean {
  if (existsSync(file)) return false;
  try {
    // The marker first: a crash between creating the file and SQLite writing its first page leaves
    // an empty file, which the next open resumes only with the marker beside it (else: damaged).
    closeSync(openSync(creationMarker(file), constants.O_WRONLY | constants.O_CREAT, 0o600));
    closeSync(openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw new StoreError("io", `cannot create ${file}: ${(err as Error).message}`, { file, cause: err });
  }
}

/** Beside a database file while tandem creates it: `tandem.db-creating`. */
function creationMarker(file: string): string {
  return `${file}-creating`;
}

/** The new database has its schema, committed: an empty file is no longer tandem's to resume. */
function finishCreation(file: string): void {
  try {
    unlinkSync(creationMarker(file));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}

interface ExistingFile {
  /** Its size in bytes; undefined when there is no file. */
  size: number | undefined;
  /** Its size is not a whole number of 512-byte sectors, which no SQLite database has. */
  oddSize: boolean;
}

function inspectExisting(file: string): ExistingFile {
  let size: number;
  try {
    const info = statSync(file);
    if (!info.isFile()) throw new StoreError("corrupt", `${file} is not a regular file`, { file });
    size = info.size;
  } catch (err) {
    if (err instanceof StoreError) throw err;
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { size: undefined, oddSize: false };
    throw new StoreError("io", `cannot read ${file}: ${(err as Error).message}`, { file, cause: err });
  }
  if (size >= PLAIN_SQLITE_HEADER.length) {
    const header = Buffer.alloc(PLAIN_SQLITE_HEADER.length);
    const fd = openSync(file, "r");
    try {
      readSync(fd, header, 0, header.length, 0);
    } finally {
      closeSync(fd);
    }
    if (header.equals(PLAIN_SQLITE_HEADER)) {
      throw new StoreError(
        "corrupt",
        `${file} is an unencrypted SQLite database, not tandem's encrypted store; tandem leaves it as it is: move it away (tandem then creates a new encrypted one)`,
        { file },
      );
    }
  }
  return { size, oddSize: size % 512 !== 0 };
}

/**
 * Checks an existing file's pages before the store uses it: a file with damaged pages would open,
 * then lose rows (or fail reads such as the audit) later. Up to `maxBytes` the whole file is checked
 * (`PRAGMA quick_check`: every page read, decrypted and authenticated, every b-tree walked); above it,
 * the egress audit, the keys and the usage are checked (`quick_check(table)`, each with its indexes),
 * so the start stays bounded while what tandem must be able to vouch for still is. A damaged page the check did not
 * reach still fails the statement that reads it with a clear `corrupt` error (never wrong data:
 * SQLCipher authenticates every page it decrypts).
 */
function checkDatabase(db: Sqlite.Database, file: string, size: number | undefined, maxBytes: number): void {
  const whole = size === undefined || size <= maxBytes;
  const present = (name: string) =>
    db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?").get(name) !== undefined;
  const tables = whole ? [undefined] : CHECKED_WHEN_LARGE.filter(present);
  for (const table of tables) {
    let result: unknown;
    try {
      result = db.pragma(table === undefined ? "quick_check" : `quick_check("${table.replaceAll('"', '""')}")`, { simple: true });
    } catch (err) {
      throw damaged(file, sqliteCode(err) ?? (err as Error).message, err);
    }
    if (result !== "ok") throw damaged(file, String(result).split("\n").slice(0, 2).join("; "));
  }
}

function damaged(file: string, detail: string, cause?: unknown): StoreError {
  return new StoreError(
    "corrupt",
    `${file} is damaged (the check at open found: ${detail.slice(0, 200)}); tandem leaves it as it is and does not start on it: restore it from a backup, or move it away to start a new database`,
    { file, ...(cause !== undefined && { cause }) },
  );
}

/** Reads the schema once: with a wrong key the first page does not decrypt and SQLite says "not a database". */
function checkKey(db: Sqlite.Database, file: string, existing: ExistingFile, keySource: string | undefined): void {
  try {
    db.prepare("SELECT count(*) FROM sqlite_master").get();
  } catch (err) {
    const code = sqliteCode(err);
    if (code !== "SQLITE_NOTADB") throw storeErrorFrom(err, file, "read");
    if (existing.oddSize) {
      throw new StoreError(
        "corrupt",
        `${file} is damaged or is not a tandem database (its size is not a whole number of pages); tandem leaves it as it is: move it away to start a new database, or restore it from a backup`,
        { file, cause: err },
      );
    }
    throw new StoreError(
      "key_mismatch",
      `the database key does not match ${file}${keySource ? ` (the key came from ${keySource})` : ""}, or the file is damaged; tandem leaves the file as it is. Supply the key it was created with (TANDEM_DB_KEY, the OS keychain entry tandem/database-key, or db.key in the data dir), or move the file away to start a new database`,
      { file, cause: err },
    );
  }
}
