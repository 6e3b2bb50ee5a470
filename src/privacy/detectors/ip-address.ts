import { isIPv6 } from "node:net";
import { type Finding, resolveOverlaps } from "../finding.js";
import { forEachMatch, wordBefore } from "./regex-scan.js";

const OCTET = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
/**
 * Four valid octets, not preceded by a letter, digit, dot or dash: `v1.2.3.4` and the middle of
 * `1.3.6.1.4.1` (an OID) never match. Joined to a word by a dash or an underscore (`ip-10.20.30.40`,
 * `host_192.168.1.7`) it is an address as much as after a space, so that join is let through and
 * judged in code like a word before a space (`node-1.2.3.4` is a version). What may follow is
 * checked in code too.
 */
const IPV4 = new RegExp(`(?:(?<![\\w.\\-])|(?<=[A-Za-z][_\\-]))${OCTET}(?:\\.${OCTET}){3}`, "g");
/**
 * Words after which a dotted quad is a version, a build or a section number, not an address:
 * "version 1.2.3.4", "build: 10.0.1.2", "python 3.11.4.1", "§ 1.2.3.4".
 */
const NOT_AN_ADDRESS_AFTER = new Set(
  (
    "version ver v release rel build firmware fw rev revision update patch hotfix section chapter clause step figure " +
    "fig table paragraph para article item rule sdk api schema python node nodejs java jdk go golang ruby php perl " +
    "rust rustc gcc clang llvm dotnet chrome chromium firefox safari edge windows macos ios android ubuntu debian " +
    "kernel linux openssl nginx apache postgres postgresql mysql redis docker kubernetes k8s terraform npm pip " +
    "gradle maven §"
  ).split(" "),
);
/** Hex digits, colons and dots (for an embedded dotted quad): what an IPv6 address is written with. */
function isIpv6Char(c: number): boolean {
  return (c >= 48 && c <= 58) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102) || c === 46;
}

function isWordCharCode(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c > 127;
}

const ZONE = /%[\w.]{1,16}/y;

/**
 * Addresses that identify no one: loopback, unspecified, broadcast and netmasks. They are
 * everywhere in questions about code and configuration and would otherwise make every such
 * request private. Private (RFC 1918) ranges are kept: they describe someone's network.
 */
function isUninformativeIpv4(value: string): boolean {
  if (value.startsWith("127.") || value === "0.0.0.0") return true;
  const octets = value.split(".").map(Number);
  if (octets[0] !== 255) return false;
  // A netmask: ones then zeros.
  const bits = octets.reduce((acc, o) => acc * 256 + o, 0);
  const inverted = 0xffffffff - bits;
  return (inverted & (inverted + 1)) === 0;
}

/**
 * Words that name an address: a dotted quad joined to one (`ip-1.2.3.4`, `host_4.2.2.0`) is an
 * address, whatever its parts look like.
 */
const ADDRESS_WORDS = new Set(
  (
    "ip ipv4 ip4 addr address host hostname server srv client peer remote local src source dst dest destination " +
    "gw gateway router proxy dns nameserver resolver"
  ).split(" "),
);

/**
 * A dotted quad joined to a name by a dash or underscore that ends in `.0` (`System.Runtime-4.2.2.0`,
 * `app_1.0.0.0`) or has only one-digit parts (`pkg-1.2.3.4`, `foo_1.2.3.4`) is far more often a
 * four-part version than the address of a network (the few addresses written so, such as
 * `1.1.1.1`, are public resolvers that identify no one), unless the name is an address's.
 */
function isJoinedVersion(text: string, start: number, value: string): boolean {
  const before = text[start - 1];
  if (before !== "-" && before !== "_") return false;
  if (!value.endsWith(".0") && value.length !== 7) return false;
  return !ADDRESS_WORDS.has(wordBefore(text, start, "-_"));
}

function ipv4EndsCleanly(text: string, end: number): boolean {
  const next = text[end];
  if (next === undefined) return true;
  if (/[\p{L}\p{N}_]/u.test(next)) return false;
  // More dotted parts (a longer version or OID) or a dash-joined continuation.
  return !/[.-]/.test(next) || !/[\p{L}\p{N}]/u.test(text[end + 1] ?? "");
}

export function detectIpAddresses(text: string): Finding[] {
  const out: Finding[] = [];
  if (text.includes(".")) {
    forEachMatch(IPV4, text, (m) => {
      const value = m[0];
      const end = m.index + value.length;
      if (!ipv4EndsCleanly(text, end) || isUninformativeIpv4(value)) return;
      if (NOT_AN_ADDRESS_AFTER.has(wordBefore(text, m.index, ":=#.-_"))) return;
      if (isJoinedVersion(text, m.index, value)) return;
      out.push({ kind: "ip_address", value, start: m.index, end, rule: "ipv4", level: "private" });
    });
  }
  // From each colon, the whole run of address characters around it is the candidate (each run
  // read once, so this is linear); it must stand alone (`std::map`, `a1:b2c` do not), be no
  // longer than an address can be, and pass node's own IPv6 parser.
  let scanned = 0;
  for (let colon = text.indexOf(":"); colon !== -1; ) {
    let start = colon;
    while (start > scanned && isIpv6Char(text.charCodeAt(start - 1))) start--;
    let end = colon + 1;
    while (end < text.length && isIpv6Char(text.charCodeAt(end))) end++;
    scanned = end;
    colon = text.indexOf(":", end);
    if (end - start > 46) continue;
    // A sentence may end right after the address.
    while (end > start && text.charCodeAt(end - 1) === 46) end--;
    if (start > 0 && isWordCharCode(text.charCodeAt(start - 1))) continue;
    if (end < text.length && isWordCharCode(text.charCodeAt(end))) continue;
    const address = text.slice(start, end);
    // Needs a digit: `dead::beef` and `a::b` are far more often code than addresses.
    if (!/\d/.test(address) || !isIPv6(address)) continue;
    if (/^::1?$/.test(address) || /^(?:0{1,4}:){7}0{0,3}1$/.test(address)) continue;
    ZONE.lastIndex = end;
    const zone = ZONE.exec(text);
    const value = zone === null ? address : address + zone[0];
    out.push({ kind: "ip_address", value, start, end: start + value.length, rule: "ipv6", level: "private" });
  }
  return resolveOverlaps(out);
}
