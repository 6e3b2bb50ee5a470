import type { ResponseMeta } from "../../../core/index.js";
import { makeId, unixSeconds } from "../../../core/index.js";
import type { ItemSensitivity, StateItem, StateStore, StoredItem, StoredResponse } from "../../../core/state.js";
import type { NamespacedTool } from "./namespaced-tools.js";
import type { ParsedResponsesRequest } from "./parse-responses-request.js";
import { type ResponseState, renderResponse } from "./render-response.js";

/** One new input item and, for a resolved reference, the sensitivity it was stored with. */
export interface InputRecord {
  item: StateItem;
  sensitivity?: ItemSensitivity;
  /** A reference's (or a kept compaction's) StoredItem.declaredPrivate. */
  declaredPrivate?: true;
  /** An `item_reference` resolved from the history: already in the conversation, so not appended again. */
  referenced?: boolean;
  /** The item as the client sent it (not stored: `item` is), for a Responses-native upstream. */
  sent?: Record<string, unknown>;
}

/**
 * One response from request to stored state: its id and creation time (fixed before the answer
 * starts, so a stream's first event and the stored object agree), and the one place it is rendered
 * and saved. Saving happens before the client is given the final object, so a follow-up that names
 * this response (or its conversation) as soon as it has read it always finds it.
 */
export class PendingResponse {
  readonly id: string;
  readonly createdAt: number;
  readonly #request: ParsedResponsesRequest;
  readonly #input: readonly InputRecord[];
  readonly #conversationThrough: string | undefined;
  readonly #state: StateStore;
  #discarded = false;
  /** The sensitivity the client declared or the history carries, for when the router did not classify. */
  readonly #fallbackSensitivity: ItemSensitivity | undefined;
  /** Whether the history or the files it names hold content declared private (for a turn the router has not answered yet). */
  readonly #declaredPrivate: boolean;
  /** Summaries of the history's older turns made for this turn (history-summary.ts), by the target they were made for. */
  readonly #summaries = new Map<string, StateItem>();
  /** Told as the turn is kept whether it held content declared private (a WebSocket connection's memory keeps that). */
  #onKept: ((declaredPrivate: boolean) => void) | undefined;

  constructor(
    request: ParsedResponsesRequest,
    /** The new input, the conversation's last item when it began, what it holds declared private (compose-conversation.ts gives them). */
    composed: { input: readonly InputRecord[]; conversationThrough?: string | undefined; declaredPrivate?: readonly string[] },
    state: StateStore,
    fallbackSensitivity: ItemSensitivity | undefined,
    /** A background run's turn takes the id and time the run was answered with (background-responses.ts). */
    identity: { id: string; createdAt: number } = { id: makeId("resp_", 48), createdAt: unixSeconds() },
  ) {
    this.id = identity.id;
    this.createdAt = identity.createdAt;
    this.#request = request;
    this.#input = composed.input;
    this.#conversationThrough = composed.conversationThrough;
    this.#state = state;
    this.#fallbackSensitivity = fallbackSensitivity;
    this.#declaredPrivate = (composed.declaredPrivate?.length ?? 0) > 0;
  }

  /** The request's namespaced tools (a call of one is rendered with its own name and namespace). */
  get namespaced(): ReadonlyMap<string, NamespacedTool> {
    return this.#request.namespaced;
  }

  /** The request's custom tools (a call of one is rendered as a `custom_tool_call`). */
  get custom(): ReadonlySet<string> {
    return this.#request.custom;
  }

  /** Whether a `file_search_call` item shows its results (`include: ["file_search_call.results"]`). */
  get fileSearchResults(): boolean {
    return this.#request.fileSearchResults;
  }

  /** A summary made for `target`'s window: stored ahead of the turn's input if `target` answers. */
  keepSummary(item: StateItem, target: string): void {
    this.#summaries.set(target, item);
  }

  /**
   * `listener` is told, as the turn is kept (stored or not, before the client is given its end),
   * whether it held content declared private: a `store: false` turn of a WebSocket connection is
   * kept by the connection alone, which must know it as the store would (SocketTurnMark).
   */
  whenKept(listener: (declaredPrivate: boolean) => void): void {
    this.#onKept = listener;
  }

