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

/** ASCII-only lower case of the `before` characters preceding `index`: cheap context for rules. */
export function contextBefore(text: string, index: number, before: number): string {
  return text.slice(Math.max(0, index - before), index).toLowerCase();
}

export function isDigitCode(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** Letters, digits and `_`: what makes a character part of a word or identifier. */
export function isWordChar(ch: string | undefined): boolean {
  return ch !== undefined && /[\p{L}\p{N}_]/u.test(ch);
}
