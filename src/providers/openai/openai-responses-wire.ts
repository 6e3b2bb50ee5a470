import type { EventSourceMessage } from "eventsource-parser";
import {
  expandBatches,
  type FinishReason,
  GatewayError,
  type NativeRequest,
  readTokenLogprobs,
  type StreamEvent,
  type Usage,
  untranslatedParts,
} from "../../core/index.js";
import { HeldFrames, sseFrame } from "../http/index.js";
import type { OpenAIErrorObjectWire } from "./openai-chat-api.js";
import { gatewayErrorFromOpenAIError } from "./openai-error-body.js";

/**
 * OpenAI's Responses API as an upstream wire (same-wire pass-through for tandem's /v1/responses):
 * the body the upstream is sent, and its answer read as canonical events with every upstream event
 * tapped as a `frame` (after the canonical events read from it), so the router's checks run on the
 * canonical events and the client gets the upstream's own events.
 */

/**
 * The client's Responses body as the dialect prepared it (history inlined, `store: false`), with the
 * upstream's model id, and `stream` as the router chose (a client that does not stream may get one
 * whole answer).
 */
export function responsesUpstreamBody(
  native: NativeRequest,
  target: string,
  upstreamModel: string,
  whole: boolean,
): Record<string, unknown> {
  const body = native.bodyFor ? native.bodyFor(native.body, target) : native.body;
  return { ...body, model: upstreamModel, stream: !whole };
}

type Json = Record<string, unknown>;

/** Where the answer is: function calls by item id, in the order the upstream opened them. */
interface CallState {
  index: number;
  sawDelta: boolean;
}

/**
 * The Responses event stream (SSE batches) -> canonical events and frames. Text deltas (and refusal
 * deltas) are text; function call items are tool calls (their index is their order among the calls);
 * reasoning summary and reasoning text deltas are reasoning. `response.completed` and
 * `response.incomplete` give the usage and the finish, and their frame follows the finish (the
 * client reads the end only after the router's checks on it passed). The lifecycle events before
 * the first output item (`response.created`, `.in_progress`, `.queued`) are held until it comes, so
 * an upstream that fails or stalls before it answers fails over before the client got a byte (the
 * router's first-token limit runs until real output). `error` and `response.failed` throw the
 * matching GatewayError; a stream that ends without a final event throws upstream_error.
 */
