import type { Finding } from "../finding.js";
import { forEachMatch } from "./regex-scan.js";

/** IBAN length per country (ISO 13616 registry), as country code + length. */
const IBAN_LENGTH: ReadonlyMap<string, number> = new Map(
  (
    "AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DK18 DO28 EE20 EG29 ES24 " +
    "FI18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HR21 HU28 IE22 IL23 IQ23 IS26 IT27 JO30 KW30 KZ20 LB28 LC32 " +
    "LI21 LT20 LU20 LV21 MC27 MD24 ME22 MK19 MR27 MT31 MU30 NL18 NO15 PK24 PL28 PS29 PT25 QA29 RO24 RS22 SA24 " +
    "SC31 SE24 SI19 SK24 SM27 ST25 SV28 TL23 TN24 TR26 UA29 VA22 VG24 XK20"
  )
    .split(" ")
    .map((entry) => [entry.slice(0, 2), Number(entry.slice(2))] as const),
);

/** Where an IBAN may start: country code and check digits at the start of a word. */
const IBAN_START = /(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?= ?[A-Za-z0-9])/g;

/** ISO 7064 mod 97-10 over the rearranged IBAN: valid when the remainder is 1. */
export function ibanChecksumValid(compact: string): boolean {
  const rearranged = compact.slice(4) + compact.slice(0, 4);
  let remainder = 0;
  for (let i = 0; i < rearranged.length; i++) {
    const code = rearranged.charCodeAt(i);
    if (code >= 48 && code <= 57) remainder = (remainder * 10 + (code - 48)) % 97;
    else if (code >= 65 && code <= 90) remainder = (remainder * 100 + (code - 55)) % 97;
    else return false;
  }
  return remainder === 1;
}

function isAlnum(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

/**
 * IBANs written compactly (`DE89370400440532013000`) or in groups separated by single spaces
 * (`DE89 3704 0044 0532 0130 00`): the country's exact length, then the mod-97 check.
 */
export function detectIbans(text: string): Finding[] {
  const out: Finding[] = [];
  forEachMatch(IBAN_START, text, (m) => {
    const country = m[0].slice(0, 2).toUpperCase();
    const length = IBAN_LENGTH.get(country);
    if (length === undefined) return;
    let compact = "";
    let i = m.index;
    while (i < text.length && compact.length < length) {
      const code = text.charCodeAt(i);
      if (isAlnum(code)) {
        compact += text[i];
        i++;
      } else if (code === 32 && compact.length >= 4 && i + 1 < text.length && isAlnum(text.charCodeAt(i + 1))) {
        i++;
      } else break;
    }
    if (compact.length !== length) return;
    if (i < text.length && isAlnum(text.charCodeAt(i))) return;
    const upper = compact.toUpperCase();
    if (!ibanChecksumValid(upper)) return;
    out.push({ kind: "iban", value: text.slice(m.index, i), start: m.index, end: i, rule: "mod97", level: "private" });
  });
  return out;
}
