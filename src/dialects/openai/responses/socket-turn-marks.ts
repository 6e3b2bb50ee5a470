import type { IncomingHttpHeaders } from "node:http";
import { makeId } from "../../../core/index.js";
import { tokenOfProcessHeader } from "./process-secret-header.js";

/** The header that marks a turn as a WebSocket connection's own (its value holds a secret of this process). */
export const SOCKET_TURN_HEADER = "x-tandem-socket-turn";
/** Only this process can write the header: a client's forged one is not a connection's turn. */
const SECRET = makeId("", 32);
/** The turns of every connection under way, by the token their header names. */
const turns = new Map<string, SocketTurnMark>();

/**
 * What a WebSocket connection's turn and the POST /v1/responses that answers it (inside this
 * process) tell each other about content declared private where it was kept (ChatRequest.
 * declaredPrivate). A `store: false` chain is continued from the connection's memory, sent again as
 * the turn's input, where nothing says the earlier turns held such content: the connection keeps
 * that mark, as the store keeps it on stored items (StoredItem.declaredPrivate), and gives it to
 * the next turn of the chain.
 */
export interface SocketTurnMark {
  /** The earlier turns this one continues from the connection's memory held content declared private. */
  readonly carries: boolean;
  /**
   * The `previous_response_id` the client sent, when the turn's body names the stored response its
   * chain starts from instead (or none): the one its Response echoes (SocketTurnConnection).
   */
  readonly previousResponseId: string | undefined;
  /** Set by the route as the turn ends: the turn held such content (its answer may quote it). */
  declaredPrivate: boolean;
}

/** A turn's mark, and the header its request carries so that the route finds it; `close` when the turn has ended. */
export function openSocketTurn(connection: { carriesDeclaredPrivate: boolean; previousResponseId?: string }): {
  mark: SocketTurnMark;
  header: [string, string];
  close(): void;
} {
  const token = makeId("", 24);
  const mark: SocketTurnMark = {
    carries: connection.carriesDeclaredPrivate,
    previousResponseId: connection.previousResponseId,
    declaredPrivate: false,
  };
  turns.set(token, mark);
  return { mark, header: [SOCKET_TURN_HEADER, `${SECRET} ${token}`], close: () => turns.delete(token) };
}

/** The mark of the connection's turn these request headers belong to; undefined for any other request. */
export function claimSocketTurn(headers: IncomingHttpHeaders): SocketTurnMark | undefined {
  const token = tokenOfProcessHeader(headers[SOCKET_TURN_HEADER], SECRET);
  return token === undefined ? undefined : turns.get(token);
}

/** What a turn continued from the connection's memory carries besides its body. */
export interface SocketTurnConnection {
  /** The earlier turns it continues held content declared private (the outcome says whether this one did). */
  carriesDeclaredPrivate: boolean;
  /**
   * The `previous_response_id` the client sent, when the body goes with another (the stored response
   * the chain starts from) or none: its Response echoes the client's, as OpenAI's does.
   */
  previousResponseId?: string;
}
