import { type Finding, resolveOverlaps } from "../finding.js";
import { forEachMatch } from "./regex-scan.js";

/**
 * AAA-GG-SSSS (or with underscores, as in file and field names), not inside a longer run of digits and
 * separators (dates, serials, ISBNs). A letter stuck to it (`k123-45-6789`, `ssn_123_45_6789`) does not
 * hide it: the cost of a miss (a number sent to the cloud) outweighs that of a product code kept local.
 */
const SSN_DASHED = /(?<!\d[-_]?)(\d{3})([-_])(\d{2})\2(\d{4})(?![-_]?\d|\.\d)/g;
/** Undashed or spaced forms only right after an explicit label. */
const SSN_LABELLED =
  /\b(?:ssn|ss#|social security(?: number| no\.?| #)?)(?![\w])[^\w\n]{0,4}(\d{3}[- ]?\d{2}[- ]?\d{4})(?![\w-]|\.\d)/dgi;

/**
 * Whether the groups form an SSN the SSA could have issued: area not 000, 666 or 9xx (9xx are
 * ITINs), group not 00, serial not 0000.
 */
export function isValidSsn(area: string, group: string, serial: string): boolean {
  if (area === "000" || area === "666" || area.startsWith("9")) return false;
  return group !== "00" && serial !== "0000";
}

export function detectSsns(text: string): Finding[] {
  const out: Finding[] = [];
  forEachMatch(SSN_DASHED, text, (m) => {
    if (!isValidSsn(m[1]!, m[3]!, m[4]!)) return;
    out.push({ kind: "ssn", value: m[0], start: m.index, end: m.index + m[0].length, rule: "ssn", level: "private" });
  });
  forEachMatch(SSN_LABELLED, text, (m) => {
    const value = m[1]!;
    const digits = value.replace(/\D/g, "");
    if (!isValidSsn(digits.slice(0, 3), digits.slice(3, 5), digits.slice(5))) return;
    const [start, end] = m.indices![1]!;
    out.push({ kind: "ssn", value, start, end, rule: "ssn-labelled", level: "private" });
  });
  return resolveOverlaps(out);
}
