import { type NativeRequest, nativeHeaders, type StreamEvent, type WireOnly } from "../../core/index.js";
import { frameJson, withModelField } from "../shared/index.js";

type Frame = Extract<StreamEvent, { type: "frame" }>;
/** What of the response meta (router/gateway.ts) this file reads: dialects do not import the router. */
type Answered = { target: string };

/** The request headers an OpenAI-compatible target on the same wire is given as the client sent them. */
const FORWARDED_HEADERS = ["openai-beta"] as const;

/** The top-level fields the canonical form carries across; any other is named when it cannot cross. */
const CARRIED = new Set([
  "model",
  "messages",
  "tools",
  "tool_choice",
  "parallel_tool_calls",
  "response_format",
  "temperature",
  "top_p",
  "max_tokens",
  "max_completion_tokens",
  "stop",
  "seed",
  "user",
  "stream",
  "stream_options",
  "n",
  "reasoning_effort",
  "logprobs",
  "top_logprobs",
]);

/**
 * The client's own chat completions request (see core/native.ts), sent as it came to an
 * OpenAI-compatible target; for a target on another wire, what the rebuilt request leaves out
 * (`metadata`, `service_tier`, `prediction`, unknown fields...) is
 * named in `x-tandem-warnings`.
 */
export function nativeOpenAIChatRequest(
  body: unknown,
  headers: Record<string, string | string[] | undefined>,
  parsed: { wireOnly: WireOnly[]; approximated: string[] } = { wireOnly: [], approximated: [] },
): NativeRequest {
  const raw = body as Record<string, unknown>;
  return {
    wire: "openai-chat",
    body: raw,
    headers: nativeHeaders(headers, FORWARDED_HEADERS),
    lost: () => [...openAIChatLost(raw), ...parsed.approximated],
    ...(parsed.wireOnly.length > 0 && { wireOnly: parsed.wireOnly }),
  };
}

/** What of a chat completions request the canonical form leaves out. */
export function openAIChatLost(body: Record<string, unknown>): string[] {
  const lost: string[] = [];
  for (const key of Object.keys(body)) {
    // Settings sent as null (many clients send every field) ask for nothing.
    if (!CARRIED.has(key) && body[key] !== null && body[key] !== undefined) lost.push(key);
  }
  return lost;
}

/**
 * Writes an OpenAI-compatible target's own stream to an OpenAI client, chunk by chunk and byte for
 * byte, but for each chunk's `model` (the answering target's name, as the canonical rendering says
 * it). tandem asks the upstream for usage (`include_usage`); a client that did not ask for it does
 * not get the usage chunk. When the answer continues on another target (a mid-stream switch), the
 * canonical renderer goes on in the same stream: nothing is left open to close, as the upstream's
 * finish chunk is only ever passed on once its answer is complete.
 * (A server/respond.ts NativeStream, by shape: dialects do not import the server.)
 */
export class OpenAIChatNativeStream {
  readonly #model: string;
  readonly #includeUsage: boolean;

  constructor(meta: Answered, includeUsage: boolean) {
    this.#model = JSON.stringify(meta.target);
    this.#includeUsage = includeUsage;
  }

