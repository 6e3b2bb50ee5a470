import type { Finding } from "../finding.js";

/*
 * Addresses are found from their `@`: the local part is read backwards from it (at most 64
 * characters, RFC 5321) and the domain matched forwards with a sticky regex. Anchoring on the
 * rare `@` keeps this linear and cheap on any input; internationalised addresses are included.
 */

const LOCAL_CHAR_RE = /[\p{L}\p{N}._%+-]/u;
const LOCAL_EDGE_RE = /[\p{L}\p{N}]/u;

function isAsciiAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** Letter, digit or `._%+-`, with an ASCII fast path. */
function isLocalChar(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (c < 128) return isAsciiAlnum(c) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45;
  return LOCAL_CHAR_RE.test(text[i]!);
}

function isLetterOrDigit(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  return c < 128 ? isAsciiAlnum(c) : LOCAL_EDGE_RE.test(text[i]!);
}
const MAX_LOCAL = 64;
/** Dotted labels and an alphabetic TLD, nothing word-like right after. */
const DOMAIN = /(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?\.){1,8}\p{L}{2,24}(?![\p{L}\p{N}_-])/uy;

/** File extensions that are not TLDs: `icon@2x.png`, `logo@3x.jpg` are assets, not addresses. */
const FILE_EXTENSION = /\.(?:png|jpe?g|gif|svg|webp|ico|bmp|tiff?|js|mjs|cjs|css|scss|json|lock|txt|html?|ya?ml|toml)$/i;
/**
 * `git@github.com:owner/repo` and friends are SSH remotes, not anyone's mailbox; `noreply@...` and its
 * spellings are a machine's sender no one reads (an agent's tool descriptions quote them:
 * `Co-Authored-By: Claude <noreply@anthropic.com>`), and name no person.
 */
const SERVICE_LOCAL_PARTS = new Set([
  "git",
  "hg",
  "svn",
  "noreply",
  "no-reply",
  "no_reply",
  "donotreply",
  "do-not-reply",
  "do_not_reply",
]);
/** `scheme://user@host`, `scheme://user:password@host`: URL credentials, not a mailbox. */
const URL_USERINFO_BEFORE = /:\/\/(?:[^\s/@]*:)?$/;

export function detectEmails(text: string): Finding[] {
  const out: Finding[] = [];
  let minStart = 0;
  let nextDot = text.indexOf(".");
  for (let at = text.indexOf("@"); at !== -1 && nextDot !== -1; at = text.indexOf("@", at + 1)) {
    // The domain needs a dot, within the 253 characters a domain may have.
    if (nextDot < at) nextDot = text.indexOf(".", at);
    if (nextDot === -1 || nextDot - at > 253) continue;
    if (at === 0 || !isLocalChar(text, at - 1) || at + 1 >= text.length || !isLetterOrDigit(text, at + 1)) continue;
    let start = at;
    while (start > minStart && at - start <= MAX_LOCAL && isLocalChar(text, start - 1)) start--;
    if (at - start > MAX_LOCAL) continue;
    // The local part starts with a letter or digit and does not end with a dot.
    while (start < at && !isLetterOrDigit(text, start)) start++;
    if (start === at || text[at - 1] === "." || text.slice(start, at).includes("..")) continue;
    DOMAIN.lastIndex = at + 1;
    const domain = DOMAIN.exec(text);
    if (domain === null) continue;
    const end = at + 1 + domain[0].length;
    const value = text.slice(start, end);
    if (FILE_EXTENSION.test(value) || SERVICE_LOCAL_PARTS.has(text.slice(start, at).toLowerCase())) continue;
    if (URL_USERINFO_BEFORE.test(text.slice(Math.max(0, start - 80), start))) continue;
    out.push({ kind: "email", value, start, end, rule: "email", level: "private" });
    minStart = end;
  }
  return out;
}
