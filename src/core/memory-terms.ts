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

/** What a bm25 score needs of the whole collection. */
export interface CollectionStats {
  /** Memories in all. */
  documents: number;
  /** Their mean length in tokens. */
  averageLength: number;
  /** How many memories hold a term. */
  having(term: string): number;
}

const K1 = 1.2;
const B = 0.75;

/**
 * Okapi BM25 of one memory (its tokens) for the query's terms, with the idf that stays positive
 * (`ln(1 + (N - n + 0.5) / (n + 0.5))`, Lucene's), not FTS5's: with FTS5's, a word in half of a
 * handful of memories scores nothing, so a user with three memories would never have one recalled.
 * A word every memory has still scores about nothing. 0 when no term is in the memory.
 */
export function bm25(terms: readonly string[], tokens: readonly string[], stats: CollectionStats): number {
  if (tokens.length === 0 || stats.documents === 0) return 0;
  const counts = new Map<string, number>();
  for (const token of tokens) counts.set(token, (counts.get(token) ?? 0) + 1);
  const norm = K1 * (1 - B + (B * tokens.length) / Math.max(stats.averageLength, 1));
  let score = 0;
  for (const term of terms) {
    const tf = counts.get(term) ?? 0;
    if (tf === 0) continue;
    const n = Math.min(stats.having(term), stats.documents);
    const idf = Math.log(1 + (stats.documents - n + 0.5) / (n + 0.5));
    score += (idf * tf * (K1 + 1)) / (tf + norm);
  }
  return score;
}
