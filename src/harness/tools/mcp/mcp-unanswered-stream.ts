import { createParser } from "eventsource-parser";

/** JSON-RPC's code for a fault on the server's side: what a request whose answer can never come is answered with. */
const INTERNAL_ERROR = -32603;

/** The ids of the JSON-RPC requests (not notifications or responses) in a POST body the SDK sent, or none. */
export function requestIdsOf(body: unknown): Array<string | number> {
  if (typeof body !== "string") return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return [];
  }
  const ids: Array<string | number> = [];
  for (const message of Array.isArray(parsed) ? parsed : [parsed]) {
    if (message === null || typeof message !== "object") continue;
    const { id, method } = message as { id?: unknown; method?: unknown };
    if (typeof method === "string" && (typeof id === "string" || typeof id === "number")) ids.push(id);
  }
  return ids;
}

/**
 * A POST's event stream that, should it end without the responses to `ids` and without an event id
 * to resume from, ends with an error answer to each of them. Per the Streamable HTTP transport a
 * server may close a stream early only after an event with an id (the client then resumes with
 * `Last-Event-ID`); one that ends it before (a server restarting, a proxy cutting idle streams) has
 * lost those answers for good, and the SDK would wait out the request's whole timeout for them. The
 * answer it is given instead says what happened, at once.
 */
export function answerLostRequests(
  body: ReadableStream<Uint8Array>,
  ids: ReadonlyArray<string | number>,
): ReadableStream<Uint8Array> {
  const pending = new Set(ids);
  let resumable = false;
  const parser = createParser({
    onEvent: (event) => {
      if (event.id !== undefined) resumable = true;
      let message: unknown;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      for (const m of Array.isArray(message) ? message : [message]) {
        if (m === null || typeof m !== "object" || !("id" in m) || !("result" in m || "error" in m)) continue;
        pending.delete((m as { id: string | number }).id);
      }
    },
  });
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        parser.feed(decoder.decode(chunk, { stream: true }));
        controller.enqueue(chunk);
      },
      flush(controller) {
        parser.feed(decoder.decode());
        if (resumable) return;
        for (const id of pending) {
          const answer = {
            jsonrpc: "2.0",
            id,
            error: {
              code: INTERNAL_ERROR,
              message:
                "the server ended its answer's event stream without the response (it may have restarted); the call may or may not have run",
            },
          };
          // After a blank line, so that a last event the server left unfinished cannot swallow it.
          controller.enqueue(encoder.encode(`\n\nevent: message\ndata: ${JSON.stringify(answer)}\n\n`));
        }
      },
    }),
  );
}
