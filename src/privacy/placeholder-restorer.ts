import { escapeJsonStringContent, JsonStringState } from "./json-text.js";
import type { PlaceholderTable } from "./placeholder.js";

/**
 * Puts values back in place of placeholders in text that arrives in pieces. Text is released as
 * soon as it cannot be part of a placeholder; only a tail that could still become one (`[EMA`)
 * is held, and it is released the moment it cannot (`[EMAX`) or at `flush`.
 *
 * In `json` mode (tool-call arguments) a value restored inside a JSON string is escaped, so a
 * value with quotes or backslashes keeps the JSON valid; one restored outside a string (the model
 * wrote a bare placeholder) becomes a complete JSON string.
 */
export class PlaceholderRestorer {
  #pending = "";
  readonly #json: JsonStringState | undefined;

  constructor(
    readonly table: PlaceholderTable,
    mode: "text" | "json" = "text",
  ) {
    this.#json = mode === "json" ? new JsonStringState() : undefined;
  }

  /** The restored text that can be released now. */
  push(chunk: string): string {
    const text = this.#pending + chunk;
    this.#pending = "";
    let out = "";
    let from = 0;
    while (from < text.length) {
      const open = text.indexOf("[", from);
      if (open === -1) {
        out += this.#raw(text.slice(from));
        break;
      }
      out += this.#raw(text.slice(from, open));
      const match = this.table.matchAt(text, open);
      if (match !== undefined) {
        out += this.#value(match.value);
        from = open + match.length;
        continue;
      }
      if (this.table.couldStartAt(text, open)) {
        this.#pending = text.slice(open);
        break;
      }
      out += this.#raw("[");
      from = open + 1;
    }
    return out;
  }

  /** Releases whatever is held: the stream (or this tool call) has ended. */
  flush(): string {
    const rest = this.#pending;
    this.#pending = "";
    return this.#raw(rest);
  }

  #raw(text: string): string {
    this.#json?.feed(text);
    return text;
  }

  #value(value: string): string {
    if (this.#json === undefined) return value;
    return this.#json.inString ? escapeJsonStringContent(value) : JSON.stringify(value);
  }
}
