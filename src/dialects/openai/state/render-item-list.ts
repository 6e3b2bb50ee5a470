import type { ListPage, StateItem, StoredItem } from "../../../core/state.js";
import { renderStoredMcpCall } from "./render-mcp-call-error.js";
import { withoutThinkingSignature } from "./thinking-signature.js";

/** OpenAI's list object (items, files, stored completions, vector stores...): `{ object: "list", data, first_id, last_id, has_more }`. */
export interface OpenAIList<T> {
  object: "list";
  data: T[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

export type ItemList = OpenAIList<StateItem>;

/** A page of objects as OpenAI's list; an empty list has null first and last ids, as OpenAI's does. */
export function renderList<T extends object>(data: T[], hasMore: boolean): OpenAIList<T> {
  return { object: "list", data, first_id: idOf(data[0]), last_id: idOf(data.at(-1)), has_more: hasMore };
}

function idOf(object: object | undefined): string | null {
  const id = (object as { id?: unknown } | undefined)?.id;
  return typeof id === "string" ? id : null;
}

/**
 * Renders items as OpenAI's list (an `mcp_call` stored with a text error as the API types it now;
 * a reasoning item without the Anthropic signature tandem keeps with it, thinking-signature.ts).
 */
export function renderItemList(page: ListPage<StoredItem>): ItemList {
  return renderList(
    page.data.map((stored) => renderStoredMcpCall(withoutThinkingSignature(stored.item))),
    page.hasMore,
  );
}
