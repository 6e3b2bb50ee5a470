import { DetectionMemo } from "./detection-memo.js";
import {
  type CompiledRule,
  type CustomPattern,
  compileKeywords,
  compilePattern,
  detectWithRule,
  type KeywordList,
} from "./detectors/custom.js";
import { detectEmails } from "./detectors/email.js";
import { detectHighEntropyTokens } from "./detectors/high-entropy.js";
import { detectIbans } from "./detectors/iban.js";
import { detectIpAddresses } from "./detectors/ip-address.js";
import { detectPaymentCards } from "./detectors/payment-card.js";
import { detectPhoneNumbers } from "./detectors/phone.js";
import { detectSecrets, isCredentialAssignment } from "./detectors/secret.js";
import { detectSsns } from "./detectors/ssn.js";
import { type BuiltinKind, type Finding, resolveOverlaps } from "./finding.js";
import { type DecodedJsonString, decodeJsonString, forEachJsonSegment, isMemberKey, rawOffset } from "./json-text.js";

/** What to look for besides the built-in detectors. Usually the `privacy` section of the config. */
export interface DetectionOptions {
  /** User-defined regexes (compiled with the `u` flag), each reporting its own kind. Default none. */
  patterns?: readonly CustomPattern[];
  /** Keyword lists, matched case-insensitively as whole words. Default none. */
  keywords?: readonly KeywordList[];
  /**
   * Whether an image makes a request private. Its content cannot be inspected here (a data URL's
   * media type is metadata, not personal data), so by default an image is assumed to be private.
   * Default true.
   */
  imagesArePrivate?: boolean;
  /** Built-in kinds not to look for, e.g. `["ip_address"]` for a team that pastes logs. Default none. */
  disabled?: readonly BuiltinKind[];
}

type BuiltinDetector = (text: string) => Finding[];

/**
 * The built-in detectors, most specific first: when two findings start at the same place and
 * are as long, the earlier one in this list is kept.
 */
const BUILTIN: readonly (readonly [BuiltinKind, BuiltinDetector])[] = [
  ["secret", detectSecrets],
  ["payment_card", detectPaymentCards],
  ["iban", detectIbans],
  ["ssn", detectSsns],
  ["email", detectEmails],
  ["phone", detectPhoneNumbers],
  ["ip_address", detectIpAddresses],
  ["token", detectHighEntropyTokens],
];

/**
 * All detectors for one set of options, compiled once. `detect` is pure and synchronous, linear
 * in the length of the text for the built-in detectors (user patterns are the user's to keep so).
 */
export class SensitiveDataDetector {
  readonly imagesArePrivate: boolean;
  readonly #builtin: readonly BuiltinDetector[];
  /** The built-in detectors an identifier is read by: all but the high-entropy one (see detectIdentifier). */
  readonly #forIdentifiers: readonly BuiltinDetector[];
  readonly #custom: readonly CompiledRule[];
  readonly #assignments: boolean;
  readonly #memo = new DetectionMemo();

  /** Throws PrivacyConfigError (with the path of the bad field) for an unusable pattern or name. */
  constructor(options: DetectionOptions = {}) {
    const disabled = new Set(options.disabled ?? []);
    const builtin = BUILTIN.filter(([kind]) => !disabled.has(kind));
    this.#builtin = builtin.map(([, detect]) => detect);
    this.#forIdentifiers = builtin.filter(([kind]) => kind !== "token").map(([, detect]) => detect);
    const custom: CompiledRule[] = (options.patterns ?? []).map((p, i) => compilePattern(p, i));
    (options.keywords ?? []).forEach((list, i) => {
      const rule = compileKeywords(list, i);
      if (rule !== undefined) custom.push(rule);
    });
    this.#custom = custom;
    this.imagesArePrivate = options.imagesArePrivate !== false;
    this.#assignments = !disabled.has("secret");
  }

  /**
   * Non-overlapping findings in `text`, sorted by position. A long text scanned lately (an agent's
   * history, sent again with every turn) is answered from the memo (DetectionMemo).
   */
  detect(text: string): Finding[] {
    return this.#memo.find(text, "text", () => this.#detect(text));
  }

  /**
   * Findings in a JSON text (tool-call arguments, a JSON tool result), which may be invalid or
   * partial: see #detectInJson. Remembered as `detect`'s are.
   */
  detectInJson(json: string): Finding[] {
    return this.#memo.find(json, "json", () => this.#detectInJson(json));
  }

  /**
   * Findings in identifiers (tool call ids, item and file ids: see body-strings.ts), a few joined by
   * a separator no detector matches across, as classifyRequest reads them: every detector but the
   * high-entropy one, since a provider issues ids random by design (`call_Xq7pLm2Zr9Tk4Wn8Bv3Hs6Yd`
   * would read as a credential and make every tool-using request private). An address, a card number
   * or a known credential format in an id is found as in text, also where an underscore joins it to
   * the id's prefix (`call_4111111111111111`: the detectors want a word boundary, and `_` is a word
   * character), by a second look with underscores read as spaces; `value` is always the id's own
   * text. Not remembered: ids are short.
   */
  detectIdentifier(text: string): Finding[] {
    const found = this.#detect(text, this.#forIdentifiers);
    if (!text.includes("_")) return found;
    for (const f of this.#detect(text.replaceAll("_", " "), this.#forIdentifiers)) {
      // Same length: the offsets are the id's. A value that runs over an underscore keeps it.
      found.push({ ...f, value: text.slice(f.start, f.end) });
    }
    return resolveOverlaps(found);
  }

