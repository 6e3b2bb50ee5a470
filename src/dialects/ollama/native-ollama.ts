import {
  JsonSplice,
  jsonTextsInArray,
  type NativeRequest,
  type NativeWire,
  type StreamEvent,
  writtenObjectText,
} from "../../core/index.js";
import { frameJson, withModelField } from "../shared/index.js";

type Frame = Extract<StreamEvent, { type: "frame" }>;
/** What of the response meta (router/gateway.ts) this file reads: dialects do not import the router. */
type Answered = { target: string };
type Json = Record<string, unknown>;

/** The top-level fields the canonical form carries across wires; any other is named when it cannot cross. */
const CARRIED = new Set([
  "model",
  "messages",
  "prompt",
  // The embedded engine continues a raw prompt and fills in the middle; a target that cannot names
  // `raw` or is skipped for the suffix (core/request.ts CompletionPrompt).
  "suffix",
  "raw",
  "system",
  "tools",
  "format",
  "options",
  "stream",
  "keep_alive",
  "images",
  "think",
  "logprobs",
  "top_logprobs",
]);

/** The `options` the canonical form carries (see parse-ollama-sampling.ts). */
const CARRIED_OPTIONS = new Set([
  "temperature",
  "top_p",
  "top_k",
  "num_predict",
  "seed",
  "stop",
  "num_ctx",
  "presence_penalty",
  "frequency_penalty",
]);

/**
 * The client's own /api/chat or /api/generate request (see core/native.ts), sent as it came to an
 * Ollama target: `options` (every Modelfile option), `format`, `keep_alive`, `think`, `images`,
 * `tools`, `suffix`, `raw`, `template`, `context` and any field tandem does not know.
 */
export function nativeOllamaRequest(
  body: unknown,
  wire: Extract<NativeWire, "ollama-chat" | "ollama-generate">,
  /** The body's JSON text as it came, if known (NativeRequest.text). */
  text?: string,
): NativeRequest {
  const raw = body as Json;
  // `context` (of /api/generate) is an earlier exchange as the model's token ids: an Ollama target
  // reads that conversation back, and classification cannot read it, so it counts as an attachment does.
  const unread = Array.isArray(raw.context) && raw.context.length > 0 ? 1 : 0;
  return {
    wire,
    body: raw,
    ...(text !== undefined && { text }),
    headers: {},
    lost: () => ollamaLost(raw),
    ...(unread > 0 && { unread }),
  };
}

/** What of an Ollama request the canonical form leaves out, for `x-tandem-warnings`. */
export function ollamaLost(body: Json): string[] {
  const lost: string[] = [];
  for (const key of Object.keys(body)) {
    // `think: false` and null settings ask for nothing a target could miss.
    const value = body[key];
    if (!CARRIED.has(key) && value !== null && value !== undefined && value !== false) lost.push(key);
  }
  const options = body.options;
  if (typeof options === "object" && options !== null) {
    for (const key of Object.keys(options)) if (!CARRIED_OPTIONS.has(key)) lost.push(`options.${key}`);
  }
  return lost;
}

/**
 * Writes an Ollama target's own NDJSON lines to an Ollama client as they came, with the answering
 * target's name as each line's model (as the canonical rendering says it). When the answer continues
 * on another target (a mid-stream switch), the canonical renderer goes on: the upstream's `done`
 * line is only ever passed on once its answer is complete, so nothing is left to close.
 * (A server/respond.ts NativeStream, by shape: dialects do not import the server.)
 */
export class OllamaNativeStream {
  readonly #model: string;

  constructor(meta: Answered) {
    this.#model = JSON.stringify(meta.target);
  }

  frame(frame: Frame): string {
    return `${withModelField(frame.data, this.#model)}\n`;
  }

  seam(): string {
    return "";
  }
}

/**
 * The whole answer for a client that did not stream, from the target's own: its whole JSON, or its
 * stream's lines put together (text, thinking and logprobs concatenated, tool calls in order, the final line's
 * counts, durations, `done_reason` and `context`), with the answering target's name as its model.
 * A streamed call's arguments are written as their line had them, not parsed and serialised again
 * (which would change an integer past 2^53, or `1.10`): the answer is then JSON text already.
 * Undefined when the frames do not make an answer (the canonical rendering answers then).
 */
