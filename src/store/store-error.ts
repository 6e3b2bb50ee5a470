import { statfsSync } from "node:fs";
import { dirname } from "node:path";

/**
 * What can go wrong with the encrypted store, as a closed set of codes, so callers decide on the code
 * and never on message text. The message always names the file involved and says what to do.
 */
export type StoreErrorCode =
  | "key_mismatch" // the key does not open the file (or the file is damaged beyond telling the two apart)
  | "corrupt" // the file is not a database, or SQLite found damage inside it
  | "too_new" // written by a newer tandem with a schema this one does not know
  | "migration_failed" // a migration step failed; the database was left at its previous version
  | "disk_full" // SQLITE_FULL: no space left; writes wait in memory and are retried
  | "io" // SQLITE_IOERR and friends: the OS refused a read or write
  | "busy" // another process held the database lock for longer than the busy timeout
  | "closed" // the store was used after close()
  | "invalid_key" // a database key that is not 32 bytes of hex or base64
  | "unsafe_key_file" // a key file that other users can read
  | "no_key" // the database exists but none of the key sources has its key
  | "not_found" // a command that only reads found no database to read
  | "sqlite"; // any other SQLite failure (a constraint, a bug): retrying will not fix it

export class StoreError extends Error {
  override readonly name = "StoreError";
  readonly code: StoreErrorCode;
  /** The database or key file the error is about, when there is one. */
  readonly file: string | undefined;
  /** Worth trying again later (disk full, I/O, busy); the store itself retries queued writes. */
  readonly transient: boolean;

  constructor(code: StoreErrorCode, message: string, options: { file?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.file = options.file;
    this.transient = code === "disk_full" || code === "io" || code === "busy";
  }
}

/** Whether the filesystem that holds `file` has no space left for an unprivileged write. */
function noSpaceLeft(file: string): boolean {
  try {
    return statfsSync(dirname(file)).bavail === 0;
  } catch {
    return false;
  }
}

/** SQLite's extended result code, e.g. `SQLITE_IOERR_WRITE`, from an error better-sqlite3 threw. */
export function sqliteCode(err: unknown): string | undefined {
  if (typeof err !== "object" || err === null || !("code" in err)) return undefined;
  const code = (err as { code: unknown }).code;
  return typeof code === "string" && code.startsWith("SQLITE_") ? code : undefined;
}

/** Turns whatever SQLite threw while reading or writing `file` into a StoreError with a useful message. */
export function storeErrorFrom(err: unknown, file: string, doing: string): StoreError {
  if (err instanceof StoreError) return err;
  const code = sqliteCode(err);
  const detail = err instanceof Error ? err.message : String(err);
  // An I/O error on a disk with no space left is a full disk: SQLite says only "disk I/O error" when
  // it cannot size its shared-memory index (SQLITE_IOERR_SHMSIZE, opening a store) or a write comes short.
  if (code === "SQLITE_FULL" || code === "SQLITE_IOERR_WRITE_FULL" || (code?.startsWith("SQLITE_IOERR") && noSpaceLeft(file))) {
    return new StoreError("disk_full", `cannot ${doing} ${file}: the disk is full (${code})`, { file, cause: err });
  }
  if (code?.startsWith("SQLITE_IOERR") || code === "SQLITE_CANTOPEN" || code === "SQLITE_READONLY" || code === "SQLITE_NOMEM") {
    return new StoreError("io", `cannot ${doing} ${file}: ${detail} (${code})`, { file, cause: err });
  }
  if (code?.startsWith("SQLITE_BUSY") || code?.startsWith("SQLITE_LOCKED")) {
    return new StoreError("busy", `cannot ${doing} ${file}: another process holds the database lock (${code})`, {
      file,
      cause: err,
    });
  }
  if (code?.startsWith("SQLITE_CORRUPT") || code === "SQLITE_NOTADB") {
    return new StoreError(
      "corrupt",
      `${file} is damaged (${code}: ${detail}); tandem leaves it as it is: move it away to start a new database, or restore it from a backup`,
      { file, cause: err },
    );
  }
  return new StoreError("sqlite", `cannot ${doing} ${file}: ${detail}${code ? ` (${code})` : ""}`, {
    file,
    cause: err,
  });
}
