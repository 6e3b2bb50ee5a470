import { startAfter } from "../../core/page-items.js";
import { type ListOptions, type ListPage, unknownCursorPage } from "../../core/state.js";
import {
  type ChatCompletionListOptions,
  type ChatCompletionRetention,
  type ChatCompletionStore,
  DEFAULT_CHAT_COMPLETION_RETENTION,
  type NewChatCompletion,
  pageChatMessages,
  type StoredChatCompletion,
  type StoredChatMessage,
} from "../../core/stored-chat-completions.js";
import { type SecondsClock, systemSeconds } from "./seconds-clock.js";

interface Kept {
  completion: StoredChatCompletion;
  messages: Record<string, unknown>[];
}

/**
 * Stored chat completions kept in this process only, lost at exit: for servers running without the
 * encrypted store (`store.enabled: false`) and for tests. Values are copied in and out (structured
 * clone, as the store's thread would), and the same retention holds: past its days or its count, a
 * completion is dropped at the next call.
 */
export class MemoryChatCompletionStore implements ChatCompletionStore {
  /** In the order stored (a Map keeps insertion order; a replaced one is moved to the end). */
  readonly #kept = new Map<string, Kept>();
  readonly #retention: ChatCompletionRetention;
  readonly #now: SecondsClock;

  constructor(retention: Partial<ChatCompletionRetention> = {}, clock: SecondsClock = systemSeconds) {
    this.#retention = { ...DEFAULT_CHAT_COMPLETION_RETENTION, ...retention };
    this.#now = clock;
  }

  async saveCompletion(input: NewChatCompletion): Promise<StoredChatCompletion> {
    const now = this.#now();
    this.#expire(now);
    const { messages, ...rest } = structuredClone(input);
    const completion: StoredChatCompletion = { ...rest, storedAt: now };
    this.#kept.delete(completion.id);
    this.#kept.set(completion.id, { completion, messages });
    for (const id of this.#kept.keys()) {
      if (this.#kept.size <= this.#retention.maxCount) break;
      this.#kept.delete(id);
    }
    return structuredClone(completion);
  }

  async getCompletion(id: string): Promise<StoredChatCompletion | undefined> {
    this.#expire();
    const kept = this.#kept.get(id);
    return kept && structuredClone(kept.completion);
  }

  async listCompletions(options: ChatCompletionListOptions): Promise<ListPage<StoredChatCompletion>> {
    this.#expire();
    const all = [...this.#kept.values()].map((k) => k.completion);
    if (options.order === "desc") all.reverse();
    const start = startAfter(all, options.after, (c) => c.id);
    if (start === undefined) return unknownCursorPage("after");
    const filters = Object.entries(options.metadata ?? {});
    const data: StoredChatCompletion[] = [];
    let hasMore = false;
    for (const completion of all.slice(start)) {
      if (options.model !== undefined && completion.model !== options.model && completion.requestModel !== options.model)
        continue;
      if (!filters.every(([key, value]) => Object.hasOwn(completion.metadata, key) && completion.metadata[key] === value))
        continue;
      if (data.length === options.limit) {
        hasMore = true;
        break;
      }
      data.push(structuredClone(completion));
    }
    return { data, hasMore };
  }

  async updateMetadata(id: string, metadata: Record<string, string>): Promise<StoredChatCompletion | undefined> {
    this.#expire();
    const kept = this.#kept.get(id);
    if (kept === undefined) return undefined;
    kept.completion.metadata = { ...metadata };
    return structuredClone(kept.completion);
  }

  async deleteCompletion(id: string): Promise<boolean> {
    this.#expire();
    return this.#kept.delete(id);
  }

  async listMessages(id: string, options: ListOptions): Promise<ListPage<StoredChatMessage> | undefined> {
    this.#expire();
    const kept = this.#kept.get(id);
    return kept && structuredClone(pageChatMessages(id, kept.messages, options));
  }

  #expire(now = this.#now()): void {
    const cutoff = now - this.#retention.days * 86_400;
    // Oldest first: the walk stops at the first one still kept.
    for (const [id, kept] of this.#kept) {
      if (kept.completion.storedAt >= cutoff) break;
      this.#kept.delete(id);
    }
  }
}
