import { expandBatches, type NativeRequest, type StreamEvent } from "../../core/index.js";
import { editedNativeBody, type JsonText } from "../http/index.js";
import { asOllamaChatLine, OllamaAnswer, parseOllamaChatLines } from "./parse-ollama-chat-stream.js";

/** The upstream path for each Ollama wire a client's own body can be sent on. */
export const OLLAMA_NATIVE_PATHS = { "ollama-chat": "/api/chat", "ollama-generate": "/api/generate" } as const;

export type OllamaNativeWire = keyof typeof OLLAMA_NATIVE_PATHS;

/** Whether a request carries a client's own /api/chat or /api/generate body. */
export function ollamaNative(native: NativeRequest | undefined): (NativeRequest & { wire: OllamaNativeWire }) | undefined {
  return native?.wire === "ollama-chat" || native?.wire === "ollama-generate"
    ? (native as NativeRequest & { wire: OllamaNativeWire })
    : undefined;
}

/**
 * The client's own body for a same-wire Ollama upstream: every field as it came (`options`, `format`,
 * `keep_alive`, `think`, `images`, `tools`, any other), but for `model` (the upstream's id) and
 * `stream` (the router decides whether the upstream streams).
 */
export function nativeOllamaBody(
  native: NativeRequest,
  upstreamModel: string,
  whole: boolean,
): Record<string, unknown> | JsonText {
  return (
    editedNativeBody(native, [
      ["model", upstreamModel],
      ["stream", !whole],
    ]) ?? { ...native.body, model: upstreamModel, stream: !whole }
  );
}

/**
 * As parseOllamaChatStream (for /api/generate too), and each upstream line also as a `frame`, after
 * the events read from it. The `done` line, which carries the finish, is held until after the
 * canonical `finish`, so a finish that fails the router's checks never reaches the client. The lines
 * come a network read at a time (readNdjsonBatches), and their events are served from one queue
 * (expandBatches), not yielded one by one.
 */
export function tapOllamaLines(
  batches: AsyncIterable<string[]>,
  target: string,
  wire: OllamaNativeWire,
): AsyncIterableIterator<StreamEvent> {
  const answer = new OllamaAnswer(target);
  return expandBatches<string[], StreamEvent>(
    batches,
    (batch, out) => {
      for (const text of batch) {
        const value = JSON.parse(text) as unknown;
        answer.line(wire === "ollama-generate" ? asOllamaChatLine(value) : value, out, text);
        // With the line as parsed: the dialect reads it rather than parsing it again (it is shared: read only).
        out.push({ type: "frame", data: text, json: value });
        if (answer.done) return true;
      }
      return undefined;
    },
    () => answer.end(),
  );
}

/** As parseOllamaChatLines for one whole answer, then that answer as one `frame` (every field). */
export function tapOllamaWhole(json: unknown, target: string, wire: OllamaNativeWire): StreamEvent[] {
  const events = parseOllamaChatLines([wire === "ollama-generate" ? asOllamaChatLine(json) : json], target);
  events.push({ type: "frame", data: JSON.stringify(json), whole: true, json });
  return events;
}
