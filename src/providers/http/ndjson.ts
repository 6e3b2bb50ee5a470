import { StringDecoder } from "node:string_decoder";
import { answerLimitError, DEFAULT_ANSWER_LIMITS } from "./answer-limits.js";
import type { LineReaderOptions } from "./sse.js";

/**
 * Yields one parsed JSON value per line of a newline-delimited JSON body (Ollama's stream format).
 * A line longer than `maxLineBytes` throws an upstream_error naming `limits.maxLineBytes` as soon as
 * that much of it is held, so an unterminated line is never buffered whole.
 */
export async function* readNdjson(
  body: AsyncIterable<Buffer | string>,
  options: LineReaderOptions = { target: "the upstream" },
): AsyncGenerator<unknown> {
  for await (const line of readNdjsonLines(body, options)) yield JSON.parse(line);
}

/** As readNdjson, but each non-blank line's text as it came (trimmed), not parsed (the same-wire tap keeps it). */
export async function* readNdjsonLines(
  body: AsyncIterable<Buffer | string>,
  options: LineReaderOptions = { target: "the upstream" },
): AsyncGenerator<string> {
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_ANSWER_LIMITS.maxLineBytes;
  const decoder = new StringDecoder("utf8");
  let pending = "";
  for await (const chunk of body) {
    pending += typeof chunk === "string" ? chunk : decoder.write(chunk);
    let newline = pending.indexOf("\n");
    while (newline !== -1) {
      const line = pending.slice(0, newline).trim();
      pending = pending.slice(newline + 1);
      if (line) yield line;
      newline = pending.indexOf("\n");
    }
    if (pending.length > maxLineBytes) throw answerLimitError(options.target, "maxLineBytes", maxLineBytes);
  }
  pending += decoder.end();
  const last = pending.trim();
  if (last) yield last;
}
