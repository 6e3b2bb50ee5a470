/**
 * Runs a global (or sticky) regex over `text` from the start, calling `onMatch` for every match.
 * The regexes are module-level and precompiled; resetting `lastIndex` here keeps them reusable.
 * Zero-length matches (possible in user patterns) advance by one so the loop always ends.
 */
export function forEachMatch(re: RegExp, text: string, onMatch: (match: RegExpExecArray) => void): void {
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m[0].length === 0) re.lastIndex++;
    onMatch(m);
  }
  re.lastIndex = 0;
}

/** The `before` characters preceding `index`, lower-cased: context for rules that look behind a match. */
export function contextBefore(text: string, index: number, before: number): string {
  return text.slice(Math.max(0, index - before), index).toLowerCase();
}

/**
 * The word (letters and digits, lower-cased) that ends just before `index`, skipping whitespace
 * and at most one of `separators` in between ("version: 1.2.3.4" -> `version`); "" if none.
 * A backwards walk: cheaper than an end-anchored regex, which retries at every position.
 */
export function wordBefore(text: string, index: number, separators = ":=#."): string {
  let i = index;
  const skipSpace = () => {
    while (i > 0 && index - i < 8 && isSpaceCode(text.charCodeAt(i - 1))) i--;
  };
  skipSpace();
  if (i > 0 && separators.includes(text[i - 1]!)) {
    i--;
    skipSpace();
  }
  const end = i;
  while (i > 0 && end - i < 32 && isWordCode(text, i - 1)) i--;
  return text.slice(i, end).toLowerCase();
}

function isSpaceCode(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 0xa0;
}

/** Letter or digit (or §), with an ASCII fast path. */
function isWordCode(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (c < 128) return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
  return /[\p{L}\p{N}§]/u.test(text[i]!);
}
