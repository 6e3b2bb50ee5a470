import {
  addUsage,
  type ChatRequest,
  type ChatResult,
  type ChatStream,
  collectChat,
  EventChannel,
  type Gateway,
  GatewayError,
  makeId,
  mergeUsage,
  type NativeRequest,
  type RequestContext,
  type ResponseMeta,
  type StreamEvent,
  type Usage,
  unixSeconds,
} from "../../core/index.js";
import type { StreamRenderer } from "../shared/index.js";
import { ChatCompletionStreamRenderer } from "./chat-completion-stream-renderer.js";
import { withChoiceSeed } from "./choice-seed.js";
import { type ChatCallRendering, renderChatCompletion } from "./render-chat-completion.js";
import { renderOpenAIChatUsage } from "./render-openai-usage.js";

type Frame = Extract<StreamEvent, { type: "frame" }>;
type Json = Record<string, unknown>;

/** How the choices are rendered: as the chat completions route renders one (the client's `logprobs: true`, its custom tools, legacy functions). */
export interface ChoiceRendering {
  logprobs: boolean;
  includeUsage: boolean;
  calls: ChatCallRendering;
}

/** One choice's place in the answer: its index, and the id and time every chunk of the answer shares. */
export interface ChoiceSlot {
  index: number;
  id: string;
  created: number;
}

/** The shape a fanned-out answer takes: chat completions' or legacy completions'. */
export interface ChoiceFormat {
  /** `chatcmpl-`, `cmpl-`. */
  idPrefix: string;
  /** The whole answer's `object`, and a streamed chunk's. */
  object: string;
  chunkObject: string;
  /** A renderer of one choice's chunks, in the slot given. */
  renderer(meta: ResponseMeta, slot: ChoiceSlot): StreamRenderer;
  /** One choice of the whole answer, at `index`. */
  choice(result: ChatResult, meta: ResponseMeta, index: number): object;
  usage(usage: Usage): unknown;
  /**
   * Which results become the choices, in order, for a whole answer (legacy completions' `best_of`:
   * the best of each prompt's candidates). Default: every result. The usage counts every result.
   */
  pick?(results: readonly ChatResult[]): readonly ChatResult[];
  /** Checked once each request has started, before its answer is read: throws to refuse the whole answer. */
  started?(meta: ResponseMeta): void;
}

/**
 * Chat completions' `n` > 1 on every target. The request goes first as it came: a route with a
 * target on the client's wire (an OpenAI-compatible upstream) answers every choice natively in one
 * request, and the router skips the others (`n` is wire-only, NativeRequest.wireOnly). When no target
 * of the route speaks that wire, which the router says with its 400 naming `n` before any upstream is
 * asked, the choices are fanned out (fanOutChoices): `n` requests without `n`, each with a seed of
 * its own when the client gave one (withChoiceSeed), so that seeded choices differ too.
 */
export class ChoicesFanOut implements Pick<Gateway, "chat"> {
  readonly #inner: Pick<Gateway, "chat">;
  readonly #n: number;
  readonly #format: ChoiceFormat;

  constructor(inner: Pick<Gateway, "chat">, n: number, rendering: ChoiceRendering) {
    this.#inner = inner;
    this.#n = n;
    this.#format = chatChoiceFormat(rendering);
  }

