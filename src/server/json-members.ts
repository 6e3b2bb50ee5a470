/**
 * Counts a JSON text's members, its object members (keys) and its array elements, without parsing it,
 * so that a body holding too many can be refused before anything is built from it. Every step after
 * the parse (validation of each message or tool, privacy's read of every key, redaction, serialising
 * towards the upstream) costs per member or element, not per byte: a 12 MB body of one object with a
 * million `"kN":1` members held the event loop for seconds, where a 30 MB string costs a fraction of
 * one, and a 3 MB body of a million `{}` in `messages` held it for 20 s and took 2.4 GB. A colon
 * outside a string is exactly one object member; an array's elements are its commas plus one when it
 * is not empty. So the count is one pass over the bytes that steps over strings and keeps, per open
 * container, whether it is an array.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/** Bytes scanned per turn of the event loop when counting a large body. */
const SLICE = 1024 * 1024;

/**
 * How many open containers the scan remembers the kind of. A body nested deeper than MAX_JSON_DEPTH
 * (100) is refused anyway; past this depth a comma is counted as an element, which can only refuse
 * such a body sooner.
 */
const KINDS_KEPT = 1024;

/**
 * Where a count stopped: `members` counted so far, whether the scan is inside a string at `at` (a
 * slice may end there), the open containers (`arrays[d]` is 1 when the container at depth d is an
 * array) and whether an array was just opened and its first element is still to come.
 */
interface Scan {
  members: number;
  inString: boolean;
  at: number;
  depth: number;
  arrays: Uint8Array;
  arrayOpened: boolean;
}

function newScan(): Scan {
  return { members: 0, inString: false, at: 0, depth: 0, arrays: new Uint8Array(KINDS_KEPT), arrayOpened: false };
}

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/**
 * One character outside a string, after a quote or backslash has been handled: counts what it
 * starts and keeps the container stack. Returns the new `inString`.
 */
function step(scan: Scan, c: number): boolean {
  if (scan.arrayOpened && !isWhitespace(c)) {
    // The first element of an array that is not empty: the commas count the rest.
    scan.arrayOpened = false;
    if (c !== CLOSE_ARRAY) scan.members++;
  }
  if (c === QUOTE) return true;
  if (c === COLON) scan.members++;
  else if (c === COMMA) {
    if (scan.depth > KINDS_KEPT || scan.arrays[scan.depth - 1] === 1) scan.members++;
  } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
    if (scan.depth < KINDS_KEPT) scan.arrays[scan.depth] = c === OPEN_ARRAY ? 1 : 0;
    scan.depth++;
    scan.arrayOpened = c === OPEN_ARRAY;
  } else if ((c === CLOSE_ARRAY || c === CLOSE_OBJECT) && scan.depth > 0) scan.depth--;
  return false;
}

/**
 * Scans `text` (a string, or UTF-8 bytes, whose structural characters are the same single bytes) from
 * `scan.at` up to `end`. One loop per kind of text: reading a character through a shared callback
 * would cost more than the scan itself. Inside a string, where most of a large body's bytes are, the
 * loop does no more than look for the quote that ends it.
 */
function scanMembers(text: string | Buffer, scan: Scan, end: number): void {
  let inString = scan.inString;
  let i = scan.at;
  if (typeof text === "string") {
    for (; i < end; i++) {
      const c = text.charCodeAt(i);
      if (inString) {
        if (c === BACKSLASH) i++;
        else if (c === QUOTE) inString = false;
      } else inString = step(scan, c);
    }
  } else {
    for (; i < end; i++) {
      const c = text[i] as number;
      if (inString) {
        if (c === BACKSLASH) i++;
        else if (c === QUOTE) inString = false;
      } else inString = step(scan, c);
    }
  }
  scan.inString = inString;
  // An escape's backslash at the slice's end steps past it: the next slice starts after the escaped character.
  scan.at = i;
}

/**
 * Each member or element takes at least two characters (`1,` or `"":1,` and more): a text no longer
 * than twice the limit cannot hold more.
 */
function tooShortToExceed(length: number, limit: number): boolean {
  return length <= 2 * limit;
}

/** How many object members and array elements a JSON text holds (its top-level value not counted). */
export function countMembers(text: string | Buffer): number {
  const scan = newScan();
  scanMembers(text, scan, text.length);
  return scan.members;
}

/** Whether a small body's text holds more than `limit` object members and array elements. */
export function hasMoreMembersThan(text: string, limit: number): boolean {
  if (tooShortToExceed(text.length, limit)) return false;
  return countMembers(text) > limit;
}

/**
 * Whether a large body's bytes hold more than `limit` object members and array elements, counted a
 * slice per turn of the event loop (a 32 MB body is a few dozen short steps), stopping as soon as the
 * limit is passed.
 */
export async function hasMoreMembersThanInTurns(bytes: Buffer, limit: number): Promise<boolean> {
  if (tooShortToExceed(bytes.length, limit)) return false;
  const scan = newScan();
  while (scan.at < bytes.length) {
    scanMembers(bytes, scan, Math.min(bytes.length, scan.at + SLICE));
    if (scan.members > limit) return true;
    if (scan.at < bytes.length) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return false;
}