  /** The Response object as it stands. */
  render(meta: ResponseMeta, state: ResponseState): Record<string, unknown> {
    return renderResponse({ id: this.id, createdAt: this.createdAt, model: meta.target }, this.#request.echo, state);
  }

  /**
   * Renders the final Response and keeps it when `store` is not false: saved, and its input and
   * output appended to its conversation unless it failed. Items are marked with the request's sensitivity
   * (the router's classification, else what the client declared or the history carried), so private
   * turns stay private wherever the conversation goes next. `sealed`: output items a Responses target
   * began (a stream that went on elsewhere, or failed) kept as it sent them, by index in
   * `state.output` (ResponseProgress.sealed), so their encrypted reasoning is stored as finishNative
   * stores it; the Response keeps the client's view.
   */
  async finish(
    meta: ResponseMeta,
    state: ResponseState,
    sealed?: ReadonlyMap<number, { item: StateItem; origin: string }>,
  ): Promise<Record<string, unknown>> {
    const response = this.render(meta, state);
    await this.#keep(
      meta,
      response,
      state.output.map((item, index) => sealed?.get(index) ?? { item }),
      state.status,
    );
    return response;
  }

  /**
   * A native Responses upstream's own Response as this response: every field it sent, with tandem's
   * id, creation time and target, and the request's own `store`, `background`, `previous_response_id`
   * and `conversation` (the upstream was sent the history with `store: false` and no `background`: tandem
   * runs a background turn itself, so the upstream's `background: false` is not the client's).
   */
  adopt(meta: ResponseMeta, upstream: Record<string, unknown>): Record<string, unknown> {
    const echo = this.#request.echo;
    return {
      // An upstream that predates the field sent none: null, as renderResponse has it.
      access_programs: null,
      ...upstream,
      id: this.id,
      created_at: this.createdAt,
      model: meta.target,
      previous_response_id: echo.previous_response_id,
      conversation: echo.conversation,
      store: echo.store,
      background: echo.background,
    };
  }

  /**
   * As `finish`, for a native Responses upstream's final Response: its output items are kept as the
   * upstream sent them (reasoning with its `encrypted_content` included, marked with the target as
   * its origin, since only that upstream can read it back). `view` is what the client is given of
   * the Response (and what retrieval returns later): without the encrypted reasoning it did not ask for.
   */
  async finishNative(
    meta: ResponseMeta,
    upstream: Record<string, unknown>,
    view: (response: Record<string, unknown>) => Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const response = view(this.adopt(meta, upstream));
    const output: Array<{ item: StateItem; origin?: string }> = [];
    for (const raw of Array.isArray(upstream.output) ? upstream.output : []) {
      if (raw === null || typeof raw !== "object" || typeof raw.type !== "string") continue;
      const item = (typeof raw.id === "string" ? raw : { ...raw, id: makeId("item_", 48) }) as StateItem;
      const sealed = item.type === "reasoning" && typeof item.encrypted_content === "string";
      output.push(sealed ? { item, origin: meta.target } : { item });
    }
    const status = response.status === "incomplete" || response.status === "failed" ? response.status : "completed";
    await this.#keep(meta, response, output, status);
    return response;
  }

