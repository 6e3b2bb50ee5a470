import { GatewayError, jsonValueSpan, makeId, statusForCode, unixSeconds } from "../../../core/index.js";
import { openAIErrorObject } from "../render-openai-error.js";
import type { LoopbackTurnOutcome } from "./loopback-turn.js";
import { parseResponsesRequest } from "./parse-responses-request.js";
import { renderResponse } from "./render-response.js";
import type { SocketTurnConnection } from "./socket-turn-marks.js";

export type { SocketTurnConnection } from "./socket-turn-marks.js";

/**
 * Runs one turn (runLoopbackTurn, with the connection's headers): each event's data to `relay`, in
 * order; `signal` cancels the turn. `connection`: what the connection's memory adds to the turn
 * (SocketTurnConnection).
 */
export type SocketTurnRunner = (
  body: Record<string, unknown>,
  relay: (data: string) => Promise<void>,
  signal: AbortSignal,
  connection: SocketTurnConnection,
) => Promise<LoopbackTurnOutcome>;

/** The last response of a connection, so that a `store: false` chain can be continued on it (OpenAI's connection-local state). */
interface LastResponse {
  id: string;
  /** The stored response its history starts from (sent on as `previous_response_id`), if any. */
  base: string | undefined;
  /** Every item after `base`: the inputs and outputs of the turns that were not stored, oldest first. */
  items: unknown[];
  /**
   * Those turns held content declared private where it was kept (a private memory recalled, a
   * private file's passage): sent again as input, nothing else says so, so the connection keeps the
   * mark as the store keeps it on stored items, and the next turn carries it (a 403, or a local target).
   */
  declaredPrivate?: true;
}

/** A turn as the connection runs it: its body, and what the connection's memory adds to it. */
interface SocketTurn {
  body: Record<string, unknown>;
  connection: SocketTurnConnection;
}

/** Client events a connection may hold before earlier ones of their lane are answered; more is a client out of control. */
const MAX_QUEUED_EVENTS = 16;

/**
 * Lanes (the default one counted) answering a turn, or holding turns, on one connection at once; a
 * `response.create` that would start one more is refused with a 429 error event on its lane until one
 * of them has answered all it holds. Each lane running holds its turn's body (up to `server.bodyLimit`)
 * and an upstream request, so this bounds what one connection can make the server hold and send.
 */
export const MAX_ACTIVE_LANES = 8;

/** A lane answering a turn: the turns it holds (its FIFO) and how many are not yet answered. */
interface LaneRun {
  queue: Promise<void>;
  pending: number;
}

/** Lanes (`stream_id`) whose last response a connection keeps, and responses whose lane it remembers; the oldest go first. */
const MAX_LANES = 64;

/** A `stream_id` as the openai SDK (7) makes and checks them (ResponsesWebSocketSession.lane). */
const STREAM_ID = /^[A-Za-z0-9_.-]{1,256}$/;

/**
 * One WebSocket connection of the Responses API's WebSocket mode (`wss://…/v1/responses`, the
 * openai SDK's `ResponsesWS`, Codex's `supports_websockets`): each `response.create` event is a
 * turn, answered with the same events POST /v1/responses streams, one turn at a time per lane in the order
 * sent. As on OpenAI's, the connection keeps its last response, so a `store: false` chain continues
 * with `previous_response_id` and only the new input; `generate: false` prepares a turn without
 * the model (a warm-up whose id can be continued from). Errors before a turn's stream starts are
 * the `{type: "error", status, error}` event OpenAI sends; the connection stays open for the next.
 * A `response.create` may name a lane (`stream_id`, openai-node 7's ResponsesWebSocketSession.lane):
 * every event of its answer carries it back, so the SDK routes them to the lane, and each lane keeps
 * its own last response. Lanes run side by side (at most MAX_ACTIVE_LANES at once), each answering
 * its turns one at a time in the order sent (the API's "processed FIFO" per `stream_id`); the default
 * lane (no `stream_id`) is one of them. A lane's failure is its own: the others go on.
 * `response.steer` is answered at once with `response.steer.failed` (`steering_not_supported`):
 * tandem cannot add input to a turn under way.
 */
export class ResponsesSocketSession {
  readonly #run: SocketTurnRunner;
  readonly #send: (text: string) => Promise<void>;
  readonly #closed = new AbortController();
  /** The lanes answering or holding turns ("" for the default lane); a lane leaves when it has answered all it holds. */
  readonly #running = new Map<string, LaneRun>();
  /** Messages waiting behind a turn of their lane, and their bytes (not the turns being answered). */
  #waiting = 0;
  #waitingBytes = 0;
  readonly #maxWaitingBytes: number;
  /** Why a message's text is refused before anything reads it (the server's checks of a request body), or undefined. */
  readonly #refuseText: ((text: string) => GatewayError | undefined) | undefined;
  /** The last response of each lane ("" for the connection's default lane). */
  readonly #last = new Map<string, LastResponse>();
  /** The lane of each response answered on a named lane, for a steer that names the response. */
  readonly #laneOf = new Map<string, string>();

