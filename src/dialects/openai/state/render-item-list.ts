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

/** The `include` value that shows a reasoning item's encrypted content (ResponseIncludable). */
const ENCRYPTED_REASONING = "reasoning.encrypted_content";

/**
 * Renders items as OpenAI's list (each as renderStoredItem shows it). `include`: the request's
 * (`include[]=reasoning.encrypted_content` shows the encrypted reasoning, as OpenAI's lists do).
 */
export function renderItemList(page: ListPage<StoredItem>, include: readonly string[] = []): ItemList {
  return renderList(
    page.data.map((stored) => renderStoredItem(stored.item, include)),
    page.hasMore,
  );
}

/**
 * A stored item as a client is given it: an `mcp_call` stored with a text error as the API types it
 * now; a reasoning item without the Anthropic signature tandem keeps with it (thinking-signature.ts),
 * and without a Responses upstream's encrypted content unless `include` asks for it (kept in the
 * store, so that it goes back to its upstream, but shown only on request, as the Response shows it).
 */
export function renderStoredItem(item: StateItem, include: readonly string[] = []): StateItem {
  const shown = withoutThinkingSignature(item);
  if (shown.type !== "reasoning" || !("encrypted_content" in shown) || include.includes(ENCRYPTED_REASONING)) {
    return renderStoredMcpCall(shown);
  }
  const { encrypted_content: _sealed, ...rest } = shown;
  return rest as StateItem;
}
