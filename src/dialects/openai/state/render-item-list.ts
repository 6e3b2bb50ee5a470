import type { ListPage, StateItem, StoredItem } from "../../../core/state.js";

/** OpenAI's list object for items: `{ object: "list", data, first_id, last_id, has_more }`. */
export interface ItemList {
  object: "list";
  data: StateItem[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

/** Renders items as OpenAI's list; an empty list has null first and last ids, as OpenAI's does. */
export function renderItemList(page: ListPage<StoredItem>): ItemList {
  const data = page.data.map((stored) => stored.item);
  return {
    object: "list",
    data,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
    has_more: page.hasMore,
  };
}
