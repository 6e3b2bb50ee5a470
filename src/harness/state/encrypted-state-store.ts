import { makeId, unixSeconds } from "../../core/ids.js";
import type { ListOptions, ListPage, StateStore, StoredConversation, StoredItem, StoredResponse } from "../../core/state.js";
import type { ConversationSummary, ResponseSummary, StoredStateLister } from "../../core/state-listing.js";
import type { BackgroundStore } from "../../store/index.js";

/**
 * Responses and conversations in tandem's encrypted store (`<dataDir>/tandem.db`, tables from
 * migration 3), read and written on the store's own thread so SQLCipher and fsync never hold up the
 * server's event loop.
 *
 * Durability: every write resolves only once its transaction is committed (synchronous=FULL), so a
 * route that awaits saveResponse before sending `response.completed` hands the client an id that a
 * follow-up will find, even after a crash. And the thread answers in call order: a read made after
 * a write was called, even one not yet awaited, sees that write.
 *
 * Values cross to the thread and back by structured clone: what a caller passes or gets is its own copy.
 */
export class EncryptedStateStore implements StateStore, StoredStateLister {
  readonly #store: BackgroundStore;

  constructor(store: BackgroundStore) {
    this.#store = store;
  }

  saveResponse(response: StoredResponse): Promise<void> {
    return this.#store.state("saveResponse", response);
  }

  getResponse(id: string): Promise<StoredResponse | undefined> {
    return this.#store.state("getResponse", id);
  }

  deleteResponse(id: string): Promise<boolean> {
    return this.#store.state("deleteResponse", id);
  }

  responseHistory(id: string): Promise<StoredItem[] | undefined> {
    return this.#store.state("responseHistory", id);
  }

  listInputItems(responseId: string, options: ListOptions): Promise<ListPage<StoredItem> | undefined> {
    return this.#store.state("listInputItems", responseId, options);
  }

  /**
   * Any stored item by its id (StoredItemFinder, the optional addition to the contract that
   * resolves `item_reference` inputs across every stored response and conversation).
   */
  findItem(id: string): Promise<StoredItem | undefined> {
    return this.#store.state("findItem", id);
  }

  /** Conversations by last change, newest first for `desc` (StoredStateLister: the console's and `GET /v1/conversations`' list). */
  listConversations(options: ListOptions): Promise<ListPage<ConversationSummary>> {
    return this.#store.state("listConversations", options);
  }

  /** Responses in the order they were first stored, newest first for `desc` (StoredStateLister: `GET /v1/responses`). */
  listResponses(options: ListOptions): Promise<ListPage<ResponseSummary>> {
    return this.#store.state("listResponses", options);
  }

  createConversation(metadata: Record<string, string>, items: StoredItem[]): Promise<StoredConversation> {
    const conversation: StoredConversation = { id: makeId("conv_", 48), createdAt: unixSeconds(), metadata };
    return this.#store.state("createConversation", conversation, items);
  }

  getConversation(id: string): Promise<StoredConversation | undefined> {
    return this.#store.state("getConversation", id);
  }

  updateConversation(id: string, metadata: Record<string, string>): Promise<StoredConversation | undefined> {
    return this.#store.state("updateConversation", id, metadata);
  }

  deleteConversation(id: string): Promise<boolean> {
    return this.#store.state("deleteConversation", id);
  }

  addConversationItems(conversationId: string, items: StoredItem[]): Promise<StoredItem[] | undefined> {
    return this.#store.state("addConversationItems", conversationId, items);
  }

  listConversationItems(conversationId: string, options: ListOptions): Promise<ListPage<StoredItem> | undefined> {
    return this.#store.state("listConversationItems", conversationId, options);
  }

  conversationItems(conversationId: string): Promise<StoredItem[] | undefined> {
    return this.#store.state("conversationItems", conversationId);
  }

  getConversationItem(conversationId: string, itemId: string): Promise<StoredItem | undefined> {
    return this.#store.state("getConversationItem", conversationId, itemId);
  }

  deleteConversationItem(conversationId: string, itemId: string): Promise<boolean> {
    return this.#store.state("deleteConversationItem", conversationId, itemId);
  }
}