  frame(frame: Frame): string {
    let data = frame.data;
    if (data !== "[DONE]") {
      if (!this.#includeUsage && isUsageChunk(data)) return "";
      data = withModelField(data, this.#model);
    }
    if (data.includes("\n")) data = data.replaceAll("\n", "\ndata: ");
    return frame.event === undefined ? `data: ${data}\n\n` : `event: ${frame.event}\ndata: ${data}\n\n`;
  }

  seam(): string {
    return "";
  }
}

/** The usage chunk `include_usage` adds: no choices, only usage. */
function isUsageChunk(data: string): boolean {
  if (!data.includes('"usage"')) return false;
  try {
    const chunk = JSON.parse(data) as { choices?: unknown; usage?: unknown };
    return Array.isArray(chunk.choices) && chunk.choices.length === 0 && chunk.usage != null;
  } catch {
    return false;
  }
}

/**
 * The whole `chat.completion` for a client that did not stream, from the target's own answer: its
 * whole JSON, or its stream's chunks put together as OpenAI's SDKs do (every choice, its text,
 * refusal, reasoning and tool calls, logprobs, usage and every other field kept), with the answering
 * target's name as its model. Undefined when the frames do not make a completion (the canonical
 * rendering answers then).
 */
export function nativeOpenAIChatCompletion(frames: readonly Frame[], meta: Answered): unknown {
  const last = frames.at(-1);
  let completion: Record<string, unknown> | undefined;
  if (last?.whole) completion = { ...(frameJson(last) as Json) };
  else completion = assembleCompletion(frames);
  if (completion === undefined) return undefined;
  if ("model" in completion) completion.model = meta.target;
  return completion;
}

type Json = Record<string, unknown>;

/** A chunk's own fields that a completion does not take. */
const CHUNK_ONLY = new Set(["choices", "object", "obfuscation"]);

function assembleCompletion(frames: readonly Frame[]): Json | undefined {
  let completion: Json | undefined;
  // By the upstream's index, in maps: an index is the upstream's word, and an array indexed by an
  // absurd one (3e9) would be billions of holes to walk and serialise.
  const choices = new Map<number, Json>();
  const calls = new Map<number, Map<number, Json>>();
  for (const frame of frames) {
    if (frame.whole) return undefined;
    if (frame.data === "[DONE]") continue;
    const chunk = frameJson(frame) as Json;
    if (completion === undefined) {
      completion = {};
      for (const key in chunk) if (!CHUNK_ONLY.has(key)) completion[key] = chunk[key];
      completion.object = "chat.completion";
    } else {
      for (const key in chunk) if (!CHUNK_ONLY.has(key) && chunk[key] != null) completion[key] = chunk[key];
    }
    const pieces = chunk.choices;
    if (!Array.isArray(pieces)) continue;
    for (const piece of pieces as Json[]) {
      const index = typeof piece.index === "number" ? piece.index : 0;
      let choice = choices.get(index);
      if (choice === undefined) {
        choice = { index, message: { role: "assistant", content: null }, logprobs: null, finish_reason: null };
        choices.set(index, choice);
        calls.set(index, new Map());
      }
      if (piece.delta && typeof piece.delta === "object")
        mergeDelta(choice.message as Json, piece.delta as Json, calls.get(index) as Map<number, Json>);
      if (piece.finish_reason != null) choice.finish_reason = piece.finish_reason;
      if (piece.logprobs != null) choice.logprobs = mergeLogprobs(choice.logprobs as Json | null, piece.logprobs as Json);
      // A choice's other fields (vLLM's stop_reason, OpenRouter's native_finish_reason): the latest
      // value, as the SDKs take it; null only until one comes.
      for (const key in piece) {
        if (key === "delta" || key === "index" || key === "finish_reason" || key === "logprobs") continue;
        if (piece[key] != null || !(key in choice)) choice[key] = piece[key];
      }
    }
  }
  if (completion === undefined) return undefined;
  for (const [index, choice] of choices) {
    const message = choice.message as Json;
    if ("tool_calls" in message) message.tool_calls = byIndex(calls.get(index) as Map<number, Json>);
  }
  completion.choices = byIndex(choices);
  return completion;
}

/** What was kept by the upstream's index, in the index's order. */
function byIndex(items: Map<number, Json>): Json[] {
  return [...items.entries()].sort(([a], [b]) => a - b).map(([, item]) => item);
}

/** The fields of a streamed `audio` or `function_call` that come in pieces. */
const JOINED = new Set(["data", "transcript", "arguments"]);

/**
 * Text fields are concatenated, tool calls merged by index into `calls` (the message's `tool_calls`
 * is put in order from them at the end), anything else the latest value.
 */
function mergeDelta(message: Json, delta: Json, calls: Map<number, Json>): void {
  for (const key in delta) {
    const value = delta[key];
    if (key === "tool_calls" && Array.isArray(value)) {
      message.tool_calls ??= [];
      for (const [position, piece] of (value as Json[]).entries()) {
        const index = typeof piece.index === "number" ? piece.index : position;
        let call = calls.get(index);
        if (call === undefined) {
          // A custom tool's call streams its `custom` name and input as a function's streams `function`.
          const custom = piece.type === "custom" || piece.custom != null;
          call = custom
            ? { id: "", type: "custom", custom: { name: "", input: "" } }
            : { id: "", type: "function", function: { name: "", arguments: "" } };
          calls.set(index, call);
        }
        for (const [field, part] of Object.entries(piece)) {
          if (field === "index") continue;
          if ((field === "function" || field === "custom") && part && typeof part === "object") {
            call[field] ??= {};
            const fn = call[field] as Json;
            // The arguments (a custom tool's input) come in pieces; the name whole, and some servers
            // repeat it in every piece: the latest, as the SDKs take it.
            for (const [name, text] of Object.entries(part as Json)) {
              if (text == null) continue;
              const joined = (name === "arguments" || name === "input") && typeof fn[name] === "string";
              fn[name] = joined && typeof text === "string" ? fn[name] + text : text;
            }
          } else if (part != null) call[field] = part;
        }
      }
    } else if ((key === "audio" || key === "function_call") && value && typeof value === "object") {
      // Streamed in pieces as the SDKs join them: an audio answer's data and transcript, a legacy
      // call's arguments, each concatenated; its id, name and expiry the latest.
      message[key] ??= {};
      const into = message[key] as Json;
      for (const [field, part] of Object.entries(value as Json)) {
        if (part == null) continue;
        into[field] =
          JOINED.has(field) && typeof part === "string" && typeof into[field] === "string" ? into[field] + part : part;
      }
    } else if (typeof value === "string" && typeof message[key] === "string" && key !== "role") {
      message[key] += value;
    } else if (value != null || !(key in message)) {
      message[key] = value;
    }
  }
}

/** Logprobs of a stream: each list (`content`, `refusal`) concatenated. */
function mergeLogprobs(into: Json | null, piece: Json): Json {
  const out: Json = into ?? {};
  for (const [key, value] of Object.entries(piece)) {
    if (Array.isArray(value) && Array.isArray(out[key])) for (const item of value) (out[key] as unknown[]).push(item);
    // A list is copied: the pieces it came in are the provider's, read-only (see frameJson).
    else if (value != null || !(key in out)) out[key] = Array.isArray(value) ? [...value] : value;
  }
  return out;
}
