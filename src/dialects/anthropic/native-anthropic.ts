import type { ResponseMeta } from "../../core/index.js";
import {
  droppedReasoning,
  editJsonTopLevel,
  JsonSplice,
  jsonObjectText,
  jsonValueSpan,
  type NativeRequest,
  nativeHeaders,
  type StreamEvent,
  type WireOnly,
} from "../../core/index.js";
import { frameJson, type NativeStream } from "../shared/index.js";
import { effortControl } from "./convert-from-anthropic-messages.js";
import type { MessageStreamRenderer } from "./message-stream-renderer.js";
import { isSealedSignature } from "./sealed-signature.js";

type Frame = Extract<StreamEvent, { type: "frame" }>;

/** The request headers an Anthropic target on the same wire is given as the client sent them. */
const FORWARDED_HEADERS = ["anthropic-beta", "anthropic-version"] as const;

/** The top-level fields the canonical form carries across wires; any other is named when it cannot cross. */
const CARRIED = new Set([
  "model",
  "messages",
  "system",
  "tools",
  "tool_choice",
  "stop_sequences",
  "temperature",
  "top_p",
  "top_k",
  "metadata",
  "output_config",
  "stream",
  "max_tokens",
  "thinking",
]);

/**
 * The client's own Messages request, kept for an Anthropic target (see core/native.ts), `role:
 * "system"` turns in `messages` included where they stand (the Messages API takes them there:
 * SystemMessageParam; moving them into the system prompt would also change the cached prefix).
 * The changes: what Anthropic would refuse of the turns is left out (unsigned thinking blocks,
 * whitespace-only text: see mendedTurns), and `thinking` in the middle of a tool loop whose turn has
 * no thinking block (see thinkingMidLoop).
 */
export function nativeAnthropicRequest(
  body: unknown,
  headers: Record<string, string | string[] | undefined>,
  left: { wireOnly: WireOnly[]; approximated: ReadonlySet<string> } = { wireOnly: [], approximated: new Set() },
  /** The body's JSON text as it came, if known (NativeRequest.text). */
  text?: string,
): NativeRequest {
  const unsigned = mendedTurns(body as Record<string, unknown>);
  const midLoop = thinkingMidLoop(unsigned.body);
  const raw = midLoop ? withoutKey(unsigned.body, "thinking") : unsigned.body;
  const changed = unsigned.changed || midLoop;
  const forwarded = nativeHeaders(headers, FORWARDED_HEADERS);
  return {
    wire: "anthropic-messages",
    body: raw,
    // The text is the body's only while nothing was left out of it.
    ...(text !== undefined && !changed && { text }),
    headers: forwarded,
    // The betas the client turned on reach only an Anthropic upstream sent its own body.
    // Read from the body before `thinking` was taken out for a tool loop: the canonical form still has it.
    lost: () => [
      ...anthropicLost(unsigned.body),
      ...left.approximated,
      ...("anthropic-beta" in forwarded ? ["anthropic-beta"] : []),
    ],
    ...(left.wireOnly.length > 0 && { wireOnly: left.wireOnly }),
    ...((unsigned.dropped > 0 || midLoop) && {
      dropped: [...(unsigned.dropped > 0 ? [droppedReasoning(unsigned.dropped)] : []), ...(midLoop ? ["thinking"] : [])],
    }),
  };
}

/**
 * Whether `thinking` is enabled in the middle of a tool loop whose assistant turn does not start with a
 * thinking block (another target answered it, or its unsigned block was left out by mendedTurns): Anthropic
 * refuses that ("a final `assistant` message must start with a thinking block ... To avoid this
 * requirement, disable `thinking`"), so the request goes without `thinking`; the next turn thinks again.
 * Adaptive thinking, which may not think at all, is left as it is.
 */
function thinkingMidLoop(body: Record<string, unknown>): boolean {
  const thinking = body.thinking as { type?: unknown } | null | undefined;
  if (thinking?.type !== "enabled" || !Array.isArray(body.messages)) return false;
  const messages = body.messages as Turn[];
  let sawResult = false;
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i] as Turn;
    const content = Array.isArray(message.content) ? (message.content as { type?: unknown }[]) : [];
    if (message.role === "user") sawResult ||= content.some((block) => block?.type === "tool_result");
    else if (message.role === "assistant") {
      if (!sawResult || !content.some((block) => block?.type === "tool_use")) return false;
      const first = content[0]?.type;
      return first !== "thinking" && first !== "redacted_thinking";
    }
  }
  return false;
}

