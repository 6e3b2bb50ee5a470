import type Sqlite from "better-sqlite3-multiple-ciphers";
import type {
  ItemSensitivity,
  ListOptions,
  ListPage,
  StateItem,
  StoredConversation,
  StoredItem,
  StoredResponse,
} from "../core/state.js";
import { unknownCursorPage } from "../core/state.js";
import { type ConversationSummary, messageText, type ResponseSummary } from "../core/state-listing.js";
import { arrayPart, type ListPart, pageJoined } from "./joined-list-page.js";
import { StateSummaries } from "./state-summaries.js";

/** How many responses back a history walk goes before it stops (a cycle or a runaway chain). */
export const MAX_HISTORY_CHAIN = 10_000;

/**
 * The previous_response_id chain from a response (`?`) back, up to a bound (`?`), each response
 * once (a cycle stops at the first repeat) with its depth: `walked (id, depth)`.
 */
const CHAIN = `chain (id, previous, depth) AS (
    SELECT id, previous_response_id, 0 FROM responses WHERE id = ?
    UNION ALL
    SELECT r.id, r.previous_response_id, chain.depth + 1
    FROM responses r JOIN chain ON r.id = chain.previous
    WHERE chain.depth + 1 < ?
  ),
  walked (id, depth) AS (SELECT id, min(depth) FROM chain GROUP BY id)`;

/** What pruneState() removed. */
export interface StatePruneResult {
  responsesDeleted: number;
  conversationsDeleted: number;
}

interface ItemRow {
  /** The item's id (its JSON's `id`): lists page by it without reading the JSON. */
  item_id: string;
  item: string;
  sensitivity: string | null;
  origin: string | null;
  declared_private: number | null;
}

/**
 * Where an item of a history is stored, without the item: a response's (`output` 0 or 1) or a
 * conversation's (`output` -1), at `ordinal`. A list pages these and reads only its page's items.
 */
interface ItemKey {
  owner: string;
  output: number;
  ordinal: number;
  item_id: string;
}

/** ItemKey.output of a conversation's item. */
const CONVERSATION_ITEM = -1;

interface ResponseRow {
  id: string;
  created_at: number;
  previous_response_id: string | null;
  conversation_id: string | null;
  conversation_through: number | null;
  response: string;
}

interface ResponseContextRow {
  previous_response_id: string | null;
  conversation_id: string | null;
  conversation_through: number | null;
}

interface ConversationRow {
  id: string;
  created_at: number;
  metadata: string;
}

/** The columns an item is read back from (ItemRow), in both item tables; `i.`-qualified for a join. */
const ITEM_COLUMNS = "item_id, item, sensitivity, origin, declared_private";
const ITEM_COLUMNS_OF_I = ITEM_COLUMNS.split(", ")
  .map((column) => `i.${column}`)
  .join(", ");

type ItemValues = [
  string,
  number,
  number,
  string,
  string,
  string | null,
  string | null,
  number | null,
  string | null,
  string | null,
];
type ConversationItemValues = [
  string,
  number,
  string,
  string,
  string | null,
  string | null,
  number | null,
  string | null,
  string | null,
];

/**
 * The stored responses and conversations (migration 3) over the store's open connection: the
 * synchronous half of the encrypted StateStore (src/harness/state/encrypted-state-store.ts), run on
 * the store's thread. Every write is one transaction, committed (and, with synchronous=FULL,
 * fsynced) before the method returns. Deletes remove the rows; secure_delete overwrites their pages.
 */
export class StateTables {
  readonly #db: Sqlite.Database;
  readonly #q;
  readonly #summaries: StateSummaries;
  /** The last `stored_at_ms` given: each next one is later, so two saved in one millisecond keep their order. */
  #lastStoredAtMs = 0;