  /**
   * `maxWaitingBytes`: how many bytes of messages may wait for their turn behind the one being
   * answered (a client sending faster than turns are answered would otherwise hold its messages'
   * text in memory without bound; `server.bodyLimit`, so one message of any allowed size can wait).
   */
  constructor(
    run: SocketTurnRunner,
    send: (text: string) => Promise<void>,
    maxWaitingBytes = Number.POSITIVE_INFINITY,
    refuseText?: (text: string) => GatewayError | undefined,
  ) {
    this.#run = run;
    this.#send = send;
    this.#maxWaitingBytes = maxWaitingBytes;
    this.#refuseText = refuseText;
  }

  /** A text message from the client. */
  receive(text: string): void {
    if (this.#closed.signal.aborted) return;
    // The checks a POST body gets before it is parsed (nesting past the limit: 400 naming the field),
    // so that a turn never meets what the HTTP route refuses (a walk of it would overflow the stack),
    // answered at once, in the lane the message names.
    const refused = this.#refuseText?.(text);
    if (refused !== undefined) {
      void this.#error(statusForCode(refused.code), openAIErrorObject(refused), undefined, laneNamedIn(text));
      return;
    }
    const event = parseMessage(text);
    if (isObject(event) && event.type === "response.steer") {
      // Not queued behind the turn it would steer: the answer does not depend on it.
      void this.#refuseSteer(event);
      return;
    }
    // A message that names no lane (or is not an event at all) is the default lane's, as before lanes.
    const streamId = isObject(event) ? event.stream_id : undefined;
    if (streamId !== undefined && (typeof streamId !== "string" || !STREAM_ID.test(streamId))) {
      // No lane to queue it on: answered at once.
      void this.#error(
        400,
        invalid("Invalid value for 'stream_id': expected 1 to 256 letters, digits, '_', '.' or '-'.", "stream_id"),
        undefined,
        typeof streamId === "string" ? streamId : undefined,
      );
      return;
    }
    const lane = streamId ?? "";
    const bytes = Buffer.byteLength(text);
    let run = this.#running.get(lane);
    if (run === undefined && !(isObject(event) && event.type === "response.create")) {
      // Nothing of its lane to wait behind, and no turn to run (an acknowledgement, a bad event): answered now.
      void this.#handle(event).catch(() => undefined);
      return;
    }
    if (run === undefined) {
      if (this.#running.size >= MAX_ACTIVE_LANES) {
        void this.#error(
          429,
          {
            type: "invalid_request_error",
            code: "too_many_active_streams",
            message: `${MAX_ACTIVE_LANES} lanes (stream_id) are answering on this connection already: wait for one to finish, or open another connection.`,
            param: "stream_id",
          },
          undefined,
          streamId,
        );
        return;
      }
      run = { queue: Promise.resolve(), pending: 0 };
      this.#running.set(lane, run);
    } else if (this.#waiting >= MAX_QUEUED_EVENTS || this.#waitingBytes + bytes > this.#maxWaitingBytes) {
      void this.#error(
        429,
        {
          type: "invalid_request_error",
          code: "too_many_requests",
          message:
            this.#waiting >= MAX_QUEUED_EVENTS
              ? `More than ${MAX_QUEUED_EVENTS} events are waiting on this connection: wait for a response before sending more.`
              : `More than ${this.#maxWaitingBytes} bytes of events are waiting on this connection: wait for a response before sending more.`,
          param: null,
        },
        undefined,
        streamId,
      );
      return;
    }
    // The first turn of an idle lane starts now; one behind another of its lane waits, and is counted.
    const waits = run.pending > 0;
    if (waits) {
      this.#waiting++;
      this.#waitingBytes += bytes;
    }
    run.pending++;
    const lanes = run;
    lanes.queue = lanes.queue
      .then(() => {
        if (waits) {
          this.#waiting--;
          this.#waitingBytes -= bytes;
        }
        return this.#closed.signal.aborted ? undefined : this.#handle(event);
      })
      .catch(() => undefined)
      .finally(() => {
        lanes.pending--;
        if (lanes.pending === 0 && this.#running.get(lane) === lanes) this.#running.delete(lane);
      });
  }

  /** A binary message: the protocol is JSON text. */
  receiveBinary(): void {
    void this.#error(400, invalid("Binary messages are not supported: send each event as a JSON text message.", null));
  }

  /** The connection closed: every lane's turn under way is cancelled (upstream too) and nothing queued runs. */
  close(): void {
    this.#closed.abort(new Error("the WebSocket closed"));
  }

  async #handle(event: unknown): Promise<void> {
    if (event === NOT_JSON) {
      return this.#error(400, invalid("The message is not valid JSON: each event is one JSON object.", null, "invalid_json"));
    }
    if (!isObject(event)) {
      return this.#error(400, invalid("Each event must be a JSON object with a 'type'.", "type"));
    }
    // `stream_id` is the socket's own routing: never a field of the turn (nor of an upstream's request).
    const { type, generate, stream: _stream, stream_id: streamId, ...body } = event as Record<string, unknown>;
    // Codex acknowledges each response it has read: nothing to do.
    if (type === "response.processed") return;
    const lane = typeof streamId === "string" ? streamId : undefined;
    if (type !== "response.create") {
      return this.#error(
        400,
        invalid(`Unsupported event type '${String(type).slice(0, 100)}': this connection takes 'response.create'.`, "type"),
        undefined,
        lane,
      );
    }
    if (body.background === true) {
      return this.#error(
        400,
        invalid("background is not supported over WebSocket: use POST /v1/responses.", "background"),
        undefined,
        lane,
      );
    }
    delete body.background;
    if (generate !== undefined && typeof generate !== "boolean") {
      return this.#error(400, invalid("Invalid value for 'generate': expected a boolean.", "generate"), undefined, lane);
    }
    const turn = this.#continued(body);
    if (generate === false) return this.#warmUp(turn, lane);
    await this.#answer(turn, lane);
  }

  /** A follow-up to a last response (of any lane: a lane may fork from another's) that was not stored: its history, then the new input. */
  #continued(body: Record<string, unknown>): SocketTurn {
    const last = [...this.#last.values()].find((kept) => kept.id === body.previous_response_id);
    if (last === undefined || last.base === last.id) return { body, connection: { carriesDeclaredPrivate: false } };
    const { previous_response_id: _previous, ...rest } = body;
    return {
      body: {
        ...rest,
        ...(last.base !== undefined && { previous_response_id: last.base }),
        input: [...last.items, ...inputItems(body.input)],
      },
      connection: { carriesDeclaredPrivate: last.declaredPrivate === true, previousResponseId: last.id },
    };
  }

  async #answer(turn: SocketTurn, lane: string | undefined): Promise<void> {
    let final: Record<string, unknown> | undefined;
    let failed = false;
    const relay = async (data: string): Promise<void> => {
      const event = parseEvent(data);
      if (event?.type === "response.completed" || event?.type === "response.incomplete")
        final = event.response as Record<string, unknown>;
      else if (event?.type === "response.failed" || event?.type === "error") failed = true;
      if (lane === undefined || event === undefined) return this.#send(data);
      if (event.type === "response.created") this.#remember(this.#laneOf, String(idOf(event.response)), lane);
      await this.#send(JSON.stringify({ ...event, stream_id: lane }));
    };
    let outcome: LoopbackTurnOutcome;
    try {
      outcome = await this.#run(turn.body, relay, this.#closed.signal, turn.connection);
    } catch (err) {
      // OpenAI forgets the connection's last response when a turn fails.
      this.#last.delete(lane ?? "");
      if (this.#closed.signal.aborted) return;
      throw err;
    }
    if (outcome.kind === "refused") {
      this.#last.delete(lane ?? "");
      const error = (outcome.body as { error?: unknown } | undefined)?.error ?? outcome.body;
      return this.#error(outcome.status, error, outcome.headers, lane);
    }
    const declaredPrivate = turn.connection.carriesDeclaredPrivate || outcome.declaredPrivate === true;
    this.#keepLast(lane, final !== undefined && !failed ? remembered(turn.body, final, declaredPrivate) : undefined);
  }

  /** `generate: false`: the turn's state is kept without asking the model; its id can be continued from. */
  async #warmUp({ body: turn, connection }: SocketTurn, lane: string | undefined): Promise<void> {
    const { carriesDeclaredPrivate, previousResponseId } = connection;
    let parsed: ReturnType<typeof parseResponsesRequest>;
    try {
      parsed = parseResponsesRequest({ ...turn, input: turn.input ?? [] });
    } catch (err) {
      this.#last.delete(lane ?? "");
      if (!(err instanceof GatewayError)) throw err;
      return this.#error(400, invalid(err.message, err.param ?? null, err.reason ?? "invalid_value"), undefined, lane);
    }
    // The client's own previous response, not the stored one its history was resolved to.
    if (previousResponseId !== undefined) parsed.echo.previous_response_id = previousResponseId;
    const id = makeId("resp_", 48);
    const identity = { id, createdAt: unixSeconds(), model: typeof turn.model === "string" ? turn.model : "" };
    const usage = { inputTokens: 0, outputTokens: 0 };
    const created = renderResponse(identity, parsed.echo, { status: "in_progress", output: [], usage: undefined });
    const completed = renderResponse(identity, parsed.echo, { status: "completed", output: [], usage });
    const onLane = lane === undefined ? {} : { stream_id: lane };
    if (lane !== undefined) this.#remember(this.#laneOf, id, lane);
    await this.#send(JSON.stringify({ type: "response.created", sequence_number: 0, response: created, ...onLane }));
    await this.#send(JSON.stringify({ type: "response.completed", sequence_number: 1, response: completed, ...onLane }));
    const base = typeof turn.previous_response_id === "string" ? turn.previous_response_id : undefined;
    this.#keepLast(
      lane,
      turn.conversation == null
        ? { id, base, items: inputItems(turn.input), ...(carriesDeclaredPrivate && { declaredPrivate: true as const }) }
        : undefined,
    );
  }

  /** `response.steer` (ResponseSteerEvent): refused, in the event the SDK types for it, on the lane of the response it names. */
  async #refuseSteer(steer: Record<string, unknown>): Promise<void> {
    if (this.#closed.signal.aborted) return;
    const target = typeof steer.previous_response_id === "string" ? steer.previous_response_id : "";
    const lane = this.#laneOf.get(target);
    await this.#send(
      JSON.stringify({
        type: "response.steer.failed",
        sequence_number: 0,
        error: {
          type: "invalid_request_error",
          code: "steering_not_supported",
          message:
            "Steering is not supported by tandem: wait for the response to end, then send the input in a new response.create with previous_response_id.",
        },
        steer: { input: steer.input ?? "", previous_response_id: target },
        ...(lane !== undefined && { stream_id: lane }),
      }),
    );
  }

  #keepLast(lane: string | undefined, last: LastResponse | undefined): void {
    if (last === undefined) this.#last.delete(lane ?? "");
    else this.#remember(this.#last, lane ?? "", last);
  }

  /** Sets `key` as the newest entry of `map`, dropping the oldest past MAX_LANES. */
  #remember<V>(map: Map<string, V>, key: string, value: V): void {
    map.delete(key);
    map.set(key, value);
    if (map.size > MAX_LANES) map.delete(map.keys().next().value as string);
  }

  /**
   * An error event. Its headers (a refusal's `retry-after`) go both where Codex reads them (beside
   * `error`) and where openai-node 7 types them (ResponseWsError: `error.headers`).
   */
  async #error(status: number, error: unknown, headers?: Record<string, string>, lane?: string): Promise<void> {
    if (this.#closed.signal.aborted) return;
    await this.#send(
      JSON.stringify({
        type: "error",
        status,
        error: headers && error !== null && typeof error === "object" ? { ...error, headers } : error,
        ...(headers && { headers }),
        ...(lane !== undefined && { stream_id: lane }),
      }),
    );
  }
}

