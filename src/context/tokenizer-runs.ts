/**
 * The longest run of non-space (or of space) characters handed to the o200k tokenizer (gpt-tokenizer)
 * at once. Its merges are quadratic in the length of a run its pattern cannot split (one repeated
 * letter, a line of dashes, a CJK paragraph): 400,000 "x" took minutes, holding the server's event
 * loop all along. Cut into runs of this length, a text is tokenized in time linear in its length;
 * only such runs are cut, so ordinary text is tokenized as before (a cut run counts a token or so more).
 */
const MAX_RUN = 128;
const LONG_RUN = new RegExp(`\\S{${MAX_RUN + 1},}|\\s{${MAX_RUN + 1},}`, "g");

/**
 * The text in pieces, in order, that join to it, none with a run of non-space or of space
 * characters longer than MAX_RUN: such a run is cut every MAX_RUN characters (never between the two
 * halves of a surrogate pair). A text without one is a single piece.
 */
export function boundedRuns(text: string): string[] {
  const pieces: string[] = [];
  let start = 0;
  for (const run of text.matchAll(LONG_RUN)) {
    const end = run.index + run[0].length;
    for (let at = run.index + MAX_RUN; at < end; at += MAX_RUN) {
      // A cut after a high surrogate moves back before it (the pair starts the next piece).
      const cut = isHighSurrogate(text.charCodeAt(at - 1)) ? at - 1 : at;
      if (cut <= start) continue;
      pieces.push(text.slice(start, cut));
      start = cut;
    }
  }
  pieces.push(text.slice(start));
  return pieces;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
