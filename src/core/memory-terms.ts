/**
 * The stems a memory search matches on, from a text: its words as the store's FTS5 tokenizer makes
 * them (see memoryTokens), without the small
 * words every sentence has (a user turn is a sentence, not a query: "what do I like" must not match
 * every memory with "I" in it), and cut to a stem (`sailing` → `sail`) that matches every word it
 * begins (`sail`, `sails`, `sailor`): a light, English-leaning stand-in for stemming, so a turn about
 * sailing finds the memory that the user sails. At most 32 distinct stems, in order.
 */
export function memoryTerms(text: string): string[] {
  const terms: string[] = [];
  const seen = new Set<string>();
  for (const word of memoryTokens(text)) {
    // A lone ideograph or kana is a word (a run of one, see ftsText); a lone Latin letter is not.
    if (word.length < 2 && !/\p{N}/u.test(word) && !CJK_CHAR.test(word)) continue;
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

/**
 * Every token of a text as the store's FTS5 tokenizer makes them (`unicode61 remove_diacritics 2
 * categories 'L* N* Co M*'`, migrations.ts), for the in-process index and for scoring what FTS5
 * found: case-folded, split at anything that is not a letter, digit, private-use character or mark,
 * and with diacritics removed from Latin letters only. unicode61 folds nothing else (SQLite's
 * fts5_unicode2.c: `fts5_remove_diacritic` maps Latin letters, and `sqlite3Fts5UnicodeIsdiacritic`
 * drops some combining marks of U+0300-U+036F), so neither may this: decomposing every letter and
 * dropping its marks turned `йогурт` into `иогурт`, a Korean syllable into its jamo and `が` into
 * `か`, words the index never holds. Marks are word characters, as in the index, so a Devanagari or
 * Thai word stays one word instead of splitting at each vowel sign. (unicode61's tables are of an
 * older Unicode: letters added since may still differ, as FTS5 itself then treats them.)
 */
export function memoryTokens(text: string): string[] {
  return ftsText(text)
    .toLowerCase()
    .replace(CASE_FOLDS, (letter) => CASE_FOLD[letter] ?? letter)
    .split(/[^\p{L}\p{N}\p{Co}\p{M}]+/u)
    .map(withoutLatinDiacritics)
    .filter((word) => word.length > 0);
}

/**
 * Chinese and Japanese characters: Han ideographs, hiragana and katakana (full and half width), with
 * the prolonged sound mark and the combining voicing marks that belong to their words. Korean is not
 * among them: it writes spaces between its words.
 */
const CJK_CHAR = /[\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}\u30fc\uff70\u3099\u309a]/u;
const CJK_RUNS = /[\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}\u30fc\uff70\u3099\u309a]+/gu;

/**
 * The text the full-text indexes tokenize (SQLite's `tandem_fts_text`, open-database.ts) and
 * memoryTokens reads: the text itself, but each run of Chinese or Japanese characters as its
 * overlapping pairs of characters, a space apart (`東京都` → ` 東京 京都 `; a run of one character
 * stays as it is). Those languages write no spaces between words, so unicode61 made each run one
 * token that only a search from the run's start could match; pairs (bigrams, as Lucene's CJK analyzer
 * indexes them) let a search for any word of two or more characters find the runs that hold it, with
 * no dictionary. Deterministic: a row's index entries are removed by tokenizing its text again.
 */
export function ftsText(text: string): string {
  if (!CJK_CHAR.test(text)) return text;
  return text.replace(CJK_RUNS, (run) => {
    const chars = Array.from(run);
    if (chars.length === 1) return ` ${run} `;
    const pairs: string[] = [];
    for (let i = 0; i + 1 < chars.length; i++) pairs.push(`${chars[i]}${chars[i + 1]}`);
    return ` ${pairs.join(" ")} `;
  });
}

/** The lower-case letters unicode61 folds further (Unicode's CaseFolding.txt), as `ς` to `σ`. */
const CASE_FOLD: Record<string, string> = {
  "\u00b5": "\u03bc",
  "\u017f": "s",
  "\u1e9b": "\u1e61",
  "\u0345": "\u03b9",
  "\u03c2": "\u03c3",
  "\u03d0": "\u03b2",
  "\u03d1": "\u03b8",
  "\u03d5": "\u03c6",
  "\u03d6": "\u03c0",
  "\u03f0": "\u03ba",
  "\u03f1": "\u03c1",
  "\u03f5": "\u03b5",
};
const CASE_FOLDS = new RegExp(`[${Object.keys(CASE_FOLD).join("")}]`, "gu");

/**
 * A Latin letter without its diacritics (`ü` → `u`, `ǖ` → `u`), and without the combining marks
 * unicode61 drops, as remove_diacritics 2 does. `ǡ ǣ ǯ ǽ ǿ` are not in unicode61's table: kept.
 */
function withoutLatinDiacritics(word: string): string {
  return word
    .replace(/(?![\u01e0-\u01e3\u01ee\u01ef\u01fc-\u01ff])\p{Script=Latin}/gu, (letter) => letter.normalize("NFD"))
    .replace(/[\u0300-\u0304\u0306-\u030c\u030f\u0311\u031b\u0323-\u0328\u032d\u032e\u0330\u0331]/gu, "");
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
