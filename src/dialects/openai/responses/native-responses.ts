import {
  compactJson,
  editJsonTopLevel,
  GatewayError,
  type NativeRequest,
  nativeHeaders,
  type StreamEvent,
  type WireOnly,
} from "../../../core/index.js";
import type { StateItem } from "../../../core/state.js";
import { frameJson, warningsHeader } from "../../shared/index.js";
import { BACKGROUND_OPTIONS_WARNING } from "./parse-responses-request.js";
import type { PendingResponse } from "./pending-response.js";
import type { ResponseStreamRenderer } from "./response-stream-renderer.js";
import { ResponseWarnings } from "./response-warnings.js";
import { StreamedOutput } from "./streamed-output.js";

type Frame = Extract<StreamEvent, { type: "frame" }>;
type Json = Record<string, unknown>;
/** The answer's meta (the router's ResponseMeta), as the pending response reads it. */
type ResponseMeta = Parameters<PendingResponse["adopt"]>[0];

/** The request headers a Responses upstream is given as the client sent them. */
const FORWARDED_HEADERS = ["openai-beta"] as const;

const ENCRYPTED_REASONING = "reasoning.encrypted_content";

/** The native request, and what it leaves out (for `x-tandem-warnings` when a native target answers). */
export interface NativeResponsesRequest {
  native: NativeRequest;
  /** What was left out for the target that answered, for `x-tandem-warnings`. */
  warningsFor: (target: string) => string | undefined;
  /** Whether the client asked for `reasoning.encrypted_content` itself (else it is kept here, not shown). */
  clientWantsEncrypted: boolean;
}

/**
 * What of a Responses request only a Responses-native target can be sent: the new input's parts with
 * no canonical form (`wireOnly`, ParsedResponsesRequest), and how many parts of the stored items it
 * sends again carry bytes classification cannot read (`unread`, ComposedConversation.storedUnread).
 */
export interface ResponsesOnly {
  wireOnly: WireOnly[];
  unread: number;
  /** Fields the canonical form does not carry (ParsedResponsesRequest.lost): named when another wire answers. */
  lost?: readonly string[];
}

/**
 * The client's own Responses request for a target that speaks the Responses API (see core/native.ts),
 * made stateless, since the state lives here: `store: false`; `previous_response_id` and
 * `conversation` replaced by the history tandem holds, inlined as input items ahead of the new ones
 * (the new ones as the client sent them); and, when tandem keeps this response, `include:
 * ["reasoning.encrypted_content"]` added, so the upstream's reasoning can go back to it next turn.
 * Every other field goes as the client sent it (hosted tools, reasoning settings, unknown fields,
 * file and audio parts). Messages, function calls and their outputs go without ids (the upstream
 * stores nothing, so it knows none); reasoning items without encrypted content cannot be read back
 * by a stateless upstream and are left out (named in the warnings).
 */
export function nativeResponsesRequest(
  body: unknown,
  headers: Record<string, string | string[] | undefined>,
  items: ReadonlyArray<{ item: StateItem; origin?: string; sent?: Json }>,
  keepsState: boolean,
  only: ResponsesOnly = { wireOnly: [], unread: 0 },
): NativeResponsesRequest {
  // `background` (and its options) too: tandem runs the background turn itself (background-responses.ts),
  // the upstream answers it as any (and would refuse options without `background`).
  const {
    previous_response_id: _previous,
    conversation: _conversation,
    background: _background,
    background_options: backgroundOptions,
    ...rest
  } = body as Json;
  const include = Array.isArray(rest.include) ? (rest.include as unknown[]) : [];
  const clientWantsEncrypted = include.includes(ENCRYPTED_REASONING);
  const warnings = new ResponseWarnings();
  if (backgroundOptions != null) warnings.add(BACKGROUND_OPTIONS_WARNING.key, BACKGROUND_OPTIONS_WARNING.text);
  /** The target that made each input item only its upstream can read, by index in `input`. */
  const origins = new Map<number, string>();
  /** Per target: how many items of another provider's it was not sent. */
  const foreign = new Map<string, number>();
  // Built only when a Responses-native target is tried: the canonical path never pays for it.
  let built: Json | undefined;
  const build = (): Json => {
    if (built !== undefined) return built;
    const input: Json[] = [];
    for (const { item, origin, sent: asSent } of items) {
      const sent = upstreamItem(item, asSent);
      if (!sent) {
        warnings.add(
          "reasoning-plain",
          "reasoning items without encrypted_content were left out (a stateless upstream cannot read them)",
        );
        continue;
      }
      if (origin !== undefined) origins.set(input.length, origin);
      input.push(sent);
    }
    // Nothing to send of the conversation (a stored prompt alone holds it): no `input`, as the client sent none.
    built = input.length === 0 && rest.input === undefined ? { ...rest, store: false } : { ...rest, input, store: false };
    if (keepsState && !clientWantsEncrypted) built.include = [...include, ENCRYPTED_REASONING];
    return built;
  };
  const native: NativeRequest = {
    wire: "openai-responses",
    get body() {
      return build();
    },
    headers: nativeHeaders(headers, FORWARDED_HEADERS),
    lost: () => [...(only.lost ?? [])],
    ...(only.wireOnly.length > 0 && { wireOnly: only.wireOnly }),
    ...(only.unread > 0 && { unread: only.unread }),
    // Encrypted reasoning is sealed with its provider's keys: another provider's goes nowhere else.
    bodyFor: (sent, target) => {
      build();
      if (origins.size === 0) return sent;
      const provider = providerOf(target);
      const keep = (_: unknown, i: number) => {
        const origin = origins.get(i);
        return origin === undefined || providerOf(origin) === provider;
      };
      const list = Array.isArray(sent.input) ? (sent.input as unknown[]) : [];
      const kept = list.filter(keep);
      foreign.set(target, list.length - kept.length);
      return kept.length === list.length ? sent : { ...sent, input: kept };
    },
  };
  return {
    native,
    warningsFor: (target) => {
      const dropped = foreign.get(target) ?? 0;
      if (dropped === 0) return warnings.header();
      const forTarget = new ResponseWarnings();
      for (let i = 0; i < dropped; i++) {
        forTarget.add(
          "reasoning-foreign",
          "reasoning items from another provider were left out (only their own upstream can read them)",
        );
      }
      return warningsHeader([...warnings.entries(), ...forTarget.entries()]);
    },
    clientWantsEncrypted,
  };
}

