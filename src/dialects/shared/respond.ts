import type { IncomingHttpHeaders, ServerResponse } from "node:http";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { ChatStream, Gateway, ResponseMeta } from "../../core/index.js";
import {
  answerErrorFrom,
  answerTooDeepError,
  type ChatRequest,
  type ChatResult,
  collectChat,
  forEachItem,
  GatewayError,
  isStackOverflow,
  JsonText,
  markStep,
  type StreamEvent,
} from "../../core/index.js";
import { clientSignal, endedByShutdown, shuttingDownError } from "./client-signal.js";
import { metaHeaders } from "./meta-headers.js";
import { requestRecord } from "./request-record.js";
import { noticesComment } from "./switch-comment.js";
import { noteUncarriedPart } from "./uncarried-parts.js";

/** Turns canonical events into one dialect's stream framing (SSE or NDJSON). */
export interface StreamRenderer {
  /** `text/event-stream` or `application/x-ndjson`. */
  readonly contentType: string;
  /** Wire text for one event; '' when the event has no wire form in this dialect. */
  event(event: StreamEvent): string;
  /**
   * Wire text after the last event (e.g. OpenAI's `data: [DONE]`). May be a promise, for a dialect
   * that keeps state and must have saved it before the client reads the end (the Responses API).
   */
  end(): string | Promise<string>;
  /** In-band error, when the stream cannot complete after it has started. May be a promise, as `end`. */
  error(error: GatewayError): string | Promise<string>;
}

/**
 * Writes a target's own frames to a client on the same wire (the same-wire path: ResponseMeta.native),
 * instead of rendering canonical events.
 */
export interface NativeStream {
  /** Wire text for one upstream frame. */
  frame(frame: Extract<StreamEvent, { type: "frame" }>): string;
  /**
   * The answer goes on from another target as canonical events (a mid-stream switch): wire text that
   * closes what the frames left open, after which the dialect's renderer continues the same answer.
   */
  seam(): string;
  /**
   * Wire text after the target's own frames ended the answer, for a dialect that holds the last
   * frame back until it has saved the answer (the Responses API). Default: nothing.
   */
  end?(): Promise<string>;
  /**
   * The answer failed for good while the target's own frames were being written (no target went on
   * with it): wire text that closes what the frames left open and says the error, for a dialect whose
   * stream must not leave them open (the Responses API). Default: the renderer's `error`.
   */
  error?(error: GatewayError): string | Promise<string>;
}

export interface ChatRendering {
  stream: (meta: ResponseMeta) => StreamRenderer;
  /**
   * The whole answer's body, or its JSON text (a JsonText: sent as it is); may be a promise (a
   * dialect that saves the answer first).
   */
  json: (result: ChatResult, meta: ResponseMeta) => unknown;
  /**
   * Response headers besides the `x-tandem-*` meta headers (e.g. `x-tandem-warnings`), or a function
   * of the answer's meta (a dialect whose warnings hold only when the target is not on its wire). Default: none.
   */
  headers?: Record<string, string> | ((meta: ResponseMeta) => Record<string, string> | undefined);
  /** For a dialect that can pass a same-wire target's answer through as it came. Default: always rendered. */
  native?: {
    /** Called after `stream`, so it may continue that renderer's answer at a seam. */
    stream: (meta: ResponseMeta) => NativeStream;
    /**
     * The client's body from the target's own answer: its frames (streamed, or one `whole` frame),
     * as a value or its JSON text (a JsonText). Undefined when they do not make one (the canonical
     * rendering answers).
     */
    json: (frames: readonly Extract<StreamEvent, { type: "frame" }>[], meta: ResponseMeta) => unknown | Promise<unknown>;
  };
}

/**
 * Runs one chat request through the gateway and answers it: streamed (each event written as it
 * arrives, with backpressure) or as one JSON body. Errors before the first event are thrown, so the
 * server's error handler answers them with a real status in the client's dialect; errors after it are
 * rendered in-band by the dialect.
 */
