import type { StreamEvent } from "../core/stream.js";
import type { RestorerSource } from "./openai-chunk-restorer.js";
import type { PlaceholderRestorer } from "./placeholder-restorer.js";

type Frame = Extract<StreamEvent, { type: "frame" }>;
type Json = Record<string, unknown>;

/** Streamed text fields: /api/chat's message content and thinking, /api/generate's response and thinking. */
const MESSAGE_FIELDS = ["content", "thinking"] as const;
const GENERATE_FIELDS = ["response", "thinking"] as const;

/**
 * Puts redacted values back into an Ollama upstream's own NDJSON lines (the same-wire path). Each
 * streamed text field goes through its own restorer, so a placeholder split across lines is restored
 * whole; a tail that could still become one is held and sent as one more line before the `done`
 * line (or when the stream ends or continues elsewhere). Tool calls (Ollama sends them whole) and
 * anything else have their placeholders restored in place. A line nothing changed passes as it came.
 */
export class OllamaLineRestorer {
  readonly #source: RestorerSource;
  readonly #open = new Map<string, PlaceholderRestorer>();
  /** The last line's model and time, and whether it was a chat line, for the lines that carry held text. */
  #base: Json = {};
  #chat = true;

  constructor(source: RestorerSource) {
    this.#source = source;
  }

  push(frame: Frame, line: Json): Frame[] {
    this.#chat = "message" in line;
    this.#base = { model: line.model, created_at: line.created_at };
    const before = line.done === true ? this.flush() : [];
    let changed = false;
    const message = line.message as Json | undefined;
    const holder = this.#chat ? message : line;
    if (holder && typeof holder === "object") {
      for (const field of this.#chat ? MESSAGE_FIELDS : GENERATE_FIELDS) {
        const value = holder[field];
        if (typeof value !== "string" || value === "") continue;
        let restorer = this.#open.get(field);
        if (restorer === undefined) {
          restorer = this.#source.createRestorer("text");
          this.#open.set(field, restorer);
        }
        // The done line's text is the last: nothing is held past it.
        const out = line.done === true ? restorer.push(value) + restorer.flush() : restorer.push(value);
        if (out !== value) {
          holder[field] = out;
          changed = true;
        }
      }
    }
    const data = changed ? JSON.stringify(line) : frame.data;
    const restored = this.#source.rehydrateJson(data);
    return [...before, restored === frame.data ? frame : { ...frame, data: restored }];
  }

  /** Every held tail, as one line: the stream is done, ends or continues elsewhere. */
  flush(): Frame[] {
    const held: Json = {};
    for (const [field, restorer] of this.#open) {
      const rest = restorer.flush();
      if (rest !== "") held[field] = rest;
    }
    this.#open.clear();
    if (Object.keys(held).length === 0) return [];
    const line = this.#chat
      ? { ...this.#base, message: { role: "assistant", content: "", ...held }, done: false }
      : { ...this.#base, response: "", ...held, done: false };
    return [{ type: "frame", data: JSON.stringify(line) }];
  }
}
