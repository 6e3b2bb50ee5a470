import type Sqlite from "better-sqlite3-multiple-ciphers";
import { memoryTokens } from "../core/memory-terms.js";
import { StoreError } from "./store-error.js";

type Database = Sqlite.Database;

/**
 * The schema, as the ordered steps that built it. Step N takes a database at version N-1 to version N
 * (kept in SQLite's `user_version`). Steps are only ever appended: a released step never changes,
 * because users' databases already ran it.
 *
 * `threads` is not here yet: an empty table of a guessed shape would only have to be migrated once its
 * design exists, so it arrives as its own step with the feature that uses it.
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
  // 3: stored responses and conversations (the Responses and Conversations APIs), each item as the
  // API's own JSON. Items live in their own rows so a history is read in one query, a page of items
  // without parsing the rest, and a delete removes exactly its rows (secure_delete overwrites them).
  (db) =>
    db.exec(`
      CREATE TABLE responses (
        id                    TEXT PRIMARY KEY,
        created_at            INTEGER NOT NULL,  -- seconds since the epoch, as the API reports it
        previous_response_id  TEXT,              -- not a foreign key: a deleted predecessor ends the chain
        conversation_id       TEXT,
        response              TEXT NOT NULL      -- the Response object as the client was given it (JSON)
      ) WITHOUT ROWID;
      CREATE INDEX responses_created_at ON responses (created_at);
      CREATE TABLE response_items (
        response_id  TEXT NOT NULL REFERENCES responses (id) ON DELETE CASCADE,
        output       INTEGER NOT NULL,           -- 0: an item of the request (input), 1: of the answer
        ordinal      INTEGER NOT NULL,           -- position among the response's input or output
        item_id      TEXT NOT NULL,
        item         TEXT NOT NULL,              -- the item as JSON, in the Responses API's shape
        sensitivity  TEXT,                       -- public | internal | private; NULL: not given (public)
        origin       TEXT,                       -- provider/model, for items only that upstream can read back
        PRIMARY KEY (response_id, output, ordinal)
      ) WITHOUT ROWID;
      CREATE INDEX response_items_item_id ON response_items (item_id);
      CREATE TABLE conversations (
        id          TEXT PRIMARY KEY,
        created_at  INTEGER NOT NULL,            -- seconds since the epoch
        updated_at  INTEGER NOT NULL,            -- ms since the epoch: last change to it or its items (retention)
        metadata    TEXT NOT NULL DEFAULT '{}'   -- JSON object of strings
      ) WITHOUT ROWID;
      CREATE INDEX conversations_updated_at ON conversations (updated_at);
      CREATE TABLE conversation_items (
        conversation_id  TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        ordinal          INTEGER NOT NULL,       -- increasing in the order items were added; gaps after deletes
        item_id          TEXT NOT NULL,
        item             TEXT NOT NULL,
        sensitivity      TEXT,
        origin           TEXT,
        PRIMARY KEY (conversation_id, ordinal)
      ) WITHOUT ROWID;
      CREATE INDEX conversation_items_item_id ON conversation_items (conversation_id, item_id);
      CREATE INDEX conversation_items_by_item ON conversation_items (item_id);
    `),
  // 4: rows are committed before a body is sent (audit before egress), so a row may stand for a body
  // that never left (the connection was refused): outcome says so. NULL: sent, or may have been.
  (db) => db.exec("ALTER TABLE egress_audit ADD COLUMN outcome TEXT; -- NULL: sent or may have been | not_sent"),
  // 5: a server journals an audit row before a body leaves and commits it here within ms (audit-journal.ts);
  // a journal file whose rows are committed is marked done in the same transaction, until it is deleted,
  // so a crash between the two never replays its rows twice.
  (db) => db.exec("CREATE TABLE audit_journal_done (file TEXT PRIMARY KEY) WITHOUT ROWID"),
  // 6: a response's input items list the conversation as it stood when the response began (OpenAI
  // prepends a conversation's items to them): the ordinal of its last item then. NULL: none (not in a
  // conversation, the conversation was empty, or a response saved before this step).
  (db) => db.exec("ALTER TABLE responses ADD COLUMN conversation_through INTEGER"),
  // 7: memories (what the user wants every model to remember), each with its vector when an embedding
  // model made one, and a full-text index of their text (FTS5, bm25) kept by triggers. The index holds
  // no copy of the text (external content) and runs with secure-delete, so a forgotten memory's words
  // leave the index's pages as its row leaves the table's (secure_delete overwrites both).
  (db) =>
    db.exec(`
      CREATE TABLE memories (
        id               TEXT NOT NULL UNIQUE,      -- mem_...
        seq              INTEGER PRIMARY KEY,       -- the full-text index's rowid; lists page by it (creation order)
        text             TEXT NOT NULL,
        created_at       INTEGER NOT NULL,          -- seconds since the epoch
        updated_at       INTEGER NOT NULL,
        sensitivity      TEXT NOT NULL,             -- public | internal | private
        metadata         TEXT,                      -- JSON object of strings; NULL: none
        embedding_model  TEXT,                      -- provider/model that made the vector; NULL: no vector
        embedding        BLOB                       -- float32 little-endian
      );
      CREATE VIRTUAL TABLE memories_fts USING fts5 (
        text, content = 'memories', content_rowid = 'seq', tokenize = 'unicode61 remove_diacritics 2'
      );
      INSERT INTO memories_fts (memories_fts, rank) VALUES ('secure-delete', 1);
      -- Each word's occurrences over all memories: their mean length, by which bm25 weighs a memory's own.
      CREATE VIRTUAL TABLE memories_vocab USING fts5vocab (memories_fts, row);
      CREATE TRIGGER memories_ai AFTER INSERT ON memories BEGIN
        INSERT INTO memories_fts (rowid, text) VALUES (new.seq, new.text);
      END;
      CREATE TRIGGER memories_ad AFTER DELETE ON memories BEGIN
        INSERT INTO memories_fts (memories_fts, rowid, text) VALUES ('delete', old.seq, old.text);
      END;
      CREATE TRIGGER memories_au AFTER UPDATE OF text ON memories BEGIN
        INSERT INTO memories_fts (memories_fts, rowid, text) VALUES ('delete', old.seq, old.text);
        INSERT INTO memories_fts (rowid, text) VALUES (new.seq, new.text);
      END;
    `),
  // 8: the Files API's files, bytes and all. `seq` orders them as they were created (ids are random,
  // and several may be created in one second), and pages a list after a cursor id.
  (db) =>
    db.exec(`
      CREATE TABLE files (
        seq         INTEGER PRIMARY KEY,
        id          TEXT NOT NULL UNIQUE,       -- file-...
        created_at  INTEGER NOT NULL,           -- seconds since the epoch
        expires_at  INTEGER,                    -- seconds since the epoch; NULL: kept until deleted
        filename    TEXT NOT NULL,
        purpose     TEXT NOT NULL,
        bytes       INTEGER NOT NULL,
        media_type  TEXT NOT NULL,              -- what the bytes are, as tandem found it
        data        BLOB NOT NULL
      );
      CREATE INDEX files_expires_at ON files (expires_at) WHERE expires_at IS NOT NULL;
    `),
  // 9: stored chat completions (`store: true` on POST /v1/chat/completions). `seq` orders them as they
  // were stored and pages a list after a cursor id; the completion, its request's messages and its
  // metadata are JSON, as the client sent and got them.
  (db) =>
    db.exec(`
      CREATE TABLE chat_completions (
        seq            INTEGER PRIMARY KEY,
        id             TEXT NOT NULL UNIQUE,     -- the completion's id (chatcmpl-...)
        stored_at      INTEGER NOT NULL,         -- seconds since the epoch: what retention counts from
        model          TEXT NOT NULL,            -- the model that answered
        request_model  TEXT NOT NULL,            -- the model (or route) the request named
        metadata       TEXT NOT NULL,            -- JSON object of strings
        completion     TEXT NOT NULL,            -- JSON: the chat.completion as the client got it
        messages       TEXT NOT NULL             -- JSON array: the request's messages
      );
      CREATE INDEX chat_completions_stored_at ON chat_completions (stored_at);
    `),
  // 10: vector stores (OpenAI's Vector Stores API, the `file_search` tool): the stores, the files each
  // holds (a Files API file by its id; deleting a store or a file's record never deletes the file),
  // the batches files were added in,
  // and the chunks of each completed file with their sensitivity and vector, indexed for words by
  // FTS5 as memories are (external content, secure-delete). A file's chunks are written in the same
  // transaction that marks it completed, so a crash never leaves some of them searchable.
  (db) =>
    db.exec(`
      CREATE TABLE vector_stores (
        seq                 INTEGER PRIMARY KEY,  -- creation order: lists page by it
        id                  TEXT NOT NULL UNIQUE, -- vs_...
        created_at          INTEGER NOT NULL,     -- seconds since the epoch
        name                TEXT NOT NULL,
        description         TEXT,
        metadata            TEXT,                 -- JSON object of strings; NULL: none
        expires_after_days  INTEGER,              -- NULL: never expires
        last_active_at      INTEGER NOT NULL
      );
      CREATE TABLE vector_store_files (
        seq            INTEGER PRIMARY KEY,
        store_id       TEXT NOT NULL REFERENCES vector_stores (id) ON DELETE CASCADE,
        file_id        TEXT NOT NULL,             -- file-... (no foreign key: the Files API deletes through tandem, which removes these)
        created_at     INTEGER NOT NULL,
        filename       TEXT NOT NULL,
        status         TEXT NOT NULL,             -- in_progress | completed | failed | cancelled
        last_error     TEXT,                      -- JSON {code, message}; NULL: none
        usage_bytes    INTEGER NOT NULL,
        attributes     TEXT,                      -- JSON object; NULL: none
        chunk_max      INTEGER NOT NULL,          -- tokens
        chunk_overlap  INTEGER NOT NULL,
        ingest_id      TEXT NOT NULL,             -- the ingestion a completion must name
        batch_id       TEXT,                      -- vsfb_... of the batch that added it last; NULL: added alone
        UNIQUE (store_id, file_id)
      );
      CREATE INDEX vector_store_files_batch ON vector_store_files (batch_id) WHERE batch_id IS NOT NULL;
      CREATE TABLE vector_store_file_batches (
        seq         INTEGER PRIMARY KEY,
        id          TEXT NOT NULL UNIQUE,         -- vsfb_...
        store_id    TEXT NOT NULL REFERENCES vector_stores (id) ON DELETE CASCADE,
        created_at  INTEGER NOT NULL,
        cancelled   INTEGER NOT NULL DEFAULT 0    -- 1: cancelled (its files still in progress then were cancelled)
      );
      CREATE INDEX vector_store_files_file ON vector_store_files (file_id);
      CREATE INDEX vector_store_files_pending ON vector_store_files (status) WHERE status = 'in_progress';
      CREATE TABLE vector_store_chunks (
        seq              INTEGER PRIMARY KEY,     -- the full-text index's rowid
        store_id         TEXT NOT NULL,
        file_id          TEXT NOT NULL,
        position         INTEGER NOT NULL,        -- the chunk's place in its file
        text             TEXT NOT NULL,
        sensitivity      TEXT NOT NULL,           -- public | internal | private
        embedding_model  TEXT,                    -- provider/model that made the vector; NULL: no vector
        embedding        BLOB,                    -- float32 little-endian
        FOREIGN KEY (store_id, file_id) REFERENCES vector_store_files (store_id, file_id) ON DELETE CASCADE
      );
      CREATE INDEX vector_store_chunks_file ON vector_store_chunks (store_id, file_id, position);
      CREATE VIRTUAL TABLE vector_store_chunks_fts USING fts5 (
        text, content = 'vector_store_chunks', content_rowid = 'seq', tokenize = 'unicode61 remove_diacritics 2'
      );
      INSERT INTO vector_store_chunks_fts (vector_store_chunks_fts, rank) VALUES ('secure-delete', 1);
      CREATE VIRTUAL TABLE vector_store_chunks_vocab USING fts5vocab (vector_store_chunks_fts, row);
      CREATE TRIGGER vector_store_chunks_ai AFTER INSERT ON vector_store_chunks BEGIN
        INSERT INTO vector_store_chunks_fts (rowid, text) VALUES (new.seq, new.text);
      END;
      CREATE TRIGGER vector_store_chunks_ad AFTER DELETE ON vector_store_chunks BEGIN
        INSERT INTO vector_store_chunks_fts (vector_store_chunks_fts, rowid, text) VALUES ('delete', old.seq, old.text);
      END;
    `),
  // 11: when each response was first stored, in ms, so the list of stored responses (GET /v1/responses)
  // keeps the order they were made in within one second (created_at is the API's seconds); a response
  // saved again (a background one finishing) keeps its first time. Rows from before: their second.
  (db) =>
    db.exec(`
      ALTER TABLE responses ADD COLUMN stored_at_ms INTEGER;
      UPDATE responses SET stored_at_ms = created_at * 1000;
      CREATE INDEX responses_stored_at_ms ON responses (stored_at_ms);
    `),
  // 12: the sensitivity a client declared when it uploaded a file (x-tandem-sensitivity): the least
  // level of every chunk a vector store makes of it and of every request that names it. Files from
  // before, and files uploaded without a declaration: NULL (detection alone, as before).
  (db) =>
    db.exec(`
      ALTER TABLE files ADD COLUMN sensitivity TEXT;   -- internal | private; NULL: none declared
    `),
  // 13: batches (OpenAI's Batch API, Anthropic's Message Batches) and each line with its outcome, so
  // a batch resumes after a crash with the lines not yet finished. A batch's fields are one JSON
  // record (its status also a column, to find the unfinished ones at a start); a line is pending
  // until it has a result, written in the transaction that adds its usage to the batch's.
  (db) =>
    db.exec(`
      CREATE TABLE batches (
        seq         INTEGER PRIMARY KEY,   -- creation order: lists are newest first
        id          TEXT NOT NULL UNIQUE,
        status      TEXT NOT NULL,
        record      TEXT NOT NULL          -- the BatchRecord as JSON
      );
      CREATE INDEX batches_unfinished ON batches (status) WHERE status IN ('validating', 'in_progress', 'finalizing', 'cancelling');
      CREATE TABLE batch_lines (
        batch_seq   INTEGER NOT NULL REFERENCES batches (seq) ON DELETE CASCADE,
        idx         INTEGER NOT NULL,      -- 0-based place in the input
        custom_id   TEXT NOT NULL,
        body        TEXT NOT NULL,         -- the request body as JSON
        result      TEXT,                  -- succeeded | errored | canceled | expired; NULL: not finished
        line_id     TEXT,                  -- batch_req_…, once finished
        outcome     TEXT,                  -- the BatchLineOutcome as JSON, once finished
        PRIMARY KEY (batch_seq, idx)
      ) WITHOUT ROWID;
      CREATE INDEX batch_lines_pending ON batch_lines (batch_seq, idx) WHERE result IS NULL;
    `),
  // 14: items that hold, or may quote, content declared private where tandem kept it (StoredItem.
  // declaredPrivate: conversation items added declared private, a turn that carried a private memory
  // or file), which a redacting route cannot make safe. Items from before: NULL (their level alone,
  // as before). A tandem without this step refuses the file rather than read these items as unmarked.
  (db) =>
    db.exec(`
      ALTER TABLE response_items ADD COLUMN declared_private INTEGER;       -- 1: declared private; NULL: not
      ALTER TABLE conversation_items ADD COLUMN declared_private INTEGER;   -- 1: declared private; NULL: not
    `),
  // 15: the full-text indexes keep marks inside words (`categories 'L* N* Co M*'`; unicode61's
  // default splits at them), so a Devanagari, Bengali or Thai word is one word, not a letter at each
  // vowel sign; Latin diacritics are still removed (remove_diacritics 2 folds them to nothing).
  // core/memory-terms.ts's memoryTokens tokenizes the query side the same way. Both indexes are
  // rebuilt from their tables; the old ones' pages are overwritten as they are freed (secure_delete).
  (db) =>
    db.exec(`
      DROP TABLE memories_vocab;
      DROP TABLE memories_fts;
      CREATE VIRTUAL TABLE memories_fts USING fts5 (
        text, content = 'memories', content_rowid = 'seq',
        tokenize = "unicode61 remove_diacritics 2 categories 'L* N* Co M*'"
      );
      INSERT INTO memories_fts (memories_fts, rank) VALUES ('secure-delete', 1);
      INSERT INTO memories_fts (memories_fts) VALUES ('rebuild');
      CREATE VIRTUAL TABLE memories_vocab USING fts5vocab (memories_fts, row);
      DROP TABLE vector_store_chunks_vocab;
      DROP TABLE vector_store_chunks_fts;
      CREATE VIRTUAL TABLE vector_store_chunks_fts USING fts5 (
        text, content = 'vector_store_chunks', content_rowid = 'seq',
        tokenize = "unicode61 remove_diacritics 2 categories 'L* N* Co M*'"
      );
      INSERT INTO vector_store_chunks_fts (vector_store_chunks_fts, rank) VALUES ('secure-delete', 1);
      INSERT INTO vector_store_chunks_fts (vector_store_chunks_fts) VALUES ('rebuild');
      CREATE VIRTUAL TABLE vector_store_chunks_vocab USING fts5vocab (vector_store_chunks_fts, row);
    `),
  // 16: which files each vector-store file batch added, one row each, in place of the file's single
  // batch_id: a later batch adding the same file took it out of the earlier batch, which then counted
  // 0 files and listed none. A file's rows go when it leaves the store (not when a batch re-adds it);
  // a batch's go with the batch. Each file's batch_id from before becomes its one row.
  (db) =>
    db.exec(`
      CREATE TABLE vector_store_file_batch_files (
        batch_id  TEXT NOT NULL REFERENCES vector_store_file_batches (id) ON DELETE CASCADE,
        store_id  TEXT NOT NULL,
        file_id   TEXT NOT NULL,
        PRIMARY KEY (batch_id, file_id)
      ) WITHOUT ROWID;
      CREATE INDEX vector_store_file_batch_files_file ON vector_store_file_batch_files (store_id, file_id);
      INSERT INTO vector_store_file_batch_files (batch_id, store_id, file_id)
        SELECT batch_id, store_id, file_id FROM vector_store_files WHERE batch_id IS NOT NULL;
      DROP INDEX vector_store_files_batch;
      ALTER TABLE vector_store_files DROP COLUMN batch_id;
    `),
  // 17: the full-text indexes read each text through tandem_fts_text (core/memory-terms.ts ftsText,
  // registered on every connection that opens the file: open-database.ts), which writes a run of
  // Chinese or Japanese characters as its pairs of characters, so a word inside such a run is found
  // (unicode61 made the run one token, found only from its start). The index's source is a view that
  // applies it, so FTS5's 'rebuild' reads what the triggers write; both indexes are rebuilt, the old
  // pages overwritten as they are freed (secure_delete).
  (db) =>
    db.exec(`
      DROP TRIGGER memories_ai;
      DROP TRIGGER memories_ad;
      DROP TRIGGER memories_au;
      DROP TABLE memories_vocab;
      DROP TABLE memories_fts;
      CREATE VIEW memories_fts_source AS SELECT seq, tandem_fts_text(text) AS text FROM memories;
      CREATE VIRTUAL TABLE memories_fts USING fts5 (
        text, content = 'memories_fts_source', content_rowid = 'seq',
        tokenize = "unicode61 remove_diacritics 2 categories 'L* N* Co M*'"
      );
      INSERT INTO memories_fts (memories_fts, rank) VALUES ('secure-delete', 1);
      INSERT INTO memories_fts (memories_fts) VALUES ('rebuild');
      CREATE VIRTUAL TABLE memories_vocab USING fts5vocab (memories_fts, row);
      CREATE TRIGGER memories_ai AFTER INSERT ON memories BEGIN
        INSERT INTO memories_fts (rowid, text) VALUES (new.seq, tandem_fts_text(new.text));
      END;
      CREATE TRIGGER memories_ad AFTER DELETE ON memories BEGIN
        INSERT INTO memories_fts (memories_fts, rowid, text) VALUES ('delete', old.seq, tandem_fts_text(old.text));
      END;
      CREATE TRIGGER memories_au AFTER UPDATE OF text ON memories BEGIN
        INSERT INTO memories_fts (memories_fts, rowid, text) VALUES ('delete', old.seq, tandem_fts_text(old.text));
        INSERT INTO memories_fts (rowid, text) VALUES (new.seq, tandem_fts_text(new.text));
      END;
      DROP TRIGGER vector_store_chunks_ai;
      DROP TRIGGER vector_store_chunks_ad;
      DROP TABLE vector_store_chunks_vocab;
      DROP TABLE vector_store_chunks_fts;
      CREATE VIEW vector_store_chunks_fts_source AS SELECT seq, tandem_fts_text(text) AS text FROM vector_store_chunks;
      CREATE VIRTUAL TABLE vector_store_chunks_fts USING fts5 (
        text, content = 'vector_store_chunks_fts_source', content_rowid = 'seq',
        tokenize = "unicode61 remove_diacritics 2 categories 'L* N* Co M*'"
      );
      INSERT INTO vector_store_chunks_fts (vector_store_chunks_fts, rank) VALUES ('secure-delete', 1);
      INSERT INTO vector_store_chunks_fts (vector_store_chunks_fts) VALUES ('rebuild');
      CREATE VIRTUAL TABLE vector_store_chunks_vocab USING fts5vocab (vector_store_chunks_fts, row);
      CREATE TRIGGER vector_store_chunks_ai AFTER INSERT ON vector_store_chunks BEGIN
        INSERT INTO vector_store_chunks_fts (rowid, text) VALUES (new.seq, tandem_fts_text(new.text));
      END;
      CREATE TRIGGER vector_store_chunks_ad AFTER DELETE ON vector_store_chunks BEGIN
        INSERT INTO vector_store_chunks_fts (vector_store_chunks_fts, rowid, text) VALUES ('delete', old.seq, tandem_fts_text(old.text));
      END;
    `),
  // 18: the id the client was given for its request (`req_...`: `x-request-id`, Anthropic's
  // `request-id` and an error body's `request_id`), as the server's log line has it, so that a
  // client's report finds its row. Rows from before: NULL (their id was never kept).
  (db) => db.exec("ALTER TABLE request_log ADD COLUMN request_id TEXT; -- req_...; NULL: a row from before this step"),
  // 19: each vector store chunk's length in words (memoryTokens), so a search weighs a chunk's length
  // against the mean of the searched stores' chunks only: the word index counts every store's, and
  // a store's scores (and so its score_threshold) moved as unrelated stores filled. Rows from
  // before: counted here, a page at a time (better-sqlite3 runs no write while a read is open).
  (db) => {
    db.exec("ALTER TABLE vector_store_chunks ADD COLUMN tokens INTEGER NOT NULL DEFAULT 0; -- its words (memoryTokens)");
    const page = db.prepare<[number], { seq: number; text: string }>(
      "SELECT seq, text FROM vector_store_chunks WHERE seq > ? ORDER BY seq LIMIT 500",
    );
    const count = db.prepare<[number, number]>("UPDATE vector_store_chunks SET tokens = ? WHERE seq = ?");
    for (let after = 0; ; ) {
      const rows = page.all(after);
      if (rows.length === 0) break;
      for (const row of rows) count.run(memoryTokens(row.text).length, row.seq);
      after = (rows.at(-1) as { seq: number }).seq;
    }
  },
  // 20: each stored item's role when it is a message, and the start of its text, kept beside it, so
  // that a list's previews (GET /v1/responses, GET /v1/conversations) read a few hundred characters
  // per row: read from the item, they parsed the whole of it, and one stored 30 MB message made every
  // list take seconds. Rows from before: filled in here, read from the item as the list did.
  (db) => {
    const text = (column: string) => `substr(CASE json_type(${column}, '$.content')
        WHEN 'text' THEN json_extract(${column}, '$.content')
        WHEN 'array' THEN (SELECT group_concat(json_extract(part.value, '$.text'), ' ') FROM json_each(${column}, '$.content') AS part
                           WHERE json_extract(part.value, '$.type') IN ('input_text', 'output_text', 'text') AND json_type(part.value, '$.text') = 'text')
      END, 1, 800)`;
    for (const table of ["response_items", "conversation_items"]) {
      db.exec(`
        ALTER TABLE ${table} ADD COLUMN message_role TEXT; -- the item's role when it is a message, else NULL
        ALTER TABLE ${table} ADD COLUMN preview TEXT;      -- a message's text, its first 800 characters (previews), else NULL
        UPDATE ${table} SET message_role = json_extract(item, '$.role'), preview = ${text("item")}
          WHERE json_extract(item, '$.type') = 'message';
      `);
    }
  },
  // 21: a journal file now lasts across hand-overs (audit-journal.ts): its mark says how many of its
  // records are committed (the first ones), or NULL when all are and the file is to be deleted, as
  // every mark said before this step.
  (db) => db.exec("ALTER TABLE audit_journal_done ADD COLUMN records INTEGER"),
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
