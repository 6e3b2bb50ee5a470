/**
 * A text without the byte order mark (U+FEFF) it may begin with: some servers write one before their
 * JSON or their event stream, and it belongs to neither (JSON.parse refuses it; an SSE parser would
 * read it as part of the first line's field name). Every reader of an upstream's text skips it here.
 */
export function withoutByteOrderMark(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
