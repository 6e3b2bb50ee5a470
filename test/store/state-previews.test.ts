/**
 * The lists of stored responses and conversations read their previews from the columns kept beside
 * each item, never the item itself: read from the item's JSON, one stored 30 MB message made every
 * list take seconds (and held the Responses store's queue for everyone).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import Sqlite from "better-sqlite3-multiple-ciphers";
import { MIGRATIONS, migrate, openStore } from "../../src/store/index.js";
import { StateTables } from "../../src/store/state-tables.js";
import { message, response } from "../harness/state/state-store-suite.js";
import { randomKey, tempDataDir } from "./store-support.js";

function rawOpen(file: string, key: Buffer): Sqlite.Database {
  const db = new Sqlite(file);
  db.pragma("cipher = 'sqlcipher'");
  db.pragma("legacy = 4");
  db.pragma(`key = "x'${key.toString("hex")}'"`);
  return db;
}

describe("stored state previews", () => {
  it("lists previews without reading the items: an item that is not JSON any more does not change them", () => {
    const dataDir = tempDataDir();
    const key = randomKey();
    const store = openStore({ dataDir, key, pruneIntervalMs: 0, report: () => {} });
    store.state.saveResponse(response("resp_previewed", { inputs: 2 }));
    const conversation = store.state.createConversation({ id: "conv_previewed", createdAt: 1_700_000_000, metadata: {} }, [
      message("msg_first", "what the conversation began with"),
    ]);
    store.close();
    // Were the list to read an item, SQLite would refuse this text as malformed JSON.
    const raw = rawOpen(join(dataDir, "tandem.db"), key);
    raw.exec("UPDATE response_items SET item = 'not json'; UPDATE conversation_items SET item = 'not json'");
    raw.close();

    const reopened = openStore({ dataDir, key, pruneIntervalMs: 0, report: () => {} });
    try {
      const [summary] = reopened.state.listResponses({ limit: 20, order: "desc" }).data;
      assert.equal(summary?.inputPreview, "question 1 of resp_previewed");
      assert.equal(summary?.outputPreview, "answer of resp_previewed");
      const [listed] = reopened.state.listConversations({ limit: 20, order: "desc" }).data;
      assert.equal(listed?.conversation.id, conversation.id);
      assert.equal(listed?.preview, "what the conversation began with");
    } finally {
      reopened.close();
    }
  });

  it("fills in the previews of items stored before the columns were kept", () => {
    const db = new Sqlite(":memory:");
    // The full-text steps' function, as the store registers it (its words do not matter here).
    db.function("tandem_fts_text", { deterministic: true }, (text: unknown) => text);
    migrate(db, "test.db", MIGRATIONS.slice(0, 19));
    db.exec(
      `INSERT INTO responses (id, created_at, response, stored_at_ms) VALUES ('resp_old', 1700000000, '{"status":"completed"}', 1)`,
    );
    const insert = db.prepare(
      "INSERT INTO response_items (response_id, output, ordinal, item_id, item) VALUES ('resp_old', ?, ?, ?, ?)",
    );
    insert.run(0, 0, "msg_q", JSON.stringify(message("msg_q", "asked  before").item));
    insert.run(1, 0, "msg_a", JSON.stringify(message("msg_a", "answered before", "assistant").item));
    insert.run(1, 1, "fc_1", JSON.stringify({ id: "fc_1", type: "function_call", name: "f", arguments: "{}" }));
    migrate(db, "test.db");
    const [summary] = new StateTables(db).listResponses({ limit: 20, order: "desc" }).data;
    assert.equal(summary?.inputPreview, "asked before");
    assert.equal(summary?.outputPreview, "answered before");
    db.close();
  });
});
