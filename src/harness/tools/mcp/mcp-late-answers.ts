import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";

/** How many cancelled requests are remembered, awaiting a late answer: the oldest is forgotten first. */
const MAX_REMEMBERED = 1000;

/**
 * Drops, on a handshake transport, the answer to a request the client has cancelled (its timeout,
 * its caller gone: the SDK sends `notifications/cancelled` for both). The MCP spec lets a server
 * ignore a cancellation and answer anyway, and asks the sender to ignore such an answer; the SDK
 * instead takes it for an answer to an unknown request and reports a transport error, on which the
 * host would drop the connection and fail every other call running on it. Wrapped after the
 * client's connect (which sets the transport's `onmessage`); `ignored` hears of each answer dropped.
 */
export function ignoreLateAnswers(transport: Transport, ignored: (id: string | number) => void): void {
  const cancelled = new Set<string | number>();
  const send = transport.send.bind(transport);
  transport.send = (message, options) => {
    const m = message as { method?: unknown; params?: { requestId?: unknown } };
    const id = m.method === "notifications/cancelled" ? m.params?.requestId : undefined;
    if (typeof id === "string" || typeof id === "number") {
      cancelled.add(id);
      if (cancelled.size > MAX_REMEMBERED) cancelled.delete(cancelled.values().next().value as string | number);
    }
    return send(message, options);
  };
  const receive = transport.onmessage;
  transport.onmessage = (message, extra) => {
    const m = message as { id?: unknown; method?: unknown };
    const answer = m.method === undefined && (typeof m.id === "string" || typeof m.id === "number");
    if (answer && cancelled.delete(m.id as string | number)) {
      ignored(m.id as string | number);
      return;
    }
    receive?.(message, extra);
  };
}
