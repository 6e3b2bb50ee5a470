import type { ListOptions, ListPage, StateStore, StoredConversation } from "./state.js";

/**
 * An optional addition to the StateStore contract: the stored conversations and responses
 * themselves, listed newest first a page at a time. OpenAI's API has no such list (a client keeps
 * its own ids); tandem's console and `GET /v1/conversations` / `GET /v1/responses` (tandem's
 * extensions) read the state through it. Each entry is a summary, small whatever the conversation
 * or response holds: the whole of one stays at its own retrieve.
 */
export interface StoredStateLister {
  /**
   * A page of conversations by last change (to it or its items), newest first for `desc`; ties by
   * id. An `after` that names no stored conversation (deleted since, or never one): ListPage.unknownCursor.
   */
  listConversations(options: ListOptions): Promise<ListPage<ConversationSummary>>;
  /**
   * A page of responses in the order they were first stored (a response saved again keeps its
   * place), newest first for `desc`: `created_at` is in seconds, and a chain made within one second
   * must still list in the order it was made. An `after` that names no stored response: ListPage.unknownCursor.
   */
  listResponses(options: ListOptions): Promise<ListPage<ResponseSummary>>;
}

export interface ConversationSummary {
  conversation: StoredConversation;
  /** Seconds since the epoch: its last change, or its items' (what the list is ordered by). */
  updatedAt: number;
  /** How many items it holds now. */
  itemCount: number;
  /** The first user message's text, whitespace folded, at most PREVIEW_CHARS; null when it has none. */
  preview: string | null;
}

export interface ResponseSummary {
  id: string;
  /** Seconds since the epoch. */
  createdAt: number;
  model: string | null;
  status: string | null;
  previousResponseId: string | null;
  conversationId: string | null;
  /** The text of the last user message of its own input (what it was asked), as `preview`. */
  inputPreview: string | null;
  /** The text of its first output message, as `preview`. */
  outputPreview: string | null;
}

/** The most characters a preview keeps (an ellipsis marks one cut short). */
export const PREVIEW_CHARS = 200;

/**
 * How many characters a store reads of a text it makes a preview of: enough to fill PREVIEW_CHARS
 * after whitespace is folded, never the whole of a long message.
 */
export const PREVIEW_READ_CHARS = PREVIEW_CHARS * 4;

/** How many items of a conversation or of a response's input or output a preview looks through for its message. */
export const PREVIEW_SCAN_ITEMS = 50;

/** A text as a preview: whitespace runs folded to one space, trimmed, cut at PREVIEW_CHARS; null when empty. */
export function previewText(text: string | null | undefined): string | null {
  if (typeof text !== "string") return null;
  const folded = text.replace(/\s+/g, " ").trim();
  if (folded === "") return null;
  const chars = Array.from(folded);
  return chars.length <= PREVIEW_CHARS ? folded : `${chars.slice(0, PREVIEW_CHARS - 1).join("")}…`;
}

export function canListState(state: StateStore): state is StateStore & StoredStateLister {
  const lister = state as Partial<StoredStateLister>;
  return typeof lister.listConversations === "function" && typeof lister.listResponses === "function";
}

/**
 * The text of a message item, as a preview reads it: a string content, or its text parts (`input_text`,
 * `output_text`, `text`) joined by a space; at most PREVIEW_READ_CHARS. Null for any other item.
 */
export function messageText(item: { type: string; [field: string]: unknown }): string | null {
  if (item.type !== "message") return null;
  const content = item.content;
  if (typeof content === "string") return content.slice(0, PREVIEW_READ_CHARS);
  if (!Array.isArray(content)) return null;
  let text = "";
  for (const part of content as unknown[]) {
    if (text.length >= PREVIEW_READ_CHARS) break;
    const { type, text: partText } = (part ?? {}) as { type?: unknown; text?: unknown };
    if (!TEXT_PARTS.has(String(type)) || typeof partText !== "string") continue;
    text += `${text === "" ? "" : " "}${partText.slice(0, PREVIEW_READ_CHARS)}`;
  }
  return text === "" ? null : text.slice(0, PREVIEW_READ_CHARS);
}

/** The content parts whose `text` a preview reads (the same set the store's query reads). */
export const TEXT_PARTS: ReadonlySet<string> = new Set(["input_text", "output_text", "text"]);
