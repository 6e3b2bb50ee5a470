import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import Sqlite from "better-sqlite3-multiple-ciphers";
import { ftsText, memoryTokens } from "../../src/core/memory-terms.js";
import {
  type DatabaseKey,
  MIGRATIONS,
  openEncryptedDatabase,
  openStore,
  type RequestLogEntry,
  SCHEMA_VERSION,
  type Store,
  StoreError,
} from "../../src/store/index.js";
import { databaseFiles, eventLog, filesContaining, randomKey, tempDataDir } from "./store-support.js";

const DAY = 86_400_000;

/** Opens the file the way tandem does, without any of tandem's own code: for building old databases. */
function rawOpen(file: string, key: Buffer): Sqlite.Database {
  const db = new Sqlite(file);
  db.pragma("cipher = 'sqlcipher'");
  db.pragma("legacy = 4");
  db.pragma(`key = "x'${key.toString("hex")}'"`);
  return db;
}

/** Schema version 1 exactly as it was released; a migration test must not follow later edits. */
const SCHEMA_V1 = `
  CREATE TABLE request_log (
    id INTEGER PRIMARY KEY, time INTEGER NOT NULL, route TEXT, target TEXT, dialect TEXT NOT NULL,
    status INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, degraded TEXT, latency_ms INTEGER,
    ttft_ms INTEGER, input_tokens INTEGER, output_tokens INTEGER, error_code TEXT,
    request_content TEXT, response_content TEXT
  );
  CREATE INDEX request_log_time ON request_log (time);
  CREATE TABLE egress_audit (
    id INTEGER PRIMARY KEY, time INTEGER NOT NULL, target TEXT NOT NULL, route TEXT, sensitivity TEXT NOT NULL,
    redactions TEXT NOT NULL DEFAULT '{}', sha256 TEXT NOT NULL, bytes INTEGER NOT NULL
  );
  CREATE INDEX egress_audit_time ON egress_audit (time);
  CREATE TABLE usage (
    day TEXT NOT NULL, target TEXT NOT NULL, requests INTEGER NOT NULL DEFAULT 0,
    input_tokens INTEGER NOT NULL DEFAULT 0, output_tokens INTEGER NOT NULL DEFAULT 0, cost_usd REAL,
    PRIMARY KEY (day, target)
  ) WITHOUT ROWID;
`;

function request(overrides: Partial<RequestLogEntry> = {}): RequestLogEntry {
  return { dialect: "openai", status: 200, route: "auto", target: "openai/gpt-4o-mini", attempts: 1, ...overrides };
}

function quietStore(dataDir: string, key: Buffer | DatabaseKey, extra: Partial<Parameters<typeof openStore>[0]> = {}): Store {
  return openStore({ dataDir, key, pruneIntervalMs: 0, report: () => {}, ...extra });
}