export function parseResponsesStream(
  batches: AsyncIterable<EventSourceMessage[]> | Iterable<EventSourceMessage[]>,
  target: string,
  /** The most the held lifecycle events may come to (limits.maxAnswerBytes). Default 32 MiB. */
  maxHeldBytes?: number,
): AsyncIterableIterator<StreamEvent> {
  const calls = new Map<string, CallState>();
  let started = false;
  let held: StreamEvent[] = [];
  const heldBytes = new HeldFrames(target, maxHeldBytes);
  let completed = false;
  const untranslated = untranslatedParts();
  // A network read's events are read at once and served from one queue (expandBatches).
  const step = (batch: EventSourceMessage[], out: StreamEvent[]): boolean | undefined => {
    for (const message of batch) {
      let data: Json;
      try {
        data = JSON.parse(message.data) as Json;
      } catch {
        throw new GatewayError("upstream_error", `${target}: the stream sent an event that is not JSON`, { target });
      }
      if (data === null || typeof data !== "object") {
        throw new GatewayError("upstream_error", `${target}: the stream sent an event that is not an object`, { target });
      }
      const type = typeof data.type === "string" ? data.type : message.event;
      if (type === "error") throw inBandError(data, target);
      if (type === "response.failed") throw failedError(data.response, target);
      const frame = sseFrame(message, data);
      if (!started) {
        started = true;
        const response = object(data.response);
        out.push({
          type: "start",
          ...(typeof response?.id === "string" && { id: response.id }),
          ...(typeof response?.model === "string" && { model: response.model }),
        });
      }
      switch (type) {
        case "response.created":
        case "response.in_progress":
        case "response.queued":
          heldBytes.add(frame);
          held.push(frame);
          continue;
        case "response.output_text.delta": {
          // The piece's tokens' logprobs, when `include` asked for them (ChatRequest.logprobs).
          const logprobs = readTokenLogprobs(data.logprobs);
          if (typeof data.delta === "string" && data.delta !== "")
            out.push({ type: "text-delta", text: data.delta, ...(logprobs && { logprobs }) });
          break;
        }
        case "response.refusal.delta":
          if (typeof data.delta === "string" && data.delta !== "")
            out.push({ type: "text-delta", text: data.delta, refusal: true });
          break;
        case "response.reasoning_summary_text.delta":
        case "response.reasoning_text.delta":
          if (typeof data.delta === "string" && data.delta !== "") out.push({ type: "reasoning-delta", text: data.delta });
          break;
        case "response.output_text.annotation.added":
          untranslated("annotations", out);
          break;
        case "response.output_item.added": {
          const item = object(data.item);
          if (typeof item?.type === "string" && !CANONICAL_ITEMS.has(item.type)) untranslated(`${item.type} items`, out);
          if (item?.type === "function_call") {
            const call: CallState = { index: calls.size, sawDelta: false };
            calls.set(String(item.id ?? `#${call.index}`), call);
            out.push({
              type: "tool-call-start",
              index: call.index,
              id: String(item.call_id ?? ""),
              name: String(item.name ?? ""),
            });
          }
          break;
        }
        case "response.function_call_arguments.delta": {
          const call = calls.get(String(data.item_id));
          if (call && typeof data.delta === "string" && data.delta !== "") {
            call.sawDelta = true;
            out.push({ type: "tool-call-delta", index: call.index, argumentsDelta: data.delta });
          }
          break;
        }
        case "response.output_item.done": {
          const item = object(data.item);
          const sealed = item && encryptedReasoning(item, target);
          if (sealed) out.push(sealed);
          const call = item?.type === "function_call" ? calls.get(String(item.id)) : undefined;
          if (item && call) {
            // A call whose arguments came whole with the item (no deltas) still has them.
            if (!call.sawDelta && typeof item.arguments === "string" && item.arguments !== "") {
              out.push({ type: "tool-call-delta", index: call.index, argumentsDelta: item.arguments });
            }
            out.push({ type: "tool-call-end", index: call.index });
          }
          break;
        }
        case "response.completed":
        case "response.incomplete": {
          const response = object(data.response) ?? {};
          const usage = usageOf(response.usage);
          if (usage) out.push({ type: "usage", usage });
          out.push(finishOf(response, calls.size > 0));
          for (const lifecycle of held) out.push(lifecycle);
          out.push(frame);
          completed = true;
          return true;
        }
      }
      if (held.length > 0) {
        for (const lifecycle of held) out.push(lifecycle);
        held = [];
        heldBytes.clear();
      }
      out.push(frame);
    }
    return undefined;
  };
  return expandBatches<EventSourceMessage[], StreamEvent>(
    Symbol.asyncIterator in batches ? batches : fromIterable(batches),
    step,
    () => {
      if (!completed)
        throw new GatewayError("upstream_error", `${target}: the stream ended before response.completed`, { target });
    },
  );
}

/**
 * A reasoning item's `encrypted_content` (asked for with `include`, as a stateless request must) as
 * the event that ends its reasoning block, sealed by `target`: the block can go back to it next turn.
 */
function encryptedReasoning(item: Json, target: string): StreamEvent | undefined {
  if (item.type !== "reasoning" || typeof item.encrypted_content !== "string" || item.encrypted_content === "") return undefined;
  return { type: "reasoning-encrypted", data: item.encrypted_content, producer: target };
}

/** The output items the canonical events carry: every other type is named as not carried (see `untranslated`). */
const CANONICAL_ITEMS = new Set(["message", "reasoning", "function_call"]);

/** Batches given whole (a test's), read as a stream's. */
async function* fromIterable<T>(items: Iterable<T>): AsyncGenerator<T> {
  yield* items;
}

