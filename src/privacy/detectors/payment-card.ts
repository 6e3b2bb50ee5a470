import type { Finding } from "../finding.js";
import { forEachMatch } from "./regex-scan.js";

/**
 * 13-19 digits, ungrouped or in the groupings cards are printed with, one separator (space or
 * dash) throughout: fours (the last group shorter, or 4-4-4-4-3 for 19 digits), Amex 4-6-5 and
 * Diners 4-6-4. Starts wherever a number starts, whatever non-digit comes before it: a number
 * joined to a word (`order-4111…`, `ref_4111…`, `card4111…`) is as much a card number as one
 * standing alone, and a miss sends it to the cloud while a false find only keeps an id local.
 * The Luhn check and the network's prefix and length keep ordinary ids, timestamps and hashes
 * out. It does not start inside a longer number or the fraction of a decimal (`3.1411…`), nor
 * run on into more digits, a decimal part or a word (`…1111abc`, a run inside a hex hash), nor
 * end a hex literal (`0x4214430267091109`, see inHexLiteral).
 */
const CARD_CANDIDATE =
  /(?<!\d|\d[.,_-])(?:\d{13,19}|\d{4}([ -])\d{4}\1\d{4}\1\d{1,4}(?:\1\d{3})?|\d{4}([ -])\d{6}\2\d{4,5})(?![^\W_]|[.,_-]\d)/g;

/** The Luhn (mod 10) checksum every payment card number carries. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/**
 * The card network whose issuer identification number (IIN) prefix and length the number has,
 * or undefined. Covers the networks in wide use; the ranges are the published IIN ranges.
 */
export function cardNetwork(digits: string): string | undefined {
  const n = digits.length;
  const p2 = Number(digits.slice(0, 2));
  const p3 = Number(digits.slice(0, 3));
  const p4 = Number(digits.slice(0, 4));
  const p6 = Number(digits.slice(0, 6));
  if (digits[0] === "4") return n === 13 || n === 16 || n === 19 ? "visa" : undefined;
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return n === 16 ? "mastercard" : undefined;
  if (p2 === 34 || p2 === 37) return n === 15 ? "amex" : undefined;
  if (p4 === 6011 || (p3 >= 644 && p3 <= 649) || p2 === 65 || (p6 >= 622126 && p6 <= 622925)) {
    return n >= 16 && n <= 19 ? "discover" : undefined;
  }
  if (p4 >= 3528 && p4 <= 3589) return n >= 16 && n <= 19 ? "jcb" : undefined;
  if ((p3 >= 300 && p3 <= 305) || p2 === 36 || p2 === 38 || p2 === 39) return n >= 14 && n <= 19 ? "diners" : undefined;
  if (p2 === 62) return n >= 16 && n <= 19 ? "unionpay" : undefined;
  if (p2 === 50 || (p2 >= 56 && p2 <= 58) || p2 === 67 || p4 === 6304) return n >= 13 && n <= 19 ? "maestro" : undefined;
  return undefined;
}

/** How far back a hex literal's `0x` is looked for: the hex digits of a 256-bit value. */
const HEX_LITERAL_DIGITS = 64;

/**
 * The digits at `start` end a hex literal that began with `0x` (`0x4214430267091109`,
 * `0xdeadbeef4111111111111111`): a number in code, a hash or an address in memory, never a card
 * number, however Luhn-valid its decimal-looking digits happen to be. Checked per candidate, not in
 * the pattern, so that a long run of hex is never read back from each of its positions.
 */
function inHexLiteral(text: string, start: number): boolean {
  let i = start;
  while (i > 0 && start - i < HEX_LITERAL_DIGITS && isHexDigit(text.charCodeAt(i - 1))) i--;
  if (i < 2 || (text[i - 1] !== "x" && text[i - 1] !== "X") || text[i - 2] !== "0") return false;
  // `0x` where a number starts, not the end of a word (`box`, `a0x`).
  return i === 2 || !/[\p{L}\p{N}_]/u.test(text[i - 3]!);
}

function isHexDigit(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

export function detectPaymentCards(text: string): Finding[] {
  const out: Finding[] = [];
  forEachMatch(CARD_CANDIDATE, text, (m) => {
    const value = m[0];
    if (inHexLiteral(text, m.index)) return;
    const digits = value.replace(/[ -]/g, "");
    if (cardNetwork(digits) === undefined || !luhnValid(digits)) return;
    out.push({ kind: "payment_card", value, start: m.index, end: m.index + value.length, rule: "luhn", level: "private" });
  });
  return out;
}
