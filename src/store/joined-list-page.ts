import type { ListOptions, ListPage } from "../core/state.js";
import { unknownCursorPage } from "../core/state.js";

/**
 * One part of a list laid out in the order it is paged in, whose places are keys: a place lies
 * between items, and `lo`/`hi` bound a run of items exclusively, undefined being the part's start
 * (`lo`) or end (`hi`). A part held in memory keys its items by index; one read from a table, by a
 * column that follows the list's order (or runs against it), so only the rows asked for are read.
 */
export interface ListPart<T> {
  /** The key of the first item (in the list's order) with this id; undefined when none has it. */
  find(id: string): number | undefined;
  /** Up to `count` items between `lo` and `hi`, from `lo` on, in the list's order. */
  first(lo: number | undefined, hi: number | undefined, count: number): T[];
  /** Up to `count` items between `lo` and `hi`, from `hi` back, nearest `hi` first. */
  last(lo: number | undefined, hi: number | undefined, count: number): T[];
}

/** An array in the order it is paged in, as a ListPart keyed by index. */
export function arrayPart<T>(entries: readonly T[], idOf: (entry: T) => string): ListPart<T> {
  return {
    find: (id) => {
      const at = entries.findIndex((entry) => idOf(entry) === id);
      return at === -1 ? undefined : at;
    },
    first: (lo, hi, count) => {
      const from = (lo ?? -1) + 1;
      return entries.slice(from, Math.max(from, Math.min(hi ?? entries.length, from + count)));
    },
    last: (lo, hi, count) => {
      const to = hi ?? entries.length;
      return entries.slice(Math.min(to, Math.max((lo ?? -1) + 1, to - count)), to).reverse();
    },
  };
}

/** A place in a joined list: in `part`, at `key` (undefined: the part's start or end, as it bounds). */
interface Place {
  part: number;
  key: number | undefined;
}

/**
 * One page of the list `parts` make one after another, exactly as pageBy pages the whole list
 * (src/core/page-items.ts): after the first item with id `after`, or the `limit` just before the
 * first item with id `before` (between the two with both), hasMore saying whether more lie past the
 * page (with `before`: between `after` and the page). Only the page and one item more are read from
 * each part, so a part read from a table is never read whole.
 */
export function pageJoined<T>(parts: readonly ListPart<T>[], options: ListOptions): ListPage<T> {
  const start = options.after === undefined ? { part: 0, key: undefined } : locate(parts, options.after);
  if (start === undefined) return unknownCursorPage("after");
  const end = options.before === undefined ? { part: parts.length - 1, key: undefined } : locate(parts, options.before);
  if (end === undefined) return unknownCursorPage("before");
  const want = options.limit + 1;
  const rows: T[] = [];
  if (options.before === undefined) {
    for (let p = start.part; p <= end.part && rows.length < want; p++) {
      rows.push(...(parts[p] as ListPart<T>).first(p === start.part ? start.key : undefined, undefined, want - rows.length));
    }
    return { data: rows.slice(0, options.limit), hasMore: rows.length > options.limit };
  }
  // Backwards from `before`: an item more than the page says whether more lie between it and `after`.
  for (let p = end.part; p >= start.part && rows.length < want; p--) {
    const lo = p === start.part ? start.key : undefined;
    rows.push(...(parts[p] as ListPart<T>).last(lo, p === end.part ? end.key : undefined, want - rows.length));
  }
  return { data: rows.slice(0, options.limit).reverse(), hasMore: rows.length > options.limit };
}

/** Where the first item with this id is, in the first part that has it. */
function locate<T>(parts: readonly ListPart<T>[], id: string): Place | undefined {
  for (const [part, list] of parts.entries()) {
    const key = list.find(id);
    if (key !== undefined) return { part, key };
  }
  return undefined;
}