export async function sendChat(
  request: FastifyRequest,
  reply: FastifyReply,
  /** Only `chat` is asked: a dialect may hand in a gateway of its own around it (the Responses API's tool loop). */
  gateway: Pick<Gateway, "chat">,
  chat: ChatRequest,
  rendering: ChatRendering,
  /** The request headers the gateway sees, when a dialect adds to the client's (e.g. a stored conversation's sensitivity). */
  headers: IncomingHttpHeaders = request.headers,
): Promise<void> {
  markStep("parsed");
  const signal = clientSignal(request, reply);
  const record = requestRecord(request);
  record.model = chat.model;
  record.stream = chat.stream;
  if (record.content) record.content.request = JSON.stringify({ ...chat, native: undefined });
  const started = await gateway.chat(chat, {
    signal,
    headers,
    onRouted: (route) => {
      record.route = route;
    },
  });
  record.meta = started.meta;
  record.firstEventMs = performance.now() - record.startedAt;
  // What was not carried (meta.warnings, meta.notices) is logged with the request's line, from the record.
  const headersOf = () => (typeof rendering.headers === "function" ? rendering.headers(started.meta) : rendering.headers);
  if (!chat.stream) {
    const native = rendering.native;
    const frames: Frame[] = [];
    const result = await collectChat(started.events, native ? frames : undefined);
    markStep("collected");
    record.usage = result.usage;
    if (record.content) record.content.response = JSON.stringify({ text: result.text, toolCalls: result.toolCalls });
    let payload: string;
    try {
      const nativeBody = native && frames.length > 0 ? await native.json(frames, started.meta) : undefined;
      if (nativeBody === undefined) noteUntranslated(started.meta, result.untranslated ?? []);
      const body = nativeBody ?? (await rendering.json(result, started.meta));
      // Written out here rather than by Fastify's serializer, so that an answer that cannot be is
      // answered as the upstream's failure below (the router refuses such answers before this; this
      // is the last line for a shape it did not foresee), not as tandem's internal error. A body
      // that is JSON text already (one with a tool call's arguments spliced in as written) is sent as it is.
      payload = body instanceof JsonText ? body.text : JSON.stringify(body);
    } catch (err) {
      if (isStackOverflow(err)) throw answerTooDeepError(started.meta.target);
      throw err;
    }
    markStep("rendered");
    // The meta as the answer left it: one answered afresh elsewhere names its own target and warnings.
    await reply
      .code(200)
      .headers({ "content-type": "application/json; charset=utf-8", ...metaHeaders(started.meta), ...headersOf() })
      .send(payload);
    return;
  }
  const extraHeaders = headersOf();
  const renderer = rendering.stream(started.meta);
  const native = started.meta.native && rendering.native ? rendering.native.stream(started.meta) : undefined;
  await pumpStream(reply, started, renderer, native, signal, extraHeaders);
}

type Frame = Extract<StreamEvent, { type: "frame" }>;

/**
 * Names, in the answer's notices, the parts of the upstream's answer an answer rendered from the
 * canonical events leaves out (`untranslated` events: an Anthropic answer's citations for an OpenAI
 * client), each once; the request's log line has them too: nothing is dropped silently.
 */
function noteUntranslated(meta: ResponseMeta, parts: readonly string[]): void {
  for (const part of parts) noteUncarriedPart(meta, part);
}