function withoutKey(body: Record<string, unknown>, key: string): Record<string, unknown> {
  const { [key]: _, ...rest } = body;
  return rest;
}

/**
 * Thinking blocks without an Anthropic signature (as tandem renders another provider's reasoning:
 * none, or that provider's sealed reasoning, see sealed-signature.ts) are left out: Anthropic refuses
 * a thinking block whose signature it cannot check. The body is copied only when one is found.
 */
function isUnsignedThinking(block: unknown): boolean {
  const b = block as { type?: unknown; signature?: unknown } | null;
  return b?.type === "thinking" && (typeof b.signature !== "string" || b.signature === "" || isSealedSignature(b.signature));
}

/**
 * A turn's text blocks when all of them are whitespace only: Anthropic refuses such a turn ("text
 * content blocks must contain non-whitespace text"), though its own models and others write one (a
 * "\n\n" before a tool call), which a client then sends back; left out, they cost nothing.
 */
function blankText(content: readonly unknown[]): Set<unknown> | undefined {
  let blank: Set<unknown> | undefined;
  for (const block of content) {
    const b = block as { type?: unknown; text?: unknown } | null;
    if (b?.type !== "text" || typeof b.text !== "string") continue;
    if (b.text.trim() !== "") return undefined;
    blank ??= new Set();
    blank.add(block);
  }
  return blank;
}

/**
 * The client's turns without what Anthropic would refuse of them: unsigned thinking blocks (`dropped`
 * counts them, for the warnings) and whitespace-only text (see blankText). `changed`: the body is a
 * copy that differs from the client's.
 */
function mendedTurns(body: Record<string, unknown>): { body: Record<string, unknown>; dropped: number; changed: boolean } {
  const messages = body.messages as Turn[];
  let dropped = 0;
  let out: (Turn | undefined)[] | undefined;
  messages.forEach((message, i) => {
    if (!Array.isArray(message.content)) return;
    const unsigned = message.role === "assistant" && message.content.some(isUnsignedThinking);
    const blank = blankText(message.content);
    if (!unsigned && blank === undefined) return;
    const kept = message.content.filter((block: unknown) => !(unsigned && isUnsignedThinking(block)) && !blank?.has(block));
    if (unsigned) dropped += message.content.filter(isUnsignedThinking).length;
    out ??= messages.slice();
    // A turn left with no content goes too: Anthropic refuses an empty one (the turns around it,
    // both the user's, are taken as one).
    out[i] = kept.length > 0 ? { ...message, content: kept } : undefined;
  });
  if (out === undefined) return { body, dropped, changed: false };
  return { body: { ...body, messages: out.filter((turn) => turn !== undefined) }, dropped, changed: true };
}

type Turn = { role?: unknown; content?: unknown };

/** What of an Anthropic request the canonical form leaves out, named for `x-tandem-warnings`. */
export function anthropicLost(body: Record<string, unknown>): string[] {
  const lost: string[] = [];
  for (const key of Object.keys(body)) if (!CARRIED.has(key)) lost.push(key);
  const output = body.output_config as Record<string, unknown> | null | undefined;
  if (output && typeof output === "object") {
    // The format and the effort cross (a response format; adaptive thinking's effort as the reasoning control).
    for (const key of Object.keys(output))
      if (key !== "format" && !(key === "effort" && effortControl(body) !== undefined)) lost.push(`output_config.${key}`);
  }
  const metadata = body.metadata as Record<string, unknown> | null | undefined;
  if (metadata && typeof metadata === "object") {
    for (const key of Object.keys(metadata)) if (key !== "user_id") lost.push(`metadata.${key}`);
  }
  lost.push(...toolFieldsLost(body.tools));
  const found = { cacheControl: false, thinking: false };
  // Only on this (cross-wire) path; a walk of the objects, which copies no text however large.
  scan([body.system, body.messages, body.tools], found, 0);
  if (found.cacheControl) lost.push("cache_control");
  // Earlier thinking blocks cross as reasoning: what a target cannot read of them the router names.
  return lost;
}

/**
 * The fields of a custom tool the canonical tool carries (`strict` as its strict), or that are
 * applied (`defer_loading`) or named on their own (`cache_control`). Anthropic's own versioned tools
 * are wire-only (the request goes to an Anthropic target or nowhere).
 */
const CARRIED_TOOL_FIELDS = new Set(["type", "name", "description", "input_schema", "strict", "defer_loading", "cache_control"]);

/**
 * The custom tools' fields no other wire has (Tool: `input_examples`, `eager_input_streaming`,
 * `allowed_callers`, unknown ones), each named once; a field sent as null asks for nothing.
 */
