import type { ListOptions, ListPage } from "../../core/state.js";
import {
  type ChatCompletionListOptions,
  type ChatCompletionRetention,
  type ChatCompletionStore,
  DEFAULT_CHAT_COMPLETION_RETENTION,
  type NewChatCompletion,
  type StoredChatCompletion,
  type StoredChatMessage,
} from "../../core/stored-chat-completions.js";
import type { BackgroundStore } from "../../store/index.js";
import { type SecondsClock, systemSeconds } from "./seconds-clock.js";

/**
 * Stored chat completions in tandem's encrypted store (`<dataDir>/tandem.db`, the `chat_completions`
 * table of migration 9), read and written on the store's own thread, as EncryptedStateStore keeps
 * responses: a save resolves once committed, and calls are answered in the order they were made.
 * Retention is judged by `clock` (seconds), its cutoff passed to every call, so a completion past it
 * is never shown and is deleted at the next call.
 */
export class EncryptedChatCompletionStore implements ChatCompletionStore {
  readonly #store: BackgroundStore;
  readonly #retention: ChatCompletionRetention;
  readonly #now: SecondsClock;

  constructor(store: BackgroundStore, retention: Partial<ChatCompletionRetention> = {}, clock: SecondsClock = systemSeconds) {
    this.#store = store;
    this.#retention = { ...DEFAULT_CHAT_COMPLETION_RETENTION, ...retention };
    this.#now = clock;
  }

  saveCompletion(completion: NewChatCompletion): Promise<StoredChatCompletion> {
    const now = this.#now();
    return this.#store.chatCompletions("saveCompletion", completion, now, this.#cutoff(now), this.#retention.maxCount);
  }

  getCompletion(id: string): Promise<StoredChatCompletion | undefined> {
    return this.#store.chatCompletions("getCompletion", id, this.#cutoff());
  }

  listCompletions(options: ChatCompletionListOptions): Promise<ListPage<StoredChatCompletion>> {
    return this.#store.chatCompletions("listCompletions", options, this.#cutoff());
  }

  updateMetadata(id: string, metadata: Record<string, string>): Promise<StoredChatCompletion | undefined> {
    return this.#store.chatCompletions("updateMetadata", id, metadata, this.#cutoff());
  }

  deleteCompletion(id: string): Promise<boolean> {
    return this.#store.chatCompletions("deleteCompletion", id, this.#cutoff());
  }

  listMessages(id: string, options: ListOptions): Promise<ListPage<StoredChatMessage> | undefined> {
    return this.#store.chatCompletions("listMessages", id, options, this.#cutoff());
  }

  /** Completions stored before this (seconds) are past their retention. */
  #cutoff(now = this.#now()): number {
    return now - this.#retention.days * 86_400;
  }
}