export function nativeOllamaAnswer(frames: readonly Frame[], meta: Answered): unknown {
  const last = frames.at(-1);
  let answer: Json | undefined;
  const splice = new JsonSplice();
  // Copied before the model is set: the parsed answer is the provider's, shared (see frameJson).
  if (last?.whole) answer = { ...(frameJson(last) as Json) };
  else answer = assembleAnswer(frames, splice);
  if (answer === undefined) return undefined;
  answer.model = meta.target;
  return splice.empty ? answer : splice.body(answer);
}

function assembleAnswer(frames: readonly Frame[], splice: JsonSplice): Json | undefined {
  let answer: Json | undefined;
  // The lists this answer owns (copied once from a line's, which are the provider's, read-only),
  // appended to in place: copying the whole list for every line is quadratic, seconds of the
  // server's one thread for a long answer with logprobs.
  const owned = new Set<unknown[]>();
  const append = (list: unknown, items: unknown[]): unknown[] => {
    if (Array.isArray(list) && owned.has(list)) {
      for (const item of items) list.push(item);
      return list;
    }
    const copy = [...(Array.isArray(list) ? list : []), ...items];
    owned.add(copy);
    return copy;
  };
  for (const frame of frames) {
    if (frame.whole) return undefined;
    const line = withWrittenArguments(frameJson(frame) as Json, frame.data, splice);
    if (answer === undefined) {
      answer = { ...line };
      if (typeof line.message === "object" && line.message !== null) answer.message = { ...(line.message as Json) };
      continue;
    }
    for (const key in line) {
      const value = line[key];
      if (key === "message" && typeof value === "object" && value !== null) {
        answer.message ??= {};
        mergeText(answer.message as Json, value as Json, append);
      } else if ((key === "response" || key === "thinking") && typeof value === "string" && typeof answer[key] === "string")
        answer[key] += value;
      // Each line's tokens' logprobs: a whole answer has them all, in order.
      else if (key === "logprobs" && Array.isArray(value)) answer.logprobs = append(answer.logprobs, value);
      else if (key !== "created_at" || line.done === true) answer[key] = value;
    }
  }
  return answer;
}

/**
 * The line, with each tool call's arguments object as a stand-in for its text in the line (`text`),
 * where the scan finds one and the object written out again would differ from it: a copy of what it
 * changes (the parsed line is the provider's, shared). A line without tool calls, or whose calls'
 * arguments serialise to their own text (most: Ollama writes compact JSON), is the line as it is.
 */
function withWrittenArguments(line: Json, text: string, splice: JsonSplice): Json {
  const message = line.message as Json | null | undefined;
  const calls = message?.tool_calls;
  if (!Array.isArray(calls) || calls.length === 0) return line;
  const written = jsonTextsInArray(text, ["message", "tool_calls"], ["function", "arguments"]);
  let changed = false;
  const held = calls.map((call: unknown, i) => {
    const fn = (call as { function?: unknown } | null)?.function as Json | null | undefined;
    const args = fn?.arguments;
    if (typeof args !== "object" || args === null || Array.isArray(args)) return call;
    const json = writtenObjectText(written?.[i], JSON.stringify(args));
    if (json === undefined) return call;
    changed = true;
    return { ...(call as Json), function: { ...fn, arguments: splice.hold(json) } };
  });
  return changed ? { ...line, message: { ...message, tool_calls: held } } : line;
}

/** A streamed message's pieces: text fields concatenated, tool calls appended, anything else the latest. */
function mergeText(message: Json, piece: Json, append: (list: unknown, items: unknown[]) => unknown[]): void {
  for (const key in piece) {
    const value = piece[key];
    if (key === "tool_calls" && Array.isArray(value)) message.tool_calls = append(message.tool_calls, value);
    else if (typeof value === "string" && typeof message[key] === "string" && key !== "role") message[key] += value;
    else if (value != null || !(key in message)) message[key] = value;
  }
}
