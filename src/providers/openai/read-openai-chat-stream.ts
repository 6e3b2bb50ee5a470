import type { EventSourceMessage } from "eventsource-parser";
import {
  expandBatches,
  GatewayError,
  makeId,
  type StreamEvent,
  type TokenLogprob,
  type Usage,
  untranslatedParts,
} from "../../core/index.js";
import { HeldFrames, sseFrame } from "../http/index.js";
import { mapOpenAIFinishReason } from "./map-openai-finish-reason.js";
import { mapOpenAILogprobs } from "./map-openai-logprobs.js";
import { asOpenAIChatChunk, type OpenAIChatChunk, type OpenAIToolCallPiece, openAIErrorObjectSchema } from "./openai-chat-api.js";
import { gatewayErrorFromOpenAIError } from "./openai-error-body.js";

/** A call's `index` as the server streams it, or tandem's own for a server that sends none or repeats one (see callKey). */
type CallKey = number | string;

interface ToolCallState {
  /** The canonical index this call was given (0, 1, ... in the order calls appear). */
  index: number;
  id: string | undefined;
  name: string;
  /** pending: no name yet; open: start sent; ended: end sent. */
  phase: "pending" | "open" | "ended";
  /** Argument text that arrived before the call's name (some servers send them in that order). */
  pending: string;
  /** Some argument text was passed on (a server may send none for a tool without parameters). */
  sent?: boolean;
  /**
   * A custom tool's call: its free-form input reads as the arguments `{"input": "..."}` (as the
   * dialect reads one in the history), each piece escaped as it comes and the object closed at the end.
   */
  custom?: boolean;
}

/**
 * An OpenAI-compatible SSE stream (batches of events, as readSseBatches gives them) -> canonical
 * events: `start` on the first chunk, reasoning deltas (`reasoning_content`, or OpenRouter's
 * `reasoning`), text deltas, tool calls (OpenAI streams them by index: id and
 * name in the first piece, argument text after; every call ends when the choice finishes), usage
 * from the usage chunk (`include_usage`) or wherever a server puts it, and `finish` once the stream
 * is complete, with the stop sequence that ended it where the server names it (vLLM's `stop_reason`).
 *
 * The end marker is `data: [DONE]`. Some compatible servers omit it but send a finish_reason and
 * close; that counts as complete, and so does a stream whose connection breaks after the
 * finish_reason (before the usage chunk or [DONE]). A stream that stops with neither, an error chunk, or a chunk that
 * is not JSON throws.
 */
export function readOpenAIChatStream(
  batches: AsyncIterable<EventSourceMessage[]>,
  target: string,
  options: {
    /**
     * Each SSE message also as a `frame` (the same-wire tap, see tap-openai-chat.ts), after the
     * events read from it; the one that carries the finish of choice 0 (the choice the canonical
     * events and the router's checks follow), and all after it but the other choices' own chunks
     * (`n` > 1: they flow as they come, their finishes too, but for a choice that came in a held
     * chunk: see passesHeld), held until the end.
     */
    frames?: boolean;
    /** The most the held frames may come to (limits.maxAnswerBytes). Default 32 MiB. */
    maxHeldBytes?: number | undefined;
  } = {},
): AsyncIterableIterator<StreamEvent> {
  const answer = new OpenAIAnswer(target);
  const frames = options.frames === true;
  const ending: Frame[] = [];
  /** The choices with a chunk held in `ending`: their later chunks stay behind it, in their order. */
  const heldChoices = new Set<number>();
  const held = new HeldFrames(target, options.maxHeldBytes);
  let done = false;
  return expandBatches<EventSourceMessage[], StreamEvent>(
    batches,
    (batch, out) => {
      for (const message of batch) {
        const data = message.data.trim();
        if (data === "") continue;
        if (data === "[DONE]") {
          done = true;
          if (frames) ending.push(sseFrame(message));
          return true;
        }
        const chunk = parseChunk(data, target);
        answer.chunk(chunk, out);
        if (!frames) continue;
        const frame = sseFrame(message, chunk);
        if (ending.length > 0 ? !passesHeld(chunk, heldChoices) : finishesFirstChoice(chunk)) {
          held.add(frame);
          ending.push(frame);
          for (const choice of chunk.choices ?? []) heldChoices.add(choiceIndex(choice));
        } else out.push(frame);
      }
      return undefined;
    },
    (out) => {
      answer.end(done, out);
      if (!frames) return;
      // An upstream that omits [DONE] (some compatible servers finish and close) gets one.
      if (!done) ending.push({ type: "frame", data: "[DONE]" });
      for (const frame of ending) out.push(frame);
    },
    // A connection reset after the finish (before the usage chunk or [DONE]) loses nothing of the
    // answer: it ends as a stream that omits [DONE] does, not as a broken one.
    () => answer.finished,
  );
}

