import type Sqlite from "better-sqlite3-multiple-ciphers";
import { type ListOptions, type ListPage, unknownCursorPage } from "../core/state.js";
import {
  type ChatCompletionListOptions,
  type NewChatCompletion,
  pageChatMessages,
  type StoredChatCompletion,
  type StoredChatMessage,
} from "../core/stored-chat-completions.js";

interface CompletionRow {
  id: string;
  stored_at: number;
  model: string;
  request_model: string;
  metadata: string;
  completion: string;
}

const COLUMNS = "id, stored_at, model, request_model, metadata, completion";

/**
 * The stored chat completions (migration 9) over the store's open connection: the synchronous half
 * of the encrypted ChatCompletionStore (src/harness/chat-completions/), run on the store's thread.
 * Every write is one transaction, committed before the method returns. Each method takes `cutoff`
 * (seconds since the epoch) from its caller and deletes what was stored before it first, so a
 * completion past its retention is never shown and leaves the database at the next call.
 */
export class ChatCompletionTables {
  readonly #db: Sqlite.Database;
  readonly #q;

  constructor(db: Sqlite.Database) {
    this.#db = db;
    this.#q = {
      insert: db.prepare<[string, number, string, string, string, string, string]>(
        `INSERT OR REPLACE INTO chat_completions (id, stored_at, model, request_model, metadata, completion, messages)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      get: db.prepare<[string], CompletionRow>(`SELECT ${COLUMNS} FROM chat_completions WHERE id = ?`),
      messages: db.prepare<[string], { messages: string }>("SELECT messages FROM chat_completions WHERE id = ?"),
      seq: db.prepare<[string], { seq: number }>("SELECT seq FROM chat_completions WHERE id = ?"),
      setMetadata: db.prepare<[string, string]>("UPDATE chat_completions SET metadata = ? WHERE id = ?"),
      delete: db.prepare<[string]>("DELETE FROM chat_completions WHERE id = ?"),
      expire: db.prepare<[number]>("DELETE FROM chat_completions WHERE stored_at < ?"),
      // Past the count, the oldest go: everything at or below the seq of the one `maxCount` back.
      overflow: db.prepare<[number]>(
        "DELETE FROM chat_completions WHERE seq <= (SELECT seq FROM chat_completions ORDER BY seq DESC LIMIT 1 OFFSET ?)",
      ),
    };
  }

  saveCompletion(completion: NewChatCompletion, storedAt: number, cutoff: number, maxCount: number): StoredChatCompletion {
    this.#expire(cutoff);
    const { messages, ...rest } = completion;
    this.#db.transaction(() => {
      this.#q.insert.run(
        rest.id,
        storedAt,
        rest.model,
        rest.requestModel,
        JSON.stringify(rest.metadata),
        JSON.stringify(rest.completion),
        JSON.stringify(messages),
      );
      this.#q.overflow.run(maxCount);
    })();
    return { ...rest, storedAt };
  }

  getCompletion(id: string, cutoff: number): StoredChatCompletion | undefined {
    this.#expire(cutoff);
    const row = this.#q.get.get(id);
    return row && toCompletion(row);
  }

  listCompletions(options: ChatCompletionListOptions, cutoff: number): ListPage<StoredChatCompletion> {
    this.#expire(cutoff);
    // The cursor's place and the page are read in one transaction: a delete cannot come between.
    return this.#db.transaction(() => this.#completionPage(options)).deferred();
  }

  #completionPage(options: ChatCompletionListOptions): ListPage<StoredChatCompletion> {
    const asc = options.order === "asc";
    const after = options.after === undefined ? undefined : this.#q.seq.get(options.after)?.seq;
    if (options.after !== undefined && after === undefined) return unknownCursorPage("after");
    const where = [asc ? "seq > ?" : "seq < ?"];
    const params: (string | number)[] = [after ?? (asc ? -1 : Number.MAX_SAFE_INTEGER)];
    if (options.model !== undefined) {
      where.push("(model = ? OR request_model = ?)");
      params.push(options.model, options.model);
    }
    for (const [key, value] of Object.entries(options.metadata ?? {})) {
      where.push("EXISTS (SELECT 1 FROM json_each(metadata) WHERE json_each.key = ? AND json_each.value = ?)");
      params.push(key, value);
    }
    params.push(options.limit + 1);
    // The filters are bound parameters; only their count shapes the statement (at most 16 metadata pairs).
    const rows = this.#db
      .prepare<(string | number)[], CompletionRow>(
        `SELECT ${COLUMNS} FROM chat_completions WHERE ${where.join(" AND ")} ORDER BY seq ${asc ? "ASC" : "DESC"} LIMIT ?`,
      )
      .all(...params);
    return { data: rows.slice(0, options.limit).map(toCompletion), hasMore: rows.length > options.limit };
  }

  updateMetadata(id: string, metadata: Record<string, string>, cutoff: number): StoredChatCompletion | undefined {
    this.#expire(cutoff);
    if (this.#q.setMetadata.run(JSON.stringify(metadata), id).changes === 0) return undefined;
    const row = this.#q.get.get(id);
    return row && toCompletion(row);
  }

  deleteCompletion(id: string, cutoff: number): boolean {
    this.#expire(cutoff);
    return this.#erased(this.#q.delete.run(id).changes > 0);
  }

  listMessages(id: string, options: ListOptions, cutoff: number): ListPage<StoredChatMessage> | undefined {
    this.#expire(cutoff);
    const row = this.#q.messages.get(id);
    if (row === undefined) return undefined;
    return pageChatMessages(id, JSON.parse(row.messages) as Record<string, unknown>[], options);
  }

  /** Deletes what was stored before `cutoff` (also run by the store's pruning job); returns how many. */
  prune(cutoff: number): number {
    return this.#expire(cutoff);
  }

  #expire(cutoff: number): number {
    const expired = this.#q.expire.run(cutoff).changes;
    this.#erased(expired > 0);
    return expired;
  }

  /**
   * secure_delete has overwritten the deleted rows in the pages the delete wrote; a checkpoint that
   * truncates the WAL leaves no older copy of them behind (as StateTables does for a deleted response).
   */
  #erased(deleted: boolean): boolean {
    if (deleted) this.#db.pragma("wal_checkpoint(TRUNCATE)");
    return deleted;
  }
}

function toCompletion(row: CompletionRow): StoredChatCompletion {
  return {
    id: row.id,
    storedAt: row.stored_at,
    model: row.model,
    requestModel: row.request_model,
    metadata: JSON.parse(row.metadata) as Record<string, string>,
    completion: JSON.parse(row.completion) as Record<string, unknown>,
  };
}
