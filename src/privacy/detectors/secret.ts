import { type Finding, resolveOverlaps } from "../finding.js";
import { contextBefore, forEachMatch } from "./regex-scan.js";

/*
 * Credentials in known formats, after gitleaks' rules (github.com/gitleaks/gitleaks, config
 * gitleaks.toml) and detect-secrets' keyword plugin. Every regex starts with a lookbehind so it
 * can only begin at a token boundary, and has bounded quantifiers before any failing assertion,
 * which keeps scanning linear.
 */

interface SecretRule {
  id: string;
  re: RegExp;
  /** The capture group holding the secret (needs the `d` flag); the whole match when absent. */
  group?: number;
  /**
   * Substrings one of which every match contains. A rule runs only on texts that contain one:
   * a substring search is far cheaper than a regex scan, and most texts contain none.
   */
  triggers: readonly string[];
  /** Compare triggers with the lower-cased text. */
  lowerCaseTriggers?: boolean;
  /** Extra checks on the found value; `index` is where it starts in `text`. */
  accept?: (value: string, text: string, index: number) => boolean;
}

const hasDigit = (v: string) => /\d/.test(v);
const hasLetterAndDigit = (v: string) => /[A-Za-z]/.test(v) && /\d/.test(v);

const RULES: readonly SecretRule[] = [
  // Anthropic: sk-ant-api03-…, sk-ant-admin01-…, sk-ant-oat01-… (gitleaks: 93 chars + "AA").
  { id: "anthropic-api-key", triggers: ["sk-ant-"], re: /(?<![\w-])sk-ant-[a-z]{2,6}\d{2}-[A-Za-z0-9_-]{32,300}/g },
  // OpenAI project, service-account and admin keys; then legacy `sk-` + 48 alphanumerics.
  { id: "openai-api-key", triggers: ["sk-"], re: /(?<![\w-])sk-(?:proj|svcacct|admin|None)-[A-Za-z0-9_-]{32,300}/g },
  { id: "openai-api-key", triggers: ["sk-"], re: /(?<![\w-])sk-[A-Za-z0-9]{32,200}(?![\w-])/g, accept: hasLetterAndDigit },
  // AWS access key ids: the prefix says what kind; AWS's documented example ids end in EXAMPLE.
  // Any digit after the prefix (TruffleHog's rule; gitleaks' takes base32's 2-7 only): an id
  // written by hand, or by a tool that makes test ones, is no less private.
  {
    id: "aws-access-key-id",
    triggers: ["AKIA", "ASIA", "ABIA", "ACCA", "A3T"],
    re: /(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}(?![A-Za-z0-9])/g,
    accept: (v) => !v.endsWith("EXAMPLE"),
  },
  // AWS secret access keys have no prefix: 40 base64 characters close after an AWS-ish name.
  {
    id: "aws-secret-access-key",
    triggers: ["aws", "secret_access", "secretaccess"],
    lowerCaseTriggers: true,
    re: /(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g,
    accept: (v, text, index) =>
      /[A-Z]/.test(v) &&
      /[a-z]/.test(v) &&
      /[0-9/+]/.test(v) &&
      /aws|secret_?access|secretaccesskey/.test(contextBefore(text, index, 48)),
  },
  {
    id: "github-token",
    triggers: ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
    re: /(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36,251}(?![A-Za-z0-9_])/g,
  },
  {
    id: "github-fine-grained-pat",
    triggers: ["github_pat_"],
    re: /(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{60,240}(?![A-Za-z0-9_])/g,
  },
  { id: "gitlab-token", triggers: ["gl"], re: /(?<![\w-])gl(?:pat|dt|ptt|rt|cbt|soat|ft|imt|agent|oas)-[A-Za-z0-9_-]{20,300}/g },
  { id: "slack-token", triggers: ["xox"], re: /(?<![\w-])xox[abprseo]-[A-Za-z0-9-]{10,250}/g, accept: hasDigit },
  {
    id: "slack-app-token",
    triggers: ["xapp-"],
    lowerCaseTriggers: true,
    re: /(?<![\w-])xapp-\d-[A-Z0-9]{6,}-\d{6,}-[a-z0-9]{20,}/gi,
  },
  {
    id: "slack-webhook",
    triggers: ["hooks.slack.com"],
    re: /https?:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9+/]{20,100}(?:\/[A-Za-z0-9+/]{1,60}){0,3}/g,
  },
  {
    id: "stripe-key",
    triggers: ["_live_", "_test_", "_prod_"],
    re: /(?<![\w-])(?:sk|rk)_(?:live|test|prod)_[A-Za-z0-9]{10,247}(?![A-Za-z0-9])/g,
  },
  { id: "google-api-key", triggers: ["AIza"], re: /(?<![\w-])AIza[0-9A-Za-z_-]{35}(?![\w-])/g },
  { id: "npm-token", triggers: ["npm_"], re: /(?<![\w-])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])/g },
  { id: "huggingface-token", triggers: ["hf_"], re: /(?<![\w-])hf_[A-Za-z]{34}(?![A-Za-z0-9])/g },
  { id: "sendgrid-api-key", triggers: ["SG."], re: /(?<![\w-])SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}(?![\w-])/g },
  { id: "pypi-token", triggers: ["pypi-"], re: /(?<![\w-])pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,1000}/g },
  { id: "age-secret-key", triggers: ["AGE-SECRET-KEY-1"], re: /AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}/g },
  // JWTs: a base64url header opening with `{"` (`eyJ`), a payload opening with `{` (`ey`), a signature.
  { id: "jwt", triggers: ["eyJ"], re: /(?<![\w-])eyJ[A-Za-z0-9_-]{10,2000}\.ey[A-Za-z0-9_-]{10,8000}\.[A-Za-z0-9_-]{0,2000}/g },
  // `scheme://user:password@host`.
  {
    id: "url-credentials",
    triggers: ["://"],
    re: /\b[a-z][a-z0-9+.-]{1,20}:\/\/[^\s:@/]{1,64}:([^\s:@/]{3,128})@/dgi,
    group: 1,
    accept: (v) => !isPlaceholderValue(v),
  },
  // Authorization headers and bare bearer tokens.
  {
    id: "authorization-header",
    triggers: ["Bearer", "Token", "Basic"],
    re: /\b(?:Bearer|Token|Basic)\s+([A-Za-z0-9._~+/-]{16,2000}={0,2})(?![\w.~+/=-])/dg,
    group: 1,
    accept: (v) => hasLetterAndDigit(v) && !isPlaceholderValue(v),
  },
];

