/**
 * Counts a JSON text's object members (its keys) without parsing it, so that a body holding too many
 * can be refused before anything is built from it. Every step after the parse (privacy's read of
 * every key, redaction, serialising towards the upstream) costs per member, not per byte: a 12 MB
 * body of one object with a million `"kN":1` members held the event loop for seconds, where a 30 MB
 * string costs a fraction of one. A colon outside a string is exactly one object member, so the
 * count is one pass over the bytes that steps over strings.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;

/** Bytes scanned per turn of the event loop when counting a large body. */
const SLICE = 1024 * 1024;

/**
 * Where a count stopped: `members` counted so far, and whether the scan is inside a string at
 * `at` (a slice may end there).
 */
interface Scan {
  members: number;
  inString: boolean;
  at: number;
}

/**
 * Scans `text` (a string, or UTF-8 bytes, whose structural characters are the same single bytes) from
 * `scan.at` up to `end`. One loop per kind of text: reading a character through a shared callback
 * would cost more than the scan itself.
 */
function scanMembers(text: string | Buffer, scan: Scan, end: number): void {
  let { members, inString } = scan;
  let i = scan.at;
  if (typeof text === "string") {
    for (; i < end; i++) {
      const c = text.charCodeAt(i);
      if (inString) {
        if (c === BACKSLASH) i++;
        else if (c === QUOTE) inString = false;
      } else if (c === QUOTE) inString = true;
      else if (c === COLON) members++;
    }
  } else {
    for (; i < end; i++) {
      const c = text[i];
      if (inString) {
        if (c === BACKSLASH) i++;
        else if (c === QUOTE) inString = false;
      } else if (c === QUOTE) inString = true;
      else if (c === COLON) members++;
    }
  }
  scan.members = members;
  scan.inString = inString;
  // An escape's backslash at the slice's end steps past it: the next slice starts after the escaped character.
  scan.at = i;
}

/** Whether a small body's text holds more than `limit` object members. */
export function hasMoreMembersThan(text: string, limit: number): boolean {
  // Each member takes at least a colon and two quotes: a shorter text cannot hold more.
  if (text.length <= 3 * limit) return false;
  const scan: Scan = { members: 0, inString: false, at: 0 };
  scanMembers(text, scan, text.length);
  return scan.members > limit;
}

/**
 * Whether a large body's bytes hold more than `limit` object members, counted a slice per turn of
 * the event loop (a 32 MB body is a few dozen short steps), stopping as soon as the limit is passed.
 */
export async function hasMoreMembersThanInTurns(bytes: Buffer, limit: number): Promise<boolean> {
  if (bytes.length <= 3 * limit) return false;
  const scan: Scan = { members: 0, inString: false, at: 0 };
  while (scan.at < bytes.length) {
    scanMembers(bytes, scan, Math.min(bytes.length, scan.at + SLICE));
    if (scan.members > limit) return true;
    if (scan.at < bytes.length) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return false;
}