  async chat(request: ChatRequest, context: RequestContext): Promise<ChatStream> {
    try {
      return await this.#inner.chat(request, context);
    } catch (err) {
      if (!(err instanceof GatewayError && err.code === "invalid_request" && err.param === "n")) throw err;
    }
    const single = withoutChoices(request);
    return fanOutChoices(
      this.#inner,
      Array.from({ length: this.#n }, (_, index) => withChoiceSeed(single, index)),
      context,
      this.#format,
    );
  }
}

/** Chat completions' shape for fanned-out choices, rendered as the route renders one. */
function chatChoiceFormat(rendering: ChoiceRendering): ChoiceFormat {
  const { logprobs, includeUsage, calls } = rendering;
  return {
    idPrefix: "chatcmpl-",
    object: "chat.completion",
    chunkObject: "chat.completion.chunk",
    renderer: (meta, slot) =>
      new ChatCompletionStreamRenderer(meta.target, includeUsage, logprobs, { ...calls, answer: meta }, slot),
    choice: (result, meta) => renderChatCompletion(result, meta, logprobs, calls).choices[0] as object,
    usage: renderOpenAIChatUsage,
  };
}

/**
 * Several choices, each a request of its own through the router (its routing, privacy, audit,
 * retries, failover mid-stream and quality checks, each choice apart), asked for in turn (at most
 * CHOICES_STARTING_AT_ONCE waiting to begin), put together as one answer in OpenAI's shape: choice
 * `i` is `requests[i]`'s answer. Streamed, each choice's chunks pass as
 * they come, with its own `index` and finish, under one id, then the usage (summed: each choice was
 * a request, so its prompt counts once per choice) and `[DONE]`; whole, one answer with every
 * choice (or those `format.pick` chooses). The answer goes as frames (ResponseMeta.native), which
 * the route's native rendering writes and puts together as it does an upstream's own. A choice
 * that fails fails the answer: the others are stopped.
 */
export async function fanOutChoices(
  inner: Pick<Gateway, "chat">,
  requests: readonly ChatRequest[],
  context: RequestContext,
  format: ChoiceFormat,
): Promise<ChatStream> {
  // Each choice's request stops with the client, and with the others when one fails.
  const controller = new AbortController();
  const stop = () => controller.abort(context.signal.reason);
  if (context.signal.aborted) stop();
  else context.signal.addEventListener("abort", stop, { once: true });
  const release = () => context.signal.removeEventListener("abort", stop);
  const branch = { ...context, signal: controller.signal };
  const { started, failure } = await startInTurn(
    requests.length,
    CHOICES_STARTING_AT_ONCE,
    async (index) => {
      const stream = await inner.chat(requests[index] as ChatRequest, branch);
      try {
        format.started?.(stream.meta);
      } catch (err) {
        // Refused: every choice's work stops, and this stream is read to its end (the abort's
        // error) so that its target lets go of what it holds (a local model's slot).
        controller.abort(err);
        void (async () => {
          for await (const _ of stream.events);
        })().catch(() => undefined);
        throw err;
      }
      return readEagerly(stream);
    },
    // A choice that fails fails the answer: those still starting stop, and no other starts.
    () => controller.abort(),
  );
  const streams = started.filter((stream): stream is ChatStream => stream !== undefined);
  if (failure !== undefined) {
    controller.abort();
    release();
    for (const stream of streams) void stream.events[Symbol.asyncIterator]().return?.();
    throw failure.reason;
  }
  const id = makeId(format.idPrefix);
  const created = unixSeconds();
  const meta = mergedMeta(streams.map((s) => s.meta));
  if (!(requests[0] as ChatRequest).stream) {
    try {
      const results = await Promise.all(streams.map((stream) => collectChat(stream.events)));
      return { meta, events: wholeAnswer(results, meta, id, created, format) };
    } catch (err) {
      controller.abort();
      throw err;
    } finally {
      release();
    }
  }
  return { meta, events: streamedAnswer(streams, meta, { id, created }, format, controller, release) };
}

/**
 * How many choices of one answer may be waiting for their answer to start at once: the next choice
 * is asked for as soon as one of them begins to answer (its request's first token), in order.
 *
 * A local model answers `parallel` requests at once and queues at most `maxQueue` more, refusing the
 * rest at once as busy (providers/llamacpp/slot-queue.ts). Asking for every choice at once made an
 * `n` (or prompts × `n`, or `best_of`) above parallel + maxQueue a 503 "busy" on an idle server, one
 * no retry could ever get through, and let one request's choices fill the queue against every other
 * client. Counting only the choices not answering yet keeps every slot of a model busy whatever its
 * `parallel` (the choices answering hold them, while these wait for the next one to free), takes at
 * most 4 places of its queue (16 by default; a model needs 4 - `parallel` of them free), and keeps a
 * queued choice's wait, which its first-token limit counts, to about two answers' time at the
 * default `parallel` of 2. A cloud target is held up little: its choices begin to answer within
 * their time to first token and then no longer count (a whole answer, not streamed, begins as it
 * ends: there 4 are written at once).
 */
export const CHOICES_STARTING_AT_ONCE = 4;

/**
 * Calls `start` for each index in order, at most `limit` of them unsettled at once, and gives what
 * each resolved to, in index order (undefined for a choice never started or failed). After the first
 * failure, `onFailure` is told and no other is started; the others still starting are waited for.
 */
async function startInTurn<T>(
  count: number,
  limit: number,
  start: (index: number) => Promise<T>,
  onFailure: (reason: unknown) => void,
): Promise<{ started: (T | undefined)[]; failure: { reason: unknown } | undefined }> {
  const started: (T | undefined)[] = Array.from({ length: count }, () => undefined);
  let failure: { reason: unknown } | undefined;
  let next = 0;
  const lane = async (): Promise<void> => {
    while (failure === undefined && next < count) {
      const index = next++;
      try {
        started[index] = await start(index);
      } catch (reason) {
        if (failure !== undefined) continue;
        failure = { reason };
        onFailure(reason);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, lane));
  return { started, failure };
}

/** Every choice's chunks as they come, as frames; then the usage chunk and `[DONE]`. */
async function* streamedAnswer(
  streams: ChatStream[],
  meta: ResponseMeta,
  answer: { id: string; created: number },
  format: ChoiceFormat,
  controller: AbortController,
  release: () => void,
): AsyncGenerator<StreamEvent> {
  const { id, created } = answer;
  const renderers = streams.map((_, index) => format.renderer(meta, { index, id, created }));
  const usages: Usage[] = streams.map(() => ({ inputTokens: 0, outputTokens: 0 }));
  const iterators = streams.map((stream) => stream.events[Symbol.asyncIterator]());
  const pending = new Map<number, Promise<{ index: number; result: IteratorResult<StreamEvent> }>>();
  const pull = (index: number): void => {
    pending.set(
      index,
      (iterators[index] as AsyncIterator<StreamEvent>).next().then((result) => ({ index, result })),
    );
  };
  for (let index = 0; index < iterators.length; index++) pull(index);
  let finish: Extract<StreamEvent, { type: "finish" }> | undefined;
  let done = false;
  try {
    while (pending.size > 0) {
      const { index, result } = await Promise.race(pending.values());
      if (result.done) {
        pending.delete(index);
        continue;
      }
      pull(index);
      const event = result.value;
      if (event.type === "usage") mergeUsage(usages[index] as Usage, event.usage);
      if (event.type === "finish" && index === 0) finish = event;
      for (const frame of framesOf((renderers[index] as StreamRenderer).event(event))) yield frame;
    }
    const usage = summed(usages);
    const chunk = { id, object: format.chunkObject, created, model: meta.target, choices: [], usage: format.usage(usage) };
    yield { type: "frame", data: JSON.stringify(chunk), json: chunk };
    yield { type: "frame", data: "[DONE]" };
    yield { type: "usage", usage };
    yield finish ?? { type: "finish", reason: "stop" };
    done = true;
  } finally {
    release();
    if (!done) {
      // Failed, or the client left: the other choices are not answered further. Their reads in
      // flight end in the abort's error, which nobody waits for any more.
      controller.abort();
      for (const read of pending.values()) read.catch(() => undefined);
      for (const iterator of iterators) void iterator.return?.().catch(() => undefined);
    }
  }
}

/**
 * The stream read as it comes, into memory, whoever reads it: a choice that started is never held
 * up waiting for the others to start, which would never happen where they wait for it (a local
 * model with fewer slots than choices serves the later ones only once the first are done).
 */
function readEagerly(stream: ChatStream): ChatStream {
  const iterator = stream.events[Symbol.asyncIterator]();
  const channel = new EventChannel<StreamEvent>();
  let ended = false;
  void (async () => {
    try {
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) channel.push(next.value);
      channel.end();
    } catch (error) {
      channel.fail(error);
    } finally {
      ended = true;
    }
  })();
  async function* events(): AsyncGenerator<StreamEvent> {
    try {
      yield* channel;
    } finally {
      if (!ended) void iterator.return?.()?.catch(() => undefined);
    }
  }
  return { meta: stream.meta, events: events() };
}

/** The request as one choice of the fan-out: the client's body without `n`, which no longer keeps other wires away. */
function withoutChoices(request: ChatRequest): ChatRequest {
  const native = request.native;
  if (native === undefined) return request;
  const { n: _n, ...body } = native.body;
  const { text: _text, wireOnly, ...rest } = native;
  const kept = wireOnly?.filter((entry) => entry.param !== "n") ?? [];
  const single: NativeRequest = { ...rest, body, ...(kept.length > 0 && { wireOnly: kept }) };
  return { ...request, native: single };
}

/** The answer's meta: the first choice's target, every attempt counted, every warning and degradation said. */
function mergedMeta(metas: ResponseMeta[]): ResponseMeta {
  const first = metas[0] as ResponseMeta;
  const degraded = [...new Set(metas.flatMap((m) => (m.degraded ? [m.degraded] : [])))];
  const warnings = [...new Set(metas.flatMap((m) => m.warnings ?? []))];
  return {
    ...first,
    attempts: metas.reduce((sum, m) => sum + m.attempts, 0),
    degraded: degraded.length > 0 ? degraded.join("; ") : undefined,
    native: true,
    ...(warnings.length > 0 && { warnings }),
  };
}

/** The choices' usage added up (each choice was a request of its own). */
function summed(usages: readonly Usage[]): Usage {
  return usages.reduce(addUsage, { inputTokens: 0, outputTokens: 0 });
}

/** A renderer's SSE text as frames; a choice's own usage chunk is left out (the summed one ends the answer). */
function framesOf(text: string): Frame[] {
  const frames: Frame[] = [];
  for (const block of text.split("\n\n")) {
    if (!block.startsWith("data: ")) continue;
    const data = block.slice(6);
    const json = JSON.parse(data) as Json;
    if (Array.isArray(json.choices) && json.choices.length === 0) continue;
    frames.push({ type: "frame", data, json });
  }
  return frames;
}

/** The whole answer as one frame (`whole`), every chosen choice in it, and the canonical events a whole answer ends with. */
async function* wholeAnswer(
  results: readonly ChatResult[],
  meta: ResponseMeta,
  id: string,
  created: number,
  format: ChoiceFormat,
): AsyncGenerator<StreamEvent> {
  const chosen = format.pick?.(results) ?? results;
  const choices = chosen.map((result, index) => ({ ...format.choice(result, meta, index), index }));
  const usage = summed(results.map((result) => result.usage));
  const completion = { id, object: format.object, created, model: meta.target, choices, usage: format.usage(usage) };
  yield { type: "frame", data: JSON.stringify(completion), whole: true, json: completion };
  yield { type: "usage", usage };
  yield { type: "finish", reason: (chosen[0] as ChatResult).finishReason };
}
