import type Sqlite from "better-sqlite3-multiple-ciphers";
import { type ListOptions, type ListPage, unknownCursorPage } from "../core/state.js";
import { type ConversationSummary, PREVIEW_SCAN_ITEMS, previewText, type ResponseSummary } from "../core/state-listing.js";

/**
 * A preview reads the columns kept beside each item (migration 20: `message_role`, its role when it
 * is a message; `preview`, the first PREVIEW_READ_CHARS characters of its text), never the item: a
 * query that took them from the item's JSON parsed the whole of it, and one stored 30 MB message made
 * every list take seconds.
 */
const IS_USER_MESSAGE = "message_role = 'user'";
const IS_MESSAGE = "message_role IS NOT NULL";

interface ConversationSummaryRow {
  id: string;
  created_at: number;
  updated_at: number;
  metadata: string;
  item_count: number;
  preview: string | null;
}

interface ResponseSummaryRow {
  id: string;
  created_at: number;
  previous_response_id: string | null;
  conversation_id: string | null;
  model: unknown;
  status: unknown;
  input_preview: string | null;
  output_preview: string | null;
}

/**
 * The lists of stored conversations and responses (StoredStateLister) over the store's connection,
 * for StateTables. Each page is one indexed query: keyset paging on (updated_at, id) of
 * `conversations_updated_at` and (stored_at_ms, id) of `responses_stored_at_ms` (when each was first
 * stored, in ms: created_at is in seconds, and would put a chain's responses of one second in their
 * ids' random order; both tables are WITHOUT
 * ROWID, so each index ends with the id), reading one row more than asked to tell whether there
 * are more. A summary's count and previews are read per row in SQL, the previews cut there, so a
 * page holds at most `limit` small rows however large the conversations and responses are.
 */
export class StateSummaries {
  readonly #q;

  constructor(db: Sqlite.Database) {
    const conversationColumns = `c.id, c.created_at, c.updated_at, c.metadata,
      (SELECT count(*) FROM conversation_items WHERE conversation_id = c.id) AS item_count,
      (SELECT preview FROM (SELECT ordinal, message_role, preview FROM conversation_items WHERE conversation_id = c.id ORDER BY ordinal LIMIT ${PREVIEW_SCAN_ITEMS})
       WHERE ${IS_USER_MESSAGE} ORDER BY ordinal LIMIT 1) AS preview
      FROM conversations c`;
    // A response's input may be a whole agent history: its last user message is what it was asked.
    const responseColumns = `r.id, r.created_at, r.previous_response_id, r.conversation_id,
      json_extract(r.response, '$.model') AS model, json_extract(r.response, '$.status') AS status,
      (SELECT preview FROM (SELECT ordinal, message_role, preview FROM response_items WHERE response_id = r.id AND output = 0
         ORDER BY ordinal DESC LIMIT ${PREVIEW_SCAN_ITEMS}) WHERE ${IS_USER_MESSAGE} ORDER BY ordinal DESC LIMIT 1) AS input_preview,
      (SELECT preview FROM (SELECT ordinal, message_role, preview FROM response_items WHERE response_id = r.id AND output = 1
         ORDER BY ordinal LIMIT ${PREVIEW_SCAN_ITEMS}) WHERE ${IS_MESSAGE} ORDER BY ordinal LIMIT 1) AS output_preview
      FROM responses r`;
    this.#q = {
      conversationKey: db.prepare<[string], { at: number; id: string }>(
        "SELECT updated_at AS at, id FROM conversations WHERE id = ?",
      ),
      conversationsDesc: db.prepare<[number, string, number], ConversationSummaryRow>(
        `SELECT ${conversationColumns} WHERE (c.updated_at, c.id) < (?, ?) ORDER BY c.updated_at DESC, c.id DESC LIMIT ?`,
      ),
      conversationsAsc: db.prepare<[number, string, number], ConversationSummaryRow>(
        `SELECT ${conversationColumns} WHERE (c.updated_at, c.id) > (?, ?) ORDER BY c.updated_at, c.id LIMIT ?`,
      ),
      responseKey: db.prepare<[string], { at: number; id: string }>("SELECT stored_at_ms AS at, id FROM responses WHERE id = ?"),
      responsesDesc: db.prepare<[number, string, number], ResponseSummaryRow>(
        `SELECT ${responseColumns} WHERE (r.stored_at_ms, r.id) < (?, ?) ORDER BY r.stored_at_ms DESC, r.id DESC LIMIT ?`,
      ),
      responsesAsc: db.prepare<[number, string, number], ResponseSummaryRow>(
        `SELECT ${responseColumns} WHERE (r.stored_at_ms, r.id) > (?, ?) ORDER BY r.stored_at_ms, r.id LIMIT ?`,
      ),
    };
  }

  listConversations(options: ListOptions): ListPage<ConversationSummary> {
    const q = this.#q;
    const rows = keysetPage(options, options.after === undefined ? null : q.conversationKey.get(options.after), (at, id, n) =>
      (options.order === "asc" ? q.conversationsAsc : q.conversationsDesc).all(at, id, n),
    );
    return rows.unknownCursor
      ? unknownCursorPage(rows.unknownCursor)
      : { data: rows.data.map(toConversationSummary), hasMore: rows.hasMore };
  }

  listResponses(options: ListOptions): ListPage<ResponseSummary> {
    const q = this.#q;
    const rows = keysetPage(options, options.after === undefined ? null : q.responseKey.get(options.after), (at, id, n) =>
      (options.order === "asc" ? q.responsesAsc : q.responsesDesc).all(at, id, n),
    );
    return rows.unknownCursor
      ? unknownCursorPage(rows.unknownCursor)
      : { data: rows.data.map(toResponseSummary), hasMore: rows.hasMore };
  }
}

/**
 * One page after the cursor's key (null: from the start; undefined: the cursor names no row, so the
 * unknown-cursor page). The start is a key every row is past: ids are never empty, and times are far below 2^53.
 */
function keysetPage<Row>(
  options: ListOptions,
  cursor: { at: number; id: string } | null | undefined,
  rows: (at: number, id: string, limit: number) => Row[],
): ListPage<Row> {
  if (cursor === undefined) return unknownCursorPage("after");
  const start = cursor ?? (options.order === "asc" ? { at: -1, id: "" } : { at: Number.MAX_SAFE_INTEGER, id: "" });
  const found = rows(start.at, start.id, options.limit + 1);
  return { data: found.slice(0, options.limit), hasMore: found.length > options.limit };
}

function toConversationSummary(row: ConversationSummaryRow): ConversationSummary {
  return {
    conversation: { id: row.id, createdAt: row.created_at, metadata: JSON.parse(row.metadata) as Record<string, string> },
    // Kept in ms (retention); the API speaks seconds.
    updatedAt: Math.floor(row.updated_at / 1000),
    itemCount: row.item_count,
    preview: previewText(row.preview),
  };
}

function toResponseSummary(row: ResponseSummaryRow): ResponseSummary {
  return {
    id: row.id,
    createdAt: row.created_at,
    model: typeof row.model === "string" ? row.model : null,
    status: typeof row.status === "string" ? row.status : null,
    previousResponseId: row.previous_response_id,
    conversationId: row.conversation_id,
    inputPreview: previewText(row.input_preview),
    outputPreview: previewText(row.output_preview),
  };
}