  #detect(text: string, builtin = this.#builtin): Finding[] {
    if (text.length === 0) return [];
    const all: Finding[] = [];
    // Custom rules go first: where a user's pattern and a built-in find the same span, the
    // user's name for it wins. High-entropy tokens stay last, as the least specific.
    // Loops, not push(...found): a spread of 100k+ findings would overflow the stack.
    for (const rule of this.#custom) for (const f of detectWithRule(rule, text)) all.push(f);
    for (const detect of builtin) for (const f of detect(text)) all.push(f);
    return resolveOverlaps(all);
  }

  /**
   * Findings in a JSON text (tool-call arguments, a JSON tool result), which may be invalid or
   * partial. String literals are scanned decoded, so escapes such as `\n` neither hide a value
   * nor join one to its neighbour; `value` is the decoded text and `start`/`end` are raw offsets
   * in `json`. Members whose key names a credential (`"password": "…"`) are findings too.
   *
   * The decoded literals and the text between them are scanned as one text, joined by a line
   * holding a NUL that no detector matches across: one pass instead of one per literal, which
   * matters for large tool results. A key thus gives its value context (`{"order": "555-…"}`).
   */
  #detectInJson(json: string): Finding[] {
    const all: Finding[] = [];
    // Per piece (a literal or the text between two): where it starts in the scanned text and in
    // `json`, its length, and for literals with escapes their decoding. Parallel arrays, not
    // objects: a large tool result has a hundred thousand pieces.
    const pieces: Pieces = { projected: [], start: [], length: [], escaped: new Map() };
    const texts: string[] = [];
    let projected = 0;
    let key: string | undefined;
    forEachJsonSegment(json, (type, start, end) => {
      let text: string;
      if (type === "raw") {
        text = json.slice(start, end);
      } else {
        const decoded = decodeJsonString(json.slice(start, end));
        text = decoded.value;
        if (decoded.offsets !== undefined) pieces.escaped.set(texts.length, decoded);
        // `"password": "…"`: the previous literal was this member's key.
        if (this.#assignments && key !== undefined && isCredentialAssignment(key, text)) {
          const at = (i: number) => start + (decoded.offsets === undefined ? i + 1 : rawOffset(decoded, i));
          all.push({
            kind: "secret",
            value: text,
            start: at(0),
            end: at(text.length),
            rule: "generic-assignment",
            level: "private",
          });
        }
        key = isMemberKey(json, end) ? text : undefined;
      }
      pieces.projected.push(projected);
      pieces.start.push(type === "raw" ? start : start + 1);
      pieces.length.push(text.length);
      texts.push(text);
      projected += text.length + PIECE_SEPARATOR.length;
    });
    for (const f of this.#detect(texts.join(PIECE_SEPARATOR))) {
      const piece = pieceAt(pieces.projected, f.start);
      const length = pieces.length[piece]!;
      const start = f.start - pieces.projected[piece]!;
      // A user pattern may run on past its piece: keep the part inside it.
      const end = Math.min(f.end - pieces.projected[piece]!, length);
      if (start >= length || end <= start) continue;
      const value = end - start === f.value.length ? f.value : f.value.slice(0, end - start);
      all.push({ ...f, value, start: rawOffsetIn(pieces, piece, start), end: rawOffsetIn(pieces, piece, end) });
    }
    return resolveOverlaps(all);
  }
}

/** The literals of a JSON text and the text between them, as placed in the text scanned for it. */
interface Pieces {
  /** Where each piece starts in the scanned text. */
  projected: number[];
  /** Where each piece's first character is in the JSON text (for a literal, after its quote). */
  start: number[];
  length: number[];
  /** The decoding of each literal that has escapes, by piece index. */
  escaped: Map<number, DecodedJsonString>;
}

/** Offset in the JSON text of character `i` of piece `index`. */
function rawOffsetIn(pieces: Pieces, index: number, i: number): number {
  const decoded = pieces.escaped.get(index);
  return decoded === undefined ? pieces.start[index]! + i : pieces.start[index]! - 1 + rawOffset(decoded, i);
}

/** Joins texts scanned as one (JSON literals, short strings of a request): a line holding a NUL, which no detector matches across. */
export const PIECE_SEPARATOR = "\n\u0000\n";

/** The index of the last piece starting at or before `position`. */
function pieceAt(projected: readonly number[], position: number): number {
  let lo = 0;
  let hi = projected.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (projected[mid]! <= position) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

const compiled = new WeakMap<DetectionOptions, SensitiveDataDetector>();
const DEFAULT_OPTIONS: DetectionOptions = {};

/** The detector for `options`, compiled on first use and cached for as long as the options object lives. */
export function detectorFor(options: DetectionOptions | SensitiveDataDetector = DEFAULT_OPTIONS): SensitiveDataDetector {
  if (options instanceof SensitiveDataDetector) return options;
  let detector = compiled.get(options);
  if (detector === undefined) {
    detector = new SensitiveDataDetector(options);
    compiled.set(options, detector);
  }
  return detector;
}

/** Sensitive data in one string: `detectSensitiveData("mail bob@example.com")`. */
export function detectSensitiveData(text: string, options?: DetectionOptions | SensitiveDataDetector): Finding[] {
  return detectorFor(options).detect(text);
}
