/** A response being answered that can be told it was deleted (PendingResponse). */
export interface DiscardableResponse {
  readonly id: string;
  /** Deleted by the client while it is answered: it is not kept past its end. */
  discard(): void;
}

/**
 * The foreground responses being answered. Their id is the client's from `response.created` on, so
 * a client may DELETE one before it is stored: the delete is taken (and answered as deleted), and
 * nothing of the response is kept at its end (its turn does not join its conversation either),
 * instead of a 404 followed by the response appearing. Background runs have their own registry (background-responses.ts).
 */
export class ResponsesInFlight {
  readonly #running = new Map<string, DiscardableResponse>();

  /** Runs `answer` with `response` deletable by its id meanwhile. */
  async run<T>(response: DiscardableResponse, answer: () => Promise<T>): Promise<T> {
    this.#running.set(response.id, response);
    try {
      return await answer();
    } finally {
      this.#running.delete(response.id);
    }
  }

  /** Whether a response with this id is being answered (it is stored as its answer ends). */
  has(id: string): boolean {
    return this.#running.has(id);
  }

  /** Deletes a response under way; false when none with this id is. */
  delete(id: string): boolean {
    const response = this.#running.get(id);
    response?.discard();
    return response !== undefined;
  }
}