type Frame = Extract<StreamEvent, { type: "frame" }>;

/** The index a chunk's choice has (a server that leaves it out sends one choice: 0). */
function choiceIndex(choice: { index?: number | null }): number {
  return choice.index ?? 0;
}

/** The chunk carries the finish of choice 0, the one the canonical events read. */
function finishesFirstChoice(chunk: OpenAIChatChunk): boolean {
  return chunk.choices?.some((choice) => choiceIndex(choice) === 0 && choice.finish_reason != null) === true;
}

/**
 * The chunk belongs to other choices than 0 only (with `n` > 1), none of which has a chunk held: it
 * passes choice 0's held finish, as it says nothing the router's checks read and each chunk names
 * its choice. A choice that came in the same chunk as choice 0's finish (a server may put several
 * choices in one chunk) is held from then on, so that its own chunks keep their order (its text
 * before its finish). A chunk without choices (the usage chunk) does not pass: it stays behind the
 * finish, as OpenAI sends it.
 */
function passesHeld(chunk: OpenAIChatChunk, heldChoices: ReadonlySet<number>): boolean {
  const choices = chunk.choices;
  return (
    choices != null &&
    choices.length > 0 &&
    choices.every((choice) => choiceIndex(choice) !== 0 && !heldChoices.has(choiceIndex(choice)))
  );
}

/**
 * A whole (non-streamed) `chat.completion` -> the same canonical events as its stream would give.
 * A completion reads as one chunk whose delta is the message: its tool calls carry no index and come
 * whole, in order, which the stream reader already handles.
 */
export function readOpenAIChatCompletion(json: unknown, target: string): StreamEvent[] {
  const completion = json as { choices?: unknown };
  throwIfError(json, undefined, target);
  const choices = Array.isArray(completion.choices)
    ? completion.choices.map((choice) => {
        const { message, ...rest } = (choice ?? {}) as { message?: unknown };
        return { ...rest, delta: message };
      })
    : completion.choices;
  const chunk = asOpenAIChatChunk({ ...(json as object), choices });
  if (!chunk) {
    const shown = JSON.stringify(json).slice(0, 200);
    throw new GatewayError("upstream_error", `${target}: the answer has an unexpected shape: ${shown}`, { target });
  }
  const answer = new OpenAIAnswer(target);
  const events: StreamEvent[] = [];
  answer.chunk(chunk, events);
  answer.end(true, events);
  return events;
}

/** What one OpenAI answer has said so far, chunk by chunk, as canonical events. */
class OpenAIAnswer {
  readonly #target: string;
  #started = false;
  #finishRaw: string | undefined;
  #sawFinish = false;
  /** The stop sequence that ended the answer, where the server says (vLLM's `choices[].stop_reason`). */
  #stopSequence: string | undefined;
  readonly #calls = new Map<CallKey, ToolCallState>();
  readonly #usage: Partial<Usage> = {};
  #sawUsage = false;
  /** Token logprobs that came in a chunk without text (a character split across tokens): they go with the next text. */
  #heldLogprobs: TokenLogprob[] | undefined;
  /** Names the parts of the answer the canonical events do not carry, each once. */
  readonly #untranslatedPart = untranslatedParts();

