import type { ResponseMeta } from "../../../core/index.js";
import { makeId, unixSeconds } from "../../../core/index.js";
import type { ItemSensitivity, StateItem, StateStore, StoredItem } from "../../../core/state.js";
import type { ParsedResponsesRequest } from "./parse-responses-request.js";
import { type ResponseState, renderResponse } from "./render-response.js";

/** One new input item and, for a resolved reference, the sensitivity it was stored with. */
export interface InputRecord {
  item: StateItem;
  sensitivity?: ItemSensitivity;
  /** An `item_reference` resolved from the history: already in the conversation, so not appended again. */
  referenced?: boolean;
}

/**
 * One response from request to stored state: its id and creation time (fixed before the answer
 * starts, so a stream's first event and the stored object agree), and the one place it is rendered
 * and saved. Saving happens before the client is given the final object, so a follow-up that names
 * this response (or its conversation) as soon as it has read it always finds it.
 */
export class PendingResponse {
  readonly id = makeId("resp_", 48);
  readonly createdAt = unixSeconds();
  readonly #request: ParsedResponsesRequest;
  readonly #input: readonly InputRecord[];
  readonly #state: StateStore;
  /** The sensitivity the client declared or the history carries, for when the router did not classify. */
  readonly #fallbackSensitivity: ItemSensitivity | undefined;

  constructor(
    request: ParsedResponsesRequest,
    input: readonly InputRecord[],
    state: StateStore,
    fallbackSensitivity: ItemSensitivity | undefined,
  ) {
    this.#request = request;
    this.#input = input;
    this.#state = state;
    this.#fallbackSensitivity = fallbackSensitivity;
  }

  /** The Response object as it stands. */
  render(meta: ResponseMeta, state: ResponseState): Record<string, unknown> {
    return renderResponse({ id: this.id, createdAt: this.createdAt, model: meta.target }, this.#request.echo, state);
  }

  /**
   * Renders the final Response and keeps it: saved when `store` is not false; its input and output
   * appended to its conversation unless it failed. Items are marked with the request's sensitivity
   * (the router's classification, else what the client declared or the history carried), so private
   * turns stay private wherever the conversation goes next.
   */
  async finish(meta: ResponseMeta, state: ResponseState): Promise<Record<string, unknown>> {
    const response = this.render(meta, state);
    const sensitivity = meta.sensitivity ?? this.#fallbackSensitivity;
    const mark = (item: StateItem, own?: ItemSensitivity): StoredItem => {
      const level = own ?? sensitivity;
      return level === undefined || level === "public" ? { item } : { item, sensitivity: level };
    };
    const input = this.#input.map((record) => mark(record.item, record.sensitivity));
    const output = state.output.map((item) => mark(item));
    const { previousResponseId, conversationId } = this.#request;
    if (this.#request.store) {
      await this.#state.saveResponse({
        id: this.id,
        createdAt: this.createdAt,
        response,
        ...(previousResponseId !== undefined && { previousResponseId }),
        ...(conversationId !== undefined && { conversationId }),
        input,
        output,
      });
    }
    if (conversationId !== undefined && state.status !== "failed") {
      const added = input.filter((_, i) => this.#input[i]?.referenced !== true);
      await this.#state.addConversationItems(conversationId, [...added, ...output]);
    }
    return response;
  }
}
