import type { FindingKind } from "./finding.js";

/*
 * Placeholders stand in for redacted values: `[EMAIL_1]`, `[CARD_2]`. They are plain ASCII that
 * models copy faithfully, and are matched back case-insensitively. When a request already
 * contains something of that shape (a user pasting redacted logs, say), a tagged style such as
 * `[EMAIL_1_R1]` is used instead, so rehydration can never turn the user's own text into a value.
 */

const LABELS: Readonly<Record<string, string>> = {
  email: "EMAIL",
  phone: "PHONE",
  payment_card: "CARD",
  iban: "IBAN",
  ssn: "SSN",
  ip_address: "IP",
  secret: "SECRET",
  token: "TOKEN",
};

/** The label a kind's placeholders carry: `payment_card` -> `CARD`, custom `employee-id` -> `EMPLOYEE_ID`. */
export function placeholderLabel(kind: FindingKind): string {
  const builtin = LABELS[kind];
  if (builtin !== undefined) return builtin;
  const label = kind
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, 24);
  return /^[A-Z]/.test(label) ? label : `X_${label}`;
}

export class PlaceholderStyle {
  /** Matches anything of this style's shape, issued by us or not. */
  readonly #shape: RegExp;

  constructor(readonly suffix: string) {
    this.#shape = new RegExp(`\\[[A-Za-z][A-Za-z0-9_]*_\\d+${suffix}\\]`, "i");
  }

  format(label: string, n: number): string {
    return `[${label}_${n}${this.suffix}]`;
  }

  occursIn(text: string): boolean {
    return text.includes("[") && this.#shape.test(text);
  }
}

/** The first style (`[EMAIL_1]`, then `[EMAIL_1_R1]`, `[EMAIL_1_R2]`...) whose shape occurs in none of `texts`. */
export function choosePlaceholderStyle(texts: Iterable<string>): PlaceholderStyle {
  const bracketed = [...texts].filter((t) => t.includes("["));
  for (let n = 0; ; n++) {
    const style = new PlaceholderStyle(n === 0 ? "" : `_R${n}`);
    if (!bracketed.some((t) => style.occursIn(t))) return style;
  }
}

/** ASCII-only upper case: placeholders are ASCII, and `ß`.toUpperCase() would change the length. */
export function asciiUpper(s: string): string {
  return s.replace(/[a-z]+/g, (m) => m.toUpperCase());
}

/** Issued placeholders and their values, looked up case-insensitively, and by proper prefix for streaming. */
export class PlaceholderTable {
  readonly #values = new Map<string, string>();
  /**
   * The placeholders in code unit order, sorted when first needed: a proper prefix is found by a
   * binary search. (A set of every prefix cost a dozen strings per placeholder: with 100,000 e-mails
   * redacted, a second of building and collecting them.)
   */
  #sorted: string[] | undefined;
  #lengths: number[] = [];
  #maxLength = 0;

  add(placeholder: string, value: string): void {
    const key = asciiUpper(placeholder);
    this.#values.set(key, value);
    this.#sorted = undefined;
    if (!this.#lengths.includes(key.length)) this.#lengths = [...this.#lengths, key.length].sort((a, b) => b - a);
    this.#maxLength = Math.max(this.#maxLength, key.length);
  }

  get size(): number {
    return this.#values.size;
  }

  /** The value of the placeholder starting at `text[index]`, and its length; undefined if none starts there. */
  matchAt(text: string, index: number): { value: string; length: number } | undefined {
    for (const length of this.#lengths) {
      if (index + length > text.length) continue;
      const value = this.#values.get(asciiUpper(text.slice(index, index + length)));
      if (value !== undefined) return { value, length };
    }
    return undefined;
  }

  /** Whether `text.slice(index)`, the end of the text so far, could still grow into a placeholder. */
  couldStartAt(text: string, index: number): boolean {
    if (index >= text.length || text.length - index >= this.#maxLength) return false;
    const tail = asciiUpper(text.slice(index));
    this.#sorted ??= [...this.#values.keys()].sort();
    const sorted = this.#sorted;
    // The first placeholder not below the tail; a longer one it begins comes right after it.
    let low = 0;
    let high = sorted.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (sorted[middle]! < tail) low = middle + 1;
      else high = middle;
    }
    if (sorted[low] === tail) low++;
    return low < sorted.length && sorted[low]!.startsWith(tail);
  }
}
