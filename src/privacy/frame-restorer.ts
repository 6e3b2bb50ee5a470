import type { StreamEvent } from "../core/stream.js";
import { OllamaLineRestorer } from "./ollama-line-restorer.js";
import { OpenAIChunkRestorer, type RestorerSource } from "./openai-chunk-restorer.js";
import type { PlaceholderRestorer } from "./placeholder-restorer.js";
import { rehydrateJsonFrame } from "./rehydrate-json-frame.js";
import { ResponsesEventRestorer } from "./responses-event-restorer.js";

type Frame = Extract<StreamEvent, { type: "frame" }>;

/** The fields of a streamed delta that carry generated text, and whether that text is JSON (tool input). */
const DELTA_FIELDS: Readonly<Record<string, { field: string; json: boolean }>> = {
  text_delta: { field: "text", json: false },
  thinking_delta: { field: "thinking", json: false },
  input_json_delta: { field: "partial_json", json: true },
};

/**
 * Puts redacted values back into an upstream's own frames (the same-wire path), so the client
 * reads its values, not placeholders. A whole answer's JSON, and any frame without streamed text,
 * has its placeholders restored in place (inside its string literals, escaped). Streamed text deltas
 * (Anthropic's text, thinking and tool-input deltas) go through one restorer per content block, as
 * the canonical stream's text does: a placeholder split across deltas is restored whole, the tail
 * that could still become one is held, and what is held is sent as one more delta before the block
 * stops (or before a switch to another target). Frames that are not JSON pass as they are.
 * OpenAI chat chunks (they have `choices`), Ollama lines (they have `done`) and Responses events
 * (their type starts `response.`) are restored by their own wire's restorer (openai-chunk-restorer.ts,
 * ollama-line-restorer.ts, responses-event-restorer.ts) in the same way.
 */
export class FrameRestorer {
  readonly #source: RestorerSource;
  /** Open restorers by content block index: the delta type that opened each (its field), and the restorer. */
  readonly #blocks = new Map<number, { type: string; restorer: PlaceholderRestorer }>();
  #openai: OpenAIChunkRestorer | undefined;
  #ollama: OllamaLineRestorer | undefined;
  #responses: ResponsesEventRestorer | undefined;

  constructor(source: RestorerSource) {
    this.#source = source;
  }

  /** The frames to pass on for one upstream frame (none while a delta's text is all held back). */
  push(upstreamFrame: Frame): Frame[] {
    // What the provider parsed is the frame before restoring: it is left behind, so no dialect reads it.
    const frame: Frame = upstreamFrame.json === undefined ? upstreamFrame : { ...upstreamFrame, json: undefined };
    if (frame.whole) return [{ ...frame, data: rehydrateJsonFrame(this.#source, frame.data) }];
    let data: { type?: unknown; index?: unknown; delta?: Record<string, unknown>; choices?: unknown; done?: unknown };
    try {
      data = JSON.parse(frame.data);
    } catch {
      return [frame];
    }
    if (typeof data !== "object" || data === null) return [frame];
    if (Array.isArray(data.choices)) {
      this.#openai ??= new OpenAIChunkRestorer(this.#source);
      return this.#openai.push(frame, data);
    }
    if (typeof data.done === "boolean") {
      this.#ollama ??= new OllamaLineRestorer(this.#source);
      return this.#ollama.push(frame, data as Record<string, unknown>);
    }
    if (typeof data.type === "string" && data.type.startsWith("response.")) {
      this.#responses ??= new ResponsesEventRestorer(this.#source);
      return this.#responses.push(frame, data as Record<string, unknown> & { type: string });
    }
    const index = typeof data.index === "number" ? data.index : undefined;
    if (data.type === "content_block_delta" && index !== undefined && data.delta) {
      const deltaType = String(data.delta.type);
      const spec = DELTA_FIELDS[deltaType];
      const value = spec && data.delta[spec.field];
      if (spec && typeof value === "string") {
        let block = this.#blocks.get(index);
        if (block === undefined || block.type !== deltaType) {
          const before = block === undefined ? [] : this.#flush(index);
          block = { type: deltaType, restorer: this.#source.createRestorer(spec.json ? "json" : "text") };
          this.#blocks.set(index, block);
          if (before.length > 0) return [...before, ...this.push(frame)];
        }
        const out = block.restorer.push(value);
        if (out === value) return [frame];
        if (out === "") return [];
        data.delta[spec.field] = out;
        return [{ ...frame, data: JSON.stringify(data) }];
      }
    }
    const before = data.type === "content_block_stop" && index !== undefined ? this.#flush(index) : [];
    const restored = this.#source.rehydrateJson(frame.data);
    return [...before, restored === frame.data ? frame : { ...frame, data: restored }];
  }

  /** Every held tail, as delta frames: the stream ends or continues elsewhere. */
  flush(): Frame[] {
    return [
      ...[...this.#blocks.keys()].flatMap((index) => this.#flush(index)),
      ...(this.#openai?.flush() ?? []),
      ...(this.#ollama?.flush() ?? []),
      ...(this.#responses?.flush() ?? []),
    ];
  }

  #flush(index: number): Frame[] {
    const block = this.#blocks.get(index);
    this.#blocks.delete(index);
    const rest = block?.restorer.flush() ?? "";
    if (block === undefined || rest === "") return [];
    const spec = DELTA_FIELDS[block.type]!;
    const data = { type: "content_block_delta", index, delta: { type: block.type, [spec.field]: rest } };
    return [{ type: "frame", event: "content_block_delta", data: JSON.stringify(data) }];
  }
}
