/**
 * OpenAI refuses a request that gives one item twice, "Duplicate item found with id msg_1. Remove
 * duplicate items from your input and try again." (a 400 naming `input`): two input items with the
 * same id, or one that is already in the history it continues (an `item_reference` to an item of the
 * `previous_response_id` chain or the conversation, or the item itself sent again). tandem does the
 * same, before anything is stored: a history holding an item twice would later be sent to a target
 * as two tool calls with one id, which Anthropic refuses on every turn after.
 */
export function duplicateItemId(ids: Iterable<string>, known: (id: string) => boolean): string | undefined {
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id) || known(id)) return id;
    seen.add(id);
  }
  return undefined;
}

/** The refusal's words, OpenAI's own. */
export function duplicateItemMessage(id: string): string {
  return `Duplicate item found with id ${id}. Remove duplicate items from your input and try again.`;
}
