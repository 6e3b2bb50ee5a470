import type Sqlite from "better-sqlite3-multiple-ciphers";
import type { FileContent, FileListOptions, FileSensitivity, StoredFile, StoredFilePurpose } from "../core/files.js";
import { type ListPage, unknownCursorPage } from "../core/state.js";

interface FileRow {
  id: string;
  created_at: number;
  expires_at: number | null;
  filename: string;
  purpose: string;
  bytes: number;
  media_type: string;
  sensitivity: string | null;
}

interface ContentRow extends FileRow {
  data: Uint8Array;
}

const COLUMNS = "id, created_at, expires_at, filename, purpose, bytes, media_type, sensitivity";
/** Not expired at `now` (seconds): a file past its expiry is never read, even before it is deleted. */
const LIVE = "(expires_at IS NULL OR expires_at > ?)";

/**
 * The files of the Files API (migrations 8 and 12) over the store's open connection: the synchronous half of
 * the encrypted FileStore (src/harness/files/encrypted-file-store.ts), run on the store's thread.
 * Every write is one transaction, committed before the method returns. Each method takes the time
 * (`now`, seconds since the epoch) from its caller and deletes the files expired by then first, so an
 * expired file's bytes leave the database the next time files are used, and no query ever shows one.
 */
export class FileTables {
  readonly #db: Sqlite.Database;
  readonly #q;

  constructor(db: Sqlite.Database) {
    this.#db = db;
    this.#q = {
      insert: db.prepare<[string, number, number | null, string, string, number, string, string | null, Uint8Array]>(
        `INSERT INTO files (id, created_at, expires_at, filename, purpose, bytes, media_type, sensitivity, data)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      get: db.prepare<[string, number], FileRow>(`SELECT ${COLUMNS} FROM files WHERE id = ? AND ${LIVE}`),
      content: db.prepare<[string, number], ContentRow>(`SELECT ${COLUMNS}, data FROM files WHERE id = ? AND ${LIVE}`),
      cursor: db.prepare<[string], { seq: number; purpose: string }>("SELECT seq, purpose FROM files WHERE id = ?"),
      pageAsc: db.prepare<[number, number, string | null, string | null, number], FileRow>(
        `SELECT ${COLUMNS} FROM files WHERE seq > ? AND ${LIVE} AND (? IS NULL OR purpose = ?) ORDER BY seq LIMIT ?`,
      ),
      pageDesc: db.prepare<[number, number, string | null, string | null, number], FileRow>(
        `SELECT ${COLUMNS} FROM files WHERE seq < ? AND ${LIVE} AND (? IS NULL OR purpose = ?) ORDER BY seq DESC LIMIT ?`,
      ),
      delete: db.prepare<[string]>("DELETE FROM files WHERE id = ?"),
      expire: db.prepare<[number]>("DELETE FROM files WHERE expires_at IS NOT NULL AND expires_at <= ?"),
    };
  }

  saveFile(file: StoredFile, data: Uint8Array, now: number): void {
    this.#expire(now);
    this.#q.insert.run(
      file.id,
      file.createdAt,
      file.expiresAt ?? null,
      file.filename,
      file.purpose,
      file.bytes,
      file.mediaType,
      file.sensitivity ?? null,
      data,
    );
  }

  getFile(id: string, now: number): StoredFile | undefined {
    this.#expire(now);
    const row = this.#q.get.get(id, now);
    return row && toStoredFile(row);
  }

  fileContent(id: string, now: number): FileContent | undefined {
    this.#expire(now);
    const row = this.#q.content.get(id, now);
    return row && { file: toStoredFile(row), data: row.data };
  }

  listFiles(options: FileListOptions, now: number): ListPage<StoredFile> {
    this.#expire(now);
    // The cursor's place and the page are read in one transaction: a delete cannot come between.
    return this.#db
      .transaction((): ListPage<StoredFile> => {
        const purpose = options.purpose ?? null;
        const cursor = options.after === undefined ? undefined : this.#q.cursor.get(options.after);
        // The cursor must be a file of the list asked for: one of another purpose names nothing in it.
        const after = cursor !== undefined && (purpose === null || cursor.purpose === purpose) ? cursor.seq : undefined;
        if (options.after !== undefined && after === undefined) return unknownCursorPage("after");
        const rows =
          options.order === "asc"
            ? this.#q.pageAsc.all(after ?? -1, now, purpose, purpose, options.limit + 1)
            : this.#q.pageDesc.all(after ?? Number.MAX_SAFE_INTEGER, now, purpose, purpose, options.limit + 1);
        return { data: rows.slice(0, options.limit).map(toStoredFile), hasMore: rows.length > options.limit };
      })
      .deferred();
  }

  deleteFile(id: string, now: number): boolean {
    this.#expire(now);
    return this.#erased(this.#q.delete.run(id).changes > 0);
  }

  /** Deletes the files expired at `now` (also run by the store's pruning job); returns how many. */
  prune(now: number): number {
    return this.#expire(now);
  }

  #expire(now: number): number {
    const expired = this.#q.expire.run(now).changes;
    this.#erased(expired > 0);
    return expired;
  }

  /**
   * secure_delete has overwritten the deleted rows in the pages the delete wrote; a checkpoint that
   * truncates the WAL writes those pages into the main file and leaves no older copy behind, so a
   * deleted file's bytes leave the disk now (as StateTables does for a deleted response).
   */
  #erased(deleted: boolean): boolean {
    if (deleted) this.#db.pragma("wal_checkpoint(TRUNCATE)");
    return deleted;
  }
}

function toStoredFile(row: FileRow): StoredFile {
  return {
    id: row.id,
    createdAt: row.created_at,
    ...(row.expires_at !== null && { expiresAt: row.expires_at }),
    filename: row.filename,
    purpose: row.purpose as StoredFilePurpose,
    bytes: row.bytes,
    mediaType: row.media_type,
    ...(row.sensitivity !== null && { sensitivity: row.sensitivity as FileSensitivity }),
  };
}