function toolFieldsLost(tools: unknown): string[] {
  if (!Array.isArray(tools)) return [];
  const lost = new Set<string>();
  for (const tool of tools as unknown[]) {
    if (typeof tool !== "object" || tool === null) continue;
    const fields = tool as Record<string, unknown>;
    if (fields.type != null && fields.type !== "custom") continue;
    for (const key of Object.keys(fields)) if (!CARRIED_TOOL_FIELDS.has(key) && fields[key] != null) lost.add(key);
  }
  return [...lost];
}

/** Looks for `cache_control` keys and thinking blocks, depth-bounded (the body was depth-checked when parsed). */
function scan(value: unknown, found: { cacheControl: boolean; thinking: boolean }, depth: number): void {
  if (typeof value !== "object" || value === null || depth > 64 || (found.cacheControl && found.thinking)) return;
  if (Array.isArray(value)) {
    for (const item of value) scan(item, found, depth + 1);
    return;
  }
  const object = value as Record<string, unknown>;
  if ("cache_control" in object) found.cacheControl = true;
  if (object.type === "thinking" || object.type === "redacted_thinking") found.thinking = true;
  for (const key in object) if (key !== "cache_control") scan(object[key], found, depth + 1);
}

/**
 * A `message_start` event's text with its `message.model` set to `model`, every other byte as it came.
 * Edited in the text, not parsed and written out again: an upstream's event may nest a field
 * thousands of levels deep, which JSON.stringify cannot write (it recurses), and such a frame is
 * passed through as it came. An event whose message the scan cannot find is passed on unchanged.
 */
function withMessageModel(data: string, model: string): string {
  const span = jsonValueSpan(data, ["message"]);
  if (span === undefined || data.charCodeAt(span.start) !== 0x7b) return data;
  const message = editJsonTopLevel(data.slice(span.start, span.end), [["model", JSON.stringify(model)]]);
  return message === undefined ? data : data.slice(0, span.start) + message + data.slice(span.end);
}

/** One SSE frame the way Anthropic writes it. */
function sse(frame: Frame): string {
  const data = frame.data.includes("\n") ? frame.data.replaceAll("\n", "\ndata: ") : frame.data;
  return frame.event === undefined ? `data: ${data}\n\n` : `event: ${frame.event}\ndata: ${data}\n\n`;
}

/**
 * Writes an Anthropic target's own stream to an Anthropic client, frame by frame, with the answering
 * target's name as the message's model (as the canonical rendering says it). It keeps track of the
 * content blocks, so that when the answer continues on another target (a mid-stream switch), the open
 * blocks are stopped and the canonical renderer goes on with the next block index in the same message.
 */
export class AnthropicNativeStream implements NativeStream {
  readonly #meta: ResponseMeta;
  readonly #renderer: MessageStreamRenderer;
  readonly #open = new Set<number>();
  #nextBlock = 0;
  #started = false;

  constructor(meta: ResponseMeta, renderer: MessageStreamRenderer) {
    this.#meta = meta;
    this.#renderer = renderer;
  }

