import {
  addUsage,
  type ChatRequest,
  type ChatResult,
  type ChatStream,
  collectChat,
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
import { ChatCompletionStreamRenderer } from "./chat-completion-stream-renderer.js";
import { renderChatCompletion } from "./render-chat-completion.js";
import { renderOpenAIChatUsage } from "./render-openai-usage.js";

type Frame = Extract<StreamEvent, { type: "frame" }>;
type Json = Record<string, unknown>;

/** How the choices are rendered: as the chat completions route renders one (the client's `logprobs: true`, its custom tools). */
export interface ChoiceRendering {
  logprobs: boolean;
  includeUsage: boolean;
  custom: ReadonlySet<string>;
}

/**
 * Chat completions' `n` > 1 on every target. The request goes first as it came: a route with a
 * target on the client's wire (an OpenAI-compatible upstream) answers every choice natively in one
 * request, and the router skips the others (`n` is wire-only, NativeRequest.wireOnly). When no target
 * of the route speaks that wire, which the router says with its 400 naming `n` before any upstream is
 * asked, the choices are fanned out: `n` requests without `n`, each a request of its own through the
 * router (its routing, privacy, audit, retries, failover mid-stream and quality checks, each choice
 * apart), put together as one answer in OpenAI's shape. Streamed, each choice's chunks pass as they
 * come, with its own `index` and finish, under one id, then the usage (summed: each choice was a
 * request, so the prompt counts once per choice) and `[DONE]`; whole, one completion with every
 * choice. The answer goes as frames (ResponseMeta.native), which the route's native rendering writes
 * and puts together as it does an upstream's own. A choice that fails fails the answer: the others
 * are stopped.
 */
export class ChoicesFanOut implements Pick<Gateway, "chat"> {
  readonly #inner: Pick<Gateway, "chat">;
  readonly #n: number;
  readonly #rendering: ChoiceRendering;

  constructor(inner: Pick<Gateway, "chat">, n: number, rendering: ChoiceRendering) {
    this.#inner = inner;
    this.#n = n;
    this.#rendering = rendering;
  }

  async chat(request: ChatRequest, context: RequestContext): Promise<ChatStream> {
    try {
      return await this.#inner.chat(request, context);
    } catch (err) {
      if (!(err instanceof GatewayError && err.code === "invalid_request" && err.param === "n")) throw err;
    }
    const single = withoutChoices(request);
    // Each choice's request stops with the client, and with the others when one fails.
    const controller = new AbortController();
    const stop = () => controller.abort(context.signal.reason);
    if (context.signal.aborted) stop();
    else context.signal.addEventListener("abort", stop, { once: true });
    const release = () => context.signal.removeEventListener("abort", stop);
    const branch = { ...context, signal: controller.signal };
    const started = await Promise.allSettled(Array.from({ length: this.#n }, () => this.#inner.chat(single, branch)));
    const streams = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
    const failed = started.find((s) => s.status === "rejected");
    if (failed !== undefined) {
      controller.abort();
      release();
      for (const stream of streams) void stream.events[Symbol.asyncIterator]().return?.();
      throw failed.reason;
    }
    const id = makeId("chatcmpl-");
    const created = unixSeconds();
    if (!request.stream) {
      try {
        const results = await Promise.all(streams.map((stream) => collectChat(stream.events)));
        const meta = mergedMeta(streams.map((s) => s.meta));
        return { meta, events: wholeAnswer(results, meta, id, created, this.#rendering) };
      } catch (err) {
        controller.abort();
        throw err;
      } finally {
        release();
      }
    }
    const meta = mergedMeta(streams.map((s) => s.meta));
    return { meta, events: this.#streamed(streams, meta, id, created, controller, release) };
  }

  /** Every choice's chunks as they come, as frames; then the usage chunk and `[DONE]`. */
  async *#streamed(
    streams: ChatStream[],
    meta: ResponseMeta,
    id: string,
    created: number,
    controller: AbortController,
    release: () => void,
  ): AsyncGenerator<StreamEvent> {
    const { logprobs, includeUsage, custom } = this.#rendering;
    const renderers = streams.map(
      (_, index) => new ChatCompletionStreamRenderer(meta.target, includeUsage, logprobs, custom, { index, id, created }),
    );
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
        for (const frame of framesOf((renderers[index] as ChatCompletionStreamRenderer).event(event))) yield frame;
      }
      const usage = summed(usages);
      const chunk = {
        id,
        object: "chat.completion.chunk",
        created,
        model: meta.target,
        choices: [],
        usage: renderOpenAIChatUsage(usage),
      };
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

/** The whole answer as one frame (`whole`), every choice in it, and the canonical events a whole answer ends with. */
async function* wholeAnswer(
  results: readonly ChatResult[],
  meta: ResponseMeta,
  id: string,
  created: number,
  rendering: ChoiceRendering,
): AsyncGenerator<StreamEvent> {
  const choices = results.map((result, index) => ({
    ...(renderChatCompletion(result, meta, rendering.logprobs, rendering.custom).choices[0] as object),
    index,
  }));
  const usage = summed(results.map((result) => result.usage));
  const completion = { id, object: "chat.completion", created, model: meta.target, choices, usage: renderOpenAIChatUsage(usage) };
  yield { type: "frame", data: JSON.stringify(completion), whole: true, json: completion };
  yield { type: "usage", usage };
  yield { type: "finish", reason: (results[0] as ChatResult).finishReason };
}
