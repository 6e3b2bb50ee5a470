/*
 * Just enough JSON lexing to work inside tool-call arguments and tool results without
 * re-serialising them: find the string literals, decode one with a map back to raw offsets, and
 * track whether streamed text is inside a string. Works on invalid or partial JSON too (a model
 * wrote it): an unterminated literal is left as raw text.
 */

/**
 * Calls `onSegment` for each string literal (quotes included) and each stretch of text between
 * literals, in order, without building a list: JSON tool results can hold 100k literals.
 */
export function forEachJsonSegment(text: string, onSegment: (type: "string" | "raw", start: number, end: number) => void): void {
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf('"', i);
    if (open === -1) break;
    let j = open + 1;
    while (j < text.length) {
      const c = text.charCodeAt(j);
      if (c === 92) j += 2;
      else if (c === 34) break;
      else j++;
    }
    if (j >= text.length) break;
    if (open > i) onSegment("raw", i, open);
    onSegment("string", open, j + 1);
    i = j + 1;
  }
  if (i < text.length) onSegment("raw", i, text.length);
}

/** Whether the literal ending at `end` is an object member's key: `:` follows, then a string. */
export function isMemberKey(text: string, end: number): boolean {
  let i = end;
  while (i < text.length && /\s/.test(text[i]!)) i++;
  if (text[i] !== ":") return false;
  i++;
  while (i < text.length && /\s/.test(text[i]!)) i++;
  return text[i] === '"';
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

export interface DecodedJsonString {
  value: string;
  /**
   * Where each decoded character starts in the literal (quotes included), one entry more for
   * the closing quote, so a decoded range [s, e) is raw [offsets[s], offsets[e]). Undefined when
   * the literal has no escapes: then character `i` is at `i + 1`. See rawOffset.
   */
  offsets: number[] | undefined;
}

/** Where decoded character `index` of `decoded` starts in its literal. */
export function rawOffset(decoded: DecodedJsonString, index: number): number {
  const { offsets } = decoded;
  return offsets === undefined ? index + 1 : (offsets[index] ?? offsets[offsets.length - 1]!);
}

/** Decodes a string literal (with its quotes). Lenient: an unknown escape yields the escaped character. */
export function decodeJsonString(literal: string): DecodedJsonString {
  if (!literal.includes("\\")) return { value: literal.slice(1, -1), offsets: undefined };
  let value = "";
  const offsets: number[] = [];
  const last = literal.length - 1;
  let i = 1;
  while (i < last) {
    const ch = literal[i]!;
    offsets.push(i);
    if (ch !== "\\") {
      value += ch;
      i++;
      continue;
    }
    const esc = literal[i + 1] ?? "";
    if (esc === "u" && /^[0-9a-fA-F]{4}$/.test(literal.slice(i + 2, i + 6))) {
      value += String.fromCharCode(Number.parseInt(literal.slice(i + 2, i + 6), 16));
      i += 6;
    } else {
      value += SIMPLE_ESCAPES[esc] ?? esc;
      i += 2;
    }
  }
  offsets.push(last);
  return { value, offsets };
}

/** The body of a JSON string literal for `value`: what goes between the quotes. */
export function escapeJsonStringContent(value: string): string {
  return JSON.stringify(value).slice(1, -1);
}

/** Whether `text` is a JSON object or array (tool results often are). */
export function isJsonDocument(text: string): boolean {
  const first = text.trimStart()[0];
  return (first === "{" || first === "[") && isValidJson(text);
}

export function isValidJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Tracks whether the text seen so far ends inside a JSON string literal, one chunk at a time:
 * for restoring values into tool-call arguments as they stream.
 */
export class JsonStringState {
  #inString = false;
  #escaped = false;

  get inString(): boolean {
    return this.#inString;
  }

  feed(chunk: string): void {
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (!this.#inString) {
        if (c === 34) this.#inString = true;
      } else if (this.#escaped) {
        this.#escaped = false;
      } else if (c === 92) {
        this.#escaped = true;
      } else if (c === 34) {
        this.#inString = false;
      }
    }
  }
}
