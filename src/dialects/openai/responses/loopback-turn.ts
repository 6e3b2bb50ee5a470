import type { IncomingHttpHeaders } from "node:http";
import { createParser } from "eventsource-parser";
import type { Loopback } from "../../shared/index.js";
import { openSocketTurn, SOCKET_TURN_HEADER, type SocketTurnConnection } from "./socket-turn-marks.js";

/** What one turn of POST /v1/responses (streamed) came to: its events were relayed, or it was refused before any. */
export type LoopbackTurnOutcome =
  /** `declaredPrivate`: a connection's turn (`connection`) held content declared private (SocketTurnMark). */
  | { kind: "streamed"; declaredPrivate?: true }
  | { kind: "refused"; status: number; body: unknown; headers?: Record<string, string> };

/** The most of an error answer read before a turn's stream. */
const MAX_ERROR_BODY = 64 * 1024;
/** Headers of the request that started the turn (a WebSocket upgrade, a background request) that were its connection's own. */
const CONNECTION_HEADERS = new Set(["connection", "upgrade", "content-length", "transfer-encoding", "keep-alive", "expect"]);

/**
 * One turn as POST /v1/responses with `stream: true`, answered by this server from inside it (every
 * check, the router, privacy, the audit and the store apply as for any request): each SSE event's
 * data goes to `relay` in order, and the read waits for it (a slow reader slows the read, not
 * tandem's memory). `signal` cancels the turn as a client closing its connection would. A
 * `detached` turn has no client waiting on it (a background response's): tandem's shutdown ends it at
 * once (LoopbackRequest.detached). A WebSocket connection's turn (`connection`) says whether the
 * earlier turns it continues from the connection's memory held content declared private, and which
 * response the client continues, and learns whether it held such content (socket-turn-marks.ts).
 */
export async function runLoopbackTurn(
  loopback: Loopback,
  headers: IncomingHttpHeaders,
  body: Record<string, unknown>,
  relay: (data: string) => Promise<void> | void,
  signal: AbortSignal,
  options: { detached?: boolean; connection?: SocketTurnConnection } = {},
): Promise<LoopbackTurnOutcome> {
  const socketTurn = options.connection === undefined ? undefined : openSocketTurn(options.connection);
  try {
    const outcome = await answerTurn(loopback, headers, body, relay, signal, options.detached === true, socketTurn?.header);
    return outcome.kind === "streamed" && socketTurn?.mark.declaredPrivate === true
      ? { ...outcome, declaredPrivate: true }
      : outcome;
  } finally {
    socketTurn?.close();
  }
}

async function answerTurn(
  loopback: Loopback,
  headers: IncomingHttpHeaders,
  body: Record<string, unknown>,
  relay: (data: string) => Promise<void> | void,
  signal: AbortSignal,
  detached: boolean,
  socketTurnHeader: [string, string] | undefined,
): Promise<LoopbackTurnOutcome> {
  const sent = turnHeaders(headers);
  // A client's own is not the connection's: replaced, or dropped.
  delete sent[SOCKET_TURN_HEADER];
  if (socketTurnHeader !== undefined) sent[socketTurnHeader[0]] = socketTurnHeader[1];
  // The signal goes with the request: an upstream that has not started its answer is cancelled too.
  const answer = await loopback({
    method: "POST",
    url: "/v1/responses",
    headers: sent,
    body: { ...body, stream: true },
    signal,
    ...(detached && { detached: true }),
  });
  const cancel = () => answer.cancel();
  if (signal.aborted) cancel();
  signal.addEventListener("abort", cancel, { once: true });
  try {
    const type = String(answer.headers["content-type"] ?? "");
    if (answer.status !== 200 || !type.startsWith("text/event-stream")) {
      const text = await readBounded(answer.body, MAX_ERROR_BODY);
      const retryAfter = answer.headers["retry-after"];
      return {
        kind: "refused",
        status: answer.status,
        body: parseJson(text),
        ...(retryAfter !== undefined && { headers: { "retry-after": String(retryAfter) } }),
      };
    }
    const events: string[] = [];
    const parser = createParser({ onEvent: (event) => events.push(event.data) });
    const decoder = new TextDecoder();
    for await (const chunk of answer.body) {
      if (signal.aborted) break;
      parser.feed(decoder.decode(chunk, { stream: true }));
      for (const data of events.splice(0)) await relay(data);
    }
    return { kind: "streamed" };
  } finally {
    signal.removeEventListener("abort", cancel);
  }
}

/** The starting request's headers (its key, Host, Origin, tandem's own) for the turn's JSON body. */
function turnHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const turn: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !CONNECTION_HEADERS.has(name) && !name.startsWith("sec-websocket-")) turn[name] = value;
  }
  turn["content-type"] = "application/json";
  return turn;
}

async function readBounded(body: AsyncIterable<Buffer>, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) break;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { error: { message: text.slice(0, 1000), type: "server_error", param: null, code: null } };
  }
}
