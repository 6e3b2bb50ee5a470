import type { FetchLike } from "@modelcontextprotocol/sdk/shared/transport.js";
import { createParser } from "eventsource-parser";

/** JSON-RPC's code for an error of the server's own (the SDK's ErrorCode.InternalError). */
const INTERNAL_ERROR = -32603;

/**
 * A fetch for a Streamable HTTP client transport under which every request a POST carries is
 * answered. A server may end a POST's event stream early only after an event with an id, which the
 * client resumes from (`Last-Event-ID`); when the stream breaks or ends before the answer and no
 * such event came (a server stopped or restarted mid-call, a proxy cut the stream; tandem's own
 * stateless `/mcp` never sends one), the answer is lost for good, yet the SDK's transport reports
 * the break but answers nothing, and the request waits out its whole timeout. Here the stream is read
 * as it passes; if it ends without an answer for a request it carried and cannot be resumed, a
 * JSON-RPC error for that request, saying why (`reason`: the error it broke with, or undefined when
 * it ended), is added at its end. And a request the client cancels (`notifications/cancelled`: its
 * timeout, its caller gone) has its exchange ended once the notification is sent: a server drops a
 * cancelled request's answer (the SDK's server then leaves its stream open for good), so the stream
 * would hold a connection until the transport closes, one more with each call that timed out.
 * Used by `tandem mcp`'s relay and by the MCP host's connections.
 */
export function answeringEveryRequest(fetch: FetchLike, reason: (error: unknown) => string): FetchLike {
  /** How to end the exchange of each request whose stream is open, by its id. */
  const exchanges = new Map<string | number, (id: string | number) => void>();
  return async (url, init) => {
    const cancelled = init?.method === "POST" ? cancelledRequestId(init.body) : undefined;
    if (cancelled !== undefined) {
      // Told first: to the server a connection that closes is not a cancellation.
      try {
        return await fetch(url, init);
      } finally {
        exchanges.get(cancelled)?.(cancelled);
      }
    }
    const response = await fetch(url, init);
    const ids = init?.method === "POST" ? requestIds(init.body) : [];
    const type = response.headers.get("content-type") ?? "";
    if (ids.length === 0 || response.body === null || !type.toLowerCase().startsWith("text/event-stream")) return response;
    const unanswered = new Set(ids);
    let resumable = false;
    const parser = createParser({
      onEvent: (event) => {
        if (event.id !== undefined) resumable = true;
        const id = answerId(event.data);
        if (id !== undefined) unanswered.delete(id);
      },
    });
    const decoder = new TextDecoder();
    const reader = response.body.getReader();
    const encoder = new TextEncoder();
    // A cancelled request is owed nothing: once every request of the stream is answered or cancelled, it ends.
    const end = (id: string | number) => {
      unanswered.delete(id);
      if (unanswered.size === 0) reader.cancel().catch(() => {});
    };
    for (const id of ids) exchanges.set(id, end);
    const forget = () => {
      for (const id of ids) if (exchanges.get(id) === end) exchanges.delete(id);
    };
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        let cause: unknown;
        try {
          const { value, done } = await reader.read();
          if (!done) {
            parser.feed(decoder.decode(value, { stream: true }));
            controller.enqueue(value);
            return;
          }
        } catch (err) {
          forget();
          // The SDK resumes a stream that sent an event id: its break is the SDK's to see.
          if (resumable) throw err;
          cause = err;
        }
        forget();
        // Ended, or broken: each request not answered gets its error, as one more event of the stream.
        const message = reason(cause);
        // A blank line first: the stream may have broken off in the middle of an event.
        let tail = "\n\n";
        for (const id of unanswered)
          tail += `event: message\ndata: ${JSON.stringify({ jsonrpc: "2.0", id, error: { code: INTERNAL_ERROR, message } })}\n\n`;
        if (unanswered.size > 0 && !resumable) controller.enqueue(encoder.encode(tail));
        controller.close();
      },
      cancel(why) {
        forget();
        return reader.cancel(why);
      },
    });
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}

/** The ids of the requests (not notifications or answers) in a POST's JSON-RPC body. */
function requestIds(body: RequestInit["body"]): Array<string | number> {
  if (typeof body !== "string") return [];
  try {
    const parsed = JSON.parse(body) as unknown;
    const ids: Array<string | number> = [];
    for (const message of Array.isArray(parsed) ? parsed : [parsed]) {
      const m = message as { id?: unknown; method?: unknown } | null;
      if (typeof m?.method === "string" && (typeof m.id === "string" || typeof m.id === "number")) ids.push(m.id);
    }
    return ids;
  } catch {
    return [];
  }
}

/** The id of the request a POST's body cancels (`notifications/cancelled`), if that is what it is. */
function cancelledRequestId(body: RequestInit["body"]): string | number | undefined {
  if (typeof body !== "string" || !body.includes("notifications/cancelled")) return undefined;
  try {
    const m = JSON.parse(body) as { method?: unknown; params?: { requestId?: unknown } } | null;
    if (m?.method !== "notifications/cancelled") return undefined;
    const id = m.params?.requestId;
    return typeof id === "string" || typeof id === "number" ? id : undefined;
  } catch {
    return undefined;
  }
}

/** The id an event's data answers (a result or an error), if it is one. */
function answerId(data: string): string | number | undefined {
  try {
    const m = JSON.parse(data) as { id?: unknown; result?: unknown; error?: unknown } | null;
    if (m === null || typeof m !== "object" || !("result" in m || "error" in m)) return undefined;
    return typeof m.id === "string" || typeof m.id === "number" ? m.id : undefined;
  } catch {
    return undefined;
  }
}
