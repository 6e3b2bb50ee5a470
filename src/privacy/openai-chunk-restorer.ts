import type { StreamEvent } from "../core/stream.js";
import type { PlaceholderRestorer } from "./placeholder-restorer.js";

type Frame = Extract<StreamEvent, { type: "frame" }>;
type Json = Record<string, unknown>;

/** The fields of a streamed chat delta that carry generated text (reasoning as DeepSeek, vLLM and OpenRouter name it). */
const TEXT_FIELDS = ["content", "reasoning_content", "reasoning", "refusal"] as const;

/** The key of a legacy `function_call`'s arguments among a choice's calls: none of `tool_calls`' indices. */
const LEGACY_FUNCTION_CALL = -1;

export interface RestorerSource {
  createRestorer(mode: "text" | "json"): PlaceholderRestorer;
  rehydrateJson(json: string): string;
}

/**
 * Puts redacted values back into an OpenAI-compatible upstream's own `chat.completion.chunk`s (the
 * same-wire path). Each choice's streamed text fields and each tool call's argument text (a custom
 * tool call's input text, a legacy `function_call`'s arguments) go through their own restorer, so a placeholder split across chunks is
 * restored whole; a tail that could
 * still become one is held and sent as one more chunk before the choice's finish chunk (or when the
 * stream ends or continues elsewhere). Anything else in a chunk (logprobs, a whole tool call) has its
 * placeholders restored in place. A chunk nothing changed passes byte for byte.
 */
export class OpenAIChunkRestorer {
  readonly #source: RestorerSource;
  /** Open restorers by `choice:field` or `choice:tool:index`. */
  readonly #open = new Map<string, { choice: number; field: string; tool?: number; restorer: PlaceholderRestorer }>();
  /** The last chunk's fields besides its choices, for the chunks that carry held text. */
  #base: Json = {};

  constructor(source: RestorerSource) {
    this.#source = source;
  }

  push(frame: Frame, chunk: Json): Frame[] {
    const { choices, ...base } = chunk;
    this.#base = "usage" in base ? { ...base, usage: null } : base;
    let changed = false;
    const before: Frame[] = [];
    for (const choice of choices as Json[]) {
      if (typeof choice !== "object" || choice === null) continue;
      const index = typeof choice.index === "number" ? choice.index : 0;
      const delta = choice.delta as Json | null | undefined;
      if (delta && typeof delta === "object") {
        for (const field of TEXT_FIELDS) {
          const value = delta[field];
          if (typeof value !== "string" || value === "") continue;
          const out = this.#restorer(index, field, undefined).push(value);
          if (out !== value) {
            delta[field] = out;
            changed = true;
          }
        }
        if (Array.isArray(delta.tool_calls)) {
          for (const [position, call] of (delta.tool_calls as Json[]).entries()) {
            // A function's argument text (JSON), or a custom tool's input text (as the newest SDKs stream it).
            const fn = (call?.function ?? call?.custom) as Json | undefined;
            const field = call?.function != null ? "arguments" : "input";
            const args = fn?.[field];
            if (typeof args !== "string" || args === "") continue;
            const tool = typeof call.index === "number" ? call.index : position;
            const out = this.#restorer(index, field, tool).push(args);
            if (out !== args) {
              (fn as Json)[field] = out;
              changed = true;
            }
          }
        }
        // The deprecated functions API's one call (a request with `functions`): JSON arguments, as a tool call's.
        const legacy = delta.function_call as Json | null | undefined;
        const legacyArgs = legacy?.arguments;
        if (typeof legacyArgs === "string" && legacyArgs !== "") {
          const out = this.#restorer(index, "function_call", LEGACY_FUNCTION_CALL).push(legacyArgs);
          if (out !== legacyArgs) {
            (legacy as Json).arguments = out;
            changed = true;
          }
        }
      }
      if (choice.finish_reason != null) before.push(...this.#flush(index));
    }
    const data = changed ? JSON.stringify(chunk) : frame.data;
    const restored = this.#source.rehydrateJson(data);
    return [...before, restored === frame.data ? frame : { ...frame, data: restored }];
  }

  /** Every held tail, as chunks: the stream ends or continues elsewhere. */
  flush(): Frame[] {
    const choices = new Set([...this.#open.values()].map((open) => open.choice));
    return [...choices].flatMap((choice) => this.#flush(choice));
  }

  #restorer(choice: number, field: string, tool: number | undefined): PlaceholderRestorer {
    const key = tool === undefined ? `${choice}:${field}` : `${choice}:tool:${tool}`;
    let open = this.#open.get(key);
    if (open === undefined) {
      open = {
        choice,
        field,
        ...(tool !== undefined && { tool }),
        // A custom tool's input is text; a function's arguments are JSON.
        restorer: this.#source.createRestorer(tool === undefined || field === "input" ? "text" : "json"),
      };
      this.#open.set(key, open);
    }
    return open.restorer;
  }

  /** One chunk with what one choice's restorers still hold (none when they hold nothing). */
  #flush(choice: number): Frame[] {
    const delta: Json = {};
    const calls: Json[] = [];
    for (const [key, open] of this.#open) {
      if (open.choice !== choice) continue;
      this.#open.delete(key);
      const rest = open.restorer.flush();
      if (rest === "") continue;
      if (open.tool === undefined) delta[open.field] = rest;
      else if (open.field === "function_call") delta.function_call = { arguments: rest };
      else if (open.field === "input") calls.push({ index: open.tool, custom: { input: rest } });
      else calls.push({ index: open.tool, function: { arguments: rest } });
    }
    if (calls.length > 0) delta.tool_calls = calls;
    if (Object.keys(delta).length === 0) return [];
    const chunk = { ...this.#base, choices: [{ index: choice, delta, logprobs: null, finish_reason: null }] };
    return [{ type: "frame", data: JSON.stringify(chunk) }];
  }
}
