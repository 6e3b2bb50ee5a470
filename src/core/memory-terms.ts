/**
 * The stems a memory search matches on, from a text: its words lower-cased, accents removed, split
 * where FTS5's `unicode61` tokenizer splits (anything not a letter or digit), without the small
 * words every sentence has (a user turn is a sentence, not a query: "what do I like" must not match
 * every memory with "I" in it), and cut to a stem (`sailing` → `sail`) that matches every word it
 * begins (`sail`, `sails`, `sailor`): a light, English-leaning stand-in for stemming, so a turn about
 * sailing finds the memory that the user sails. At most 32 distinct stems, in order.
 */
export function memoryTerms(text: string): string[] {
  const terms: string[] = [];
  const seen = new Set<string>();
  for (const word of memoryTokens(text)) {
    if (word.length < 2 && !/\p{N}/u.test(word)) continue;
    if (STOP_WORDS.has(word)) continue;
    const stem = stemOf(word);
    if (seen.has(stem)) continue;
    seen.add(stem);
    terms.push(stem);
    if (terms.length === 32) break;
  }
  return terms;
}

/** A word without the commonest English endings, never shorter than 3 characters. */
function stemOf(word: string): string {
  const cut = (n: number) => (word.length - n >= 3 ? word.slice(0, -n) : word);
  if (word.endsWith("ies")) return cut(3);
  if (word.endsWith("ing") && word.length > 5) return cut(3);
  if (word.endsWith("ed") && word.length > 4) return cut(2);
  if (word.endsWith("es") && word.length > 4) return cut(2);
  if (word.endsWith("s") && !word.endsWith("ss") && word.length > 3) return cut(1);
  return word;
}

/** Whether a token is one a stem matches: the stem begins it (numbers match only whole). */
export function stemMatches(stem: string, token: string): boolean {
  return /^\p{N}+$/u.test(stem) ? token === stem : token.startsWith(stem);
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

/** An FTS5 MATCH expression for one stem: a quoted prefix query (so no word is read as FTS5 syntax). */
export function ftsTerm(stem: string): string {
  const quoted = `"${stem.replaceAll('"', '""')}"`;
  return /^\p{N}+$/u.test(stem) ? quoted : `${quoted}*`;
}

/** An FTS5 MATCH expression for the stems: any of them. */
export function ftsQuery(terms: readonly string[]): string {
  return terms.map(ftsTerm).join(" OR ");
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
  /** How many memories hold a word the stem matches. */
  having(term: string): number;
}

const K1 = 1.2;
const B = 0.75;

/**
 * Okapi BM25 of one memory (its tokens) for the query's stems (a token counts for each stem that begins it), with the idf that stays positive
 * (`ln(1 + (N - n + 0.5) / (n + 0.5))`, Lucene's), not FTS5's: with FTS5's, a word in half of a
 * handful of memories scores nothing, so a user with three memories would never have one recalled.
 * A word every memory has still scores about nothing. 0 when no term is in the memory.
 */
export function bm25(terms: readonly string[], tokens: readonly string[], stats: CollectionStats): number {
  if (tokens.length === 0 || stats.documents === 0) return 0;
  const norm = K1 * (1 - B + (B * tokens.length) / Math.max(stats.averageLength, 1));
  let score = 0;
  for (const term of terms) {
    let tf = 0;
    for (const token of tokens) if (stemMatches(term, token)) tf++;
    if (tf === 0) continue;
    const n = Math.min(stats.having(term), stats.documents);
    const idf = Math.log(1 + (stats.documents - n + 0.5) / (n + 0.5));
    score += (idf * tf * (K1 + 1)) / (tf + norm);
  }
  return score;
}