  /**
   * A background run's turn, before its target is asked: the response saved `in_progress` with its
   * input and its place in a chain or conversation, so that a run that ends without its turn
   * finishing (cancelled, refused, cut off, tandem stopped) still lists its input items and is
   * continued from with its whole history, as a foreground turn that fails is. Its conversation
   * takes nothing: only a turn that finishes joins it. Answers what was saved (nothing with
   * `store: false`), for the run to save again as it ends (BackgroundResponses).
   */
  async keepStarted(): Promise<StoredResponse | undefined> {
    if (!this.#request.store) return undefined;
    const response = renderResponse(
      { id: this.id, createdAt: this.createdAt, model: this.#request.chat.model },
      this.#request.echo,
      {
        status: "in_progress",
        output: [],
        usage: undefined,
      },
    );
    const mark = marker(this.#fallbackSensitivity, this.#declaredPrivate);
    const started = this.#record(
      response,
      this.#input.map((record) => mark(record.item, record)),
      [],
    );
    await this.#state.saveResponse(started);
    return started;
  }

  async #keep(
    meta: ResponseMeta,
    response: Record<string, unknown>,
    answer: ReadonlyArray<{ item: StateItem; origin?: string }>,
    status: ResponseState["status"],
  ): Promise<void> {
    // A turn that carried content declared private may quote it: all its items carry the mark.
    const declaredPrivate = meta.declaredPrivate === true || this.#declaredPrivate;
    this.#onKept?.(declaredPrivate);
    const mark = marker(meta.sensitivity ?? this.#fallbackSensitivity, declaredPrivate);
    const input = this.#input.map((record) => mark(record.item, record));
    const output = answer.map((entry) => mark(entry.item, undefined, entry.origin));
    // The summary leads the turn's items, with the turn's sensitivity (it is made of the history's).
    const made = this.#summaries.get(meta.target);
    const summary = made === undefined ? [] : [mark(made)];
    const { conversationId } = this.#request;
    // store: false keeps nothing, not even in the conversation the turn read (as OpenAI does).
    if (!this.#request.store) return;
    // Deleted while it was answered (ResponsesInFlight): nothing of it is kept, and its turn does not
    // join its conversation either, as nothing of a deleted background run does.
    if (this.#discarded) return;
    // The turn joins its conversation in the response's own transaction: both are kept, or neither.
    const added = input.filter((_, i) => this.#input[i]?.referenced !== true);
    const joins = conversationId !== undefined && status !== "failed";
    const joined = joins ? [...summary, ...added, ...output] : [];
    await this.#state.saveResponse({
      ...this.#record(response, [...summary, ...input], output),
      ...(joins && { conversationItems: joined }),
    });
    // Deleted while it was being saved, before the client was given its end: taken back, from its
    // conversation too (the conversation is still this turn's, so nothing came after its items).
    if (this.#discarded) await this.#forget(conversationId, joined);
  }

  /** The client deleted the response while it was answered: it is not kept past its end. */
  discard(): void {
    this.#discarded = true;
  }

  /** Deletes what `#keep` saved: the response, and the items its turn appended to its conversation. */
  async #forget(conversationId: string | undefined, joined: readonly StoredItem[]): Promise<void> {
    await this.#state.deleteResponse(this.id);
    if (conversationId === undefined) return;
    for (const { item } of joined) await this.#state.deleteConversationItem(conversationId, item.id);
  }

  /** The response as the store keeps it: with its place in its chain or conversation. */
  #record(response: Record<string, unknown>, input: StoredItem[], output: StoredItem[]): StoredResponse {
    const { previousResponseId, conversationId } = this.#request;
    return {
      id: this.id,
      createdAt: this.createdAt,
      response,
      ...(previousResponseId !== undefined && { previousResponseId }),
      ...(conversationId !== undefined && { conversationId }),
      ...(this.#conversationThrough !== undefined && { conversationThrough: this.#conversationThrough }),
      input,
      output,
    };
  }
}

/**
 * Marks items with a sensitivity (their own, else the turn's); public ones carry none. Where the turn
 * (or the item itself) carried content declared private, private and StoredItem.declaredPrivate.
 */
function marker(sensitivity: ItemSensitivity | undefined, declaredPrivate: boolean) {
  return (item: StateItem, own?: Pick<InputRecord, "sensitivity" | "declaredPrivate">, origin?: string): StoredItem => {
    const level = own?.sensitivity ?? sensitivity;
    let stored: StoredItem = level === undefined || level === "public" ? { item } : { item, sensitivity: level };
    if (declaredPrivate || own?.declaredPrivate === true) stored = { item, sensitivity: "private", declaredPrivate: true };
    if (origin !== undefined) stored.origin = origin;
    return stored;
  };
}
