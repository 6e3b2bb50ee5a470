import { type Message, type NativeRequest, nativeHeaders, type StreamEvent, type WireOnly } from "../../core/index.js";
import { frameJson, withModelField } from "../shared/index.js";
import { ChatCompletionAssembler } from "./chat-completion-assembler.js";
import type { ChatCompletionStreamRenderer } from "./chat-completion-stream-renderer.js";

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
  // The deprecated functions API, carried as tools and a tool choice (legacy-functions.ts).
  "functions",
  "function_call",
  "response_format",
  "temperature",
  "top_p",
  "presence_penalty",
  "frequency_penalty",
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
  // Carried as ChatRequest.promptCacheKey and the like (a target without them names them, ChatProvider.unsent).
  "prompt_cache_key",
  "safety_identifier",
  "service_tier",
  "verbosity",
  // Kept by tandem itself (stored chat completions), whichever target answers.
  "store",
]);

/**
 * The client's own chat completions request (see core/native.ts), sent as it came to an
 * OpenAI-compatible target; for a target on another wire, what the rebuilt request leaves out
 * (`metadata`, `prediction`, `web_search_options`, unknown fields...) is
 * named in `x-tandem-warnings`.
 */
export function nativeOpenAIChatRequest(
  body: unknown,
  headers: Record<string, string | string[] | undefined>,
  parsed: { wireOnly: WireOnly[]; approximated: string[] } = { wireOnly: [], approximated: [] },
  /** The text as it came, if known (NativeRequest.text). */
  text?: string,
  /** The canonical messages, one for each of the body's `messages` in order (NativeRequest.keepingMessages). */
  messages?: readonly Message[],
): NativeRequest {
  const raw = body as Record<string, unknown>;
  return {
    wire: "openai-chat",
    body: raw,
    ...(text !== undefined && { text }),
    headers: nativeHeaders(headers, FORWARDED_HEADERS),
    lost: () => [...openAIChatLost(raw), ...parsed.approximated],
    ...(parsed.wireOnly.length > 0 && { wireOnly: parsed.wireOnly }),
    ...(messages !== undefined && { keepingMessages: (kept) => keepingMessages(raw, messages, kept) }),
  };
}

/**
 * The body with the messages whose canonical form is kept, as the client wrote them; undefined
 * unless every kept message is one of the body's (NativeRequest.keepingMessages).
 */
function keepingMessages(
  body: Record<string, unknown>,
  messages: readonly Message[],
  kept: ReadonlySet<Message>,
): Record<string, unknown> | undefined {
  const wire = body.messages;
  if (!Array.isArray(wire) || wire.length !== messages.length) return undefined;
  const keep = messages.map((m) => kept.has(m));
  if (keep.filter(Boolean).length !== kept.size) return undefined;
  return { ...body, messages: wire.filter((_, i) => keep[i]) };
}

/** What of a chat completions request the canonical form leaves out. */
export function openAIChatLost(body: Record<string, unknown>): string[] {
  const lost: string[] = [];
  // A stored completion keeps its metadata (tandem's own store, for list filters).
  const stored = body.store === true;
  for (const key of Object.keys(body)) {
    // Settings sent as null (many clients send every field) ask for nothing.
    if (!CARRIED.has(key) && body[key] !== null && body[key] !== undefined && !(stored && key === "metadata")) lost.push(key);
  }
  return lost;
}

/**
 * Writes an OpenAI-compatible target's own stream to an OpenAI client, chunk by chunk and byte for
 * byte, but for each chunk's `model` (the answering target's name, as the canonical rendering says
 * it). tandem asks the upstream for usage (`include_usage`); a client that did not ask for it does
 * not get the usage chunk, nor the `"usage": null` that asking puts on every other chunk (OpenAI
 * sends no `usage` field then, and the SDK's stream helper would copy the null into its
 * ChatCompletion, whose `usage` is never null). When the answer continues on another target (a mid-stream switch), the
 * canonical renderer goes on in the same stream: nothing is left open to close, as the upstream's
 * finish chunk is only ever passed on once its answer is complete; it goes on with the upstream's
 * chunk `id` and `created` and without a second role delta (every chunk of one stream has the same id).
 * (A server/respond.ts NativeStream, by shape: dialects do not import the server.)
 */