  constructor(db: Sqlite.Database) {
    this.#db = db;
    this.#summaries = new StateSummaries(db);
    this.#q = {
      // A response saved again (a background one as it ends) keeps the time it was first stored.
      insertResponse: db.prepare<[string, number, string | null, string | null, number | null, string, string, number]>(
        `INSERT OR REPLACE INTO responses (id, created_at, previous_response_id, conversation_id, conversation_through, response, stored_at_ms)
         VALUES (?, ?, ?, ?, ?, ?, coalesce((SELECT stored_at_ms FROM responses WHERE id = ?), ?))`,
      ),
      responseContext: db.prepare<[string], ResponseContextRow>(
        "SELECT previous_response_id, conversation_id, conversation_through FROM responses WHERE id = ?",
      ),
      insertResponseItem: db.prepare<ItemValues>(
        `INSERT INTO response_items (response_id, output, ordinal, item_id, item, sensitivity, origin, declared_private, message_role, preview)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      getResponse: db.prepare<[string], ResponseRow>(
        "SELECT id, created_at, previous_response_id, conversation_id, conversation_through, response FROM responses WHERE id = ?",
      ),
      responseExists: db.prepare<[string], { found: 1 }>("SELECT 1 AS found FROM responses WHERE id = ?"),
      // A response whose items are stored: one saved finished (not a background response's placeholder, queued or running).
      responseFinished: db.prepare<[string], { found: 1 }>(
        "SELECT 1 AS found FROM responses WHERE id = ? AND coalesce(json_extract(response, '$.status'), '') NOT IN ('queued', 'in_progress')",
      ),
      conversationExists: db.prepare<[string], { found: 1 }>("SELECT 1 AS found FROM conversations WHERE id = ?"),
      responseItems: db.prepare<[string, number], ItemRow>(
        `SELECT ${ITEM_COLUMNS} FROM response_items WHERE response_id = ? AND output = ? ORDER BY ordinal`,
      ),
      // A response's own input, one page at a time (listInputItems): by ordinal from a cursor, either way.
      inputOrdinal: db.prepare<[string, string], { ordinal: number }>(
        "SELECT ordinal FROM response_items WHERE item_id = ? AND response_id = ? AND output = 0 ORDER BY ordinal LIMIT 1",
      ),
      lastInputOrdinal: db.prepare<[string, string], { ordinal: number }>(
        "SELECT ordinal FROM response_items WHERE item_id = ? AND response_id = ? AND output = 0 ORDER BY ordinal DESC LIMIT 1",
      ),
      // Its input between two ordinals (both exclusive), from the lower one up or the higher one down.
      inputUp: db.prepare<[string, number, number, number], ItemRow>(
        `SELECT ${ITEM_COLUMNS} FROM response_items WHERE response_id = ? AND output = 0 AND ordinal > ? AND ordinal < ?
         ORDER BY ordinal LIMIT ?`,
      ),
      inputDown: db.prepare<[string, number, number, number], ItemRow>(
        `SELECT ${ITEM_COLUMNS} FROM response_items WHERE response_id = ? AND output = 0 AND ordinal > ? AND ordinal < ?
         ORDER BY ordinal DESC LIMIT ?`,
      ),
      deleteResponseItems: db.prepare<[string]>("DELETE FROM response_items WHERE response_id = ?"),
      deleteResponse: db.prepare<[string]>("DELETE FROM responses WHERE id = ?"),
      // The whole chain in one statement: walk previous_response_id up to the bound, keep each
      // response once (a cycle stops at the first repeat), then its input and output, oldest first.
      history: db.prepare<[string, number], ItemRow>(
        `WITH RECURSIVE ${CHAIN}
         SELECT ${ITEM_COLUMNS_OF_I}
         FROM walked JOIN response_items i ON i.response_id = walked.id
         ORDER BY walked.depth DESC, i.output, i.ordinal`,
      ),
      // The same chain's items as keys (no item JSON: a long item's overflow pages are not read).
      historyKeys: db.prepare<[string, number], ItemKey>(
        `WITH RECURSIVE ${CHAIN}
         SELECT i.response_id AS owner, i.output, i.ordinal, i.item_id
         FROM walked JOIN response_items i ON i.response_id = walked.id
         ORDER BY walked.depth DESC, i.output, i.ordinal`,
      ),
      responseItemAt: db.prepare<[string, number, number], ItemRow>(
        `SELECT ${ITEM_COLUMNS} FROM response_items WHERE response_id = ? AND output = ? AND ordinal = ?`,
      ),
      // The chain's oldest response: one made in a conversation was given its items up to a bound.
      chainRoot: db.prepare<[string, number], ResponseContextRow>(
        `WITH RECURSIVE ${CHAIN}
         SELECT r.previous_response_id, r.conversation_id, r.conversation_through
         FROM walked JOIN responses r ON r.id = walked.id
         ORDER BY walked.depth DESC LIMIT 1`,
      ),
      insertConversation: db.prepare<[string, number, number, string]>(
        "INSERT INTO conversations (id, created_at, updated_at, metadata) VALUES (?, ?, ?, ?)",
      ),
      getConversation: db.prepare<[string], ConversationRow>("SELECT id, created_at, metadata FROM conversations WHERE id = ?"),
      updateConversation: db.prepare<[string, number, string]>(
        "UPDATE conversations SET metadata = ?, updated_at = ? WHERE id = ?",
      ),
      touchConversation: db.prepare<[number, string]>("UPDATE conversations SET updated_at = ? WHERE id = ?"),
      deleteConversation: db.prepare<[string]>("DELETE FROM conversations WHERE id = ?"),
      deleteConversationItems: db.prepare<[string]>("DELETE FROM conversation_items WHERE conversation_id = ?"),
      lastOrdinal: db.prepare<[string], { last: number | null }>(
        "SELECT max(ordinal) AS last FROM conversation_items WHERE conversation_id = ?",
      ),
      insertConversationItem: db.prepare<ConversationItemValues>(
        `INSERT INTO conversation_items (conversation_id, ordinal, item_id, item, sensitivity, origin, declared_private, message_role, preview)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      conversationItems: db.prepare<[string], ItemRow>(
        `SELECT ${ITEM_COLUMNS} FROM conversation_items WHERE conversation_id = ? ORDER BY ordinal`,
      ),
      conversationItemsThrough: db.prepare<[string, number], ItemRow>(
        `SELECT ${ITEM_COLUMNS} FROM conversation_items WHERE conversation_id = ? AND ordinal <= ? ORDER BY ordinal`,
      ),
      conversationKeysThrough: db.prepare<[string, number], ItemKey>(
        `SELECT conversation_id AS owner, ${CONVERSATION_ITEM} AS output, ordinal, item_id
         FROM conversation_items WHERE conversation_id = ? AND ordinal <= ? ORDER BY ordinal`,
      ),
      conversationItemAt: db.prepare<[string, number], ItemRow>(
        `SELECT ${ITEM_COLUMNS} FROM conversation_items WHERE conversation_id = ? AND ordinal = ?`,
      ),
      // The last item still there of those a response was given (its conversation_through, read back as an id).
      lastItemThrough: db.prepare<[string, number], { item_id: string }>(
        "SELECT item_id FROM conversation_items WHERE conversation_id = ? AND ordinal <= ? ORDER BY ordinal DESC LIMIT 1",
      ),
      itemOrdinal: db.prepare<[string, string], { ordinal: number }>(
        "SELECT ordinal FROM conversation_items WHERE conversation_id = ? AND item_id = ? ORDER BY ordinal LIMIT 1",
      ),
      itemPageAsc: db.prepare<[string, number, number], ItemRow>(
        `SELECT ${ITEM_COLUMNS} FROM conversation_items WHERE conversation_id = ? AND ordinal > ?
         ORDER BY ordinal LIMIT ?`,
      ),
      itemPageDesc: db.prepare<[string, number, number], ItemRow>(
        `SELECT ${ITEM_COLUMNS} FROM conversation_items WHERE conversation_id = ? AND ordinal < ?
         ORDER BY ordinal DESC LIMIT ?`,
      ),
      getConversationItem: db.prepare<[string, string], ItemRow>(
        `SELECT ${ITEM_COLUMNS} FROM conversation_items WHERE conversation_id = ? AND item_id = ?
         ORDER BY ordinal LIMIT 1`,
      ),
      deleteConversationItem: db.prepare<[string, number]>(
        "DELETE FROM conversation_items WHERE conversation_id = ? AND ordinal = ?",
      ),
      findResponseItem: db.prepare<[string], ItemRow>(
        `SELECT ${ITEM_COLUMNS} FROM response_items WHERE item_id = ? ORDER BY output DESC LIMIT 1`,
      ),
      findConversationItem: db.prepare<[string], ItemRow>(
        `SELECT ${ITEM_COLUMNS} FROM conversation_items WHERE item_id = ? LIMIT 1`,
      ),
      oldResponses: db.prepare<[number], { id: string }>("SELECT id FROM responses WHERE created_at < ?"),
      oldConversations: db.prepare<[number], { id: string }>("SELECT id FROM conversations WHERE updated_at < ?"),
    };
  }