  frame(frame: Frame): string {
    switch (frame.event) {
      case "message_start": {
        this.#started = true;
        return sse({ ...frame, data: withMessageModel(frame.data, this.#meta.target) });
      }
      case "content_block_start": {
        const index = blockIndex(frame);
        if (index !== undefined) {
          this.#open.add(index);
          this.#nextBlock = Math.max(this.#nextBlock, index + 1);
        }
        break;
      }
      case "content_block_stop": {
        const index = blockIndex(frame);
        if (index !== undefined) this.#open.delete(index);
        break;
      }
    }
    return sse(frame);
  }

  seam(): string {
    let out = "";
    for (const index of this.#open)
      out += `event: content_block_stop\ndata: ${JSON.stringify({ type: "content_block_stop", index })}\n\n`;
    this.#open.clear();
    if (this.#started) this.#renderer.continueMessage(this.#nextBlock);
    return out;
  }
}

/**
 * The whole Anthropic message for a client that did not stream, from the target's own answer: its
 * whole JSON, or its stream's events put together as Anthropic's SDKs do (every field of the message,
 * its blocks and its usage kept), with the answering target's name as its model. A tool_use block's
 * input put together from its `partial_json` is written as that text, not parsed and serialised
 * again (which would change an integer past 2^53, or `1.10`): the message is then JSON text already.
 * Undefined when the frames do not make a message (the canonical rendering answers then).
 */
export function nativeAnthropicMessage(frames: readonly Frame[], meta: ResponseMeta): unknown {
  const last = frames.at(-1);
  let message: Record<string, unknown> | undefined;
  let splice: JsonSplice | undefined;
  // Copied before the model is set: the parsed answer is the provider's, shared (see frameJson).
  if (last?.whole) message = { ...(frameJson(last) as Json) };
  else {
    const assembled = assembleMessage(frames);
    message = assembled?.message;
    splice = assembled?.splice;
  }
  if (message === undefined) return undefined;
  if ("model" in message) message.model = meta.target;
  return splice === undefined ? message : splice.body(message);
}

type Json = Record<string, unknown>;
type Block = Json & { type?: unknown };

/** The message put together, and the inputs' texts it holds stand-ins for (none without a tool_use block). */
function assembleMessage(frames: readonly Frame[]): { message: Json; splice: JsonSplice | undefined } | undefined {
  let message: Record<string, unknown> | undefined;
  let splice: JsonSplice | undefined;
  // By the upstream's index, in a map: an array indexed by an absurd one (3e9) would be billions of
  // holes to walk and serialise.
  const blocks = new Map<number, Block>();
  const json = new Map<number, string>();
  const citations = new Map<Block, unknown[]>();
  for (const frame of frames) {
    if (frame.whole) return undefined;
    const data = frameJson(frame) as Json;
    switch (data.type) {
      case "message_start":
        message = { ...(data.message as Record<string, unknown>) };
        break;
      case "content_block_start":
        blocks.set(data.index as number, { ...(data.content_block as Block) });
        break;
      case "content_block_delta": {
        const index = data.index as number;
        const block = blocks.get(index);
        const delta = data.delta as Record<string, unknown>;
        if (!block) break;
        if (delta.type === "text_delta") block.text = `${block.text ?? ""}${delta.text}`;
        else if (delta.type === "thinking_delta") block.thinking = `${block.thinking ?? ""}${delta.thinking}`;
        else if (delta.type === "signature_delta") block.signature = delta.signature;
        else if (delta.type === "compaction_delta") {
          // The block's whole value, not a piece of it (as the SDKs' stream takes it).
          block.content = delta.content;
          if ("encrypted_content" in delta) block.encrypted_content = delta.encrypted_content;
        } else if (delta.type === "input_json_delta") json.set(index, (json.get(index) ?? "") + String(delta.partial_json ?? ""));
        else if (delta.type === "citations_delta") {
          // Appended to a list this message owns (a block's own is the provider's, read-only):
          // copying it for every delta would be quadratic in an upstream's citations.
          if (!citations.has(block)) citations.set(block, [...((block.citations as unknown[] | undefined) ?? [])]);
          const list = citations.get(block) as unknown[];
          list.push(delta.citation);
          block.citations = list;
        }
        break;
      }
      case "content_block_stop": {
        const index = data.index as number;
        const input = json.get(index);
        const block = blocks.get(index);
        if (input !== undefined && block) {
          // An object (as Anthropic's always is) is written as its text; anything else as before.
          const text = jsonObjectText(input);
          if (text !== undefined) {
            splice ??= new JsonSplice();
            block.input = splice.hold(text);
          } else {
            try {
              block.input = input === "" ? {} : JSON.parse(input);
            } catch {
              block.input = {};
            }
          }
        }
        break;
      }
      case "message_delta":
        if (message) {
          Object.assign(message, data.delta as Record<string, unknown>);
          // The event's own fields besides the delta and usage are the message's too, as the SDKs'
          // stream takes them (`context_management`, `input_transformations`).
          for (const key in data) {
            if (key !== "type" && key !== "delta" && key !== "usage" && data[key] != null) message[key] = data[key];
          }
          // As the SDKs' MessageStream does: a counter the delta gives as null keeps message_start's.
          if (data.usage) {
            const usage = { ...(message.usage as Record<string, unknown>) };
            for (const [key, value] of Object.entries(data.usage as Record<string, unknown>))
              if (value !== null && value !== undefined) usage[key] = value;
            message.usage = usage;
          }
        }
        break;
    }
  }
  if (message === undefined) return undefined;
  message.content = [...blocks.entries()].sort(([a], [b]) => a - b).map(([, block]) => block);
  return { message, splice };
}

function blockIndex(frame: Frame): number | undefined {
  try {
    const index = (frameJson(frame) as { index?: unknown } | null)?.index;
    return typeof index === "number" ? index : undefined;
  } catch {
    return undefined;
  }
}
