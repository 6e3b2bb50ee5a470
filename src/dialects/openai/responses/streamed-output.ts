import type { StateItem } from "../../../core/state.js";

type Json = Record<string, unknown>;

/** A part being streamed: a message's content part or a reasoning item's summary part. */
interface OpenPart {
  kind: "content" | "summary";
  index: number;
  /** The part as its `.added` event gave it. */
  part: Json;
  text: string;
  /** Its `output_text.done` (`refusal.done`, `reasoning_summary_text.done`) was streamed. */
  textDone: boolean;
}

/** An output item added and not yet done. */
interface OpenItem {
  item: Json;
  /** The parts done so far (a message's content, a reasoning item's summary), by index. */
  parts: Json[];
  part: OpenPart | undefined;
  /** A function call's arguments (a custom tool call's input) so far, and whether their `.done` was streamed. */
  arguments: string;
  argumentsDone: boolean;
}

/** One event to stream: its type and its fields (the stream numbers it). */
export interface ClosingEvent {
  type: string;
  data: Json;
}

/**
 * The output a Responses event stream has given its client so far, read from its events: the items
 * added (each as its last event showed it) and those still open with their text so far. A stream that
 * is stopped before its end (a background run cancelled, or cut off) closes its open items with
 * `close`, in the events OpenAI closes every item with, so that its last Response lists every item
 * the client was streamed, as ResponsesNativeStream.seam does for a target's own stream.
 */
export class StreamedOutput {
  readonly #output: Json[] = [];
  readonly #open = new Map<number, OpenItem>();
  readonly #outputLength: () => number;

  /** `outputLength`: how many items the output the events add to holds already (default: those seen here). */
  constructor(options: { outputLength?: () => number } = {}) {
    this.#outputLength = options.outputLength ?? (() => this.#output.length);
  }

  /** The items streamed so far, in output order (open ones as they were added, until `close`). */
  get output(): StateItem[] {
    return this.#output.filter((item) => item !== undefined) as StateItem[];
  }

  /** Reads one event of the stream (its JSON as the client is sent it). */
  see(event: Json): void {
    const index = typeof event.output_index === "number" ? event.output_index : undefined;
    const open = index === undefined ? undefined : this.#open.get(index);
    switch (event.type) {
      case "response.output_item.added":
      case "response.output_item.done": {
        const item = event.item;
        // Items are added in order: an index that is neither there nor the next is not one to keep.
        if (index === undefined || !Number.isInteger(index) || index < 0 || index > this.#outputLength()) return;
        if (item === null || typeof item !== "object") return;
        this.#output[index] = item as Json;
        if (event.type === "response.output_item.added") {
          this.#open.set(index, { item: item as Json, parts: [], part: undefined, arguments: "", argumentsDone: false });
        } else this.#open.delete(index);
        return;
      }
      case "response.content_part.added":
      case "response.reasoning_summary_part.added": {
        const kind = event.type === "response.content_part.added" ? "content" : "summary";
        const at = kind === "content" ? event.content_index : event.summary_index;
        if (open && typeof at === "number" && event.part && typeof event.part === "object") {
          open.part = { kind, index: at, part: event.part as Json, text: "", textDone: false };
        }
        return;
      }
      case "response.output_text.delta":
      case "response.refusal.delta":
      case "response.reasoning_summary_text.delta":
        if (open?.part && typeof event.delta === "string") open.part.text += event.delta;
        return;
      case "response.output_text.done":
      case "response.refusal.done":
      case "response.reasoning_summary_text.done":
        if (open?.part) open.part.textDone = true;
        return;
      case "response.content_part.done":
      case "response.reasoning_summary_part.done":
        if (open?.part && event.part && typeof event.part === "object") {
          open.parts[open.part.index] = event.part as Json;
          open.part = undefined;
        }
        return;
      case "response.function_call_arguments.delta":
      case "response.custom_tool_call_input.delta":
        if (open && typeof event.delta === "string") open.arguments += event.delta;
        return;
      case "response.function_call_arguments.done":
      case "response.custom_tool_call_input.done":
        if (open) open.argumentsDone = true;
        return;
    }
  }

  /**
   * Closes the items still open, as OpenAI closes every item: the open part's text `.done` and
   * `content_part.done` (a reasoning summary's `reasoning_summary_text.done` and
   * `reasoning_summary_part.done`; a call's `function_call_arguments.done`, a custom call's
   * `custom_tool_call_input.done`), then `output_item.done`, the item `incomplete` with what it got.
   * Answers those events, in order; the output then holds the closed items.
   */
  close(): ClosingEvent[] {
    const events: ClosingEvent[] = [];
    for (const [index, open] of [...this.#open].sort(([a], [b]) => a - b)) {
      const id = open.item.id;
      const part = open.part;
      if (part?.kind === "content") {
        const at = { item_id: id, output_index: index, content_index: part.index };
        const refusal = part.part.type === "refusal";
        const closed = refusal ? { ...part.part, refusal: part.text } : { ...part.part, text: part.text };
        if (!part.textDone) {
          events.push(
            refusal
              ? { type: "response.refusal.done", data: { ...at, refusal: part.text } }
              : { type: "response.output_text.done", data: { ...at, text: part.text, logprobs: [] } },
          );
        }
        events.push({ type: "response.content_part.done", data: { ...at, part: closed } });
        open.parts[part.index] = closed;
      } else if (part?.kind === "summary") {
        const at = { item_id: id, output_index: index, summary_index: part.index };
        const closed = { ...part.part, text: part.text };
        if (!part.textDone) events.push({ type: "response.reasoning_summary_text.done", data: { ...at, text: part.text } });
        events.push({ type: "response.reasoning_summary_part.done", data: { ...at, part: closed } });
        open.parts[part.index] = closed;
      }
      const parts = open.parts.filter((p) => p !== undefined);
      const item: Json = { ...open.item, status: "incomplete" };
      if (item.type === "message") item.content = parts;
      else if (item.type === "reasoning") item.summary = parts;
      else if (item.type === "function_call") {
        item.arguments = open.arguments;
        if (!open.argumentsDone) {
          events.push({
            type: "response.function_call_arguments.done",
            data: {
              item_id: id,
              output_index: index,
              ...(typeof item.name === "string" && { name: item.name }),
              arguments: open.arguments,
            },
          });
        }
      } else if (item.type === "custom_tool_call") {
        item.input = open.arguments;
        if (!open.argumentsDone) {
          events.push({
            type: "response.custom_tool_call_input.done",
            data: { item_id: id, output_index: index, input: open.arguments },
          });
        }
      }
      this.#output[index] = item;
      events.push({ type: "response.output_item.done", data: { output_index: index, item } });
    }
    this.#open.clear();
    return events;
  }
}
