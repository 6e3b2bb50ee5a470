import { loadTokenCounter } from "../context/estimate-input-tokens.js";
import type { StreamEvent } from "../core/index.js";

/**
 * About how many output tokens an answer has given so far, whatever targets gave them: what a
 * continuation has left of the client's output limit is that limit less these (continuation.ts).
 * An upstream that broke off never said how many it wrote (its usage comes last), so they are
 * counted from what it sent: its text, refusal and reasoning deltas (reasoning counts towards the
 * limit on every wire, shown to the client or not). A delta is a token on some wires (OpenAI's,
 * Ollama's) but several on others (Anthropic's), so the count is the larger of the deltas and the
 * tokenizer's count of their text: the whole answer never goes past the limit by an upstream that
 * sends many tokens at once.
 */
export class TokensGiven {
  #deltas = 0;
  #text = "";
  #reasoning = "";

  /** Counts an event passed on to the client. */
  add(event: StreamEvent): void {
    if (event.type === "text-delta") {
      this.#deltas++;
      this.#text += event.text;
    } else if (event.type === "reasoning-delta") {
      this.#deltas++;
      this.#reasoning += event.text;
    }
  }

  /** Nothing given: the next target answers afresh. */
  clear(): void {
    this.#deltas = 0;
    this.#text = "";
    this.#reasoning = "";
  }

  /** The tokens given so far (counted only when a continuation needs them: the tokenizer is loaded then). */
  async count(): Promise<number> {
    const tokens = await loadTokenCounter();
    return Math.max(this.#deltas, tokens(this.#text) + tokens(this.#reasoning));
  }
}
