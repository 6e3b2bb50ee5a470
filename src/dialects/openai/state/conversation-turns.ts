import { GatewayError } from "../../../core/index.js";

/**
 * The conversations with a turn under way: one at a time each, as OpenAI allows. Two turns composed
 * from the same history would each append an answer to a conversation neither of them saw, so a
 * second one is refused while the first runs (from composing its history until its items are
 * appended, or it failed), with OpenAI's own 400 (`conversation_locked`), which tells the client to
 * retry shortly. Adding or deleting items is held to the same rule: an item added while a turn runs
 * would be stored before the turn's own input, in an order that never happened, and one deleted
 * would still be in the history the turn was composed from. In this process only: one server owns
 * its store.
 */
export class ConversationTurns {
  readonly #busy = new Set<string>();

  /** Runs `turn` as the conversation's one turn under way; `undefined`: no conversation, nothing held. */
  async run<T>(conversationId: string | undefined, turn: () => Promise<T>): Promise<T> {
    if (conversationId === undefined) return turn();
    if (this.#busy.has(conversationId)) {
      throw new GatewayError(
        "invalid_request",
        "Another process is currently operating on this conversation. Please retry in a few seconds.",
        { param: "conversation", reason: "conversation_locked" },
      );
    }
    this.#busy.add(conversationId);
    try {
      return await turn();
    } finally {
      this.#busy.delete(conversationId);
    }
  }
}