  constructor(target: string) {
    this.#target = target;
  }

  /** Choice 0's finish_reason came: the answer is complete, whatever follows it. */
  get finished(): boolean {
    return this.#sawFinish;
  }

  /** Adds the events one chunk carries to `out`. */
  chunk(chunk: OpenAIChatChunk, out: StreamEvent[]): void {
    if (!this.#started) {
      this.#started = true;
      out.push({ type: "start", ...(chunk.id != null && { id: chunk.id }), ...(chunk.model != null && { model: chunk.model }) });
    }
    for (const choice of chunk.choices ?? []) {
      if (choice.index != null && choice.index !== 0) continue;
      const delta = choice.delta;
      const reasoning = textOf(delta?.reasoning_content) || textOf(delta?.reasoning);
      if (reasoning) out.push({ type: "reasoning-delta", text: reasoning });
      const logprobs = choice.logprobs == null ? undefined : mapOpenAILogprobs(choice.logprobs);
      if (delta?.content) out.push(this.#text(delta.content, logprobs?.content));
      else if (logprobs?.content) this.#heldLogprobs = [...(this.#heldLogprobs ?? []), ...logprobs.content];
      // A refusal is what the model said: text, marked so that a dialect with a place for it puts it there.
      if (delta?.refusal)
        out.push({
          type: "text-delta",
          text: delta.refusal,
          refusal: true,
          ...(logprobs?.refusal && { logprobs: logprobs.refusal }),
        });
      // What only the same wire asks for: an audio answer's transcript is what the model said, and a
      // legacy `function_call` (the `functions` parameter) is its one call (else neither is read, and
      // the answer looks empty to the router's checks).
      const extra = delta as { audio?: unknown; function_call?: unknown; annotations?: unknown } | null | undefined;
      const transcript = stringField(extra?.audio, "transcript");
      if (transcript) out.push(this.#text(transcript, undefined));
      // A search model's url_citation annotations: the canonical events have no place for them.
      if (Array.isArray(extra?.annotations) && extra.annotations.length > 0) this.#untranslatedPart("annotations", out);
      if (isPlainObject(extra?.function_call)) {
        const fn = extra.function_call;
        const name = stringField(fn, "name");
        const args = stringField(fn, "arguments");
        toolCallPiece(
          this.#calls,
          { index: LEGACY_FUNCTION_CALL, function: { ...(name && { name }), ...(args && { arguments: args }) } },
          0,
          out,
        );
      }
      const pieces = delta?.tool_calls;
      if (pieces)
        for (let position = 0; position < pieces.length; position++)
          toolCallPiece(this.#calls, pieces[position] as OpenAIToolCallPiece, position, out);
      if (choice.finish_reason != null && !this.#sawFinish) {
        this.#sawFinish = true;
        this.#finishRaw = choice.finish_reason;
        // vLLM (and servers built like it) name the stop string that matched; OpenAI has no such field.
        const matched = (choice as { stop_reason?: unknown }).stop_reason;
        if (choice.finish_reason === "stop" && typeof matched === "string" && matched !== "") this.#stopSequence = matched;
        endToolCalls(this.#calls, out);
      }
    }
    if (chunk.usage != null) {
      this.#sawUsage = true;
      if (chunk.usage.prompt_tokens != null) this.#usage.inputTokens = chunk.usage.prompt_tokens;
      if (chunk.usage.completion_tokens != null) this.#usage.outputTokens = chunk.usage.completion_tokens;
      const cached = chunk.usage.prompt_tokens_details?.cached_tokens ?? chunk.usage.prompt_cache_hit_tokens;
      if (cached != null) this.#usage.cachedInputTokens = cached;
      const reasoning = chunk.usage.completion_tokens_details?.reasoning_tokens;
      if (reasoning) this.#usage.reasoningTokens = reasoning;
    }
  }

  /** A text-delta with its tokens' logprobs (and any held before them). */
  #text(text: string, logprobs: TokenLogprob[] | undefined): StreamEvent {
    const held = this.#heldLogprobs;
    this.#heldLogprobs = undefined;
    const all = held && logprobs ? [...held, ...logprobs] : (held ?? logprobs);
    return all ? { type: "text-delta", text, logprobs: all } : { type: "text-delta", text };
  }

  /** Adds the closing events to `out`, once the answer is over; `done`: the end marker came (or the answer was whole). */
  end(done: boolean, out: StreamEvent[]): void {
    if (!done && !this.#sawFinish) {
      throw new GatewayError(
        "upstream_error",
        `${this.#target}: the stream ended before it finished (no finish_reason, no [DONE])`,
        { target: this.#target },
      );
    }
    if (!this.#started) out.push({ type: "start" });
    // Tokens no text followed: still the answer's.
    if (this.#heldLogprobs) out.push(this.#text("", undefined));
    endToolCalls(this.#calls, out);
    if (this.#sawUsage) out.push({ type: "usage", usage: this.#usage });
    let reason = mapOpenAIFinishReason(this.#finishRaw);
    // Some servers (Ollama, older llama.cpp) finish a tool-calling turn with "stop".
    if (reason === "stop" && madeToolCalls(this.#calls)) reason = "tool_calls";
    out.push({
      type: "finish",
      reason,
      ...(this.#finishRaw !== undefined && { raw: this.#finishRaw }),
      ...(this.#stopSequence !== undefined && reason === "stop" && { stopSequence: this.#stopSequence }),
    });
  }
}

/** The key of a legacy `function_call` among an answer's calls: none of `tool_calls`' indices. */
const LEGACY_FUNCTION_CALL = -1;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `value[key]` when `value` is an object and that field a string. */
function stringField(value: unknown, key: string): string | undefined {
  return isPlainObject(value) && typeof value[key] === "string" ? value[key] : undefined;
}

function textOf(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** One chunk's JSON text, checked: an error chunk or one of unexpected shape throws. */
function parseChunk(data: string, target: string): OpenAIChatChunk {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    throw new GatewayError("upstream_error", `${target}: the stream carried a chunk that is not JSON: ${data.slice(0, 200)}`, {
      target,
    });
  }
  throwIfError(json, data, target);
  const chunk = asOpenAIChatChunk(json);
  if (!chunk) {
    throw new GatewayError("upstream_error", `${target}: the stream carried a chunk of unexpected shape: ${data.slice(0, 200)}`, {
      target,
    });
  }
  return chunk;
}

/** An answer (a chunk or a whole body) that is an error object instead throws that error. */
function throwIfError(json: unknown, data: string | undefined, target: string): void {
  if (typeof json !== "object" || json === null || !("error" in json)) return;
  const error = openAIErrorObjectSchema.safeParse((json as { error: unknown }).error);
  if (error.success) throw gatewayErrorFromOpenAIError(error.data, target);
  const text =
    typeof (json as { error: unknown }).error === "string"
      ? String((json as { error: unknown }).error)
      : (data ?? JSON.stringify(json));
  throw new GatewayError("upstream_error", `${target}: ${text.slice(0, 500)}`, { target });
}

function toolCallPiece(
  calls: Map<CallKey, ToolCallState>,
  piece: OpenAIToolCallPiece,
  position: number,
  out: StreamEvent[],
): void {
  const key = callKey(calls, piece, position);
  let call = calls.get(key);
  if (!call) {
    call = { index: calls.size, id: undefined, name: "", phase: "pending", pending: "" };
    calls.set(key, call);
  }
  if (call.phase === "ended") return;
  if (piece.id && call.id === undefined) call.id = piece.id;
  if (piece.custom != null) call.custom = true;
  const name = piece.function?.name ?? piece.custom?.name;
  if (call.phase === "pending" && name) call.name = name;
  if (call.phase === "pending" && call.name) {
    call.phase = "open";
    out.push({ type: "tool-call-start", index: call.index, id: call.id ?? makeId("call_"), name: call.name });
    const opening = call.custom ? `{"input":"${call.pending}` : call.pending;
    if (opening) {
      out.push({ type: "tool-call-delta", index: call.index, argumentsDelta: opening });
      call.sent = true;
    }
    call.pending = "";
  }
  const input = piece.custom?.input;
  const args = input ? JSON.stringify(input).slice(1, -1) : (piece.function?.arguments ?? "");
  if (!args) return;
  if (call.phase === "open") {
    out.push({ type: "tool-call-delta", index: call.index, argumentsDelta: args });
    call.sent = true;
  } else call.pending += args;
}

/**
 * Which call a piece belongs to: the one of its `index`, as OpenAI streams them. Some servers stream
 * every parallel call at the same index (Ollama's /v1 gives each `index: 0`; proxies in front of
 * Gemini do too), each starting with its own `id`: a piece whose `id` is not its index's call's starts
 * the next call there, and the pieces after it continue that one (else two calls' arguments would be
 * joined into one that is no JSON). Servers that omit `index` (Gemini's OpenAI-compatible endpoint,
 * mistral.rs) are read by what else they send: an `id` names its call, so a new one is a new call (two
 * calls streamed one after the other are not one); a piece without one continues the last such call,
 * unless it names a function while that call already has a name, or it is not the first of its chunk
 * (a whole completion's calls, each whole, in order).
 */
function callKey(calls: Map<CallKey, ToolCallState>, piece: OpenAIToolCallPiece, position: number): CallKey {
  if (piece.index != null) {
    const newest = newestAt(calls, piece.index);
    const id = newest === undefined ? undefined : calls.get(newest)?.id;
    if (piece.id && id !== undefined && id !== piece.id) return `${piece.index}#${calls.size}`;
    return newest ?? piece.index;
  }
  const fresh = `${UNINDEXED}${calls.size}`;
  if (piece.id != null) return keyOfId(calls, piece.id) ?? fresh;
  const last = [...calls.keys()].filter((key) => typeof key === "string" && key.startsWith(UNINDEXED)).at(-1);
  const named = (piece.function?.name ?? piece.custom?.name) && calls.get(last ?? "")?.name;
  return last === undefined || position > 0 || named ? fresh : last;
}

/** The key of tandem's own for a call of a server that streams no index. */
const UNINDEXED = "unindexed:";

/** The key of the latest call streamed at `index` (its own index, or `<index>#<n>` for a later one there). */
function newestAt(calls: Map<CallKey, ToolCallState>, index: number): CallKey | undefined {
  let newest: CallKey | undefined;
  for (const key of calls.keys()) if (key === index || (typeof key === "string" && key.startsWith(`${index}#`))) newest = key;
  return newest;
}

function keyOfId(calls: Map<CallKey, ToolCallState>, id: string): CallKey | undefined {
  for (const [key, call] of calls) if (call.id === id) return key;
  return undefined;
}

function endToolCalls(calls: Map<CallKey, ToolCallState>, out: StreamEvent[]): void {
  for (const call of calls.values()) {
    if (call.phase !== "open") continue;
    call.phase = "ended";
    if (call.custom) out.push({ type: "tool-call-delta", index: call.index, argumentsDelta: '"}' });
    // No arguments at all (some servers' call of a tool without parameters): `{}`, as OpenAI sends
    // it, since every client parses them as JSON.
    else if (!call.sent) out.push({ type: "tool-call-delta", index: call.index, argumentsDelta: "{}" });
    out.push({ type: "tool-call-end", index: call.index });
  }
}

function madeToolCalls(calls: Map<CallKey, ToolCallState>): boolean {
  for (const call of calls.values()) if (call.phase !== "pending") return true;
  return false;
}
