import { type Finding, resolveOverlaps } from "../finding.js";
import { contextBefore, forEachMatch } from "./regex-scan.js";

/*
 * Phone numbers in the forms people write them, each form a separate unambiguous regex that can
 * only start where a number starts. Every candidate is then checked in code: digit count, what
 * comes before (order, invoice, serial numbers...; code such as `x = 555-234-5678`) and after
 * (more digits, a decimal part, an identifier). Bare digit strings are only taken after a label
 * such as "phone:" or "call me at", since without one they are as likely ids as numbers.
 */

/** +CC then up to six groups, each optionally parenthesised, separated by at most one character. */
const INTERNATIONAL = /(?<![\w+])\+[1-9]\d{0,2}(?:[ .\-\u00A0]?(?:\(\d{1,4}\)|\d{1,5})){1,6}/g;
/** North American Numbering Plan: (NPA) NXX-XXXX or NPA-NXX-XXXX with one separator throughout. */
const NANP = /(?<![\w+.\-/])(?:1[ .-])?(?:\([2-9]\d\d\)[ \u00A0]?[2-9]\d\d[ .-]\d{4}|[2-9]\d\d([ .-])[2-9]\d\d\1\d{4})/g;
/** National formats with a trunk 0: UK `020 7946 0958`, FR `01 42 68 53 00`, DE `030/12345678`. */
const TRUNK_ZERO = /(?<![\w+.\-/])(?:\(0\d{1,4}\)|0\d{1,4})(?:[ .\-/\u00A0]\d{2,8}){1,4}/g;
/**
 * Any digit string right after a phone label. The label may be joined to the number (and to a
 * word before it) by an underscore as by a dash or a space: `tel_415-555-0134` and
 * `contact_phone_4155550134` are how field and file names write it.
 */
const LABELLED =
  /(?<![a-z0-9])(?:(?:tele)?phone|tel|mobile|mob|cell(?:phone)?|fax|whats ?app|sms|call(?: me)?(?: at| on)?|text me(?: at| on)?|reach me(?: at| on)?)(?:[\s_-]*(?:number|no\.?|nr\.?|#))?(?![a-z0-9])[^a-z0-9\n]{0,4}(\+?\(?\d[\d .\-()\u00A0]{5,20}\d)/dgi;

/** Words that make a following number an identifier rather than a phone number. */
const NOT_A_PHONE_AFTER = new Set(
  (
    "order invoice ticket tracking serial s/n sn sku part model ref reference id isbn issn account acct case po batch " +
    "lot version build patent policy customer license licence transaction confirmation booking receipt item product " +
    "article iban bic card routing zip postcode"
  ).split(" "),
);
/** Words that make a following number a phone number despite anything else in the context. */
const PHONE_WORDS = new Set("phone tel telephone mobile cell fax call ring whatsapp sms contact reach".split(" "));
const CONTEXT_WORD = /[a-z]+(?:\/[a-z]+)?/g;
/** Characters that, just before a number, mean it is an operand in code or a formula. */
const CODE_BEFORE = /[=*/%<>[{^|&\\]\s?$/;

function digitCount(value: string): number {
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 48 && c <= 57) n++;
  }
  return n;
}

/** Nothing that continues the token may follow: letters, digits, or a separator plus digit. */
function endsCleanly(text: string, end: number): boolean {
  const next = text[end];
  if (next === undefined) return true;
  if (/[\p{L}\p{N}_]/u.test(next)) return false;
  return !/[.\-/:,]/.test(next) || !/\d/.test(text[end + 1] ?? "");
}

function contextAllows(text: string, start: number): boolean {
  const before = contextBefore(text, start, 32);
  const words = before.match(CONTEXT_WORD) ?? [];
  if (words.some((w) => PHONE_WORDS.has(w))) return true;
  if (/#\s*$/.test(before) || CODE_BEFORE.test(before)) return false;
  // An identifier word among the last three: "Order no. 12", "SN: ...", "part 020-...".
  return !words.slice(-3).some((w) => NOT_A_PHONE_AFTER.has(w));
}

/** All separators between digit groups are the same character (dates and ranges mix them). */
function consistentSeparators(value: string): boolean {
  const separators = value
    .replace(/^\(0\d{1,4}\)\s?/, "0 ")
    .replace(/\d+/g, "")
    .split("");
  return new Set(separators).size <= 1;
}

export function detectPhoneNumbers(text: string): Finding[] {
  const out: Finding[] = [];
  const add = (value: string, start: number, rule: string) =>
    out.push({ kind: "phone", value, start, end: start + value.length, rule, level: "private" });

  if (text.includes("+")) {
    forEachMatch(INTERNATIONAL, text, (m) => {
      const value = m[0];
      const digits = digitCount(value);
      if (digits < 8 || digits > 15) return;
      if (!endsCleanly(text, m.index + value.length) || !contextAllows(text, m.index)) return;
      add(value, m.index, "phone-international");
    });
  }
  forEachMatch(NANP, text, (m) => {
    if (!endsCleanly(text, m.index + m[0].length) || !contextAllows(text, m.index)) return;
    add(m[0], m.index, "phone-nanp");
  });
  forEachMatch(TRUNK_ZERO, text, (m) => {
    const value = m[0];
    const digits = digitCount(value);
    if (digits < 9 || digits > 12 || !consistentSeparators(value)) return;
    // AAA-GG-SSSS is the SSN detector's to judge.
    if (/^\d{3}-\d{2}-\d{4}$/.test(value)) return;
    const groups = value.match(/\d+/g)!;
    // Two groups only when the subscriber part is long (UK 07700 900123, DE 030 12345678).
    if (groups.length === 2 && groups[1]!.length < 6) return;
    if (!endsCleanly(text, m.index + value.length) || !contextAllows(text, m.index)) return;
    add(value, m.index, "phone-national");
  });
  forEachMatch(LABELLED, text, (m) => {
    const [start, end] = m.indices![1]!;
    const value = text.slice(start, end);
    const digits = digitCount(value);
    if (digits < 7 || digits > 15 || !endsCleanly(text, end)) return;
    if (/^\d{4}-\d{2}-\d{2}/.test(value) || (value.match(/\(/g)?.length ?? 0) !== (value.match(/\)/g)?.length ?? 0)) return;
    add(value, start, "phone-labelled");
  });
  return resolveOverlaps(out);
}
