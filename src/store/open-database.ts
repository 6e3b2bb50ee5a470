import { closeSync, constants, mkdirSync, openSync, readSync, statSync } from "node:fs";
import { dirname } from "node:path";
import Sqlite from "better-sqlite3-multiple-ciphers";
import { migrate } from "./migrations.js";
import { StoreError, sqliteCode, storeErrorFrom } from "./store-error.js";

export interface OpenDatabaseOptions {
  /** Where the key came from, named in a key-mismatch message. */
  keySource?: string;
  /** How long to wait for another process's write lock before SQLITE_BUSY. Default 5000 ms. */
  busyTimeoutMs?: number;
}

/** The first 16 bytes of every unencrypted SQLite file. */
const PLAIN_SQLITE_HEADER = Buffer.from("SQLite format 3\0", "latin1");

/**
 * Opens (or creates) an SQLCipher-encrypted SQLite file with a raw 256-bit key, checks the key before
 * anything is written, sets the connection up, and migrates the schema.
 *
 * Never re-creates or overwrites an existing file: a wrong key, a damaged file or a file from a newer
 * tandem is a StoreError naming the file, and the file is left exactly as it was.
 */
export function openEncryptedDatabase(file: string, key: Buffer, options: OpenDatabaseOptions = {}): Sqlite.Database {
  if (key.length !== 32) throw new StoreError("invalid_key", `the key for ${file} must be 32 bytes, got ${key.length}`, { file });
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const existing = inspectExisting(file);
  createPrivately(file);
  let db: Sqlite.Database;
  try {
    db = new Sqlite(file, { timeout: options.busyTimeoutMs ?? 5000 });
  } catch (err) {
    throw storeErrorFrom(err, file, "open");
  }
  try {
    // SQLCipher 4's format (legacy=4), so the file is a standard SQLCipher database. The key is raw
    // (x'...'): 32 random bytes need no passphrase stretching, which would cost ~300 ms per open.
    db.pragma("cipher = 'sqlcipher'");
    db.pragma("legacy = 4");
    db.pragma(`key = "x'${key.toString("hex")}'"`);
    checkKey(db, file, existing, options.keySource);
    // Temporary tables and sort spills stay in memory: temp files would not be encrypted.
    db.pragma("temp_store = MEMORY");
    db.pragma("journal_mode = WAL");
    // FULL: each commit fsyncs the WAL, so a committed row survives a power cut, not only a crash.
    // NORMAL would survive a crash but could lose the last commits on power loss; since writes are
    // batched (one commit per flush, not per row), the fsync costs little per row.
    db.pragma("synchronous = FULL");
    // Pruned content is overwritten, not just unlinked from the b-tree.
    db.pragma("secure_delete = ON");
    db.pragma("foreign_keys = ON");
    migrate(db, file);
    return db;
  } catch (err) {
    db.close();
    throw err instanceof StoreError ? err : storeErrorFrom(err, file, "open");
  }
}

/**
 * Creates a new database file with mode 0600 before SQLite opens it: SQLite gives its -wal and -shm
 * files the main file's mode, so all three stay private whatever the umask. An existing file is kept as it is.
 */
function createPrivately(file: string): void {
  try {
    closeSync(openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return;
    throw new StoreError("io", `cannot create ${file}: ${(err as Error).message}`, { file, cause: err });
  }
}

interface ExistingFile {
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
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { oddSize: false };
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
  return { oddSize: size % 512 !== 0 };
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