/**
 * Words that make an identifier a credential's name. Assignments are found by looking for these
 * first and then reading the identifier around them and the value after it: a regex that tried
 * every identifier start against them would cost far more on large texts.
 */
const KEY_WORD =
  /passw(?:or)?d|passphrase|secret|api[_.-]?key|apikey|access[_.-]?key|private[_.-]?key|signing[_.-]?key|encryption[_.-]?key|token|credentials?|auth[_.-]?key/gi;
/** The rest of the key, its closing quote, the operator and the value (quoted or bare). */
const AFTER_KEY_WORD =
  /[\w.-]{0,24}(["']?)[ \t]{0,3}(?::=|=>|[:=])[ \t]{0,3}(?:"([^"\n]{1,300})"|'([^'\n]{1,300})'|`([^`\n]{1,300})`|([^\s"'`,;=]{1,300}={0,2}))/y;

/** Letters, digits, `_`, `.`, `-`: what a key name is made of. */
function isKeyChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 46 || c === 45;
}
const MAX_KEY_PREFIX = 40;

/** "the password is hunter22": only with a value mixing letters and digits. */
const PROSE_PASSWORD = /\b(?:password|passcode|passphrase|pin)\s+(?:is|was)\s+["'`]?([^\s"'`]{6,64}?)["'`]?(?=[\s.,;!?]|$)/dgi;

/**
 * Keys that name something about a secret rather than hold one (`max_tokens`, `secret_name`,
 * `password_length`, `token_url`), or count tokens of text.
 */
const NOT_A_SECRET_KEY =
  /tokens|tokeni[sz]|(?:name|type|url|uri|endpoint|count|limit|len|length|id|ids|path|file|dir|field|label|policy|prompt|hint|min|max|required|enabled|ttl|header|param|placeholder|pattern|regex|env|var|arn|ref|expiry|expires|expiration|expires_in|usage|index|size|version|mode|format|store|manager|provider|service|strength|rotation|hash|algorithm|type_hint|prefix|suffix|budget|ratio|rate|timeout|ms|seconds|secs)$/i;

const PLACEHOLDER_WORDS =
  /^(?:null|none|nil|undefined|true|false|string|str|text|number|int|integer|bool|boolean|any|unknown|object|bytes|secret|secrets|password|passwd|token|required|optional|redacted|hidden|masked|change_?me|replace_?me|todo|tbd|example|sample|dummy|fake|test|placeholder|default|empty|value|(?:insert|enter|put)[_-]\w*|(?:your|my|the)[_-]?(?:\w+[_-])?(?:secret|password|passwd|pass|key|token|api[_-]?key|access[_-]?key)(?:[_-]?here)?)$/i;

/** Values that stand in for a secret in documentation and code rather than being one. */
export function isPlaceholderValue(value: string): boolean {
  const v = value.trim();
  if (PLACEHOLDER_WORDS.test(v)) return true;
  if (/^[x*•#._-]+$/i.test(v) || /^(.)\1+$/.test(v)) return true;
  if (/x{4,}|\*{3,}|\.{3}|…|<[^>]*>|\$\{|\{\{|%\w+%|^\$[A-Za-z_]/i.test(v)) return true;
  return /\byour[_-]|_here\b|[_-]here$/i.test(v);
}

/** Unquoted values that are code: calls, member access, environment lookups, plain identifiers. */
function looksLikeCode(value: string): boolean {
  if (
    /^(?:process\.env|import\.meta|os\.(?:environ|getenv)|env\b|ENV\[|getenv|System\.getenv|config\.|settings\.|self\.|this\.|props\.|req\.|request\.|args\.|options\.|opts\.|params\.)/.test(
      value,
    )
  ) {
    return true;
  }
  if (/[([{<]/.test(value) || /[)\]}>]$/.test(value)) return true;
  if (/^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$/.test(value)) return true;
  if (/^[a-z]+(?:_[a-z]+)+$/.test(value) || /^[a-z]+(?:[A-Z][a-z]+)+$/.test(value) || /^[A-Z]+(?:_[A-Z]+)+$/.test(value))
    return true;
  return false;
}

const KEY_NAME = new RegExp(KEY_WORD.source, "i");

/**
 * Whether `value`, assigned to a key named `key` (a JSON object member, say), is a credential:
 * the key names one (`password`, `api_key`, `clientSecret`) and the value is not a placeholder.
 */
export function isCredentialAssignment(key: string, value: string): boolean {
  return key.length <= MAX_KEY_PREFIX + 24 && KEY_NAME.test(key) && isSecretValue(key, value, false);
}

/** Cheap checks first: on texts full of key words this runs for every one of them. */
function isSecretValue(key: string, value: string, bare: boolean): boolean {
  if (value.length < 6 || value.trim() !== value) return false;
  const lowerValue = value.replace(/=+$/, "").toLowerCase();
  if (lowerValue === key.toLowerCase()) return false;
  if (NOT_A_SECRET_KEY.test(key) || isPlaceholderValue(value)) return false;
  return !bare || !looksLikeCode(value);
}

function detectAssignments(text: string, out: Finding[]): void {
  let lastKeyStart = -1;
  forEachMatch(KEY_WORD, text, (m) => {
    let keyStart = m.index;
    while (keyStart > 0 && m.index - keyStart <= MAX_KEY_PREFIX && isKeyChar(text.charCodeAt(keyStart - 1))) keyStart--;
    // The identifier is longer than any key name, or this key was read already (`api_key_token`).
    if (m.index - keyStart > MAX_KEY_PREFIX || keyStart === lastKeyStart) return;
    AFTER_KEY_WORD.lastIndex = m.index + m[0].length;
    const rest = AFTER_KEY_WORD.exec(text);
    if (rest === null) return;
    const before = text[keyStart - 1];
    const openQuote = before === '"' || before === "'" ? before : "";
    if (rest[1] !== "" && rest[1] !== openQuote) return;
    lastKeyStart = keyStart;
    const group = rest[2] !== undefined ? 2 : rest[3] !== undefined ? 3 : rest[4] !== undefined ? 4 : 5;
    const value = rest[group]!;
    // The value ends the match, before its closing quote if it has one.
    const end = AFTER_KEY_WORD.lastIndex - (group === 5 ? 0 : 1);
    let keyEnd = m.index + m[0].length;
    while (keyEnd < text.length && isKeyChar(text.charCodeAt(keyEnd))) keyEnd++;
    const key = text.slice(keyStart, keyEnd);
    if (!isSecretValue(key, value, group === 5)) return;
    out.push({ kind: "secret", value, start: end - value.length, end, rule: "generic-assignment", level: "private" });
  });
  forEachMatch(PROSE_PASSWORD, text, (m) => {
    const value = m[1]!;
    if (!hasLetterAndDigit(value) || isPlaceholderValue(value)) return;
    const [start, end] = m.indices![1]!;
    out.push({ kind: "secret", value, start, end, rule: "prose-password", level: "private" });
  });
}

const PEM_BEGIN = "-----BEGIN ";
/** A line of a PEM body: base64, or an RFC 1421 header such as `Proc-Type: 4,ENCRYPTED`. */
const PEM_LINE = /^(?:[A-Za-z0-9+/=]+|[A-Za-z-]+: .*)\r?$/;

/** Where the body of a block without its END line stops: at the first line that is not body. */
function truncatedBodyEnd(text: string, from: number): number {
  let end = from;
  let lineStart = text[from] === "\n" ? from + 1 : from;
  for (let lines = 0; lines < 500 && lineStart < text.length; lines++) {
    const newline = text.indexOf("\n", lineStart);
    const lineEnd = newline === -1 ? text.length : newline;
    if (!PEM_LINE.test(text.slice(lineStart, lineEnd))) break;
    end = lineEnd;
    lineStart = lineEnd + 1;
  }
  return end;
}

/**
 * PEM private key blocks (RSA, EC, DSA, OPENSSH, PGP, PKCS#8, encrypted), BEGIN through END.
 * Found with indexOf rather than a lazy regex so an unterminated block costs linear time; a block
 * whose END line is missing (a truncated paste) is taken up to where its base64 body stops.
 */
function detectPrivateKeys(text: string, out: Finding[]): void {
  const nextEnd = new Map<string, number>();
  let begin = text.indexOf(PEM_BEGIN);
  while (begin !== -1) {
    const labelEnd = text.indexOf("-----", begin + PEM_BEGIN.length);
    const label = labelEnd === -1 ? "" : text.slice(begin + PEM_BEGIN.length, labelEnd);
    if (labelEnd === -1 || label.length > 60 || !/PRIVATE KEY/.test(label)) {
      begin = text.indexOf(PEM_BEGIN, begin + PEM_BEGIN.length);
      continue;
    }
    const endMarker = `-----END ${label}-----`;
    // Where the next END line for this label is, searched once per label and position: many
    // BEGIN lines without an END must not each search the rest of the text.
    let endAt = nextEnd.get(label) ?? -2;
    if (endAt === -2 || (endAt !== -1 && endAt < labelEnd)) {
      endAt = text.indexOf(endMarker, labelEnd);
      nextEnd.set(label, endAt);
    }
    const nextBegin = text.indexOf(PEM_BEGIN, labelEnd);
    let end: number;
    if (endAt !== -1 && endAt - begin < 64_000 && (nextBegin === -1 || nextBegin > endAt)) {
      end = endAt + endMarker.length;
    } else {
      end = truncatedBodyEnd(text, labelEnd + 5);
    }
    out.push({ kind: "secret", value: text.slice(begin, end), start: begin, end, rule: "private-key", level: "private" });
    begin = text.indexOf(PEM_BEGIN, end);
  }
}

/** Credentials in known formats, private key blocks and `password=`/`api_key:` assignments. */
export function detectSecrets(text: string): Finding[] {
  const out: Finding[] = [];
  if (text.includes(PEM_BEGIN)) detectPrivateKeys(text, out);
  let lower: string | undefined;
  for (const rule of RULES) {
    let haystack = text;
    if (rule.lowerCaseTriggers === true) {
      lower ??= text.toLowerCase();
      haystack = lower;
    }
    if (!rule.triggers.some((t) => haystack.includes(t))) continue;
    forEachMatch(rule.re, text, (m) => {
      const group = rule.group ?? 0;
      const value = m[group];
      if (value === undefined) return;
      const start = group === 0 ? m.index : m.indices![group]![0];
      if (rule.accept !== undefined && !rule.accept(value, text, start)) return;
      out.push({ kind: "secret", value, start, end: start + value.length, rule: rule.id, level: "private" });
    });
  }
  detectAssignments(text, out);
  return resolveOverlaps(out);
}
