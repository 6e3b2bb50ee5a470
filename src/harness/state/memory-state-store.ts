import { makeId, unixSeconds } from "../../core/ids.js";
import { pageItems, startAfter } from "../../core/page-items.js";
import {
  type ListOptions,
  type ListPage,
  type StateStore,
  type StoredConversation,
  type StoredItem,
  type StoredResponse,
  UNFINISHED_RESPONSE_STATUSES,
  unknownCursorPage,
} from "../../core/state.js";
import type { StoredItemFinder } from "../../core/state-item-finder.js";
import {
  type ConversationSummary,
  messageText,
  PREVIEW_SCAN_ITEMS,
  previewText,
  type ResponseSummary,
  type StoredStateLister,
} from "../../core/state-listing.js";

/** How many responses back a history walk goes before it stops (a cycle or a runaway chain). */
const MAX_CHAIN = 10_000;

/**
 * Responses and conversations kept in this process only, lost at exit: for servers running without
 * the encrypted store (`store.enabled: false`) and for tests. Values are copied in and out, so a
 * caller that changes what it saved or read changes nothing here.
 */
export class MemoryStateStore implements StateStore, StoredItemFinder, StoredStateLister {
  readonly #responses = new Map<string, StoredResponse>();
  readonly #conversations = new Map<string, ConversationRecord>();
  /** Per response in a conversation: the position of the conversation's last item when it began. */
  readonly #through = new Map<string, number>();

  async saveResponse(response: StoredResponse): Promise<void> {
    const { conversationItems, ...kept } = response;
    this.#responses.set(response.id, structuredClone(kept));
    this.#through.delete(response.id);
    const { conversationId, conversationThrough } = response;
    if (conversationId === undefined) return;
    const conversation = this.#conversations.get(conversationId);
    if (conversationThrough !== undefined) {
      const position = conversation?.items.find((i) => i.stored.item.id === conversationThrough)?.position;
      if (position !== undefined) this.#through.set(response.id, position);
    }
    if (conversation !== undefined && conversationItems !== undefined) {
      append(conversation, conversationItems);
      conversation.updatedAt = Date.now();
    }
  }

  /**
   * A response with its items and its place: its `conversationThrough` is the last item still there
   * of those it was given, so that a response read and saved again (a background one as it ends)
   * is still given the same conversation items.
   */
  async getResponse(id: string): Promise<StoredResponse | undefined> {
    const found = this.#responses.get(id);
    if (found === undefined) return undefined;
    const { conversationThrough: _saved, ...read } = structuredClone(found);
    const through = this.#conversationContext(found).at(-1)?.item.id;
    return through === undefined ? read : { ...read, conversationThrough: through };
  }

  async deleteResponse(id: string): Promise<boolean> {
    this.#through.delete(id);
    return this.#responses.delete(id);
  }

  async responseHistory(id: string): Promise<StoredItem[] | undefined> {
    return structuredClone(this.#history(id));
  }

  #history(id: string): StoredItem[] | undefined {
    const head = this.#responses.get(id);
    if (head === undefined || UNFINISHED_RESPONSE_STATUSES.has(String(head.response.status))) return undefined;
    const chain: StoredResponse[] = [];
    const seen = new Set<string>();
    let next: string | undefined = id;
    while (next !== undefined && !seen.has(next) && chain.length < MAX_CHAIN) {
      seen.add(next);
      const response = this.#responses.get(next);
      if (!response) break;
      chain.push(response);
      next = response.previousResponseId;
    }
    chain.reverse();
    const root = chain[0];
    const context = root === undefined ? [] : this.#conversationContext(root);
    return [...context, ...chain.flatMap((r) => [...r.input, ...r.output])];
  }