function providerOf(target: string): string {
  const slash = target.indexOf("/");
  return slash < 0 ? target : target.slice(0, slash);
}

/** An item as the upstream is sent it: the stored one, or the client's own (`sent`) for new input. */
function upstreamItem(item: StateItem, sent: Json = item): Json | undefined {
  switch (item.type) {
    case "reasoning":
      return typeof item.encrypted_content === "string" && item.encrypted_content !== "" ? sent : undefined;
    case "message":
    case "function_call":
    case "function_call_output": {
      if (!("id" in sent)) return sent;
      const { id: _id, ...rest } = sent;
      return rest;
    }
    default:
      return sent;
  }
}

/** The view of an item the client is given: without encrypted reasoning it did not ask for. */
function clientItem(item: unknown, wantsEncrypted: boolean): unknown {
  if (wantsEncrypted || item === null || typeof item !== "object") return item;
  const fields = item as Json;
  if (fields.type !== "reasoning" || !("encrypted_content" in fields)) return item;
  const { encrypted_content: _sealed, ...rest } = fields;
  return rest;
}

/** A Response as the client sees it (see clientItem). */
export function clientResponse(response: Json, wantsEncrypted: boolean): Json {
  if (wantsEncrypted || !Array.isArray(response.output)) return response;
  return { ...response, output: response.output.map((item) => clientItem(item, false)) };
}

/**
 * Writes a Responses target's own event stream to the client: each event as the upstream sent it,
 * but numbered in this stream's own sequence, with tandem's response id, creation time and target
 * in the Response objects, and without encrypted reasoning the client did not ask for. The final
 * `response.completed` (or `.incomplete`) is held until the response is saved (`end`), so a
 * follow-up finds it. When the target's stream stops before its end, the items it left open are
 * closed as incomplete, with their text so far, in the events OpenAI closes every item with (`seam`):
 * then either another target goes on with the same sequence and output (a switch), or the stream
 * ends in `error` and `response.failed` (`error`). Either way the response is stored with those items
 * and the target's encrypted reasoning (ResponseProgress.sealed). (The server's NativeStream, by
 * shape: dialects do not import the server.)
 */
export class ResponsesNativeStream {
  readonly #pending: PendingResponse;
  readonly #meta: ResponseMeta;
  readonly #renderer: ResponseStreamRenderer;
  readonly #wantsEncrypted: boolean;
  /** The items streamed so far and those still open, as the target sent them (encrypted reasoning included). */
  readonly #streamed: StreamedOutput;
  #final: Json | undefined;

  constructor(pending: PendingResponse, meta: ResponseMeta, renderer: ResponseStreamRenderer, wantsEncrypted: boolean) {
    this.#pending = pending;
    this.#meta = meta;
    this.#renderer = renderer;
    this.#wantsEncrypted = wantsEncrypted;
    this.#streamed = new StreamedOutput({ outputLength: () => renderer.progress.output.length });
  }

