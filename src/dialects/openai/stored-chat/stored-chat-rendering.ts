import {
  type ChatCompletionStore,
  editJsonTopLevel,
  GatewayError,
  makeId,
  mergeUsage,
  type ResponseMeta,
  type StreamEvent,
  type Usage,
} from "../../../core/index.js";
import { type ChatRendering, frameJson, type NativeStream, type StreamRenderer } from "../../shared/index.js";
import { ChatCompletionAssembler } from "../chat-completion-assembler.js";
import { renderOpenAIChatUsage } from "../render-openai-usage.js";

type Json = Record<string, unknown>;
type Frame = Extract<StreamEvent, { type: "frame" }>;

/** The request's settings OpenAI shows with a stored completion (null when the request had none). */
const SHOWN_SETTINGS = [
  "tool_choice",
  "seed",
  "top_p",
  "temperature",
  "presence_penalty",
  "frequency_penalty",
  "tools",
  "response_format",
] as const;

/**
 * A chat completions rendering that also stores the answer (`store: true`): the completion as the
 * client gets it, whole or put together from the chunks it was streamed in, saved with the request's
 * messages and metadata before the answer's end is sent (the whole body, or the stream's
 * `data: [DONE]`), so the id the client holds can be retrieved once its answer is complete. An answer
 * that fails or is cancelled never reaches that point and is not stored.
 *
 * A same-wire target's answer is given an id of tandem's own, in every chunk or the whole body, in
 * place of the target's (the canonical renderers make their own already): an upstream's ids need not
 * be unique (Ollama's OpenAI endpoint numbers them 0 to 998), and a stored completion must never
 * replace another one.
 */
export function storedChatRendering(
  rendering: ChatRendering,
  store: ChatCompletionStore,
  /** The client's request as it sent it. */
  body: Json,
  metadata: Record<string, string>,
): ChatRendering {
  const id = makeId("chatcmpl-");
  const save = async (completion: unknown, meta: ResponseMeta): Promise<void> => {
    if (completion === null || typeof completion !== "object") return;
    const answer = completion as Json;
    // Nothing to store it under: an answer without an id cannot be retrieved anyway.
    if (typeof answer.id !== "string" || answer.id === "") return;
    const settings: Json = {};
    for (const key of SHOWN_SETTINGS) settings[key] = body[key] ?? null;
    settings.input_user = body.user ?? null;
    try {
      await store.saveCompletion({
        id: answer.id,
        model: typeof answer.model === "string" ? answer.model : meta.target,
        requestModel: typeof body.model === "string" ? body.model : "",
        metadata,
        completion: { ...settings, ...answer },
        messages: Array.isArray(body.messages) ? (body.messages as Json[]) : [],
      });
    } catch (err) {
      // The client asked for it stored: an answer it could not retrieve is not handed over as if it
      // were. A 503 (or the stream's error) it may retry; the store's own words (its file) stay here.
      throw new GatewayError("unavailable", "tandem could not store this completion (store: true) just now; try again shortly", {
        cause: err,
        retryAfterMs: 1000,
      });
    }
  };
  const chunks = new StreamedCompletion();
  const native = rendering.native;
  return {
    ...rendering,
    json: async (result, meta) => {
      const answer = await rendering.json(result, meta);
      await save(answer, meta);
      return answer;
    },
    stream: (meta) => new StoredChatStream(rendering.stream(meta), chunks, () => save(chunks.completion(meta), meta)),
    ...(native && {
      native: {
        stream: (meta) => new StoredNativeStream(native.stream(meta), chunks, id, () => save(chunks.completion(meta), meta)),
        json: async (frames, meta) => {
          const answer = withId(await native.json(frames, meta), id);
          // Undefined: the canonical rendering answers, and `json` above stores that.
          if (answer !== undefined) await save(answer, meta);
          return answer;
        },
      },
    }),
  };
}

/** A whole answer with the stored id (a copy: the body may be another's). */
function withId(answer: unknown, id: string): unknown {
  return answer !== null && typeof answer === "object" && !Array.isArray(answer) ? { ...(answer as Json), id } : answer;
}

/** A streamed answer's chunks as the client got them, put together (its first id kept: the one the client read). */
class StreamedCompletion {
  readonly #assembler = new ChatCompletionAssembler();
  readonly #usage: Usage = { inputTokens: 0, outputTokens: 0 };
  #usageSeen = false;
  #id: unknown;
  /** A chunk could not be put together with the others: the answer is not stored (it would not be the one the client got). */
  #unusable = false;

