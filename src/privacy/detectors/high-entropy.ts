import type { Finding } from "../finding.js";
import { forEachMatch } from "./regex-scan.js";

/*
 * Random-looking tokens in no known format: base64/base64url runs of 20+ characters whose
 * Shannon entropy is near what a random string of that length has (calibrated on random
 * alphanumeric strings: the thresholds below sit just under their 1st percentile), that mix
 * character classes, and that are not made of words. Excluded on purpose: hex strings (git
 * SHAs, sha256/md5 digests, UUIDs), SRI hashes, data-URL and other base64 payloads (images),
 * and identifiers such as `AbstractSingletonProxyFactoryBean2`.
 */

/** base64 and base64url characters, padding aside: what a token candidate is a run of. */
const TOKEN_CHAR = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-") TOKEN_CHAR[c.charCodeAt(0)] = 1;
const EQUALS = 61;
const MIN_LENGTH = 20;
/** Longer runs are payloads (files, images), not credentials. */
const MAX_LENGTH = 512;

/** Length -> minimum entropy (bits/char), interpolated linearly in between and flat beyond. */
const THRESHOLDS: readonly (readonly [number, number])[] = [
  [20, 3.55],
  [24, 3.75],
  [32, 4.05],
  [40, 4.3],
  [48, 4.45],
  [64, 4.7],
  [100, 4.8],
];

/** Magic prefixes of base64-encoded files: PNG, JPEG, GIF, WebP/RIFF, SVG, PDF, ZIP, gzip. */
const FILE_MAGIC = /^(?:iVBORw0KGgo|\/9j\/|R0lGOD|UklGR|PHN2Zy|PD94bWwg|JVBERi0|UEsDB|H4sI)/;
const SRI = /^sha(?:1|224|256|384|512)-/i;
/** A word-like run: capitalised or lower-case, 3+ letters, or an acronym; counted if it has a vowel. */
const WORD = /[A-Z][a-z]{2,}|[a-z]{3,}|[A-Z]{3,}/g;
const VOWEL = /[aeiouyAEIOUY]/;

/** Character counts for shannonEntropy: one table reused (and cleared as it is read), no Map per call. */
const counts = new Int32Array(65536);

/** Shannon entropy of `s` in bits per character. */
export function shannonEntropy(s: string): number {
  if (s.length === 0) return 0;
  for (let i = 0; i < s.length; i++) counts[s.charCodeAt(i)]!++;
  let h = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const n = counts[c]!;
    if (n === 0) continue;
    const p = n / s.length;
    h -= p * Math.log2(p);
    counts[c] = 0;
  }
  return h;
}

export function entropyThreshold(length: number): number {
  const first = THRESHOLDS[0]!;
  if (length <= first[0]) return first[1];
  for (let i = 1; i < THRESHOLDS.length; i++) {
    const [l1, t1] = THRESHOLDS[i]!;
    if (length <= l1) {
      const [l0, t0] = THRESHOLDS[i - 1]!;
      return t0 + ((t1 - t0) * (length - l0)) / (l1 - l0);
    }
  }
  return THRESHOLDS[THRESHOLDS.length - 1]![1];
}

/** The share of letters that belong to word-like runs: near 1 for identifiers, ~0.3 for random. */
function wordiness(s: string): number {
  let letters = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) | 32;
    if (c >= 97 && c <= 122) letters++;
  }
  if (letters === 0) return 0;
  let inWords = 0;
  forEachMatch(WORD, s, (m) => {
    if (VOWEL.test(m[0])) inWords += m[0].length;
  });
  return inWords / letters;
}

/** Whether `token` (without base64 padding) looks like a random credential. */
export function isHighEntropyToken(token: string): boolean {
  if (token.length < MIN_LENGTH || token.length > MAX_LENGTH) return false;
  let upper = false;
  let lower = false;
  let digit = false;
  let beyondHex = false;
  let nonHexLetter = false;
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c >= 65 && c <= 90) {
      upper = true;
      if (c > 70) nonHexLetter = true;
    } else if (c >= 97 && c <= 122) {
      lower = true;
      if (c > 102) nonHexLetter = true;
    } else if (c >= 48 && c <= 57) digit = true;
    else if (c !== 45) beyondHex = true;
  }
  // Hex, with or without dashes: git SHAs, digests, UUIDs.
  if (!beyondHex && !nonHexLetter) return false;
  const mixed = (upper && lower && digit) || (digit && (upper || lower) && nonHexLetter && token.length >= 24);
  if (!mixed || SRI.test(token) || FILE_MAGIC.test(token)) return false;
  if (shannonEntropy(token) < entropyThreshold(token.length)) return false;
  return wordiness(token) < 0.75;
}

/**
 * A run with slashes is a path or URL rather than base64 when it starts with one or has a
 * segment that is a plain word (`com/share/<id>`, `//host`): then each segment is a candidate.
 */
function isPathLike(run: string): boolean {
  return run.startsWith("/") || run.split("/").some((segment) => /^[a-z]{2,}$|^[a-z]+(?:[-_][a-z]+)+$/.test(segment));
}

function isTokenChar(code: number): boolean {
  return code < 128 && TOKEN_CHAR[code] === 1;
}

/**
 * Calls `onRun` for every maximal run of token characters at least MIN_LENGTH long, with its
 * base64 padding (`=`/`==`) when the padding ends the run. A plain loop: several times faster
 * than a regex on large texts, where this is the hottest detector.
 */
function forEachRun(text: string, onRun: (start: number, end: number) => void): void {
  const n = text.length;
  let i = 0;
  while (i < n) {
    if (!isTokenChar(text.charCodeAt(i))) {
      i++;
      continue;
    }
    const start = i;
    while (i < n && isTokenChar(text.charCodeAt(i))) i++;
    let end = i;
    if (end - start < MIN_LENGTH) continue;
    let pad = end;
    while (pad < n && pad - end < 2 && text.charCodeAt(pad) === EQUALS) pad++;
    const after = pad < n ? text.charCodeAt(pad) : -1;
    if (pad > end && after !== EQUALS && !isTokenChar(after)) end = pad;
    onRun(start, end);
  }
}

export function detectHighEntropyTokens(text: string): Finding[] {
  const out: Finding[] = [];
  const consider = (value: string, start: number) => {
    if (value.length > MAX_LENGTH + 2 || !isHighEntropyToken(value.replace(/=+$/, ""))) return;
    out.push({ kind: "token", value, start, end: start + value.length, rule: "high-entropy", level: "private" });
  };
  forEachRun(text, (start, end) => {
    // Data URLs (`data:image/png;base64,<payload>`) and runs too long to be a credential.
    if (text.endsWith("base64,", start)) return;
    const run = text.slice(start, end);
    if (FILE_MAGIC.test(run)) return;
    if (!run.includes("/") || !isPathLike(run)) {
      consider(run, start);
      return;
    }
    let offset = start;
    for (const segment of run.split("/")) {
      if (segment.length >= MIN_LENGTH) consider(segment, offset);
      offset += segment.length + 1;
    }
  });
  return out;
}