/** A whole Response object -> canonical events, then the object itself as one `whole` frame. */
export async function* tapResponsesObject(json: unknown, target: string): AsyncGenerator<StreamEvent> {
  const response = object(json);
  if (response?.object !== "response") {
    throw new GatewayError("upstream_error", `${target}: the answer is not a Response object`, { target });
  }
  if (response.status === "failed") throw failedError(response, target);
  yield {
    type: "start",
    ...(typeof response.id === "string" && { id: response.id }),
    ...(typeof response.model === "string" && { model: response.model }),
  };
  let calls = 0;
  const untranslated = untranslatedParts();
  const named: StreamEvent[] = [];
  for (const raw of Array.isArray(response.output) ? response.output : []) {
    const item = object(raw);
    if (!item) continue;
    if (typeof item.type === "string" && !CANONICAL_ITEMS.has(item.type)) untranslated(`${item.type} items`, named);
    if (item.type === "message") {
      for (const part of Array.isArray(item.content) ? item.content : []) {
        const p = object(part);
        const text = p?.type === "refusal" ? p.refusal : p?.text;
        const logprobs = p?.type === "refusal" ? undefined : readTokenLogprobs(p?.logprobs);
        if (typeof text === "string" && text !== "")
          yield p?.type === "refusal"
            ? { type: "text-delta", text, refusal: true }
            : { type: "text-delta", text, ...(logprobs && { logprobs }) };
        if (Array.isArray(p?.annotations) && p.annotations.length > 0) untranslated("annotations", named);
      }
    } else if (item.type === "reasoning") {
      for (const part of [
        ...(Array.isArray(item.summary) ? item.summary : []),
        ...(Array.isArray(item.content) ? item.content : []),
      ]) {
        const text = object(part)?.text;
        if (typeof text === "string" && text !== "") yield { type: "reasoning-delta", text };
      }
      const sealed = encryptedReasoning(item, target);
      if (sealed) yield sealed;
    } else if (item.type === "function_call") {
      const index = calls++;
      yield { type: "tool-call-start", index, id: String(item.call_id ?? ""), name: String(item.name ?? "") };
      if (typeof item.arguments === "string" && item.arguments !== "") {
        yield { type: "tool-call-delta", index, argumentsDelta: item.arguments };
      }
      yield { type: "tool-call-end", index };
    }
  }
  yield* named;
  const usage = usageOf(response.usage);
  if (usage) yield { type: "usage", usage };
  yield finishOf(response, calls > 0);
  yield { type: "frame", data: JSON.stringify(json), whole: true, json };
}

function finishOf(response: Json, calledTools: boolean): StreamEvent {
  if (response.status === "incomplete") {
    const reason = object(response.incomplete_details)?.reason;
    const unified: FinishReason =
      reason === "max_output_tokens" ? "length" : reason === "content_filter" ? "content_filter" : "other";
    return { type: "finish", reason: unified, ...(typeof reason === "string" && { raw: reason }) };
  }
  return { type: "finish", reason: calledTools ? "tool_calls" : "stop", raw: String(response.status ?? "completed") };
}

/** The Responses usage object -> canonical usage (input tokens include the cached ones, as OpenAI counts them). */
function usageOf(raw: unknown): Partial<Usage> | undefined {
  const usage = object(raw);
  if (!usage) return undefined;
  const out: Partial<Usage> = {};
  if (typeof usage.input_tokens === "number") out.inputTokens = usage.input_tokens;
  if (typeof usage.output_tokens === "number") out.outputTokens = usage.output_tokens;
  const details = object(usage.input_tokens_details);
  if (typeof details?.cached_tokens === "number") out.cachedInputTokens = details.cached_tokens;
  if (typeof details?.cache_write_tokens === "number") out.cacheWriteInputTokens = details.cache_write_tokens;
  // Part of output_tokens, as the chat stream's completion_tokens_details has it (read-openai-chat-stream.ts).
  const reasoning = object(usage.output_tokens_details)?.reasoning_tokens;
  if (typeof reasoning === "number" && reasoning > 0) out.reasoningTokens = reasoning;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** A failed response's error (`{code, message}`, codes such as `rate_limit_exceeded`, `server_error`). */
/**
 * The stream's `error` event (the SDK's ResponseErrorEvent: code, message, param beside the event's
 * own `type: "error"`). Its `type` names the event, not the kind of error, so it is not read as the
 * error object's type, which a chat client would otherwise be shown as `"type": "error"`.
 */
function inBandError(data: Json, target: string): GatewayError {
  const { type: _event, ...error } = data;
  return gatewayErrorFromOpenAIError(error as OpenAIErrorObjectWire, target);
}

function failedError(raw: unknown, target: string): GatewayError {
  const error = object(object(raw)?.error);
  return gatewayErrorFromOpenAIError(
    {
      message: typeof error?.message === "string" ? error.message : "The response failed",
      ...(typeof error?.code === "string" && { code: error.code, type: error.code }),
    } as OpenAIErrorObjectWire,
    target,
  );
}

function object(value: unknown): Json | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}