function idOf(response: unknown): unknown {
  return response !== null && typeof response === "object" ? (response as { id?: unknown }).id : undefined;
}

/**
 * What the connection keeps of a finished turn: nothing when it is stored or in a conversation (the
 * store has it, marks included); `declaredPrivate`: the turn held content declared private.
 */
function remembered(
  turn: Record<string, unknown>,
  response: Record<string, unknown>,
  declaredPrivate: boolean,
): LastResponse | undefined {
  const id = response.id;
  if (typeof id !== "string" || turn.conversation != null) return undefined;
  if (response.store !== false) return { id, base: id, items: [] };
  const base = typeof turn.previous_response_id === "string" ? turn.previous_response_id : undefined;
  const output = Array.isArray(response.output) ? response.output : [];
  return { id, base, items: [...inputItems(turn.input), ...output], ...(declaredPrivate && { declaredPrivate: true as const }) };
}

/** A request's `input` as items (a string is one user message). */
function inputItems(input: unknown): unknown[] {
  if (typeof input === "string") return [{ type: "message", role: "user", content: input }];
  return Array.isArray(input) ? input : [];
}

/** The valid `stream_id` of a message's text, found without parsing the rest of it; undefined when it has none. */
function laneNamedIn(text: string): string | undefined {
  const span = jsonValueSpan(text, ["stream_id"]);
  if (span === undefined || text.charCodeAt(span.start) !== 0x22) return undefined;
  try {
    const lane = JSON.parse(text.slice(span.start, span.end)) as string;
    return STREAM_ID.test(lane) ? lane : undefined;
  } catch {
    return undefined;
  }
}

/** A message that is not JSON (#handle answers it in its lane's order). */
const NOT_JSON = Symbol("not JSON");

function parseMessage(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return NOT_JSON;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function parseEvent(data: string): Record<string, unknown> | undefined {
  try {
    const event = JSON.parse(data) as unknown;
    return event !== null && typeof event === "object" ? (event as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function invalid(message: string, param: string | null, code = "invalid_value") {
  return { type: "invalid_request_error", code, message, param };
}
