import { makeId, unixSeconds } from "../../core/ids.js";
import type { ListOptions, ListPage, StateStore, StoredConversation, StoredItem, StoredResponse } from "../../core/state.js";
import type { StoredItemFinder } from "../../core/state-item-finder.js";

/** How many responses back a history walk goes before it stops (a cycle or a runaway chain). */
const MAX_CHAIN = 10_000;

/**
 * Responses and conversations kept in this process only, lost at exit: for servers running without
 * the encrypted store (`store.enabled: false`) and for tests. Values are copied in and out, so a
 * caller that changes what it saved or read changes nothing here.
 */
export class MemoryStateStore implements StateStore, StoredItemFinder {
  readonly #responses = new Map<string, StoredResponse>();
  readonly #conversations = new Map<string, { conversation: StoredConversation; items: StoredItem[] }>();

  async saveResponse(response: StoredResponse): Promise<void> {
    this.#responses.set(response.id, structuredClone(response));
  }

  async getResponse(id: string): Promise<StoredResponse | undefined> {
    const found = this.#responses.get(id);
    return found && structuredClone(found);
  }

  async deleteResponse(id: string): Promise<boolean> {
    return this.#responses.delete(id);
  }

  async responseHistory(id: string): Promise<StoredItem[] | undefined> {
    if (!this.#responses.has(id)) return undefined;
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
    return structuredClone(chain.reverse().flatMap((r) => [...r.input, ...r.output]));
  }

  async listInputItems(responseId: string, options: ListOptions): Promise<ListPage<StoredItem> | undefined> {
    const response = this.#responses.get(responseId);
    return response && page(response.input, options);
  }

  async findItem(id: string): Promise<StoredItem | undefined> {
    for (const response of this.#responses.values()) {
      const found = response.output.find((i) => i.item.id === id) ?? response.input.find((i) => i.item.id === id);
      if (found) return structuredClone(found);
    }
    for (const { items } of this.#conversations.values()) {
      const found = items.find((i) => i.item.id === id);
      if (found) return structuredClone(found);
    }
    return undefined;
  }

  async createConversation(metadata: Record<string, string>, items: StoredItem[]): Promise<StoredConversation> {
    const conversation: StoredConversation = {
      id: makeId("conv_", 48),
      createdAt: unixSeconds(),
      metadata: { ...metadata },
    };
    this.#conversations.set(conversation.id, { conversation, items: structuredClone(items) });
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
    return structuredClone(found.conversation);
  }

  async deleteConversation(id: string): Promise<boolean> {
    return this.#conversations.delete(id);
  }

  async addConversationItems(conversationId: string, items: StoredItem[]): Promise<StoredItem[] | undefined> {
    const found = this.#conversations.get(conversationId);
    if (!found) return undefined;
    found.items.push(...structuredClone(items));
    return structuredClone(items);
  }

  async listConversationItems(conversationId: string, options: ListOptions): Promise<ListPage<StoredItem> | undefined> {
    const found = this.#conversations.get(conversationId);
    return found && page(found.items, options);
  }

  async conversationItems(conversationId: string): Promise<StoredItem[] | undefined> {
    const found = this.#conversations.get(conversationId);
    return found && structuredClone(found.items);
  }

  async getConversationItem(conversationId: string, itemId: string): Promise<StoredItem | undefined> {
    const item = this.#conversations.get(conversationId)?.items.find((i) => i.item.id === itemId);
    return item && structuredClone(item);
  }

  async deleteConversationItem(conversationId: string, itemId: string): Promise<boolean> {
    const found = this.#conversations.get(conversationId);
    const index = found?.items.findIndex((i) => i.item.id === itemId) ?? -1;
    if (!found || index === -1) return false;
    found.items.splice(index, 1);
    return true;
  }
}

/** One page of `items` in the requested order, after the given id. */
function page(items: StoredItem[], options: ListOptions): ListPage<StoredItem> {
  const ordered = options.order === "desc" ? [...items].reverse() : items;
  const start = options.after === undefined ? 0 : ordered.findIndex((i) => i.item.id === options.after) + 1;
  const data = ordered.slice(start, start + options.limit);
  return { data: structuredClone(data), hasMore: start + options.limit < ordered.length };
}
