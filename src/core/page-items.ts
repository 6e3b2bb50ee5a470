import { type ListOptions, type ListPage, type StoredItem, unknownCursorPage } from "./state.js";

/**
 * One page of `items` (oldest first) in the requested order, after the item with id `after`, or
 * the `limit` just before the item with id `before` (an id that is not one of them:
 * `unknownCursor`). For lists put together in memory; a store that can page in its own query does
 * so there.
 */
export function pageItems(items: readonly StoredItem[], options: ListOptions): ListPage<StoredItem> {
  return pageBy(items, options, (i) => i.item.id);
}

/**
 * pageItems over entries of any shape, each known by `idOf`: a store pages its rows by their id
 * column, so that only the page's items are read from their JSON (a response's 20,000 input items
 * are not all parsed for each page of 100).
 */
export function pageBy<T>(entries: readonly T[], options: ListOptions, idOf: (entry: T) => string): ListPage<T> {
  const ordered = options.order === "desc" ? [...entries].reverse() : entries;
  const start = startAfter(ordered, options.after, idOf);
  if (start === undefined) return unknownCursorPage("after");
  if (options.before === undefined) {
    return { data: ordered.slice(start, start + options.limit), hasMore: start + options.limit < ordered.length };
  }
  const end = ordered.findIndex((entry) => idOf(entry) === options.before);
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
