import { GatewayError } from "../../../core/index.js";

/**
 * A conversation taken for one turn, from the moment the turn was accepted until `release`d and the
 * turn run under it (`ConversationTurns.run`) has ended: a background run that ends (cancelled, say)
 * while its turn is still winding down keeps the conversation until that turn is done too.
 */
export class TurnHold {
  readonly conversationId: string;
  readonly #free: () => void;
  #released = false;
  #turnUnderWay = false;

  constructor(conversationId: string, free: () => void) {
    this.conversationId = conversationId;
    this.#free = free;
  }

  /** Frees the conversation for the next turn, once the turn run under it has ended; a second call does nothing. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    if (!this.#turnUnderWay) this.#free();
  }

  /** Runs the turn the conversation was held for; refused once the hold is released (its run has ended). */
  async turn<T>(turn: () => Promise<T>): Promise<T> {
    if (this.#released) throw new GatewayError("canceled", "This turn's hold on its conversation has ended");
    this.#turnUnderWay = true;
    try {
      return await turn();
    } finally {
      this.#turnUnderWay = false;
      if (this.#released) this.#free();
    }
  }
}

/**
 * The conversations with a turn under way: one at a time each, as OpenAI allows. Two turns composed
 * from the same history would each append an answer to a conversation neither of them saw, so a
 * second one is refused while the first runs (from its acceptance until its items are appended, or
 * it failed), with OpenAI's own 400 (`conversation_locked`), which tells the client to retry
 * shortly. The refusal is decided as the request is accepted: a background run takes its
 * conversation before it is answered `queued` (`hold`), and its turn runs under that hold, so an
 * accepted run never fails later on a conversation that turned out busy.
 *
 * Adding or deleting items is refused the same way while a turn is under way: an item added then
 * would be stored before the turn's own input, in an order that never happened, and one deleted
 * would still be in the history the turn was composed from. With no turn under way, item changes
 * only wait for each other (each is a short read and write), so none is refused for another, and a
 * turn accepted meanwhile begins once those already accepted are done. In this process only: one
 * server owns its store.
 */
export class ConversationTurns {
  readonly #turns = new Set<string>();
  /** Per conversation, the end of the last item change accepted (each runs after the one before). */
  readonly #itemChanges = new Map<string, Promise<void>>();

  /** Takes the conversation for a turn, or refuses with OpenAI's 400 when a turn holds it already. */
  hold(conversationId: string): TurnHold {
    if (this.#turns.has(conversationId)) throw conversationLocked();
    this.#turns.add(conversationId);
    return new TurnHold(conversationId, () => this.#turns.delete(conversationId));
  }

  /**
   * Runs `turn` as the conversation's one turn under way, once the item changes accepted before it
   * are done; `undefined`: no conversation, nothing held. `held`: the conversation was taken when
   * the turn was accepted (a background run's), and its owner releases it.
   */
  async run<T>(conversationId: string | undefined, turn: () => Promise<T>, held?: TurnHold): Promise<T> {
    if (conversationId === undefined) return turn();
    const owned = held?.conversationId === conversationId ? undefined : this.hold(conversationId);
    try {
      await this.#itemChangesDone(conversationId);
      return await (owned ?? (held as TurnHold)).turn(turn);
    } finally {
      owned?.release();
    }
  }

  /**
   * Runs `change` (an add or a delete of the conversation's items) after the changes accepted before
   * it; refused with OpenAI's 400 while a turn holds the conversation.
   */
  changeItems<T>(conversationId: string, change: () => Promise<T>): Promise<T> {
    if (this.#turns.has(conversationId)) throw conversationLocked();
    const before = this.#itemChanges.get(conversationId) ?? Promise.resolve();
    const result = before.then(change);
    const done = result.then(
      () => undefined,
      () => undefined,
    );
    this.#itemChanges.set(conversationId, done);
    // The last change of a conversation leaves nothing behind once it is done.
    void done.then(() => {
      if (this.#itemChanges.get(conversationId) === done) this.#itemChanges.delete(conversationId);
    });
    return result;
  }

  /** Resolves once the item changes accepted so far are done (no more are accepted while a turn holds it). */
  async #itemChangesDone(conversationId: string): Promise<void> {
    await this.#itemChanges.get(conversationId);
  }
}

function conversationLocked(): GatewayError {
  return new GatewayError(
    "invalid_request",
    "Another process is currently operating on this conversation. Please retry in a few seconds.",
    { param: "conversation", reason: "conversation_locked" },
  );
}
