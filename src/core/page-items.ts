import { type ListOptions, type ListPage, type StoredItem, unknownCursorPage } from "./state.js";

/**
 * One page of `items` (oldest first) in the requested order, after the item with id `after`, or
 * the `limit` just before the item with id `before` (an id that is not one of them:
 * `unknownCursor`). For lists put together in memory; a store that can page in its own query does
 * so there.
 */
export function pageItems(items: readonly StoredItem[], options: ListOptions): ListPage<StoredItem> {
  const ordered = options.order === "desc" ? [...items].reverse() : items;
  const start = startAfter(ordered, options.after, (i) => i.item.id);
  if (start === undefined) return unknownCursorPage("after");
  if (options.before === undefined) {
    return { data: ordered.slice(start, start + options.limit), hasMore: start + options.limit < ordered.length };
  }
  const end = ordered.findIndex((i) => i.item.id === options.before);
  if (end === -1) return unknownCursorPage("before");
  const from = Math.max(start, end - options.limit);
  return { data: ordered.slice(from, Math.max(from, end)), hasMore: from > start };
}

/**
 * Where a page of `ordered` starts for the cursor `after`: 0 without one, just past the entry whose
 * id it is, undefined when no entry has it (the list then answers unknownCursorPage). For the lists
 * put together in memory.
 */
export function startAfter<T>(ordered: readonly T[], after: string | undefined, idOf: (entry: T) => string): number | undefined {
  if (after === undefined) return 0;
  const at = ordered.findIndex((entry) => idOf(entry) === after);
  return at === -1 ? undefined : at + 1;
}
