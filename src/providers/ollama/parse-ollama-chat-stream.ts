import {
  expandBatches,
  GatewayError,
  jsonTextsInArray,
  makeId,
  readTokenLogprobs,
  type StreamEvent,
  writtenObjectText,
} from "../../core/index.js";
import { type LineReaderOptions, readNdjsonBatches } from "../http/index.js";
import { mapOllamaDoneReason } from "./map-ollama-done-reason.js";
import { mapOllamaStreamError } from "./map-ollama-error.js";
import { ollamaChatChunkSchema } from "./ollama-api.js";

/**
 * Ollama's /api/chat NDJSON stream -> canonical events.
 *
 * `start` is yielded with the first good line (so a stream that fails at once fails before any
 * event, while the router can still switch target). A thinking model's `message.thinking` is
 * reasoning. Ollama sends tool calls whole, so each becomes
 * start, one delta with the JSON arguments, end; calls without an id (servers before 0.12.10) get
 * a synthesized `call_…` one. The arguments are the object's text as the line has it (see
 * OllamaAnswer.line). The final `done:true` line gives usage and the finish reason. An
 * `{"error": …}` line, a malformed line, or a body that ends before `done` all throw.
 */
export function parseOllamaChatStream(
  body: AsyncIterable<Buffer | string>,
  target: string,
  lines: LineReaderOptions = { target },
  /** `generate`: the stream is /api/generate's, whose lines carry `response` rather than `message`. */
  path: "chat" | "generate" = "chat",
): AsyncIterableIterator<StreamEvent> {
  const answer = new OllamaAnswer(target);
  const read = path === "generate" ? asOllamaChatLine : (value: unknown) => value;
  // A network read's lines become their events at once, served from one queue (expandBatches): an
  // event costs one resolved promise, not the microtasks of an async generator's yield.
  return expandBatches<string[], StreamEvent>(
    readNdjsonBatches(body, lines),
    (batch, out) => {
      for (const text of batch) {
        answer.line(read(JSON.parse(text)), out, text);
        if (answer.done) return true;
      }
      return undefined;
    },
    () => answer.end(),
  );
}

/** A /api/generate line read as the /api/chat line it would be, so one reader serves both. */
export function asOllamaChatLine(value: unknown): unknown {
  if (typeof value !== "object" || value === null || "message" in value) return value;
  const line = value as { response?: unknown };
  return typeof line.response === "string" ? { ...line, message: { role: "assistant", content: line.response } } : value;
}

/**
 * Parsed /api/chat lines -> canonical events (see parseOllamaChatStream), for a whole
 * (non-streamed) answer: one such line, the final `done:true` one with the whole message.
 */
export function parseOllamaChatLines(lines: Iterable<unknown>, target: string): StreamEvent[] {
  const answer = new OllamaAnswer(target);
  const out: StreamEvent[] = [];
  for (const line of lines) {
    answer.line(line, out);
    if (answer.done) return out;
  }
  answer.end();
  return out;
}

/** What one Ollama answer has said so far, line by line, as canonical events (also read by the same-wire tap). */
export class OllamaAnswer {
  readonly #target: string;
  #started = false;
  #callCount = 0;
  /** The `done:true` line came: the answer is complete. */
  done = false;

  constructor(target: string) {
    this.#target = target;
  }

  /**
   * Adds the events one parsed line carries to `out`. `text`: the line as it came, when known: a
   * call's arguments are then its object's text as written, not the object serialised again, which
   * would change what a JavaScript number cannot hold (`1234567890123456789`, `1.10`).
   */
  line(line: unknown, out: StreamEvent[], text?: string): void {
    const target = this.#target;
    const parsed = ollamaChatChunkSchema.safeParse(line);
    if (!parsed.success) {
      throw new GatewayError("upstream_error", `${target}: Ollama sent a stream line of an unexpected shape`, { target });
    }
    const chunk = parsed.data;
    if (chunk.error) throw mapOllamaStreamError(chunk.error, target);
    if (!this.#started) {
      this.#started = true;
      out.push(chunk.model ? { type: "start", model: chunk.model } : { type: "start" });
    }
    const thinking = chunk.message?.thinking;
    if (thinking) out.push({ type: "reasoning-delta", text: thinking });
    const content = chunk.message?.content;
    if (content) {
      // The line's tokens are its text's (a thinking line's are the reasoning's, which has no place for them).
      const logprobs = chunk.logprobs === undefined ? undefined : readTokenLogprobs(chunk.logprobs);
      out.push(logprobs ? { type: "text-delta", text: content, logprobs } : { type: "text-delta", text: content });
    }
    const calls = chunk.message?.tool_calls ?? [];
    // Looked up only for a line with calls: the other lines cost nothing more.
    const written = calls.length > 0 && text !== undefined ? argumentTexts(text) : undefined;
    calls.forEach((call, i) => {
      const index = this.#callCount++;
      const args = call.function.arguments;
      out.push({ type: "tool-call-start", index, id: call.id || makeId("call_"), name: call.function.name });
      out.push({ type: "tool-call-delta", index, argumentsDelta: argumentsText(args, written?.[i]) });
      out.push({ type: "tool-call-end", index });
    });
    if (chunk.done) {
      this.done = true;
      // Ollama leaves zero counts out (Go omitempty), so a missing count is 0.
      out.push({ type: "usage", usage: { inputTokens: chunk.prompt_eval_count ?? 0, outputTokens: chunk.eval_count ?? 0 } });
      const raw = chunk.done_reason ?? undefined;
      out.push({
        type: "finish",
        reason: mapOllamaDoneReason(raw, this.#callCount > 0),
        ...(raw ? { raw } : {}),
      });
    }
  }

  /** The lines ended: throws unless the answer was done. */
  end(): void {
    if (!this.done) {
      throw new GatewayError("upstream_error", `${this.#target}: the Ollama stream ended before it was done`, {
        target: this.#target,
      });
    }
  }
}

/**
 * A call's arguments as text: a string as it is, an object as the line wrote it (`written`, when
 * found and one object), else serialised.
 */
function argumentsText(args: Record<string, unknown> | string | null | undefined, written: string | undefined): string {
  if (args == null) return "{}";
  if (typeof args === "string") return args;
  const serialised = JSON.stringify(args);
  return writtenObjectText(written, serialised) ?? serialised;
}

/** The text of each tool call's `arguments` in an /api/chat line, in the calls' order. */
function argumentTexts(text: string): Array<string | undefined> | undefined {
  return jsonTextsInArray(text, ["message", "tool_calls"], ["function", "arguments"]);
}
