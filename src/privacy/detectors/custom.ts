import type { Finding } from "../finding.js";
import type { Sensitivity } from "../sensitivity.js";
import { forEachMatch } from "./regex-scan.js";

/** A user-defined pattern from config: every match is a finding of kind `name`. */
export interface CustomPattern {
  /** The finding kind reported, e.g. `employee_id`. Also names its placeholder (`[EMPLOYEE_ID_1]`). */
  name: string;
  /** A JavaScript regular expression source, without slashes or flags (`EMP-\d{6}`). */
  regex: string;
  /** Match case-insensitively. Default false. */
  ignoreCase?: boolean;
  /** How sensitive a match makes the request. Default `private`. */
  level?: Exclude<Sensitivity, "public">;
}

/** Words and phrases from config, matched case-insensitively as whole words (`Project Falcon`). */
export interface KeywordList {
  words: readonly string[];
  /** The finding kind reported. Default `keyword`. */
  name?: string;
  /** How sensitive a match makes the request. Default `internal`. */
  level?: Exclude<Sensitivity, "public">;
}

/** A pattern or keyword list from config that cannot be used; `path` names the bad field. */
export class PrivacyConfigError extends Error {
  override readonly name = "PrivacyConfigError";
  constructor(
    message: string,
    /** Where in the detection options, e.g. `patterns[2].regex`. */
    readonly path: string,
  ) {
    super(message);
  }
}

export interface CompiledRule {
  kind: string;
  rule: string;
  level: Exclude<Sensitivity, "public">;
  re: RegExp;
}

const KIND_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,39}$/;

function checkName(name: string, path: string): void {
  if (!KIND_NAME.test(name)) {
    throw new PrivacyConfigError(
      `invalid name ${JSON.stringify(name)}: expected a letter then letters, digits, _ or - (max 40)`,
      path,
    );
  }
}

export function compilePattern(pattern: CustomPattern, index: number): CompiledRule {
  checkName(pattern.name, `patterns[${index}].name`);
  let re: RegExp;
  try {
    re = new RegExp(pattern.regex, pattern.ignoreCase === true ? "giu" : "gu");
  } catch (err) {
    throw new PrivacyConfigError(`invalid regex: ${(err as Error).message}`, `patterns[${index}].regex`);
  }
  if (re.test("")) throw new PrivacyConfigError("the regex matches the empty string", `patterns[${index}].regex`);
  return { kind: pattern.name, rule: "pattern", level: pattern.level ?? "private", re };
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/** One regex per list: an alternation of the words, longest first, bounded by non-word characters. */
export function compileKeywords(list: KeywordList, index: number): CompiledRule | undefined {
  const name = list.name ?? "keyword";
  checkName(name, `keywords[${index}].name`);
  const words = [...new Set(list.words.map((w) => w.trim()).filter((w) => w !== ""))].sort((a, b) => b.length - a.length);
  if (words.length === 0) return undefined;
  const alternation = words.map((w) => escapeRegex(w).replace(/\s+/g, "\\s+")).join("|");
  const re = new RegExp(`(?<![\\p{L}\\p{N}_])(?:${alternation})(?![\\p{L}\\p{N}_])`, "giu");
  return { kind: name, rule: "keyword", level: list.level ?? "internal", re };
}

export function detectWithRule(rule: CompiledRule, text: string): Finding[] {
  const out: Finding[] = [];
  forEachMatch(rule.re, text, (m) => {
    if (m[0].length === 0) return;
    out.push({ kind: rule.kind, value: m[0], start: m.index, end: m.index + m[0].length, rule: rule.rule, level: rule.level });
  });
  return out;
}
