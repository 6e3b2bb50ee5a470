import {
  type FinishReason,
  type GatewayError,
  JsonSplice,
  type ResponseMeta,
  type StreamEvent,
  type Usage,
} from "../../core/index.js";
import { noteUncarriedPart, REDACTED_THINKING, type RequestRecord, type StreamRenderer } from "../shared/index.js";
import { argumentsJson, ollamaFinalFields } from "./ollama-final-fields.js";
import type { OllamaToolCallOut } from "./ollama-server-api.js";
import { ollamaLogprobs } from "./render-ollama-logprobs.js";

/** Which endpoint's chunks to write: /api/chat (`message`) or /api/generate (`response`). */
export type OllamaStreamKind = "chat" | "generate";

/** What the client asked to see of the answer, streamed or whole. */
export interface OllamaAnswerOptions {
  /** Not `think: false`: reasoning is written, as `thinking`. */
  think?: boolean;
  /** `logprobs: true`: each text line carries its tokens' logprobs (where the target reported them), as `logprobs`. */
  logprobs?: boolean;
}

interface PendingCall {
  id: string;
  name: string;
  arguments: string;
}

/**
 * Canonical events -> Ollama's NDJSON stream: one JSON object per line, `done:false` for content
 * and one final `done:true` object with the reason, durations and counts.
 *
 * Ollama sends each tool call whole, with its arguments as an object, so a call's argument deltas
 * are buffered until its `tool-call-end` and then written as one chunk, their text spliced in as
 * the model wrote it (see argumentsJson). /api/generate has no tool
 * calls, so there they are dropped. Asked for logprobs, a text line carries its tokens' as Ollama's
 * `logprobs` (tokens that came before their text on a line of their own, with empty text, as Ollama
 * sends them too); a refusal's tokens are not carried (the canonical answer keeps none).
 */
export class OllamaStreamRenderer implements StreamRenderer {
  readonly contentType = "application/x-ndjson";
  readonly #kind: OllamaStreamKind;
  readonly #meta: ResponseMeta;
  readonly #record: RequestRecord;
  readonly #calls = new Map<number, PendingCall>();
  readonly #usage: Usage = { inputTokens: 0, outputTokens: 0 };
  readonly #think: boolean;
  readonly #logprobs: boolean;
  #finished = false;
  /** How long the request waited for its model's load, from the start event. */
  #loadMs: number | undefined;

  constructor(kind: OllamaStreamKind, meta: ResponseMeta, record: RequestRecord, options: OllamaAnswerOptions = {}) {
    this.#kind = kind;
    this.#meta = meta;
    this.#record = record;
    this.#think = options.think === true;
    this.#logprobs = options.logprobs === true;
  }

  event(event: StreamEvent): string {
    switch (event.type) {
      case "start":
        if (event.loadMs !== undefined) this.#loadMs = event.loadMs;
        return "";
      case "text-delta":
        if (this.#logprobs && event.logprobs !== undefined && event.refusal !== true)
          return this.#line({ ...this.#content(event.text), logprobs: ollamaLogprobs(event.logprobs) });
        return event.text === "" ? "" : this.#line(this.#content(event.text));
      case "reasoning-delta":
        return event.text === "" || !this.#think ? "" : this.#line(this.#thinking(event.text));
      // Anthropic's redacted thinking has nothing readable and no field here: named in the final
      // chunk's warnings (where the client asked to see thinking), not dropped silently.
      case "reasoning-redacted":
        if (event.data !== "" && this.#think) noteUncarriedPart(this.#meta, REDACTED_THINKING);
        return "";
      case "tool-call-start":
        this.#calls.set(event.index, { id: event.id, name: event.name, arguments: "" });
        return "";
      case "tool-call-delta": {
        const call = this.#calls.get(event.index);
        if (call) call.arguments += event.argumentsDelta;
        return "";
      }
      case "tool-call-end":
        return this.#flushCalls([event.index]);
      case "usage":
        if (event.usage.inputTokens !== undefined) this.#usage.inputTokens = event.usage.inputTokens;
        if (event.usage.outputTokens !== undefined) this.#usage.outputTokens = event.usage.outputTokens;
        return "";
      case "finish":
        return this.#flushCalls([...this.#calls.keys()]) + this.#final(event.reason);
      default:
        return "";
    }
  }

  end(): string {
    if (this.#finished) return "";
    // The events ended without a finish: say so in-band rather than leave the client waiting for done.
    return this.#line({ error: "The answer ended before it was complete" });
  }

  error(error: GatewayError): string {
    return this.#line({ error: error.message });
  }

  #base(): Record<string, unknown> {
    return { model: this.#meta.target, created_at: new Date().toISOString() };
  }

  #content(text: string): Record<string, unknown> {
    if (this.#kind === "generate") return { ...this.#base(), response: text, done: false };
    return { ...this.#base(), message: { role: "assistant", content: text }, done: false };
  }

  #thinking(text: string): Record<string, unknown> {
    if (this.#kind === "generate") return { ...this.#base(), response: "", thinking: text, done: false };
    return { ...this.#base(), message: { role: "assistant", content: "", thinking: text }, done: false };
  }

  #flushCalls(indexes: number[]): string {
    const calls: OllamaToolCallOut[] = [];
    let splice: JsonSplice | undefined;
    for (const index of indexes.sort((a, b) => a - b)) {
      const call = this.#calls.get(index);
      if (!call) continue;
      this.#calls.delete(index);
      if (this.#kind === "generate") continue;
      splice ??= new JsonSplice();
      calls.push({ id: call.id, function: { index, name: call.name, arguments: splice.hold(argumentsJson(call.arguments)) } });
    }
    if (splice === undefined) return "";
    const line = { ...this.#base(), message: { role: "assistant", content: "", tool_calls: calls }, done: false };
    return `${splice.stringify(line)}\n`;
  }

  #final(reason: FinishReason): string {
    this.#finished = true;
    const head = this.#kind === "generate" ? { response: "" } : { message: { role: "assistant", content: "" } };
    return this.#line({
      ...this.#base(),
      ...head,
      ...ollamaFinalFields(reason, this.#usage, this.#meta, this.#record, this.#loadMs),
    });
  }

  #line(value: unknown): string {
    return JSON.stringify(value) + "\n";
  }
}