async function pumpStream(
  reply: FastifyReply,
  started: ChatStream,
  renderer: StreamRenderer,
  /** Set while the target's own frames are written (the same-wire path), until a switch. */
  native: NativeStream | undefined,
  signal: AbortSignal,
  headers: Record<string, string> | undefined,
): Promise<void> {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    "content-type": renderer.contentType,
    "cache-control": "no-cache",
    "x-accel-buffering": "no",
    ...metaHeaders(started.meta),
    ...headers,
  });
  // Notices made after this point (the tool loop's limit) go in-band, before the stream's end.
  const noticed = started.meta.notices?.length ?? 0;
  const record = requestRecord(reply.request);
  // Events that arrive together (one upstream read often carries several) leave in one write: an
  // upstream read's events are rendered together and written once (forEachItem's `settled`), and the
  // socket is corked at the first write and uncorked once this tick's work is done, so tokens are
  // never held back, only coalesced.
  let corked = false;
  const uncork = () => {
    corked = false;
    res.uncork();
  };
  let unwritten = "";
  const write = (): Promise<void> | undefined => {
    if (unwritten === "") return undefined;
    const text = unwritten;
    unwritten = "";
    if (!corked) {
      corked = true;
      res.cork();
      process.nextTick(uncork);
    }
    return res.write(text) ? undefined : drained(res, signal);
  };
  const answer = record.content ? new AnswerText() : undefined;
  try {
    await forEachItem(
      started.events,
      (event) => {
        if (event.type === "usage") record.usage = { ...record.usage, ...event.usage } as ChatResult["usage"];
        answer?.add(event);
        if (event.type === "untranslated") {
          if (native === undefined) noteUntranslated(started.meta, [event.part]);
        } else if (native === undefined) unwritten += renderer.event(event);
        else if (event.type === "frame") unwritten += native.frame(event);
        else if (event.type === "switch" || (event.type === "finish" && event.unframed)) {
          // The answer goes on, or ends, without the target's frames: the renderer writes the rest. An
          // answer that ends here is rendered with the usage so far, which only frames carried until now.
          unwritten += native.seam();
          if (event.type === "finish" && record.usage) unwritten += renderer.event({ type: "usage", usage: record.usage });
          unwritten += renderer.event(event);
          native = undefined;
        }
      },
      write,
    );
    // An SSE client's parser skips a comment; NDJSON has no such line (Ollama's final chunk carries them).
    // The Anthropic renderer's content type names its charset, so the type's start is what is compared.
    const late = started.meta.notices?.slice(noticed) ?? [];
    const notices = late.length > 0 && isEventStream(renderer.contentType) ? noticesComment(late) : "";
    // The target's own frames ended its answer (the router saw its finish).
    res.end(notices + (native === undefined ? await renderer.end() : ((await native.end?.()) ?? "")));
  } catch (err) {
    // Ended by tandem's shutdown, not by its client: the client is still reading and is told why.
    const error = endedByShutdown(reply.request) && !res.destroyed ? shuttingDownError() : answerErrorFrom(err);
    record.streamError = error;
    if (error.code === "canceled" || res.destroyed) {
      res.destroy();
      return;
    }
    // What was rendered before the failure goes first.
    res.end(unwritten + (await (native?.error === undefined ? renderer.error(error) : native.error(error))));
  } finally {
    if (answer && record.content) record.content.response = answer.json();
  }
}

/** The content type is SSE's, with or without parameters (`text/event-stream; charset=utf-8`). */
function isEventStream(contentType: string): boolean {
  return contentType.split(";")[0]?.trim().toLowerCase() === "text/event-stream";
}

/** What a streamed answer said (text and tool calls), for the request log when it keeps content. */
class AnswerText {
  #text = "";
  readonly #calls = new Map<number, { name: string; arguments: string }>();

  add(event: StreamEvent): void {
    if (event.type === "text-delta") this.#text += event.text;
    else if (event.type === "tool-call-start") this.#calls.set(event.index, { name: event.name, arguments: "" });
    else if (event.type === "tool-call-delta") {
      const call = this.#calls.get(event.index);
      if (call) call.arguments += event.argumentsDelta;
    }
  }

  json(): string {
    return JSON.stringify({ text: this.#text, toolCalls: [...this.#calls.values()] });
  }
}

function drained(res: ServerResponse, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    };
    const onAbort = () => {
      res.off("drain", onDrain);
      reject(new GatewayError("canceled", "The client disconnected"));
    };
    res.once("drain", onDrain);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
