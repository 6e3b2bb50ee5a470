import { hash } from "node:crypto";
import type { Finding } from "./finding.js";

/** Texts shorter than this are scanned every time: hashing and remembering one costs about what its scan does. */
export const MEMO_MIN_CHARS = 256;
/** How many texts the memo remembers, the least recently used forgotten first. */
const MAX_TEXTS = 4096;
/** How many findings it holds in all; a text with more than a tenth of them is not remembered. */
const MAX_FINDINGS = 50_000;

/** A finding as remembered: its value only when it is not the text's own slice (a decoded JSON string). */
type Remembered = Omit<Finding, "value"> & { value?: string };

/**
 * What a detector found in the texts it scanned lately, by each text's SHA-256 (and how it was
 * scanned). Agent clients send a conversation's whole history with every turn, so without it each
 * turn would scan every earlier message again: about 4 ms for a 200 KB history on a small machine,
 * a few µs with it. It holds no text: a finding's value is sliced again from the text it is found
 * in; only a value that is not such a slice is kept, as a copy of its own (never a slice that would
 * keep a request body alive). A digest answers for its text only: a different text cannot match.
 */
export class DetectionMemo {
  readonly #texts = new Map<string, readonly Remembered[]>();
  #findings = 0;

  /**
   * What `scan` finds in `text` (scanned as `mode`): remembered from an earlier scan of the same text,
   * else scanned now and remembered. Short texts are always scanned. Fresh objects either way.
   */
  find(text: string, mode: "text" | "json", scan: () => Finding[]): Finding[] {
    const key = text.length < MEMO_MIN_CHARS ? undefined : digest(text, mode);
    if (key === undefined) return scan();
    const remembered = this.#texts.get(key);
    if (remembered !== undefined) {
      // Most recently used last, so the oldest is the first to go.
      this.#texts.delete(key);
      this.#texts.set(key, remembered);
      return remembered.map((f) => ({ ...f, value: f.value ?? text.slice(f.start, f.end) }));
    }
    const found = scan();
    if (found.length <= MAX_FINDINGS / 10) this.#remember(key, text, found);
    return found;
  }

  /** How many texts are remembered (for tests). */
  get size(): number {
    return this.#texts.size;
  }

  #remember(key: string, text: string, findings: readonly Finding[]): void {
    const remembered = findings.map(
      ({ value, ...rest }): Remembered =>
        value === text.slice(rest.start, rest.end) ? rest : { ...rest, value: ownCopy(value) },
    );
    this.#texts.set(key, remembered);
    this.#findings += remembered.length;
    while (this.#texts.size > MAX_TEXTS || this.#findings > MAX_FINDINGS) {
      this.#forget(this.#texts.keys().next().value as string);
    }
  }

  #forget(key: string): void {
    const remembered = this.#texts.get(key);
    if (remembered === undefined) return;
    this.#texts.delete(key);
    this.#findings -= remembered.length;
  }
}

/**
 * The key for `text` scanned as `mode`; undefined for a text with a lone surrogate, which UTF-8 (what
 * is hashed) cannot tell from another one: such a text is scanned every time.
 */
function digest(text: string, mode: "text" | "json"): string | undefined {
  if (!(text as string & { isWellFormed(): boolean }).isWellFormed()) return undefined;
  return `${mode}:${hash("sha256", text, "base64")}`;
}

/** A string with storage of its own: V8 may make a slice a view of the string it came from. */
function ownCopy(value: string): string {
  return Buffer.from(value, "utf16le").toString("utf16le");
}