  /** The conversation's items a response in it was given (those still there); none for another response. */
  #conversationContext(response: StoredResponse): StoredItem[] {
    const through = this.#through.get(response.id);
    if (response.conversationId === undefined || through === undefined) return [];
    const items = this.#conversations.get(response.conversationId)?.items ?? [];
    return items.filter((i) => i.position <= through).map((i) => i.stored);
  }

  async listInputItems(responseId: string, options: ListOptions): Promise<ListPage<StoredItem> | undefined> {
    const response = this.#responses.get(responseId);
    if (!response) return undefined;
    const context =
      response.previousResponseId === undefined
        ? this.#conversationContext(response)
        : (this.#history(response.previousResponseId) ?? []);
    return structuredClone(pageItems([...context, ...response.input], options));
  }

  async findItem(id: string): Promise<StoredItem | undefined> {
    for (const response of this.#responses.values()) {
      const found = response.output.find((i) => i.item.id === id) ?? response.input.find((i) => i.item.id === id);
      if (found) return structuredClone(found);
    }
    for (const { items } of this.#conversations.values()) {
      const found = items.find((i) => i.stored.item.id === id);
      if (found) return structuredClone(found.stored);
    }
    return undefined;
  }

  async createConversation(metadata: Record<string, string>, items: StoredItem[]): Promise<StoredConversation> {
    const conversation: StoredConversation = {
      id: makeId("conv_", 48),
      createdAt: unixSeconds(),
      metadata: { ...metadata },
    };
    const record: ConversationRecord = { conversation, items: [], next: 0, updatedAt: Date.now() };
    append(record, items);
    this.#conversations.set(conversation.id, record);
    return structuredClone(conversation);
  }

  async getConversation(id: string): Promise<StoredConversation | undefined> {
    const found = this.#conversations.get(id);
    return found && structuredClone(found.conversation);
  }

  async updateConversation(id: string, metadata: Record<string, string>): Promise<StoredConversation | undefined> {
    const found = this.#conversations.get(id);
    if (!found) return undefined;
    found.conversation.metadata = { ...metadata };
    found.updatedAt = Date.now();
    return structuredClone(found.conversation);
  }

  async deleteConversation(id: string): Promise<boolean> {
    return this.#conversations.delete(id);
  }

  async addConversationItems(conversationId: string, items: StoredItem[]): Promise<StoredItem[] | undefined> {
    const found = this.#conversations.get(conversationId);
    if (!found) return undefined;
    append(found, items);
    found.updatedAt = Date.now();
    return structuredClone(items);
  }

  async listConversationItems(conversationId: string, options: ListOptions): Promise<ListPage<StoredItem> | undefined> {
    const found = this.#conversations.get(conversationId);
    return found && structuredClone(pageItems(stored(found), options));
  }

  async conversationItems(conversationId: string): Promise<StoredItem[] | undefined> {
    const found = this.#conversations.get(conversationId);
    return found && structuredClone(stored(found));
  }

  async getConversationItem(conversationId: string, itemId: string): Promise<StoredItem | undefined> {
    const item = this.#conversations.get(conversationId)?.items.find((i) => i.stored.item.id === itemId);
    return item && structuredClone(item.stored);
  }

  async deleteConversationItem(conversationId: string, itemId: string): Promise<boolean> {
    const found = this.#conversations.get(conversationId);
    const index = found?.items.findIndex((i) => i.stored.item.id === itemId) ?? -1;
    if (!found || index === -1) return false;
    found.items.splice(index, 1);
    found.updatedAt = Date.now();
    return true;
  }

  async listConversations(options: ListOptions): Promise<ListPage<ConversationSummary>> {
    const keyed = [...this.#conversations.values()].map((record) => ({
      at: record.updatedAt,
      id: record.conversation.id,
      record,
    }));
    return keysetPage(keyed, options, ({ record }) => {
      const firstUser = record.items.slice(0, PREVIEW_SCAN_ITEMS).find((i) => isUserMessage(i.stored));
      return {
        conversation: structuredClone(record.conversation),
        updatedAt: Math.floor(record.updatedAt / 1000),
        itemCount: record.items.length,
        preview: firstUser === undefined ? null : previewText(messageText(firstUser.stored.item)),
      };
    });
  }

  async listResponses(options: ListOptions): Promise<ListPage<ResponseSummary>> {
    // The Map keeps the order responses were first saved in (saving one again keeps its place):
    // the list's order, as created_at is only seconds.
    const keyed = [...this.#responses.values()].map((response, at) => ({ at, id: response.id, response }));
    return keysetPage(keyed, options, ({ response }) => {
      const lastUser = response.input.slice(-PREVIEW_SCAN_ITEMS).reverse().find(isUserMessage);
      const firstMessage = response.output.slice(0, PREVIEW_SCAN_ITEMS).find((i) => i.item.type === "message");
      const { model, status } = response.response;
      return {
        id: response.id,
        createdAt: response.createdAt,
        model: typeof model === "string" ? model : null,
        status: typeof status === "string" ? status : null,
        previousResponseId: response.previousResponseId ?? null,
        conversationId: response.conversationId ?? null,
        inputPreview: lastUser === undefined ? null : previewText(messageText(lastUser.item)),
        outputPreview: firstMessage === undefined ? null : previewText(messageText(firstMessage.item)),
      };
    });
  }
}

function isUserMessage(stored: StoredItem): boolean {
  return stored.item.type === "message" && stored.item.role === "user";
}

/**
 * One page of `rows` ordered by (at, id) as the encrypted store's keyset paging orders them, after
 * the row whose id is `after`; the unknown-cursor page when no row has that id.
 */
function keysetPage<Row extends { at: number; id: string }, T>(
  rows: Row[],
  options: ListOptions,
  summarize: (row: Row) => T,
): ListPage<T> {
  const sign = options.order === "asc" ? 1 : -1;
  rows.sort((a, b) => sign * (a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)));
  const start = startAfter(rows, options.after, (row) => row.id);
  if (start === undefined) return unknownCursorPage("after");
  return { data: rows.slice(start, start + options.limit).map(summarize), hasMore: start + options.limit < rows.length };
}

/**
 * A conversation and its items, each with its position: increasing in the order items were added,
 * never reused (gaps after deletes), as the encrypted store's ordinals.
 */
interface ConversationRecord {
  conversation: StoredConversation;
  items: Array<{ position: number; stored: StoredItem }>;
  next: number;
  /** ms since the epoch: its last change, or its items'. */
  updatedAt: number;
}

function append(record: ConversationRecord, items: readonly StoredItem[]): void {
  for (const item of structuredClone(items)) record.items.push({ position: record.next++, stored: item });
}

function stored(record: ConversationRecord): StoredItem[] {
  return record.items.map((i) => i.stored);
}
