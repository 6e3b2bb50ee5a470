import { headerSafe, warningsHeader } from "../../shared/index.js";

/**
 * What a Responses request asked for that tandem left out (an item or tool that cannot cross to the
 * canonical form), said once per kind with a count, for the `x-tandem-warnings` response header.
 */
export class ResponseWarnings {
  readonly #entries = new Map<string, { text: string; count: number }>();

  /** Notes one thing left out; the same `key` again only counts. */
  add(key: string, text: string): void {
    const entry = this.#entries.get(key);
    if (entry) entry.count++;
    else this.#entries.set(key, { text, count: 1 });
  }

  /** Takes back a note that a more exact one replaces. */
  remove(key: string): void {
    this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The header value: entries joined by `; `, each with its count when above one (bounded: warningsHeader). */
  header(): string | undefined {
    if (this.#entries.size === 0) return undefined;
    return warningsHeader(this.entries());
  }

  /** Each entry as the header says it. */
  entries(): string[] {
    return [...this.#entries.values()].map((e) => headerSafe(e.count > 1 ? `${e.text} (x${e.count})` : e.text));
  }
}
