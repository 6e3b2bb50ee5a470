import type { Sensitivity } from "./sensitivity.js";

/** The kinds the built-in detectors report. Custom patterns and keywords report their own names. */
export type BuiltinKind =
  | "email"
  | "phone"
  | "payment_card"
  | "iban"
  | "ssn"
  | "ip_address"
  /** A credential in a known format (API keys, tokens, private keys, `password=` assignments). */
  | "secret"
  /** A high-entropy string that looks like a credential but matches no known format. */
  | "token";

export const BUILTIN_KINDS: readonly BuiltinKind[] = [
  "email",
  "phone",
  "payment_card",
  "iban",
  "ssn",
  "ip_address",
  "secret",
  "token",
];

/** A built-in kind, or the name of a user-defined pattern or keyword list. */
export type FindingKind = BuiltinKind | (string & {});

/** One piece of sensitive data found in a string. `start`/`end` are UTF-16 offsets, `end` exclusive. */
export interface Finding {
  kind: FindingKind;
  /** The exact text found (`text.slice(start, end)`, except inside JSON strings: see classifyRequest). */
  value: string;
  start: number;
  end: number;
  /** Which rule found it, e.g. `github-pat`, `ipv6`, `luhn`, `keyword`. For audits and tuning. */
  rule: string;
  /** How sensitive this finding makes the text: `private` for every built-in kind. */
  level: Exclude<Sensitivity, "public">;
}

/**
 * Keeps one finding per region of text: leftmost first, then longest, then the earlier in
 * `findings` order (callers list specific detectors before generic ones). Returns findings sorted
 * by position and never overlapping, which is what redaction needs.
 */
export function resolveOverlaps(findings: readonly Finding[]): Finding[] {
  if (findings.length < 2) return [...findings];
  const ordered = findings
    .map((finding, order) => ({ finding, order }))
    .sort((a, b) => a.finding.start - b.finding.start || b.finding.end - a.finding.end || a.order - b.order);
  const kept: Finding[] = [];
  let end = -1;
  for (const { finding } of ordered) {
    if (finding.start >= end) {
      kept.push(finding);
      end = finding.end;
    }
  }
  return kept;
}