  /**
   * Saves (or replaces) a response with its items, and appends its `conversationItems` to its
   * conversation, in one transaction; its `conversationThrough` is kept as that item's ordinal (an
   * item deleted in the meantime: none).
   */
  saveResponse(response: StoredResponse): void {
    const q = this.#q;
    this.#db
      .transaction(() => {
        q.deleteResponseItems.run(response.id);
        const { conversationId, conversationThrough } = response;
        const through =
          conversationId === undefined || conversationThrough === undefined
            ? undefined
            : q.itemOrdinal.get(conversationId, conversationThrough)?.ordinal;
        q.insertResponse.run(
          response.id,
          Math.trunc(response.createdAt),
          response.previousResponseId ?? null,
          conversationId ?? null,
          through ?? null,
          JSON.stringify(response.response),
          response.id,
          this.#nextStoredAtMs(),
        );
        for (const [i, stored] of response.input.entries()) q.insertResponseItem.run(...itemValues(response.id, 0, i, stored));
        for (const [i, stored] of response.output.entries()) q.insertResponseItem.run(...itemValues(response.id, 1, i, stored));
        if (conversationId !== undefined && response.conversationItems !== undefined) {
          this.#appendConversationItems(conversationId, response.conversationItems);
        }
      })
      .immediate();
  }