export class OpenAIChatNativeStream {
  readonly #model: string;
  readonly #includeUsage: boolean;
  /** The renderer that goes on after a switch. */
  readonly #renderer: Pick<ChatCompletionStreamRenderer, "continueChunks"> | undefined;
  /** The first chunk's id and created, once a chunk was read; whether a role delta was passed on. */
  #id: string | undefined;
  #created: number | undefined;
  #read = false;
  #roleSent = false;

  constructor(meta: Answered, includeUsage: boolean, renderer?: Pick<ChatCompletionStreamRenderer, "continueChunks">) {
    this.#model = JSON.stringify(meta.target);
    this.#includeUsage = includeUsage;
    this.#renderer = renderer;
  }

  frame(frame: Frame): string {
    let data = frame.data;
    if (data !== "[DONE]") {
      if (this.#renderer !== undefined && (!this.#read || !this.#roleSent)) this.#note(frame);
      if (!this.#includeUsage) {
        if (isUsageChunk(data)) return "";
        data = withoutNullUsage(frame, data);
      }
      data = withModelField(data, this.#model);
    }
    if (data.includes("\n")) data = data.replaceAll("\n", "\ndata: ");
    return frame.event === undefined ? `data: ${data}\n\n` : `event: ${frame.event}\ndata: ${data}\n\n`;
  }

  seam(): string {
    this.#renderer?.continueChunks({ id: this.#id, created: this.#created, roleSent: this.#roleSent });
    return "";
  }

  /** What the renderer must go on with, from the chunks passed on: the first one's id and created, a role delta. */
  #note(frame: Frame): void {
    let chunk: { id?: unknown; created?: unknown; choices?: unknown } | null;
    try {
      chunk = frameJson(frame) as typeof chunk;
    } catch {
      return;
    }
    if (chunk === null || typeof chunk !== "object" || "error" in chunk) return;
    if (!this.#read) {
      this.#read = true;
      if (typeof chunk.id === "string") this.#id = chunk.id;
      if (typeof chunk.created === "number") this.#created = chunk.created;
    }
    if (Array.isArray(chunk.choices))
      this.#roleSent ||= chunk.choices.some((c) => (c as { delta?: { role?: unknown } } | null)?.delta?.role != null);
  }
}

/** `"usage": null` as a chunk's own member (never inside a string, where every quote is escaped). */
const NULL_USAGE = /,\s*"usage"\s*:\s*null(?=\s*[,}])|(?<=[{,]\s*)"usage"\s*:\s*null\s*,/;

/** A chunk without the `"usage": null` member `include_usage` put on it, every other byte as it came. */
function withoutNullUsage(frame: Frame, data: string): string {
  if (!data.includes('"usage"')) return data;
  let chunk: unknown;
  try {
    chunk = frameJson(frame);
  } catch {
    return data;
  }
  if (typeof chunk !== "object" || chunk === null || (chunk as { usage?: unknown }).usage !== null) return data;
  const edited = data.replace(NULL_USAGE, "");
  try {
    const parsed = JSON.parse(edited) as Record<string, unknown>;
    if (!("usage" in parsed)) return edited;
  } catch {}
  // A member the pattern did not find where expected: the chunk rewritten without it.
  const { usage: _, ...rest } = chunk as Record<string, unknown>;
  return JSON.stringify(rest);
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

function assembleCompletion(frames: readonly Frame[]): Json | undefined {
  const assembler = new ChatCompletionAssembler();
  for (const frame of frames) {
    if (frame.whole) return undefined;
    if (frame.data === "[DONE]") continue;
    assembler.add(frameJson(frame) as Json);
  }
  return assembler.completion();
}
