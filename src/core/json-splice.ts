/**
 * JSON text that must reach the other side as it was written, inside a body tandem serialises: a tool
 * call's arguments as the model wrote them. Parsed into a JavaScript object and serialised again,
 * they would change (an integer past 2^53 loses its last digits, `1.10` becomes `1.1`), and Node 20
 * has neither `JSON.rawJSON` nor a reviver that sees the source text. So the body is built with a
 * stand-in string where the text goes, serialised, and the stand-in replaced by the text.
 */
import { makeId } from "./ids.js";

/** A body that is JSON text already: written as it is, never serialised again. */
export class JsonText {
  readonly text: string;

  constructor(text: string) {
    this.text = text;
  }
}

/** The characters of a stand-in before its number: random for each body, so no text in it can forge one. */
const MARKER_PREFIX = "tandem-json-";

/**
 * The JSON texts spliced into one body. `hold` gives the stand-in to put where a text goes; `stringify`
 * serialises the body and puts every text in its stand-in's place. One per body; until a text is
 * held it costs nothing (no random marker is drawn), and a body without one is plain JSON.stringify.
 */
export class JsonSplice {
  #marker = "";
  readonly #texts: string[] = [];

  /**
   * The stand-in for `json`, one JSON value's text the caller has checked (JSON.parse takes it): it
   * is written where the stand-in stands, as it is, whitespace and digits and all.
   */
  hold(json: string): string {
    if (this.#marker === "") this.#marker = `${MARKER_PREFIX}${makeId("", 16)}-`;
    this.#texts.push(json);
    return `${this.#marker}${this.#texts.length - 1}`;
  }

  /** Whether any text is held (else `stringify` is JSON.stringify). */
  get empty(): boolean {
    return this.#texts.length === 0;
  }

  /** `value` as JSON text with every held text in its stand-in's place. */
  stringify(value: unknown): string {
    const text = JSON.stringify(value);
    if (this.#texts.length === 0) return text;
    // A stand-in is serialised as a string literal of its own characters (none needs escaping): each
    // piece after a cut starts with a stand-in's number and its closing quote.
    const pieces = text.split(`"${this.#marker}`);
    let out = pieces[0] as string;
    for (let i = 1; i < pieces.length; i++) {
      const piece = pieces[i] as string;
      const close = piece.indexOf('"');
      out += (this.#texts[Number(piece.slice(0, close))] as string) + piece.slice(close + 1);
    }
    return out;
  }

  /** `value` as a body of JSON text (see stringify). */
  body(value: unknown): JsonText {
    return new JsonText(this.stringify(value));
  }
}
