import { type ListOptions, type ListPage, type StoredItem, unknownCursorPage } from "./state.js";

/**
 * One page of `items` (oldest first) in the requested order, after the item with id `after` (an
 * id that is not one of them: `unknownCursor`). For lists put together in memory; a store that can
 * page in its own query does so there.
 */
export function pageItems(items: readonly StoredItem[], options: ListOptions): ListPage<StoredItem> {
  const ordered = options.order === "desc" ? [...items].reverse() : items;
  const start = options.after === undefined ? 0 : ordered.findIndex((i) => i.item.id === options.after) + 1;
  if (start === 0 && options.after !== undefined) return unknownCursorPage("after");
  return { data: ordered.slice(start, start + options.limit), hasMore: start + options.limit < ordered.length };
}
