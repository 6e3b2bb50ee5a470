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
  // The line not yet ended, in the pieces it came in, joined once it ends: searching (or joining)
  // all of it again for every read would be quadratic in a long line that comes in small reads.
  let partial: string[] = [];
  let held = 0;
  for await (const chunk of body) {
    const text = typeof chunk === "string" ? chunk : decoder.write(chunk);
    let newline = text.indexOf("\n");
    if (newline === -1) {
      partial.push(text);
      held += text.length;
      if (held > maxLineBytes) throw answerLimitError(options.target, "maxLineBytes", maxLineBytes);
      continue;
    }
    partial.push(text.slice(0, newline));
    const lines: string[] = [];
    const first = partial.join("").trim();
    if (first) lines.push(first);
    let from = newline + 1;
    for (newline = text.indexOf("\n", from); newline !== -1; newline = text.indexOf("\n", from)) {
      const line = text.slice(from, newline).trim();
      if (line) lines.push(line);
      from = newline + 1;
    }
    partial = from < text.length ? [text.slice(from)] : [];
    held = text.length - from;
    if (held > maxLineBytes) throw answerLimitError(options.target, "maxLineBytes", maxLineBytes);
    if (lines.length > 0) yield lines;
  }
  partial.push(decoder.end());
  const last = partial.join("").trim();
  if (last) yield [last];
}