describe("encrypted store", () => {
  it("keeps no plaintext on disk: not in the database, its WAL or its shared-memory file", () => {
    const dataDir = tempDataDir();
    const canary = `CANARY-${randomKey().toString("hex").slice(0, 12)}`;
    const store = quietStore(dataDir, randomKey(), { logContent: true });
    store.logRequest(request({ route: `${canary}-route`, content: { request: `say ${canary}`, response: `${canary}!` } }));
    store.recordEgress({ target: "openai/gpt-4o-mini", sensitivity: "public", body: `{"prompt":"${canary}"}` });
    store.addUsage({ target: `${canary}-target`, inputTokens: 3 });
    store.setSecret("canary", `sk-${canary}`);
    assert.equal(store.flush().ok, true);
    // While open, the rows sit in the WAL: it is encrypted too.
    assert.ok(
      databaseFiles(dataDir).some((f) => f.endsWith("-wal")),
      "WAL file exists while open",
    );
    assert.deepEqual(filesContaining(dataDir, canary), []);
    assert.equal(store.getSecret("canary"), `sk-${canary}`);
    assert.equal(store.queryRequests()[0]?.requestContent, `say ${canary}`);
    store.close();
    assert.deepEqual(filesContaining(dataDir, canary), []);
    assert.deepEqual(filesContaining(dataDir, "SQLite format 3"), [], "not even the SQLite header is readable");
  });

  it("makes its files private (0600) and the data dir 0700", () => {
    const dataDir = join(tempDataDir(), "data");
    const store = quietStore(dataDir, randomKey());
    store.logRequest(request());
    store.flush();
    for (const file of databaseFiles(dataDir)) {
      assert.equal(modeOf(file), 0o600, file);
    }
    assert.equal(modeOf(dataDir), 0o700);
    store.close();
  });

  it("refuses a wrong key with a clear error naming the file, and leaves the file as it was", () => {
    const dataDir = tempDataDir();
    const key = randomKey();
    const store = quietStore(dataDir, key);
    store.logRequest(request({ route: "kept" }));
    store.close();
    const file = join(dataDir, "tandem.db");
    const before = readFileSync(file);
    assert.throws(
      () => quietStore(dataDir, { key: randomKey(), source: "env", where: "TANDEM_DB_KEY", created: false }),
      (err: unknown) =>
        err instanceof StoreError &&
        err.code === "key_mismatch" &&
        err.message.startsWith(`the database key does not match ${file}`) &&
        err.message.includes("(the key came from TANDEM_DB_KEY)"),
    );
    assert.deepEqual(readFileSync(file), before);
    assert.deepEqual(databaseFiles(dataDir), [file], "no WAL was started by the failed open");
    const again = quietStore(dataDir, key);
    assert.equal(again.queryRequests()[0]?.route, "kept");
    again.close();
  });

  it("refuses a file that is not its database, naming it, and never overwrites it", () => {
    const cases: { name: string; bytes: Buffer; code: StoreError["code"]; text: string }[] = [
      { name: "random pages", bytes: randomBytes(8192), code: "key_mismatch", text: "or the file is damaged" },
      {
        name: "a text file",
        bytes: Buffer.from("notes\n".repeat(1000)),
        code: "corrupt",
        text: "is damaged or is not a tandem database",
      },
      { name: "a plain SQLite database", bytes: plainSqlite(), code: "corrupt", text: "is an unencrypted SQLite database" },
    ];
    for (const c of cases) {
      const dataDir = tempDataDir();
      const file = join(dataDir, "tandem.db");
      writeFileSync(file, c.bytes);
      assert.throws(
        () => quietStore(dataDir, randomKey()),
        (err: unknown) =>
          err instanceof StoreError && err.code === c.code && err.message.includes(file) && err.message.includes(c.text),
        c.name,
      );
      assert.deepEqual(readFileSync(file), c.bytes, `${c.name} is left as it was`);
    }
  });

  it("refuses a database with damaged pages when it opens, naming the file, and leaves it byte for byte as it was", () => {
    const dataDir = tempDataDir();
    const key = randomKey();
    const store = quietStore(dataDir, key, { logContent: true });
    for (let i = 0; i < 400; i++) store.logRequest(request({ content: { request: "x".repeat(200) } }));
    store.close();
    const file = join(dataDir, "tandem.db");
    const bytes = readFileSync(file);
    assert.ok(bytes.length > 8 * 4096);
    // Two pages of the request log, written after every table was made: the pages before them hold the
    // schema and the tables' first pages, which opening the file reads anyway.
    const late = Math.floor((bytes.length / 4096) * 0.8) * 4096;
    bytes.fill(0x5a, late, late + 2 * 4096);
    writeFileSync(file, bytes);
    assert.throws(
      () => quietStore(dataDir, key),
      (err: unknown) =>
        err instanceof StoreError &&
        err.code === "corrupt" &&
        err.message.startsWith(`${file} is damaged (the check at open found`),
    );
    assert.ok(readFileSync(file).equals(bytes), "the damaged file is left as it was");
  });

  it("in a file too large to check whole, checks the egress audit, keys and usage at open, not the request log", () => {
    const dataDir = tempDataDir();
    const key = randomKey();
    const store = quietStore(dataDir, key, { logContent: true });
    for (let i = 0; i < 400; i++) store.logRequest(request({ content: { request: "x".repeat(200) } }));
    store.recordEgress({ target: "t/m", sensitivity: "public", body: "sent" });
    store.close();
    const file = join(dataDir, "tandem.db");
    const pristine = readFileSync(file);
    const db = rawOpen(file, key);
    const rootOf = (table: string) =>
      (db.prepare("SELECT rootpage FROM sqlite_schema WHERE name = ?").get(table) as { rootpage: number }).rootpage;
    const auditPage = rootOf("egress_audit");
    const logRoot = rootOf("request_log");
    db.close();
    // The egress audit's only page damaged: refused even when the file counts as large.
    const auditDamaged = Buffer.from(pristine);
    auditDamaged.fill(0x5a, (auditPage - 1) * 4096 + 100, (auditPage - 1) * 4096 + 200);
    writeFileSync(file, auditDamaged);
    assert.throws(
      () => quietStore(dataDir, key, { checkMaxBytes: 1 }),
      (err: unknown) => (err as StoreError).code === "corrupt",
    );
    assert.ok(readFileSync(file).equals(auditDamaged));
    // A request log page past its root damaged: a large file opens (that table is not checked at open),
    // and reading it fails clearly; a file within the limit is refused at open.
    const logDamaged = Buffer.from(pristine);
    const lastPage = pristine.length / 4096;
    assert.ok(lastPage > logRoot + 2 && lastPage > auditPage + 1);
    logDamaged.fill(0x5a, (lastPage - 1) * 4096 + 100, (lastPage - 1) * 4096 + 200);
    writeFileSync(file, logDamaged);
    assert.throws(
      () => quietStore(dataDir, key),
      (err: unknown) => (err as StoreError).code === "corrupt",
    );
    const large = quietStore(dataDir, key, { checkMaxBytes: 1 });
    try {
      assert.equal(large.queryAudit()[0]?.target, "t/m");
      assert.throws(
        () => large.queryRequests({ limit: 1000 }),
        (err: unknown) => err instanceof StoreError && err.code === "corrupt" && err.message.startsWith(`${file} is damaged`),
      );
    } finally {
      large.close();
    }
  });

  it("refuses an empty database file it did not just create, and a truncated one, leaving both as they were", () => {
    const dataDir = tempDataDir();
    const key = randomKey();
    const file = join(dataDir, "tandem.db");
    writeFileSync(file, "");
    assert.throws(
      () => quietStore(dataDir, key),
      (err: unknown) =>
        err instanceof StoreError && err.code === "corrupt" && err.message.startsWith(`${file} is empty (0 bytes)`),
    );
    assert.equal(readFileSync(file).length, 0);
    // The same empty file with tandem's creation marker beside it: a creation cut short, resumed.
    writeFileSync(`${file}-creating`, "");
    quietStore(dataDir, key).close();
    assert.ok(readFileSync(file).length > 0);
    assert.ok(!existsSync(`${file}-creating`), "the marker is gone once the schema is committed");
    rmSync(file);
    const store = quietStore(dataDir, key, { logContent: true });
    for (let i = 0; i < 400; i++) store.logRequest(request({ content: { request: "x".repeat(200) } }));
    store.close();
    const truncated = readFileSync(file).subarray(0, 6 * 4096);
    writeFileSync(file, truncated);
    assert.throws(
      () => quietStore(dataDir, key),
      (err: unknown) => err instanceof StoreError && err.code === "corrupt",
    );
    assert.ok(readFileSync(file).equals(truncated));
  });

  it("migrates a database made at schema version 1, keeping its rows", () => {
    const dataDir = tempDataDir();
    const key = randomKey();
    const file = join(dataDir, "tandem.db");
    const old = rawOpen(file, key);
    old.pragma("journal_mode = WAL");
    old.exec(SCHEMA_V1);
    old.prepare("INSERT INTO request_log (time, dialect, status, route) VALUES (?, 'ollama', 200, 'from-v1')").run(Date.now());
    old.pragma("user_version = 1");
    old.close();

    const store = quietStore(dataDir, key);
    assert.equal(store.queryRequests()[0]?.route, "from-v1");
    store.setSecret("new-in-v2", "sk-test-value-123");
    assert.equal(store.getSecret("new-in-v2"), "sk-test-value-123");
    store.close();
    const check = rawOpen(file, key);
    assert.equal(check.pragma("user_version", { simple: true }), SCHEMA_VERSION);
    check.close();
  });

  it("migrates a database at schema version 11: its files keep no declared level, new ones keep theirs", () => {
    const dataDir = tempDataDir();
    const key = randomKey();
    const file = join(dataDir, "tandem.db");
    const old = rawOpen(file, key);
    old.pragma("journal_mode = WAL");
    // Released steps never change, so the first 11 build the database a tandem of version 11 wrote.
    for (const step of MIGRATIONS.slice(0, 11)) step(old);
    old.pragma("user_version = 11");
    old
      .prepare(
        `INSERT INTO files (id, created_at, expires_at, filename, purpose, bytes, media_type, data)
         VALUES ('file-old', 1700000000, NULL, 'old.md', 'assistants', 3, 'text/markdown', ?)`,
      )
      .run(Buffer.from("old"));
    old.close();

    const store = quietStore(dataDir, key);
    const now = 1_700_000_100;
    const kept = store.files.getFile("file-old", now);
    assert.equal(kept?.filename, "old.md");
    assert.ok(kept !== undefined && !("sensitivity" in kept), "a file from before the migration has no declared level");
    const declared = { ...kept, id: "file-new", filename: "new.md", sensitivity: "private" as const };
    store.files.saveFile(declared, Buffer.from("new"), now);
    assert.equal(store.files.fileContent("file-new", now)?.file.sensitivity, "private");
    store.close();
    const check = rawOpen(file, key);
    assert.equal(check.pragma("user_version", { simple: true }), SCHEMA_VERSION);
    check.close();
  });

  it("migrates a database at schema version 13: its items carry no declared-private mark, new ones keep theirs", () => {
    const dataDir = tempDataDir();
    const key = randomKey();
    const file = join(dataDir, "tandem.db");
    const old = rawOpen(file, key);
    old.pragma("journal_mode = WAL");
    for (const step of MIGRATIONS.slice(0, 13)) step(old);
    old.pragma("user_version = 13");
    old.exec("INSERT INTO responses (id, created_at, response) VALUES ('resp_old', 1700000000, '{}')");
    old
      .prepare(
        `INSERT INTO response_items (response_id, output, ordinal, item_id, item, sensitivity)
         VALUES ('resp_old', 0, 0, 'msg_old', ?, 'private')`,
      )
      .run(JSON.stringify({ id: "msg_old", type: "message" }));
    old.close();

    const store = quietStore(dataDir, key);
    assert.deepEqual(store.state.responseHistory("resp_old"), [
      { item: { id: "msg_old", type: "message" }, sensitivity: "private" },
    ]);
    const marked = { item: { id: "msg_new", type: "message" }, sensitivity: "private" as const, declaredPrivate: true as const };
    store.state.saveResponse({
      id: "resp_new",
      createdAt: 1700000001,
      response: {},
      previousResponseId: "resp_old",
      input: [marked],
      output: [],
    });
    assert.deepEqual(store.state.responseHistory("resp_new")?.at(-1), marked);
    store.close();
    const check = rawOpen(file, key);
    assert.equal(check.pragma("user_version", { simple: true }), SCHEMA_VERSION);
    check.close();
  });

  it("migrates a database at schema version 14: its word indexes are rebuilt to keep marks inside words, memories kept", () => {
    const dataDir = tempDataDir();
    const key = randomKey();
    const file = join(dataDir, "tandem.db");
    const old = rawOpen(file, key);
    old.pragma("journal_mode = WAL");
    for (const step of MIGRATIONS.slice(0, 14)) step(old);
    old.pragma("user_version = 14");
    const insert = old.prepare(
      `INSERT INTO memories (id, text, created_at, updated_at, sensitivity) VALUES (?, ?, 1700000000, 1700000000, 'public')`,
    );
    insert.run("mem_hindi", "उपयोगकर्ता को क्रिकेट पसंद है");
    insert.run("mem_german", "Der Nutzer fährt gern nach München");
    // The old index cut the Devanagari word at each vowel sign.
    const wordCount = (db: Sqlite.Database) =>
      (db.prepare("SELECT count(*) AS n FROM memories_vocab WHERE term = 'क्रिकेट'").get() as { n: number }).n;
    assert.equal(wordCount(old), 0);
    old.close();

    const store = quietStore(dataDir, key);
    const found = (text: string) => store.memory.search({ text, limit: 10, minScore: 0 }).map((hit) => hit.memory.id);
    assert.deepEqual(found("क्रिकेट"), ["mem_hindi"]);
    assert.deepEqual(found("munchen"), ["mem_german"]);
    assert.equal(store.memory.list({ limit: 10, order: "asc" }).data.length, 2);
    store.close();
    const check = rawOpen(file, key);
    assert.equal(check.pragma("user_version", { simple: true }), SCHEMA_VERSION);
    assert.equal(wordCount(check), 1);
    const chunks = check.prepare("SELECT sql FROM sqlite_master WHERE name = 'vector_store_chunks_fts'").get() as { sql: string };
    assert.match(chunks.sql, /categories 'L\* N\* Co M\*'/);
    check.close();
  });

  it("migrates a database at schema version 15: each file's batch becomes its batch membership, counts and lists kept", () => {
    const dataDir = tempDataDir();
    const key = randomKey();
    const file = join(dataDir, "tandem.db");
    const old = rawOpen(file, key);
    old.pragma("journal_mode = WAL");
    for (const step of MIGRATIONS.slice(0, 15)) step(old);
    old.pragma("user_version = 15");
    old.exec(`
      INSERT INTO vector_stores (id, created_at, name, last_active_at) VALUES ('vs_old', 1700000000, 'old', 1700000000);
      INSERT INTO vector_store_file_batches (id, store_id, created_at) VALUES ('vsfb_old', 'vs_old', 1700000000);
      INSERT INTO vector_store_files (store_id, file_id, created_at, filename, status, usage_bytes, chunk_max, chunk_overlap, ingest_id, batch_id)
      VALUES ('vs_old', 'file-a', 1700000000, 'a.txt', 'completed', 10, 800, 400, 'ing_a', 'vsfb_old'),
             ('vs_old', 'file-b', 1700000000, 'b.txt', 'failed', 0, 800, 400, 'ing_b', 'vsfb_old'),
             ('vs_old', 'file-c', 1700000000, 'c.txt', 'completed', 10, 800, 400, 'ing_c', NULL);
    `);
    old.close();

    const store = quietStore(dataDir, key);
    assert.deepEqual(store.vectorStores.getBatch("vs_old", "vsfb_old")?.fileCounts, {
      in_progress: 0,
      completed: 1,
      failed: 1,
      cancelled: 0,
      total: 2,
    });
    const listed = store.vectorStores.listFiles("vs_old", { limit: 10, order: "asc", batchId: "vsfb_old" });
    assert.deepEqual(
      listed.data.map((f) => f.fileId),
      ["file-a", "file-b"],
    );
    assert.equal(store.vectorStores.listFiles("vs_old", { limit: 10, order: "asc" }).data.length, 3);
    store.close();
  });

  it("migrates a database at schema version 16: its word indexes find Chinese and Japanese words inside a run", () => {
    const dataDir = tempDataDir();
    const key = randomKey();
    const file = join(dataDir, "tandem.db");
    const old = rawOpen(file, key);
    old.pragma("journal_mode = WAL");
    for (const step of MIGRATIONS.slice(0, 16)) step(old);
    old.pragma("user_version = 16");
    old.exec(`
      INSERT INTO memories (id, text, created_at, updated_at, sensitivity)
      VALUES ('mem_sushi', 'ユーザーは寿司が大好きです', 1700000000, 1700000000, 'public'),
             ('mem_german', 'Der Nutzer fährt gern nach München', 1700000000, 1700000000, 'public');
      INSERT INTO vector_stores (id, created_at, name, last_active_at) VALUES ('vs_old', 1700000000, 'old', 1700000000);
      INSERT INTO vector_store_files (store_id, file_id, created_at, filename, status, usage_bytes, chunk_max, chunk_overlap, ingest_id)
      VALUES ('vs_old', 'file-a', 1700000000, 'a.txt', 'completed', 10, 800, 400, 'ing_a');
      INSERT INTO vector_store_chunks (store_id, file_id, position, text, sensitivity)
      VALUES ('vs_old', 'file-a', 0, '用户喜欢吃北京烤鸭和饺子', 'public');
    `);
    // The old index held each run whole: a word inside it was not a word of its own.
    const found = (db: Sqlite.Database, table: string, word: string) =>
      (db.prepare(`SELECT count(*) AS n FROM ${table} WHERE ${table} MATCH ?`).get(`"${word}"`) as { n: number }).n;
    assert.equal(found(old, "memories_fts", "寿司"), 0);
    assert.equal(found(old, "vector_store_chunks_fts", "烤鸭"), 0);
    old.close();

    const store = quietStore(dataDir, key);
    const memories = (text: string) => store.memory.search({ text, limit: 10, minScore: 0 }).map((hit) => hit.memory.id);
    assert.deepEqual(memories("寿司"), ["mem_sushi"]);
    assert.deepEqual(memories("munchen"), ["mem_german"]);
    const chunks = (text: string) =>
      store.vectorStores.search({ vectorStoreIds: ["vs_old"], text, limit: 10, minScore: 0 }, 1700000001).map((hit) => hit.text);
    assert.deepEqual(chunks("烤鸭"), ["用户喜欢吃北京烤鸭和饺子"]);
    // Rows written after it are indexed alike, and a delete takes its words out again.
    const added = store.memory.add({ text: "週末は京都へ行く", sensitivity: "public" });
    assert.deepEqual(memories("京都"), [added.id]);
    store.memory.delete(added.id);
    assert.deepEqual(memories("京都"), []);
    store.close();
    const check = rawOpen(file, key);
    assert.equal(check.pragma("user_version", { simple: true }), SCHEMA_VERSION);
    check.close();
  });

  it("migrates a database at schema version 17: its request log rows have no request id, new ones keep theirs", () => {
    const dataDir = tempDataDir();
    const key = randomKey();
    const file = join(dataDir, "tandem.db");
    const old = rawOpen(file, key);
    old.pragma("journal_mode = WAL");
    // Step 17's indexes read text through a function every connection of tandem registers.
    old.function("tandem_fts_text", { deterministic: true }, (text: unknown) =>
      typeof text === "string" ? ftsText(text) : text,
    );
    for (const step of MIGRATIONS.slice(0, 17)) step(old);
    old.pragma("user_version = 17");
    old
      .prepare("INSERT INTO request_log (time, dialect, status, route) VALUES (?, 'openai', 200, 'from-v17')")
      .run(Date.now() - 1000);
    old.close();

    const store = quietStore(dataDir, key);
    store.logRequest(request({ route: "after", requestId: "req_TihAsLRGOzEOBe5uLAkDAoKi" }));
    assert.equal(store.flush().ok, true);
    assert.deepEqual(
      store.queryRequests().map((row) => [row.route, row.requestId]),
      [
        ["after", "req_TihAsLRGOzEOBe5uLAkDAoKi"],
        ["from-v17", null],
      ],
    );
    store.close();
    const check = rawOpen(file, key);
    assert.equal(check.pragma("user_version", { simple: true }), SCHEMA_VERSION);
    check.close();
  });

  it("migrates a database at schema version 18: its chunks get their word counts, so a store's scores are its own", () => {
    const dataDir = tempDataDir();
    const key = randomKey();
    const file = join(dataDir, "tandem.db");
    const old = rawOpen(file, key);
    old.pragma("journal_mode = WAL");
    old.function("tandem_fts_text", { deterministic: true }, (text: unknown) =>
      typeof text === "string" ? ftsText(text) : text,
    );
    for (const step of MIGRATIONS.slice(0, 18)) step(old);
    old.pragma("user_version = 18");
    const long = "quokka marsupial rottnest wildlife herbivore nocturnal ".repeat(6);
    old.exec(`
      INSERT INTO vector_stores (id, created_at, name, last_active_at)
      VALUES ('vs_mine', 1700000000, 'mine', 1700000000), ('vs_other', 1700000000, 'other', 1700000000);
      INSERT INTO vector_store_files (store_id, file_id, created_at, filename, status, usage_bytes, chunk_max, chunk_overlap, ingest_id)
      VALUES ('vs_mine', 'file-q', 1700000000, 'q.txt', 'completed', 10, 800, 400, 'ing_q'),
             ('vs_mine', 'file-f', 1700000000, 'f.txt', 'completed', 10, 800, 400, 'ing_f'),
             ('vs_other', 'file-o', 1700000000, 'o.txt', 'completed', 10, 800, 400, 'ing_o');
      INSERT INTO vector_store_chunks (store_id, file_id, position, text, sensitivity)
      VALUES ('vs_mine', 'file-q', 0, 'quokka lives on an island', 'public'),
             ('vs_mine', 'file-f', 0, 'the ferry leaves at noon', 'public'),
             ('vs_other', 'file-o', 0, '${long}', 'public');
    `);
    old.close();

    const store = quietStore(dataDir, key);
    const score = () =>
      store.vectorStores.search({ vectorStoreIds: ["vs_mine"], text: "quokka", limit: 10, minScore: 0 }, 1700000001)[0]?.score;
    const withOther = score();
    assert.ok(withOther !== undefined && withOther > 0);
    store.vectorStores.deleteStore("vs_other");
    assert.equal(score(), withOther, "the other store's long chunk weighed nothing");
    store.close();
    const check = rawOpen(file, key);
    const counted = check.prepare("SELECT text, tokens FROM vector_store_chunks ORDER BY seq").all() as {
      text: string;
      tokens: number;
    }[];
    for (const row of counted) assert.equal(row.tokens, memoryTokens(row.text).length);
    check.close();
  });

  it("leaves an old database at its version when a migration step fails", () => {
    const dataDir = tempDataDir();
    const key = randomKey();
    const file = join(dataDir, "tandem.db");
    const old = rawOpen(file, key);
    old.exec(SCHEMA_V1);
    old.exec("CREATE TABLE secrets (something_else TEXT)"); // makes step 2 fail
    old.prepare("INSERT INTO request_log (time, dialect, status) VALUES (?, 'openai', 200)").run(Date.now());
    old.pragma("user_version = 1");
    old.close();
    assert.throws(
      () => quietStore(dataDir, key),
      (err: unknown) =>
        err instanceof StoreError &&
        err.code === "migration_failed" &&
        err.message.includes(file) &&
        err.message.includes("from schema version 1 to") &&
        err.message.includes("left at version 1"),
    );
    const check = rawOpen(file, key);
    assert.equal(check.pragma("user_version", { simple: true }), 1);
    assert.deepEqual(check.prepare("SELECT count(*) AS n FROM request_log").get(), { n: 1 });
    check.close();
  });

  it("refuses a database from a newer tandem without touching it", () => {
    const dataDir = tempDataDir();
    const key = randomKey();
    const file = join(dataDir, "tandem.db");
    const db = openEncryptedDatabase(file, key);
    db.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
    db.close();
    const before = readFileSync(file);
    assert.throws(
      () => quietStore(dataDir, key),
      (err: unknown) =>
        err instanceof StoreError &&
        err.code === "too_new" &&
        err.message ===
          `${file} was written by a newer tandem (schema version ${SCHEMA_VERSION + 5}; this one knows up to ${SCHEMA_VERSION}); upgrade tandem to use it. The file was not changed`,
    );
    assert.deepEqual(readFileSync(file), before);
  });

  it("keeps request content only when content logging is on", () => {
    const dataDir = tempDataDir();
    const key = randomKey();
    const off = quietStore(dataDir, key);
    off.logRequest(request({ content: { request: "secret question", response: "secret answer" } }));
    const [row] = off.queryRequests();
    assert.equal(row?.requestContent, null);
    assert.equal(row?.responseContent, null);
    off.close();
    const on = quietStore(dataDir, key, { logContent: true });
    on.logRequest(
      request({
        requestId: "req_0123456789abcdefghijklmn",
        content: { request: "q", response: "a" },
        latencyMs: 12.6,
        ttftMs: 3,
        inputTokens: 10,
        outputTokens: 2,
        degraded: "lower tier",
        errorCode: "timeout",
        status: 504,
      }),
    );
    const [latest] = on.queryRequests({ limit: 1 });
    assert.deepEqual(
      { ...latest, id: 0, time: 0 },
      {
        id: 0,
        time: 0,
        requestId: "req_0123456789abcdefghijklmn",
        route: "auto",
        target: "openai/gpt-4o-mini",
        dialect: "openai",
        status: 504,
        attempts: 1,
        degraded: "lower tier",
        latencyMs: 13,
        ttftMs: 3,
        inputTokens: 10,
        outputTokens: 2,
        errorCode: "timeout",
        requestContent: "q",
        responseContent: "a",
      },
    );
    on.close();
  });

  it("prunes content past the retention period, and rows past the log retention period", () => {
    const dataDir = tempDataDir();
    const store = quietStore(dataDir, randomKey(), { logContent: true, retentionDays: 7, logRetentionDays: 30 });
    const now = Date.now();
    const content = { request: "q", response: "a" };
    store.logRequest(request({ route: "today", time: now, content }));
    store.logRequest(request({ route: "ten-days", time: now - 10 * DAY, content }));
    store.logRequest(request({ route: "forty-days", time: now - 40 * DAY, content }));
    store.recordEgress({ target: "t/m", sensitivity: "public", body: "x", time: now - 40 * DAY });
    store.recordEgress({ target: "t/m", sensitivity: "public", body: "y", time: now });
    store.flush();
    assert.deepEqual(store.prune(now), { contentCleared: 2, requestsDeleted: 1, auditDeleted: 1 });
    const rows = store.queryRequests({ limit: 10 });
    assert.deepEqual(
      rows.map((r) => [r.route, r.requestContent]),
      [
        ["today", "q"],
        ["ten-days", null],
      ],
    );
    assert.equal(store.queryAudit().length, 1);
    assert.deepEqual(store.prune(now), { contentCleared: 0, requestsDeleted: 0, auditDeleted: 0 });
    store.close();
  });

  it("adds usage per target per day; the cost stays null until a price is known", () => {
    const store = quietStore(tempDataDir(), randomKey());
    const day = Date.UTC(2026, 0, 31, 12);
    store.addUsage({ target: "local/qwen", time: day, inputTokens: 10, outputTokens: 5 });
    store.addUsage({ target: "local/qwen", time: day + 3_600_000, inputTokens: 1, outputTokens: 1 });
    store.addUsage({ target: "openai/gpt-4o-mini", time: day, inputTokens: 100, outputTokens: 50 });
    store.addUsage({ target: "openai/gpt-4o-mini", time: day, inputTokens: 100, outputTokens: 50, costUsd: 0.25 });
    store.addUsage({ target: "openai/gpt-4o-mini", time: day, requests: 2, costUsd: 0.5 });
    store.addUsage({ target: "local/qwen", time: day + DAY });
    assert.deepEqual(store.queryUsage(), [
      { day: "2026-02-01", target: "local/qwen", requests: 1, inputTokens: 0, outputTokens: 0, costUsd: null },
      { day: "2026-01-31", target: "local/qwen", requests: 2, inputTokens: 11, outputTokens: 6, costUsd: null },
      { day: "2026-01-31", target: "openai/gpt-4o-mini", requests: 4, inputTokens: 200, outputTokens: 100, costUsd: 0.75 },
    ]);
    assert.equal(store.queryUsage({ since: day + DAY }).length, 1);
    store.close();
  });

  it("audits egress as a digest and a size, never the bytes, newest first", () => {
    const store = quietStore(tempDataDir(), randomKey());
    const t0 = Date.UTC(2026, 0, 1);
    const body = '{"messages":[{"role":"user","content":"hello [EMAIL_1]"}]}';
    store.recordEgress({
      time: t0,
      target: "claude/claude-sonnet-4-5",
      route: "redacted",
      sensitivity: "private",
      redactions: { email: 1 },
      body,
    });
    store.recordEgress({ time: t0 + 1000, target: "openai/gpt-4o-mini", sensitivity: "public", body: new Uint8Array([1, 2, 3]) });
    const digest = createHash("sha256").update("precomputed").digest("hex");
    store.recordEgress({ time: t0 + 2000, target: "openai/gpt-4o-mini", sensitivity: "public", sha256: digest, bytes: 11 });
    const rows = store.queryAudit();
    assert.deepEqual(
      rows.map((r) => [r.target, r.route, r.sensitivity, r.redactions, r.sha256, r.bytes]),
      [
        ["openai/gpt-4o-mini", null, "public", {}, digest, 11],
        [
          "openai/gpt-4o-mini",
          null,
          "public",
          {},
          createHash("sha256")
            .update(new Uint8Array([1, 2, 3]))
            .digest("hex"),
          3,
        ],
        [
          "claude/claude-sonnet-4-5",
          "redacted",
          "private",
          { email: 1 },
          createHash("sha256").update(body).digest("hex"),
          Buffer.byteLength(body),
        ],
      ],
    );
    assert.equal(rows[2]?.time.getTime(), t0);
    assert.deepEqual(
      store.queryAudit({ since: t0 + 1000, limit: 5 }).map((r) => r.bytes),
      [11, 3],
    );
    assert.deepEqual(
      store.queryAudit({ limit: 1 }).map((r) => r.bytes),
      [11],
    );
    assert.deepEqual(
      store.queryAudit({ target: "claude/claude-sonnet-4-5" }).map((r) => r.route),
      ["redacted"],
    );
    store.close();
  });

  it("commits queued rows by itself, in batches, without anyone calling flush()", async () => {
    const store = quietStore(tempDataDir(), randomKey(), { flushIntervalMs: 10, maxBatch: 50 });
    for (let i = 0; i < 120; i++) store.logRequest(request({ route: `r${i}` }));
    assert.equal(store.health().committed, 0, "nothing is written on the caller's turn");
    assert.equal(store.health().pending, 120);
    // Several 10 ms flushes, however slow the box: only a store that never flushes waits out the bound.
    for (let i = 0; i < 1000 && store.health().pending > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(store.health().pending, 0);
    assert.equal(store.health().committed, 120);
    store.close();
  });

  it("drops (and reports) only a row SQLite refuses, keeping the rest of its batch", () => {
    const { events, report } = eventLog();
    const store = quietStore(tempDataDir(), randomKey(), { report });
    store.logRequest(request({ route: "good-1" }));
    store.logRequest({ status: 200 } as unknown as RequestLogEntry); // no dialect: NOT NULL fails
    store.logRequest(request({ route: "good-2" }));
    const result = store.flush();
    assert.equal(result.ok, false);
    assert.equal(result.written, 2);
    assert.equal(result.error?.code, "sqlite");
    assert.deepEqual(
      store.queryRequests().map((r) => r.route),
      ["good-2", "good-1"],
    );
    assert.equal(store.health().dropped, 1);
    assert.equal(events[0]?.type, "rows_dropped");
    store.close();
  });

  it("never throws from logging after close; counts the rows as dropped", () => {
    const { events, report } = eventLog();
    const store = quietStore(tempDataDir(), randomKey(), { report });
    store.close();
    assert.doesNotThrow(() => store.logRequest(request()));
    assert.equal(store.health().dropped, 1);
    assert.match(events.map((e) => (e.type === "rows_dropped" ? e.reason : "")).join(), /is closed/);
    assert.throws(
      () => store.queryAudit(),
      (err: unknown) => err instanceof StoreError && err.code === "closed",
    );
  });

  it("stores, replaces, lists and removes secrets; the list never shows values", () => {
    const store = quietStore(tempDataDir(), randomKey());
    store.setSecret("openai", "sk-one");
    store.setSecret("anthropic", "sk-ant");
    store.setSecret("openai", "sk-two");
    assert.equal(store.getSecret("openai"), "sk-two");
    assert.deepEqual(
      store.listSecrets().map((s) => Object.keys(s).sort().join(",") + ":" + s.name),
      ["createdAt,name,updatedAt:anthropic", "createdAt,name,updatedAt:openai"],
    );
    assert.equal(store.deleteSecret("openai"), true);
    assert.equal(store.deleteSecret("openai"), false);
    assert.equal(store.getSecret("openai"), undefined);
    store.close();
  });
});

function modeOf(path: string): number {
  return statSync(path).mode & 0o777;
}

function plainSqlite(): Buffer {
  const dir = tempDataDir();
  const file = join(dir, "plain.db");
  const db = new Sqlite(file);
  db.exec("CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('plain')");
  db.close();
  return readFileSync(file);
}
