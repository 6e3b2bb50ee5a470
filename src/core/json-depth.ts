import { GatewayError } from "./errors.js";

/**
 * How deeply an upstream's answer may nest its arrays and objects for tandem to put it together for
 * a client that did not stream. JSON.parse reads any depth, but JSON.stringify (which writes the
 * answer out again) recurses, and overflows the stack a few thousand levels down. No model's answer
 * comes near this (a tool call's arguments a hundred levels deep would be refused as a request).
 */
export const MAX_ANSWER_DEPTH = 1000;

/**
 * True when the JSON text nests arrays/objects deeper than `limit`. Counts brackets outside strings;
 * strings are skipped with indexOf, so a text made mostly of one large string (a base64 image) costs
 * next to nothing, and a text shorter than `limit` is not read at all. Exact for valid JSON; on
 * invalid JSON the answer does not matter, since the parser refuses it anyway.
 */
export function nestsDeeperThan(text: string, limit: number): boolean {
  if (text.length <= limit) return false;
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      i = jsonStringEnd(text, i);
      if (i < 0) return false;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

/** The index of the quote that closes the JSON string opened at `open`, or -1. */
export function jsonStringEnd(text: string, open: number): number {
  let j = text.indexOf('"', open + 1);
  while (j !== -1) {
    let k = j - 1;
    while (text.charCodeAt(k) === 0x5c) k--;
    // An even number of backslashes before the quote: it is not escaped.
    if ((j - 1 - k) % 2 === 0) return j;
    j = text.indexOf('"', j + 1);
  }
  return -1;
}

/**
 * The error for an upstream answer nested deeper than tandem can write out again: the upstream's
 * failure (a 502 naming the target, which the route fails over from), not tandem's internal error.
 * Not retryable: the same target would likely answer the same again.
 */
export function answerTooDeepError(target: string, limit = MAX_ANSWER_DEPTH): GatewayError {
  return new GatewayError(
    "upstream_error",
    `${target}: the answer has arrays and objects nested more than ${limit} levels deep, too deep to write out again`,
    { target, retryable: false },
  );
}

/** Whether an error is JSON.stringify's (or another recursive walk's) stack overflow. */
export function isStackOverflow(err: unknown): boolean {
  return err instanceof RangeError && /call stack/i.test(err.message);
}
