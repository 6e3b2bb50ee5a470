import type { StreamEvent } from "../core/stream.js";
import type { RestorerSource } from "./openai-chunk-restorer.js";
import type { PlaceholderRestorer } from "./placeholder-restorer.js";
import { rehydrateJsonFrame } from "./rehydrate-json-frame.js";

type Frame = Extract<StreamEvent, { type: "frame" }>;
type Json = Record<string, unknown>;

/**
 * The Responses API's streamed events whose `delta` is generated text (the openai SDK's
 * `ResponseStreamEvent` types), the event that ends each one's text, and whether that text is JSON.
 */
const DELTAS: Readonly<Record<string, { done: string; json: boolean }>> = {
  "response.output_text.delta": { done: "response.output_text.done", json: false },
  "response.refusal.delta": { done: "response.refusal.done", json: false },
  "response.reasoning_text.delta": { done: "response.reasoning_text.done", json: false },
  "response.reasoning_summary_text.delta": { done: "response.reasoning_summary_text.done", json: false },
  "response.function_call_arguments.delta": { done: "response.function_call_arguments.done", json: true },
  "response.custom_tool_call_input.delta": { done: "response.custom_tool_call_input.done", json: false },
};

/** What ends the whole response: anything still held goes out before it. */
const FINAL = new Set(["response.completed", "response.incomplete", "response.failed"]);

/** An open delta stream: its restorer, and its last event's fields but the text, for the event that carries what is held. */
interface Open {
  restorer: PlaceholderRestorer;
  base: Json;
}

/**
 * Puts redacted values back into a Responses upstream's own events (the same-wire path). Each
 * streamed text (a message's text or refusal, a reasoning text or summary, a tool call's input) goes
 * through its own restorer, keyed by its item and part, so a placeholder split across deltas is
 * restored whole. A tail that could still become one is held and sent as one more delta before the
 * event that ends that text (its `.done`, the item's `output_item.done`, the response's end), or
 * when the stream continues elsewhere. An event whose whole text is held is left out: the dialect
 * numbers the client's events afresh, so `sequence_number` stays gapless. Every other event (the
 * `.done` events' full text, items, the final Response) has its placeholders restored in place. An
 * event nothing changed passes byte for byte.
 */
export class ResponsesEventRestorer {
  readonly #source: RestorerSource;
  readonly #open = new Map<string, Open>();

  constructor(source: RestorerSource) {
    this.#source = source;
  }

  push(frame: Frame, event: Json & { type: string }): Frame[] {
    const delta = DELTAS[event.type];
    if (delta !== undefined && typeof event.delta === "string") {
      const key = keyOf(event.type, event);
      let open = this.#open.get(key);
      if (open === undefined) {
        open = { restorer: this.#source.createRestorer(delta.json ? "json" : "text"), base: {} };
        this.#open.set(key, open);
      }
      const { delta: text, sequence_number: _, obfuscation: __, ...base } = event;
      open.base = base;
      const out = open.restorer.push(text);
      if (out === text) return [frame];
      if (out === "") return [];
      return [{ ...frame, data: JSON.stringify({ ...event, delta: out }) }];
    }
    const before = this.#before(event);
    const restored = rehydrateJsonFrame(this.#source, frame.data, event);
    return [...before, restored === frame.data ? frame : { ...frame, data: restored }];
  }

  /** Every held tail, as delta events: the stream ends or continues elsewhere. */
  flush(): Frame[] {
    return [...this.#open.keys()].flatMap((key) => this.#flush(key));
  }

  /** The held tails that must go out before `event`: the text it ends, the item it closes, or all of them. */
  #before(event: Json & { type: string }): Frame[] {
    if (FINAL.has(event.type)) return this.flush();
    if (event.type === "response.output_item.done") {
      const prefix = `${String(event.output_index)}:`;
      return [...this.#open.keys()].filter((key) => key.startsWith(prefix)).flatMap((key) => this.#flush(key));
    }
    const deltaType = DONE_TO_DELTA.get(event.type);
    return deltaType === undefined ? [] : this.#flush(keyOf(deltaType, event));
  }

  #flush(key: string): Frame[] {
    const open = this.#open.get(key);
    this.#open.delete(key);
    const rest = open?.restorer.flush() ?? "";
    if (open === undefined || rest === "") return [];
    const type = String(open.base.type);
    return [{ type: "frame", event: type, data: JSON.stringify({ ...open.base, delta: rest, sequence_number: 0 }) }];
  }
}

const DONE_TO_DELTA = new Map(Object.entries(DELTAS).map(([deltaType, { done }]) => [done, deltaType]));

/** One delta stream's key: its item's place in the output, the part within it, and the kind of text. */
function keyOf(deltaType: string, event: Json): string {
  const part = event.content_index ?? event.summary_index ?? "";
  return `${String(event.output_index)}:${String(part)}:${deltaType}`;
}