  #nextStoredAtMs(): number {
    this.#lastStoredAtMs = Math.max(Date.now(), this.#lastStoredAtMs + 1);
    return this.#lastStoredAtMs;
  }

  /**
   * A response with its items and its place: its `conversationThrough` is the last item still there
   * of those it was given, so that a response read and saved again (a background one as it ends, or
   * is failed after a stop) is still given the same conversation items.
   */
  getResponse(id: string): StoredResponse | undefined {
    const q = this.#q;
    return this.#db
      .transaction(() => {
        const row = q.getResponse.get(id);
        if (!row) return undefined;
        const through =
          row.conversation_id === null || row.conversation_through === null
            ? undefined
            : q.lastItemThrough.get(row.conversation_id, row.conversation_through)?.item_id;
        return {
          id: row.id,
          createdAt: row.created_at,
          response: JSON.parse(row.response) as Record<string, unknown>,
          ...(row.previous_response_id !== null && { previousResponseId: row.previous_response_id }),
          ...(row.conversation_id !== null && { conversationId: row.conversation_id }),
          ...(through !== undefined && { conversationThrough: through }),
          input: q.responseItems.all(id, 0).map(toStoredItem),
          output: q.responseItems.all(id, 1).map(toStoredItem),
        };
      })
      .deferred();
  }

  deleteResponse(id: string): boolean {
    return this.#erased(this.#db.transaction(() => this.#deleteResponseRows(id)).immediate());
  }

  responseHistory(id: string, maxChain = MAX_HISTORY_CHAIN): StoredItem[] | undefined {
    return this.#db
      .transaction(() => (this.#q.responseFinished.get(id) ? this.#historyRows(id, maxChain).map(toStoredItem) : undefined))
      .deferred();
  }

  /**
   * What a follow-up to response `id` continues from: the conversation items the chain's oldest
   * response was given (when it was made in a conversation), then each response's input and output.
   */
  #historyRows(id: string, maxChain = MAX_HISTORY_CHAIN): ItemRow[] {
    const bound = Math.max(1, Math.trunc(maxChain));
    return [...this.#conversationContext(this.#q.chainRoot.get(id, bound)), ...this.#q.history.all(id, bound)];
  }

  /** The conversation items a response was given, those still there; none for a response not made in one. */
  #conversationContext(response: ResponseContextRow | undefined): ItemRow[] {
    if (response?.conversation_id == null || response.conversation_through === null) return [];
    return this.#q.conversationItemsThrough.all(response.conversation_id, response.conversation_through);
  }

  /** The history the response was given (its chain, or its conversation as it stood), then its own input; one page. */
  listInputItems(responseId: string, options: ListOptions): ListPage<StoredItem> | undefined {
    return this.#db
      .transaction(() => {
        const context = this.#q.responseContext.get(responseId);
        if (!context) return undefined;
        // Oldest first: the history, then the input; newest first: the input, then the history backwards.
        const history = this.#historyPart(context, options.order);
        const input = this.#inputPart(responseId, options.order);
        const page = pageJoined(options.order === "desc" ? [input, history] : [history, input], options);
        return { ...page, data: page.data.map(toStoredItem) };
      })
      .deferred();
  }

  /**
   * The history a response was given as one part of its input items' list: its chain, or its
   * conversation as it stood, as keys (in the list's order), and only a page's items read. A response
   * at the end of a chain of thousands of items (each tool output perhaps large) is not read whole
   * for each page of 20.
   */
  #historyPart(context: ResponseContextRow, order: ListOptions["order"]): ListPart<ItemRow> {
    const q = this.#q;
    const keys =
      context.previous_response_id === null
        ? this.#conversationContextKeys(context)
        : this.#historyKeys(context.previous_response_id);
    if (order === "desc") keys.reverse();
    const part = arrayPart(keys, (key) => key.item_id);
    // In the list's transaction: each key's row is there.
    const read = (key: ItemKey) =>
      (key.output === CONVERSATION_ITEM
        ? q.conversationItemAt.get(key.owner, key.ordinal)
        : q.responseItemAt.get(key.owner, key.output, key.ordinal)) as ItemRow;
    return {
      find: part.find,
      first: (lo, hi, count) => part.first(lo, hi, count).map(read),
      last: (lo, hi, count) => part.last(lo, hi, count).map(read),
    };
  }

  /** As #historyRows, the items' keys. */
  #historyKeys(id: string): ItemKey[] {
    return [
      ...this.#conversationContextKeys(this.#q.chainRoot.get(id, MAX_HISTORY_CHAIN)),
      ...this.#q.historyKeys.all(id, MAX_HISTORY_CHAIN),
    ];
  }

  /** As #conversationContext, the items' keys. */
  #conversationContextKeys(response: ResponseContextRow | undefined): ItemKey[] {
    if (response?.conversation_id == null || response.conversation_through === null) return [];
    return this.#q.conversationKeysThrough.all(response.conversation_id, response.conversation_through);
  }

  /**
   * A response's own input as one part of its input items' list, keyed by ordinal, read a page at a
   * time: a response given 20,000 input items is not read whole for each page of 100, whichever
   * cursor it is paged by (the history before it, see #historyPart).
   */
  #inputPart(responseId: string, order: ListOptions["order"]): ListPart<ItemRow> {
    const q = this.#q;
    const none = -1;
    const all = Number.MAX_SAFE_INTEGER;
    if (order !== "desc") {
      return {
        // A cursor names the first item with its id in the list's order: here, the lowest ordinal.
        find: (id) => q.inputOrdinal.get(id, responseId)?.ordinal,
        first: (lo, hi, count) => q.inputUp.all(responseId, lo ?? none, hi ?? all, count),
        last: (lo, hi, count) => q.inputDown.all(responseId, lo ?? none, hi ?? all, count),
      };
    }
    return {
      find: (id) => q.lastInputOrdinal.get(id, responseId)?.ordinal,
      first: (lo, hi, count) => q.inputDown.all(responseId, hi ?? none, lo ?? all, count),
      last: (lo, hi, count) => q.inputUp.all(responseId, hi ?? none, lo ?? all, count),
    };
  }

  createConversation(conversation: StoredConversation, items: StoredItem[]): StoredConversation {
    const q = this.#q;
    this.#db
      .transaction(() => {
        q.insertConversation.run(
          conversation.id,
          Math.trunc(conversation.createdAt),
          Date.now(),
          JSON.stringify(conversation.metadata),
        );
        for (const [i, stored] of items.entries())
          q.insertConversationItem.run(...conversationItemValues(conversation.id, i, stored));
      })
      .immediate();
    return conversation;
  }

  getConversation(id: string): StoredConversation | undefined {
    const row = this.#q.getConversation.get(id);
    return row && toConversation(row);
  }

  updateConversation(id: string, metadata: Record<string, string>): StoredConversation | undefined {
    const q = this.#q;
    return this.#db
      .transaction(() => {
        if (q.updateConversation.run(JSON.stringify(metadata), Date.now(), id).changes === 0) return undefined;
        const row = q.getConversation.get(id);
        return row && toConversation(row);
      })
      .immediate();
  }

  deleteConversation(id: string): boolean {
    return this.#erased(this.#db.transaction(() => this.#deleteConversationRows(id)).immediate());
  }

  addConversationItems(conversationId: string, items: StoredItem[]): StoredItem[] | undefined {
    return this.#db.transaction(() => this.#appendConversationItems(conversationId, items)).immediate();
  }

  /** Appends items to a conversation, inside the caller's transaction; `undefined` when it is unknown. */
  #appendConversationItems(conversationId: string, items: StoredItem[]): StoredItem[] | undefined {
    const q = this.#q;
    if (q.touchConversation.run(Date.now(), conversationId).changes === 0) return undefined;
    const next = (q.lastOrdinal.get(conversationId)?.last ?? -1) + 1;
    for (const [i, stored] of items.entries())
      q.insertConversationItem.run(...conversationItemValues(conversationId, next + i, stored));
    return items;
  }

  listConversationItems(conversationId: string, options: ListOptions): ListPage<StoredItem> | undefined {
    const q = this.#q;
    return this.#db
      .transaction(() => {
        if (!q.conversationExists.get(conversationId)) return undefined;
        const after = options.after === undefined ? undefined : q.itemOrdinal.get(conversationId, options.after)?.ordinal;
        if (options.after !== undefined && after === undefined) return unknownCursorPage<StoredItem>("after");
        return page(options, after, (bound, limit) =>
          (options.order === "asc" ? q.itemPageAsc : q.itemPageDesc).all(conversationId, bound, limit),
        );
      })
      .deferred();
  }

  conversationItems(conversationId: string): StoredItem[] | undefined {
    const q = this.#q;
    return this.#db
      .transaction(() =>
        q.conversationExists.get(conversationId) ? q.conversationItems.all(conversationId).map(toStoredItem) : undefined,
      )
      .deferred();
  }

  getConversationItem(conversationId: string, itemId: string): StoredItem | undefined {
    const row = this.#q.getConversationItem.get(conversationId, itemId);
    return row && toStoredItem(row);
  }

  deleteConversationItem(conversationId: string, itemId: string): boolean {
    const q = this.#q;
    const deleted = this.#db
      .transaction(() => {
        const found = q.itemOrdinal.get(conversationId, itemId);
        if (!found) return false;
        q.deleteConversationItem.run(conversationId, found.ordinal);
        q.touchConversation.run(Date.now(), conversationId);
        return true;
      })
      .immediate();
    return this.#erased(deleted);
  }

  /** A page of conversations by last change, summarized (StoredStateLister). */
  listConversations(options: ListOptions): ListPage<ConversationSummary> {
    return this.#db.transaction(() => this.#summaries.listConversations(options)).deferred();
  }

  /** A page of responses in the order they were first stored, summarized (StoredStateLister). */
  listResponses(options: ListOptions): ListPage<ResponseSummary> {
    return this.#db.transaction(() => this.#summaries.listResponses(options)).deferred();
  }

  /**
   * Any stored item by its id, wherever it is (a response's output, then its input, then a
   * conversation): what an `item_reference` names. Each lookup is one index search.
   */
  findItem(id: string): StoredItem | undefined {
    const row = this.#q.findResponseItem.get(id) ?? this.#q.findConversationItem.get(id);
    return row && toStoredItem(row);
  }

  /**
   * Deletes responses created, and conversations last changed, before `now - retentionDays`, with
   * their items. One transaction.
   */
  prune(retentionDays: number, now: number = Date.now()): StatePruneResult {
    const before = now - retentionDays * 86_400_000;
    const result = this.#db
      .transaction(() => {
        let responsesDeleted = 0;
        let conversationsDeleted = 0;
        for (const { id } of this.#q.oldResponses.all(Math.floor(before / 1000))) {
          if (this.#deleteResponseRows(id)) responsesDeleted++;
        }
        for (const { id } of this.#q.oldConversations.all(before)) if (this.#deleteConversationRows(id)) conversationsDeleted++;
        return { responsesDeleted, conversationsDeleted };
      })
      .immediate();
    this.#erased(result.responsesDeleted + result.conversationsDeleted > 0);
    return result;
  }

  #deleteResponseRows(id: string): boolean {
    this.#q.deleteResponseItems.run(id);
    return this.#q.deleteResponse.run(id).changes > 0;
  }

  #deleteConversationRows(id: string): boolean {
    this.#q.deleteConversationItems.run(id);
    return this.#q.deleteConversation.run(id).changes > 0;
  }

  /**
   * After a delete commits, secure_delete has overwritten the rows in the pages it wrote, but those
   * pages sit in the WAL and the older versions of them in the main file. A checkpoint that
   * truncates the WAL writes the overwritten pages into the main file and leaves no frame behind,
   * so the deleted content leaves the disk now, not at some later checkpoint. Best effort: another
   * process reading the file (the audit CLI) can hold the checkpoint back until its next run.
   */
  #erased(deleted: boolean): boolean {
    if (deleted) this.#db.pragma("wal_checkpoint(TRUNCATE)");
    return deleted;
  }
}

