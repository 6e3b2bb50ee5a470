import { StringDecoder } from "node:string_decoder";
import { answerLimitError, DEFAULT_ANSWER_LIMITS } from "./answer-limits.js";
import type { LineReaderOptions } from "./sse.js";

/**
 * The non-blank lines of a newline-delimited JSON body (Ollama's stream format), trimmed and not
 * parsed (the same-wire tap keeps each as it came), one batch per network chunk as readSseBatches
 * gives SSE messages: a reader loops over a batch without awaiting each line. A line longer than
 * `maxLineBytes` throws an upstream_error naming `limits.maxLineBytes` as soon as that much of it is
 * held, so an unterminated line is never buffered whole.
 */
export async function* readNdjsonBatches(
  body: AsyncIterable<Buffer | string>,
  options: LineReaderOptions = { target: "the upstream" },
): AsyncGenerator<string[]> {
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_ANSWER_LIMITS.maxLineBytes;
  const decoder = new StringDecoder("utf8");
  let pending = "";
  for await (const chunk of body) {
    pending += typeof chunk === "string" ? chunk : decoder.write(chunk);
    const lines: string[] = [];
    let from = 0;
    for (let newline = pending.indexOf("\n"); newline !== -1; newline = pending.indexOf("\n", from)) {
      const line = pending.slice(from, newline).trim();
      if (line) lines.push(line);
      from = newline + 1;
    }
    if (from > 0) pending = pending.slice(from);
    if (pending.length > maxLineBytes) throw answerLimitError(options.target, "maxLineBytes", maxLineBytes);
    if (lines.length > 0) yield lines;
  }
  pending += decoder.end();
  const last = pending.trim();
  if (last) yield [last];
}