  add(chunk: Json): void {
    this.#id ??= chunk.id;
    try {
      this.#assembler.add(chunk);
    } catch {
      // Never the client's stream's problem: it goes on as it came.
      this.#unusable = true;
    }
  }

  /** One rendered write's `data:` messages (SSE; comments and `[DONE]` are not chunks). */
  addText(text: string): void {
    for (const block of text.split("\n\n")) {
      let data = "";
      for (const line of block.split("\n"))
        if (line.startsWith("data: ")) data += data === "" ? line.slice(6) : `\n${line.slice(6)}`;
      if (data === "" || data === "[DONE]") continue;
      try {
        const chunk = JSON.parse(data) as unknown;
        if (chunk !== null && typeof chunk === "object" && !Array.isArray(chunk) && !("error" in chunk)) this.add(chunk as Json);
      } catch {
        // Not a chunk (nothing tandem renders); the answer is stored without it.
      }
    }
  }

  /** The target's usage, for a client that did not ask for the usage chunk (OpenAI stores it regardless). */
  usage(usage: Partial<Usage>): void {
    this.#usageSeen = true;
    mergeUsage(this.#usage, usage);
  }

  completion(meta: ResponseMeta): Json | undefined {
    if (this.#unusable) return undefined;
    const completion = this.#assembler.completion();
    if (completion === undefined) return undefined;
    if (this.#id !== undefined) completion.id = this.#id;
    // The answering target's name, as the client read it in every chunk.
    completion.model = meta.target;
    if (completion.usage == null && this.#usageSeen) completion.usage = renderOpenAIChatUsage(this.#usage);
    return completion;
  }
}

/** The dialect's renderer, with what it writes put together and stored before its `[DONE]`. */
class StoredChatStream implements StreamRenderer {
  readonly contentType: string;
  readonly #inner: StreamRenderer;
  readonly #chunks: StreamedCompletion;
  readonly #save: () => Promise<void>;

  constructor(inner: StreamRenderer, chunks: StreamedCompletion, save: () => Promise<void>) {
    this.contentType = inner.contentType;
    this.#inner = inner;
    this.#chunks = chunks;
    this.#save = save;
  }

  event(event: StreamEvent): string {
    if (event.type === "usage") this.#chunks.usage(event.usage);
    const text = this.#inner.event(event);
    if (text !== "") this.#chunks.addText(text);
    return text;
  }

  async end(): Promise<string> {
    const end = await this.#inner.end();
    await this.#save();
    return end;
  }

  error(error: Parameters<StreamRenderer["error"]>[0]): string | Promise<string> {
    return this.#inner.error(error);
  }
}

/**
 * The target's own frames (the same-wire path), read as they pass (the upstream's usage chunk too,
 * which a client that did not ask for it is not sent), with their `[DONE]` held until the answer is stored.
 */
class StoredNativeStream implements NativeStream {
  readonly #inner: NativeStream;
  readonly #chunks: StreamedCompletion;
  readonly #id: string;
  readonly #save: () => Promise<void>;
  #done = "";

  constructor(inner: NativeStream, chunks: StreamedCompletion, id: string, save: () => Promise<void>) {
    this.#inner = inner;
    this.#chunks = chunks;
    this.#id = id;
    this.#save = save;
  }

  frame(frame: Frame): string {
    if (frame.data === "[DONE]") {
      this.#done += this.#inner.frame(frame);
      return "";
    }
    let chunk: unknown;
    try {
      chunk = frameJson(frame);
    } catch {
      // A frame that is not JSON is passed on as it came; the answer is stored without it.
      return this.#inner.frame(frame);
    }
    if (chunk === null || typeof chunk !== "object" || Array.isArray(chunk) || "error" in chunk) return this.#inner.frame(frame);
    // The chunk with the stored id, every other byte as the target sent it.
    const own = { ...(chunk as Json), id: this.#id };
    const data = editJsonTopLevel(frame.data, [["id", JSON.stringify(this.#id)]]) ?? JSON.stringify(own);
    this.#chunks.add(own);
    return this.#inner.frame({ ...frame, data, json: own });
  }

  seam(): string {
    // The canonical renderer goes on after a switch (and stores at its end): the held [DONE] is dropped with the frames.
    this.#done = "";
    return this.#inner.seam();
  }

  async end(): Promise<string> {
    const end = (await this.#inner.end?.()) ?? "";
    await this.#save();
    return this.#done + end;
  }
}
