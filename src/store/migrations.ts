import type Sqlite from "better-sqlite3-multiple-ciphers";
import { StoreError } from "./store-error.js";

type Database = Sqlite.Database;

/**
 * The schema, as the ordered steps that built it. Step N takes a database at version N-1 to version N
 * (kept in SQLite's `user_version`). Steps are only ever appended: a released step never changes,
 * because users' databases already ran it.
 *
 * `threads` and `memory` are not here yet: an empty table of a guessed shape would only have to be
 * migrated once their design exists, so they arrive as their own steps with the features that use them.
 */
export const MIGRATIONS: readonly ((db: Database) => void)[] = [
  // 1: what a request did, what left the machine, and what it cost.
  (db) =>
    db.exec(`
      CREATE TABLE request_log (
        id             INTEGER PRIMARY KEY,
        time           INTEGER NOT NULL,        -- ms since the epoch, when the request arrived
        route          TEXT,                    -- the route the client named; NULL when it named a target
        target         TEXT,                    -- provider/model that answered (the first one, for a stream)
        dialect        TEXT NOT NULL,           -- openai | anthropic | ollama
        status         INTEGER NOT NULL,        -- HTTP status sent to the client
        attempts       INTEGER NOT NULL DEFAULT 0,
        degraded       TEXT,                    -- why the answer was degraded; NULL when it was not
        latency_ms     INTEGER,
        ttft_ms        INTEGER,
        input_tokens   INTEGER,
        output_tokens  INTEGER,
        error_code     TEXT,
        -- Filled only when the user turns content logging on, and cleared after the retention period.
        request_content  TEXT,
        response_content TEXT
      );
      CREATE INDEX request_log_time ON request_log (time);
      CREATE TABLE egress_audit (
        id           INTEGER PRIMARY KEY,
        time         INTEGER NOT NULL,
        target       TEXT NOT NULL,
        route        TEXT,
        sensitivity  TEXT NOT NULL,             -- e.g. public | private, as the privacy layer classified it
        redactions   TEXT NOT NULL DEFAULT '{}', -- JSON counts by kind, e.g. {"email":2}; never the values
        sha256       TEXT NOT NULL,             -- hex digest of the bytes sent; never the bytes
        bytes        INTEGER NOT NULL
      );
      CREATE INDEX egress_audit_time ON egress_audit (time);
      CREATE TABLE usage (
        day            TEXT NOT NULL,           -- YYYY-MM-DD, UTC
        target         TEXT NOT NULL,
        requests       INTEGER NOT NULL DEFAULT 0,
        input_tokens   INTEGER NOT NULL DEFAULT 0,
        output_tokens  INTEGER NOT NULL DEFAULT 0,
        cost_usd       REAL,                    -- NULL while no request of the day had a known price
        PRIMARY KEY (day, target)
      ) WITHOUT ROWID;
    `),
  // 2: provider keys for `store:NAME` references, encrypted with the rest of the file.
  (db) =>
    db.exec(`
      CREATE TABLE secrets (
        name        TEXT PRIMARY KEY,
        value       TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL
      ) WITHOUT ROWID;
    `),
  // 3: rows are committed before a body is sent (audit before egress), so a row may stand for a body
  // that never left (the connection was refused): outcome says so. NULL: sent, or may have been.
  (db) => db.exec("ALTER TABLE egress_audit ADD COLUMN outcome TEXT; -- NULL: sent or may have been | not_sent"),
];

/** The version this build of tandem writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the database to SCHEMA_VERSION: every missing step in one transaction, so a failure leaves
 * it at the version it had. A database from a newer tandem is refused, never downgraded or touched.
 * Returns the version it found.
 */
export function migrate(db: Database, file: string, migrations: readonly ((db: Database) => void)[] = MIGRATIONS): number {
  const found = db.pragma("user_version", { simple: true }) as number;
  if (found > migrations.length) {
    throw new StoreError(
      "too_new",
      `${file} was written by a newer tandem (schema version ${found}; this one knows up to ${migrations.length}); upgrade tandem to use it. The file was not changed`,
      { file },
    );
  }
  if (found === migrations.length) return found;
  let step = found;
  try {
    // IMMEDIATE takes the write lock first, so two processes opening an old database cannot both migrate it.
    db.transaction(() => {
      const current = db.pragma("user_version", { simple: true }) as number;
      for (step = current; step < migrations.length; step++) migrations[step]?.(db);
      db.pragma(`user_version = ${migrations.length}`);
    }).immediate();
  } catch (err) {
    if (err instanceof StoreError) throw err;
    throw new StoreError(
      "migration_failed",
      `cannot upgrade ${file} from schema version ${found} to ${migrations.length}: step ${step + 1} failed (${(err as Error).message}); the database was left at version ${found}`,
      { file, cause: err },
    );
  }
  return found;
}
