import type { StateStore, StoredItem } from "./state.js";

/**
 * An optional addition to the StateStore contract: any stored item by its id, wherever it was
 * stored (a response's input or output, a conversation). OpenAI resolves `item_reference` input
 * items this way, across every stored response; the Vercel AI SDK sends earlier assistant turns as
 * such references without a `previous_response_id`. A store without it resolves references only
 * from the history a request continues.
 */
export interface StoredItemFinder {
  /** The item with this id, or `undefined`. Never throws for an unknown id. */
  findItem(id: string): Promise<StoredItem | undefined>;
}

export function canFindItems(state: StateStore): state is StateStore & StoredItemFinder {
  return typeof (state as Partial<StoredItemFinder>).findItem === "function";
}
