import { getJson } from "./api.js";
import { chatMessageText, type ItemText, itemText } from "./item-text.js";
import type { ChatCompletionEntry, ChatMessage, ConversationEntry, OpenAIList, ResponseEntry, StateItem } from "./wire.js";

/** How many entries, or items of one, a page asks for. */
export const PAGE_SIZE = 20;
const ITEM_PAGE_SIZE = 100;

/** One entry of a state list as the State view shows it in a row. */
export interface EntryRow {
  id: string;
  /** Seconds since the epoch: its last change (conversations) or creation. */
  at: number;
  title: string;
  details: string[];
}

/** A page of an entry's items, and the cursor of the next one (undefined: no more). */
export interface ItemPage {
  items: ItemText[];
  next: string | undefined;
}

/** What the State view lists and how it reads, opens and deletes one: a conversation, a stored response, a stored chat completion. */
export interface StateKind {
  name: string;
  /** Singular, for the delete question. */
  one: string;
  /** What its items are, as a heading over them. */
  itemsTitle: string;
  /** The list's path with its query (newest first), after the cursor when there is one. */
  listPath(after: string | undefined): string;
  row(entry: unknown): EntryRow;
  /** Its items as text, a page at a time (the request's, for a response or a completion). */
  items(id: string, after: string | undefined, signal: AbortSignal, key: string | undefined): Promise<ItemPage>;
  /** Its answer as text, when it has one apart from its items (a response's output, a completion's choices). */
  answer?(id: string, signal: AbortSignal, key: string | undefined): Promise<ItemText[]>;
  /** The path its DELETE goes to. */
  path(id: string): string;
}

function listQuery(after: string | undefined): string {
  const query = new URLSearchParams({ limit: String(PAGE_SIZE), order: "desc" });
  if (after !== undefined) query.set("after", after);
  return query.toString();
}

async function itemPage(
  path: string,
  after: string | undefined,
  signal: AbortSignal,
  key: string | undefined,
): Promise<ItemPage> {
  const query = new URLSearchParams({ limit: String(ITEM_PAGE_SIZE), order: "asc" });
  if (after !== undefined) query.set("after", after);
  const page = await getJson<OpenAIList<StateItem>>(`${path}?${query}`, signal, key);
  return { items: page.data.map(itemText), next: page.has_more && page.last_id !== null ? page.last_id : undefined };
}

const id = encodeURIComponent;

export const CONVERSATIONS: StateKind = {
  name: "Conversations",
  one: "conversation",
  itemsTitle: "Items",
  listPath: (after) => `/v1/conversations?${listQuery(after)}`,
  row: (entry) => {
    const c = entry as ConversationEntry;
    return {
      id: c.id,
      at: c.updated_at,
      title: c.preview ?? "(no user message)",
      details: [`${c.item_count} item${c.item_count === 1 ? "" : "s"}`],
    };
  },
  items: (conversation, after, signal, key) => itemPage(`/v1/conversations/${id(conversation)}/items`, after, signal, key),
  path: (conversation) => `/v1/conversations/${id(conversation)}`,
};

export const RESPONSES: StateKind = {
  name: "Responses",
  one: "stored response",
  itemsTitle: "Input (with the history it continued)",
  listPath: (after) => `/v1/responses?${listQuery(after)}`,
  row: (entry) => {
    const r = entry as ResponseEntry;
    return {
      id: r.id,
      at: r.created_at,
      title: r.input_preview ?? r.output_preview ?? "(no text)",
      details: [
        r.model ?? "",
        r.status ?? "",
        r.previous_response_id === null ? "" : `after ${r.previous_response_id}`,
        r.conversation === null ? "" : `in ${r.conversation.id}`,
      ].filter((d) => d !== ""),
    };
  },
  // Its input items: the history it continued, then its own input.
  items: (response, after, signal, key) => itemPage(`/v1/responses/${id(response)}/input_items`, after, signal, key),
  answer: async (response, signal, key) => {
    const whole = await getJson<{ output?: StateItem[] }>(`/v1/responses/${id(response)}`, signal, key);
    return (whole.output ?? []).map(itemText);
  },
  path: (response) => `/v1/responses/${id(response)}`,
};

export const CHAT_COMPLETIONS: StateKind = {
  name: "Chat completions",
  one: "stored chat completion",
  itemsTitle: "Request",
  listPath: (after) => `/v1/chat/completions?${listQuery(after)}`,
  row: (entry) => {
    const c = entry as ChatCompletionEntry;
    const answer = c.choices[0]?.message;
    const text = answer === undefined ? "" : chatMessageText(answer).text;
    return { id: c.id, at: c.created, title: text === "" ? "(no text)" : text.slice(0, 200), details: [c.model] };
  },
  items: async (completion, after, signal, key) => {
    const query = new URLSearchParams({ limit: String(ITEM_PAGE_SIZE), order: "asc" });
    if (after !== undefined) query.set("after", after);
    const page = await getJson<OpenAIList<ChatMessage & { id: string }>>(
      `/v1/chat/completions/${id(completion)}/messages?${query}`,
      signal,
      key,
    );
    return { items: page.data.map(chatMessageText), next: page.has_more && page.last_id !== null ? page.last_id : undefined };
  },
  answer: async (completion, signal, key) => {
    const whole = await getJson<ChatCompletionEntry>(`/v1/chat/completions/${id(completion)}`, signal, key);
    return whole.choices.map((choice) => chatMessageText(choice.message));
  },
  path: (completion) => `/v1/chat/completions/${id(completion)}`,
};

export const STATE_KINDS = [CONVERSATIONS, RESPONSES, CHAT_COMPLETIONS] as const;
