/**
 * The words of a text a memory search matches on: lower-cased, accents removed, split where FTS5's
 * `unicode61` tokenizer splits (anything not a letter or digit), without the small words every
 * sentence has (a user turn is a sentence, not a query: "what do I like" must not match every
 * memory with "I" in it). At most 32 distinct words, in order.
 */
export function memoryTerms(text: string): string[] {
  const terms: string[] = [];
  const seen = new Set<string>();
  for (const word of memoryTokens(text)) {
    if (word.length < 2 && !/\p{N}/u.test(word)) continue;
    if (STOP_WORDS.has(word) || seen.has(word)) continue;
    seen.add(word);
    terms.push(word);
    if (terms.length === 32) break;
  }
  return terms;
}

/** Every token of a text as the `unicode61 remove_diacritics 2` tokenizer makes them (for the in-process index). */
export function memoryTokens(text: string): string[] {
  return text
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word.length > 0);
}

/** An FTS5 MATCH expression for the terms: any of them, each a quoted string (so no word is read as FTS5 syntax). */
export function ftsQuery(terms: readonly string[]): string {
  return terms.map((term) => `"${term.replaceAll('"', '""')}"`).join(" OR ");
}

const STOP_WORDS = new Set(
  (
    "a an and are as at be been but by can could did do does for from had has have he her him his how i if in into is it " +
    "its just me my no not of on or our she should so than that the their them then there these they this to too us was " +
    "we were what when where which who why will with would you your yours about also am any some all more most very " +
    "up out over again further once here both each few other such only own same s t don now ll m o re ve y"
  ).split(" "),
);