/**
 * One page after the cursor (`after` undefined: from the start). One row more than asked tells
 * whether there are more.
 */
function page(
  options: ListOptions,
  after: number | undefined,
  rows: (bound: number, limit: number) => ItemRow[],
): ListPage<StoredItem> {
  const bound = after ?? (options.order === "asc" ? -1 : Number.MAX_SAFE_INTEGER);
  const found = rows(bound, options.limit + 1);
  return { data: found.slice(0, options.limit).map(toStoredItem), hasMore: found.length > options.limit };
}

function itemValues(responseId: string, output: number, ordinal: number, stored: StoredItem): ItemValues {
  return [
    responseId,
    output,
    ordinal,
    stored.item.id,
    JSON.stringify(stored.item),
    stored.sensitivity ?? null,
    stored.origin ?? null,
    stored.declaredPrivate === true ? 1 : null,
    ...previewValues(stored),
  ];
}

/**
 * What a list's previews read of an item (state-summaries.ts), kept beside it: its role when it is a
 * message, and the start of its text. Read from the item itself, a preview would parse all of it.
 */
function previewValues(stored: StoredItem): [string | null, string | null] {
  const item = stored.item as { type: string; role?: unknown; [field: string]: unknown };
  if (item.type !== "message") return [null, null];
  return [typeof item.role === "string" ? item.role : null, messageText(item)];
}

function conversationItemValues(conversationId: string, ordinal: number, stored: StoredItem): ConversationItemValues {
  return [
    conversationId,
    ordinal,
    stored.item.id,
    JSON.stringify(stored.item),
    stored.sensitivity ?? null,
    stored.origin ?? null,
    stored.declaredPrivate === true ? 1 : null,
    ...previewValues(stored),
  ];
}

function toStoredItem(row: ItemRow): StoredItem {
  return {
    item: JSON.parse(row.item) as StateItem,
    ...(row.sensitivity !== null && { sensitivity: row.sensitivity as ItemSensitivity }),
    ...(row.origin !== null && { origin: row.origin }),
    ...(row.declared_private === 1 && { declaredPrivate: true as const }),
  };
}

function toConversation(row: ConversationRow): StoredConversation {
  return { id: row.id, createdAt: row.created_at, metadata: JSON.parse(row.metadata) as Record<string, string> };
}
