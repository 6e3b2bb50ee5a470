/**
 * Stored chat completions (OpenAI's Chat Completions API with `store: true`): a completion as the
 * client was given it, with the messages of its request and its metadata, read back by
 * `GET /v1/chat/completions[/{id}[/messages]]`, updated (metadata only) and deleted. The harness
 * implements this over the encrypted store and in memory; the OpenAI dialect is its one user.
 */
import { type ListOptions, type ListPage, unknownCursorPage } from "./state.js";

/** A stored completion without its request's messages: what a retrieve or a list answers. */
export interface StoredChatCompletion {
  /** The completion's own `id`, as the client got it. */
  id: string;
  /** Seconds since the epoch, when it was stored (by the store's clock): what retention counts from. */
  storedAt: number;
  /** The model that answered (the completion's `model`). */
  model: string;
  /** The model (or route) the client named in its request, which a list's `model` filter also matches. */
  requestModel: string;
  metadata: Record<string, string>;
  /**
   * The `chat.completion` object as the client got it (`id`, `created`, `model`, `choices`, `usage`,
   * ...), plus the request's settings OpenAI shows with a stored one; its `metadata` is the field above.
   */
  completion: Record<string, unknown>;
}

/** What storing one takes: the completion and its request's messages, as the client sent them. */
export interface NewChatCompletion extends Omit<StoredChatCompletion, "storedAt"> {
  messages: Record<string, unknown>[];
}

/** One message of a stored completion's request, with its position there (0-based). */
export interface StoredChatMessage {
  index: number;
  message: Record<string, unknown>;
}

export interface ChatCompletionListOptions extends ListOptions {
  /** Only completions whose answering model, or the model their request named, is this. */
  model?: string;
  /** Only completions whose metadata has every one of these key-value pairs. */
  metadata?: Record<string, string>;
}

/**
 * Where stored chat completions live. Every method may be called concurrently; an unknown id answers
 * `undefined` (or `false` for a delete), never throws. Completions are listed in the order they were
 * stored; one older than the store's retention (or past its count) is gone, not only hidden.
 */
export interface ChatCompletionStore {
  /** Stores it (replacing one of the same id); resolves once it is committed. */
  saveCompletion(completion: NewChatCompletion): Promise<StoredChatCompletion>;
  getCompletion(id: string): Promise<StoredChatCompletion | undefined>;
  listCompletions(options: ChatCompletionListOptions): Promise<ListPage<StoredChatCompletion>>;
  /** Replaces its metadata whole. */
  updateMetadata(id: string, metadata: Record<string, string>): Promise<StoredChatCompletion | undefined>;
  deleteCompletion(id: string): Promise<boolean>;
  /** A page of its request's messages (`after`: a message's id, `<completion id>-<index>`). */
  listMessages(id: string, options: ListOptions): Promise<ListPage<StoredChatMessage> | undefined>;
}

/** How long and how many stored chat completions are kept. */
export interface ChatCompletionRetention {
  /** Days a completion is kept after it was stored. OpenAI keeps them 30 days. */
  days: number;
  /** The most kept at once: storing one more deletes the oldest. */
  maxCount: number;
}

export const DEFAULT_CHAT_COMPLETION_RETENTION: ChatCompletionRetention = { days: 30, maxCount: 10_000 };

/** A stored message's id, as OpenAI numbers them: `<completion id>-<index>`. */
export function chatMessageId(completionId: string, index: number): string {
  return `${completionId}-${index}`;
}

/**
 * One page of a completion's messages (in their order, or reversed), after the message whose id is
 * `after` (an id that is not one of them: `unknownCursor`).
 */
export function pageChatMessages(
  completionId: string,
  messages: readonly Record<string, unknown>[],
  options: ListOptions,
): ListPage<StoredChatMessage> {
  const all = messages.map((message, index) => ({ index, message }));
  if (options.order === "desc") all.reverse();
  let start = 0;
  if (options.after !== undefined) {
    const prefix = `${completionId}-`;
    const index = options.after.startsWith(prefix) ? options.after.slice(prefix.length) : "";
    const at = /^\d{1,9}$/.test(index) ? all.findIndex((m) => m.index === Number(index)) : -1;
    if (at < 0) return unknownCursorPage("after");
    start = at + 1;
  }
  return { data: all.slice(start, start + options.limit), hasMore: start + options.limit < all.length };
}
