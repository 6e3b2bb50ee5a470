import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";

/** How many cancelled requests are remembered, awaiting a late answer: the oldest is forgotten first. */
const MAX_REMEMBERED = 1000;

/** Why an answer was dropped: it came after its request was cancelled, or answers no request awaited. */
export type UnawaitedAnswer = "cancelled" | "unknown";

/**
 * Drops, on a handshake transport, every answer to a request the client is not waiting for: one it
 * has cancelled (its timeout, its caller gone: the SDK sends `notifications/cancelled` for both),
 * and one it never sent or was already answered (a server's duplicate answer, a stray id). The MCP
 * spec lets a server ignore a cancellation and answer anyway, and asks the sender to ignore such an
 * answer; the SDK instead takes any answer to no pending request for a transport error, on which the
 * host would drop the connection, fail every other call running on it and refuse the server's routes
 * until it may be started again: a server's one stray line is not worth that. Wrapped after the
 * client's connect (which sets the transport's `onmessage`, and whose own `initialize` is answered
 * by then); `ignored` hears of each answer dropped, and why.
 */
export function ignoreLateAnswers(transport: Transport, ignored: (id: string | number, why: UnawaitedAnswer) => void): void {
  // Ids as text: the SDK matches an answer's id by its number, so `"7"` answers request 7 too.
  const pending = new Set<string>();
  const cancelled = new Set<string>();
  const send = transport.send.bind(transport);
  transport.send = (message, options) => {
    const m = message as { id?: unknown; method?: unknown; params?: { requestId?: unknown } };
    if (typeof m.method === "string" && isId(m.id)) {
      const key = String(m.id);
      pending.add(key);
      // A request that never left is answered by nobody.
      return send(message, options).catch((err: unknown) => {
        pending.delete(key);
        throw err;
      });
    }
    const id = m.method === "notifications/cancelled" ? m.params?.requestId : undefined;
    if (isId(id) && pending.delete(String(id))) {
      cancelled.add(String(id));
      if (cancelled.size > MAX_REMEMBERED) cancelled.delete(cancelled.values().next().value as string);
    }
    return send(message, options);
  };
  const receive = transport.onmessage;
  transport.onmessage = (message, extra) => {
    const m = message as { id?: unknown; method?: unknown };
    if (m.method === undefined && isId(m.id) && !pending.delete(String(m.id))) {
      ignored(m.id, cancelled.delete(String(m.id)) ? "cancelled" : "unknown");
      return;
    }
    receive?.(message, extra);
  };
}

function isId(value: unknown): value is string | number {
  return typeof value === "string" || typeof value === "number";
}