  frame(frame: Frame): string {
    let data: Json;
    try {
      // Copied: its fields are changed below, and the parsed event is the provider's, shared (see frameJson).
      data = { ...(frameJson(frame) as Json) };
    } catch {
      return "";
    }
    const type = typeof data.type === "string" ? data.type : (frame.event ?? "");
    const progress = this.#renderer.progress;
    progress.started = true;
    // Read before the item is changed for the client: the target's own item is what is stored.
    this.#streamed.see(data.type === type ? data : { ...data, type });
    switch (type) {
      case "response.completed":
      case "response.incomplete":
        this.#final = data;
        return "";
      case "response.created":
      case "response.in_progress":
      case "response.queued":
        if (data.response && typeof data.response === "object") {
          data.response = clientResponse(this.#pending.adopt(this.#meta, data.response as Json), this.#wantsEncrypted);
        }
        break;
      case "response.output_item.added":
      case "response.output_item.done": {
        const index = data.output_index;
        const item = data.item;
        data.item = clientItem(item, this.#wantsEncrypted);
        // Items are added in order, so an item's index is one that is there or the next: any other
        // (an upstream's absurd 3e9) would make the output an array of billions of holes.
        if (
          typeof index === "number" &&
          Number.isInteger(index) &&
          index >= 0 &&
          index <= progress.output.length &&
          item &&
          typeof item === "object"
        ) {
          this.#place(index, item as Json);
        }
        break;
      }
    }
    data.sequence_number = progress.sequence++;
    return `event: ${type}\ndata: ${frameText(data, frame)}\n\n`;
  }

  /**
   * Closes the items the target left open, as OpenAI closes every item (StreamedOutput.close): each
   * event rendered in this stream's sequence, each closed item placed in the output.
   */
  seam(): string {
    let out = "";
    for (const { type, data } of this.#streamed.close()) {
      if (type === "response.output_item.done" && typeof data.output_index === "number") {
        const item = data.item as Json;
        this.#place(data.output_index, item);
        out += this.#renderer.frame(type, { ...data, item: clientItem(item, this.#wantsEncrypted) });
      } else out += this.#renderer.frame(type, data);
    }
    return out;
  }

  /** The target failed for good mid-answer: its open items closed (seam), then the renderer's `error` and `response.failed`. */
  async error(error: GatewayError): Promise<string> {
    return this.seam() + (await this.#renderer.error(error));
  }

  /** An item at its index in the output: the client's view, and the target's own when it holds more (encrypted reasoning). */
  #place(index: number, item: Json): void {
    const progress = this.#renderer.progress;
    const shown = clientItem(item, false);
    progress.output[index] = clientItem(item, this.#wantsEncrypted) as StateItem;
    if (shown !== item) progress.sealed.set(index, { item: item as StateItem, origin: this.#meta.target });
    else progress.sealed.delete(index);
  }

  async end(): Promise<string> {
    const final = this.#final;
    const upstream = final?.response;
    if (!final || !upstream || typeof upstream !== "object") {
      throw new GatewayError("upstream_error", `${this.#meta.target}: the stream ended before response.completed`);
    }
    const response = await this.#pending.finishNative(this.#meta, upstream as Json, (r) =>
      clientResponse(r, this.#wantsEncrypted),
    );
    const type = String(final.type);
    const data = { ...final, response, sequence_number: this.#renderer.progress.sequence++ };
    return `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
  }
}

/**
 * An event's JSON as the client is sent it. One nested too deep for JSON.stringify (V8 runs out of
 * stack near 5,000 levels) goes as the upstream wrote it, its `sequence_number` set in the text, as
 * README promises a streaming client such frames: never a stack overflow ending the stream.
 */
function frameText(data: Json, frame: Frame): string {
  try {
    return JSON.stringify(data);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    const edited = editJsonTopLevel(frame.data, [["sequence_number", String(data.sequence_number)]]);
    if (edited === undefined) throw err;
    return compactJson(edited);
  }
}

/**
 * The Response for a client that did not stream, from a Responses target's own answer: its whole
 * Response object, or the one its stream's final event carried. Saved before it is returned.
 * Undefined when the frames hold none (the canonical rendering answers).
 */
export async function nativeResponse(
  frames: readonly Frame[],
  meta: ResponseMeta,
  pending: PendingResponse,
  wantsEncrypted: boolean,
): Promise<Json | undefined> {
  let upstream: Json | undefined;
  for (const frame of frames) {
    // Read only: finishNative copies the Response before it changes it (PendingResponse.adopt).
    const data = frameJson(frame) as Json;
    if (frame.whole) upstream = data;
    else if (data.type === "response.completed" || data.type === "response.incomplete") upstream = data.response as Json;
  }
  if (upstream === undefined || upstream.object !== "response") return undefined;
  return pending.finishNative(meta, upstream, (r) => clientResponse(r, wantsEncrypted));
}
