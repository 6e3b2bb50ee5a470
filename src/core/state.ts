/**
 * The state tandem keeps for the user: stored responses and conversations (OpenAI's Responses and
 * Conversations APIs). Items are kept in the Responses API's own item shapes (`message`,
 * `function_call`, `function_call_output`, `reasoning`, ...): the one wire format that holds every
 * kind of turn losslessly, so a native Responses upstream gets them back as they were, and every
 * other target gets them through the canonical form. The harness implements this over the
 * encrypted store; the Responses and Conversations routes, the tool loop, files and memory use it.
 */

/** How sensitive an item is (as privacy/ classifies requests): private items follow the route's privacy. */
export type ItemSensitivity = "public" | "internal" | "private";

/** One Responses API item as JSON: `{ id, type, ... }` exactly as a client sees it. */
export interface StateItem {
  id: string;
  type: string;
  [field: string]: unknown;
}

export interface StoredItem {
  item: StateItem;
  /** The sensitivity of the request or answer the item came from. Default: public. */
  sensitivity?: ItemSensitivity;
  /**
   * The item holds, or may quote, content declared private where tandem kept it (ChatRequest.
   * declaredPrivate): it was added to a conversation declared private, or came from a turn that
   * carried a private memory or file. A later request that carries it is kept off cloud targets on a
   * redacting route too, since redaction cannot find what the declaration protects. Its
   * `sensitivity` is then `private`. Default: not.
   */
  declaredPrivate?: true;
  /**
   * The target (`provider/model`) whose upstream produced it, for items only that upstream can read
   * back (reasoning with `encrypted_content`). Absent for items any target can read.
   */
  origin?: string;
}

/** Statuses of a response that has not finished (a background response's, until it ends): its items are not stored yet. */
export const UNFINISHED_RESPONSE_STATUSES: ReadonlySet<string> = new Set(["queued", "in_progress"]);

export interface StoredResponse {
  id: string;
  /** Seconds since the epoch, as the API reports `created_at`. */
  createdAt: number;
  /** The Response object as the client was given it (output and usage included). */
  response: Record<string, unknown>;
  previousResponseId?: string;
  conversationId?: string;
  /**
   * For a response in a conversation: the id of the conversation's last item when the response
   * began (absent when the conversation was empty), so that its input items list the conversation
   * as it stood then (listInputItems), and a chain that starts with it continues from them.
   * getResponse gives it back as the last of those items still there (none left: absent), so that a
   * response read and saved again (a background one as it ends, or failed after tandem stopped)
   * keeps the same conversation items.
   */
  conversationThrough?: string;
  /**
   * For a turn in a conversation: the items it appends to `conversationId` (as addConversationItems
   * would), saved in the same transaction as the response, so that a crash or a failed write never
   * leaves a stored response whose turn its conversation lacks, nor a turn without its response. A
   * conversation deleted meanwhile takes none. Taken in by saveResponse; getResponse need not give it back.
   */
  conversationItems?: StoredItem[];
  /** The items this response's request added, in order (instructions are not items). */
  input: StoredItem[];
  /** The items it answered with, in order. */
  output: StoredItem[];
}

export interface StoredConversation {
  id: string;
  /** Seconds since the epoch. */
  createdAt: number;
  metadata: Record<string, string>;
}

export interface ListOptions {
  /** Start after the item with this id (exclusive); one that names nothing in the list: see ListPage.unknownCursor. */
  after?: string;
  /**
   * End before the item with this id (exclusive): the page is the `limit` items just before it, in the
   * list's order, as a previous page (the older SDKs' `before` of input items; Stripe's
   * `ending_before`, whose lists OpenAI's follow), `hasMore` saying whether more lie before them.
   * Only the lists that document it take it (pageItems); with `after` too, the page lies between them.
   */
  before?: string;
  /** 1..100. */
  limit: number;
  order: "asc" | "desc";
}

export interface ListPage<T> {
  data: T[];
  /** True exactly when another page lies past this one. */
  hasMore: boolean;
  /**
   * Set, with no data, when the `after` (or `before`) cursor names nothing in the list (deleted
   * since, or never one): which of them. Every list says so instead of starting again from the top,
   * which would show a client the same page twice (and, with deletes going on, loop). A store
   * decides it in the same transaction as the page, so a delete cannot come between.
   */
  unknownCursor?: "after" | "before";
}

/** The page a list answers when its `after` or `before` names nothing in it. */
export function unknownCursorPage<T>(cursor: "after" | "before"): ListPage<T> {
  return { data: [], hasMore: false, unknownCursor: cursor };
}

/**
 * Where stored responses and conversations live. Every method may be called concurrently; an
 * unknown id answers `undefined` (or `false` for deletes), never throws. Deletes are real deletes.
 */
export interface StateStore {
  saveResponse(response: StoredResponse): Promise<void>;
  getResponse(id: string): Promise<StoredResponse | undefined>;
  deleteResponse(id: string): Promise<boolean>;
  /**
   * What a follow-up to response `id` continues from: every response in its `previous_response_id`
   * chain, oldest first, each one's input then output. `undefined` when `id` is unknown, or is a
   * response that has not finished (status `queued` or `in_progress`: a background response's
   * placeholder, whose items are saved when it ends).
   */
  responseHistory(id: string): Promise<StoredItem[] | undefined>;
  /**
   * A page of the items response `responseId` was generated from, as OpenAI lists a response's
   * input items ("a list of items used to generate this response"): the history it continued
   * first (its `previous_response_id` chain, as responseHistory gives it, or its conversation's
   * items up to `conversationThrough`, those not deleted since), then its own input.
   */
  listInputItems(responseId: string, options: ListOptions): Promise<ListPage<StoredItem> | undefined>;

  createConversation(metadata: Record<string, string>, items: StoredItem[]): Promise<StoredConversation>;
  getConversation(id: string): Promise<StoredConversation | undefined>;
  updateConversation(id: string, metadata: Record<string, string>): Promise<StoredConversation | undefined>;
  deleteConversation(id: string): Promise<boolean>;
  /** Appends items in order; `undefined` when the conversation is unknown. */
  addConversationItems(conversationId: string, items: StoredItem[]): Promise<StoredItem[] | undefined>;
  listConversationItems(conversationId: string, options: ListOptions): Promise<ListPage<StoredItem> | undefined>;
  /** Every item of a conversation, oldest first: what a response in it continues from. */
  conversationItems(conversationId: string): Promise<StoredItem[] | undefined>;
  getConversationItem(conversationId: string, itemId: string): Promise<StoredItem | undefined>;
  deleteConversationItem(conversationId: string, itemId: string): Promise<boolean>;
}
