import {
  type ChatRequest,
  type EmbedResult,
  GatewayError,
  lazyStream,
  type NativeEmbedRequest,
  type NativeRequest,
  type ProviderChatRequest,
  type ProviderEmbedRequest,
  type StreamEvent,
} from "../../core/index.js";
import {
  bearerHeaders,
  type EventStreamCheck,
  editedNativeBody,
  isWebPage,
  readNdjsonBatches,
  relayUpstreamStream,
  streamedAnswer,
  UpstreamClient,
  type UpstreamResponse,
  upstreamInit,
} from "../http/index.js";
import type {
  ChatProvider,
  EmbeddingProvider,
  ModelDescriber,
  ModelInfo,
  ModelLoader,
  RemoteProviderOptions,
  UpstreamModelFile,
} from "../provider.js";
import { convertToOllamaChatRequest, convertToOllamaGenerateRequest, ollamaUnsent } from "./convert-to-ollama-chat-request.js";
import { mapOllamaErrorResponse } from "./map-ollama-error.js";
import {
  type OllamaTagsEntry,
  ollamaEmbeddingResponseSchema,
  ollamaEmbedResponseSchema,
  ollamaTagsResponseSchema,
} from "./ollama-api.js";
import { asOllamaChatLine, parseOllamaChatLines, parseOllamaChatStream } from "./parse-ollama-chat-stream.js";
import { refusedOllamaSettings } from "./refused-ollama-settings.js";
import { nativeOllamaBody, OLLAMA_NATIVE_PATHS, ollamaNative, tapOllamaLines, tapOllamaWhole } from "./tap-ollama.js";

/**
 * An Ollama server (local, remote, or Ollama's cloud) as a provider. `baseUrl` is the origin,
 * e.g. `http://127.0.0.1:11434`. An API key, when one is configured, is sent as
 * `Authorization: Bearer` (Ollama's cloud and authenticating proxies take it that way); a plain
 * local Ollama needs none. Chat streams from the upstream unless `request.whole`.
 */
export class OllamaProvider implements ChatProvider, EmbeddingProvider, ModelLoader, ModelDescriber {
  readonly id: string;
  readonly kind = "ollama" as const;
  readonly answersWhole = true;
  /** A raw prompt and fill-in-the-middle go to /api/generate (the model's own FIM template). */
  readonly capabilities = {
    wires: ["ollama-chat", "ollama-generate"] as const,
    reasoningHistory: "text" as const,
    rawPrompts: true,
    infill: true,
    // Sent as `options.num_ctx`: Ollama loads the model with that window (capped at its trained one).
    requestedWindow: true,
  };
  readonly #client: UpstreamClient;
  readonly #options: RemoteProviderOptions;
  /** What this upstream's models refused of the bodies tandem builds (see RefusedSettings). */
  readonly #refused = refusedOllamaSettings();

  constructor(options: RemoteProviderOptions) {
    this.id = options.id;
    this.#options = options;
    this.#client = new UpstreamClient(options.baseUrl, {
      target: options.id,
      ...(options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs }),
      mapError: mapOllamaErrorResponse,
      maxAnswerBytes: options.limits?.maxAnswerBytes,
    });
  }

  unsent(request: ChatRequest): string[] {
    return ollamaUnsent(request);
  }

  chat(request: ProviderChatRequest, signal: AbortSignal): AsyncIterable<StreamEvent> {
    return lazyStream(() => this.#chat(request, signal));
  }

  async #chat(request: ProviderChatRequest, signal: AbortSignal): Promise<AsyncIterable<StreamEvent> | StreamEvent[]> {
    const target = `${this.id}/${request.upstreamModel}`;
    // Same wire: the client's own /api/chat or /api/generate body, to the same path (see tap-ollama.ts).
    const native = ollamaNative(request.native);
    // A raw prompt (with or without a suffix) is continued by /api/generate, not chatted.
    const completion = request.completion;
    const path = completion === undefined ? "chat" : "generate";
    const body = native
      ? nativeOllamaBody(native, request.upstreamModel, request.whole === true)
      : completion === undefined
        ? convertToOllamaChatRequest(request)
        : convertToOllamaGenerateRequest({ ...request, completion });
    const init = { ...upstreamInit(request, signal, body), headers: await this.#headers(request.apiKey) };
    if (native) {
      const path = OLLAMA_NATIVE_PATHS[native.wire];
      if (request.whole) return tapOllamaWhole(await this.#client.json("POST", path, { ...init, target }), target, native.wire);
      const res = await this.#ndjson(await this.#client.send("POST", path, { ...init, target }), target);
      const lines = { target, maxLineBytes: this.#options.limits?.maxLineBytes };
      return relayUpstreamStream(res, signal, target, (stream) =>
        tapOllamaLines(readNdjsonBatches(stream, lines), target, native.wire),
      );
    }
    // A body tandem built: sent again without what the model refuses (see RefusedSettings).
    const sent = <T>(send: () => Promise<T>) =>
      this.#refused.send(request.upstreamModel, body as unknown as Record<string, unknown>, request.onUnsent, send);
    if (request.whole) {
      const answer = await sent(() => this.#client.json("POST", `/api/${path}`, { ...init, target }));
      return parseOllamaChatLines([path === "generate" ? asOllamaChatLine(answer) : answer], target);
    }
    const res = await this.#ndjson(await sent(() => this.#client.send("POST", `/api/${path}`, { ...init, target })), target);
    const lines = { target, maxLineBytes: this.#options.limits?.maxLineBytes };
    return relayUpstreamStream(res, signal, target, (stream) => parseOllamaChatStream(stream, target, lines, path));
  }

  /**
   * A 200 to a streamed request as the NDJSON stream to read: anything but a web page is read as
   * lines (a whole JSON answer, from a server that ignores `stream`, is one line).
   */
  async #ndjson(res: UpstreamResponse, target: string): Promise<UpstreamResponse> {
    const answer = await streamedAnswer(res, target, NOT_A_STREAM, (whole) => this.#client.readJson(whole, target));
    // NOT_A_STREAM names no whole answer: a JSON body is a stream of one line.
    if ("whole" in answer) throw new GatewayError("internal", `${target}: an Ollama answer was taken for a whole one`);
    return answer.stream;
  }

  async embed(request: ProviderEmbedRequest, signal: AbortSignal): Promise<EmbedResult> {
    const headers = await this.#headers(request.apiKey);
    if (request.native) return this.#nativeEmbed(request, request.native, headers, signal);
    // Ollama's legacy endpoint answers the model's own vector, /api/embed a unit-length one: a
    // request for the raw vector (EmbedRequest.raw) goes to the legacy one, an input at a time.
    if (request.raw) {
      const embeddings: number[][] = [];
      for (const prompt of request.input) {
        const answer = await this.#client.json("POST", "/api/embeddings", {
          headers,
          ...upstreamInit(request, signal, { model: request.upstreamModel, prompt, ...ollamaEmbedSettings(request) }),
        });
        embeddings.push(this.#legacyVector(answer));
      }
      return { embeddings, usage: { inputTokens: 0 } };
    }
    const answer = await this.#client.json("POST", "/api/embed", {
      headers,
      ...upstreamInit(request, signal, {
        model: request.upstreamModel,
        input: request.input,
        ...(request.dimensions === undefined ? {} : { dimensions: request.dimensions }),
        ...(request.truncate === undefined ? {} : { truncate: request.truncate }),
        ...ollamaEmbedSettings(request),
      }),
    });
    const parsed = ollamaEmbedResponseSchema.safeParse(answer);
    if (!parsed.success) throw this.#malformed("/api/embed");
    return { embeddings: parsed.data.embeddings, usage: { inputTokens: parsed.data.prompt_eval_count ?? 0 } };
  }

  /**
   * The client's own /api/embed or /api/embeddings body, sent as it came to the same path but for
   * `model`: its `keep_alive`, `truncate`, `options` and any other field reach the upstream as
   * written, and its answer (durations, vectors) comes back whole.
   */
  async #nativeEmbed(
    request: ProviderEmbedRequest,
    native: NativeEmbedRequest,
    headers: Record<string, string>,
    signal: AbortSignal,
  ): Promise<EmbedResult> {
    const model: [string, string] = ["model", request.upstreamModel];
    const body = editedNativeBody(native, [model]) ?? { ...native.body, model: request.upstreamModel };
    const path = native.wire === "ollama-embed" ? "/api/embed" : "/api/embeddings";
    const answer = await this.#client.json("POST", path, { headers, ...upstreamInit(request, signal, body) });
    if (native.wire === "ollama-embeddings") {
      return { embeddings: [this.#legacyVector(answer)], usage: { inputTokens: 0 }, native: answer as Record<string, unknown> };
    }
    const parsed = ollamaEmbedResponseSchema.safeParse(answer);
    if (!parsed.success) throw this.#malformed(path);
    return {
      embeddings: parsed.data.embeddings,
      usage: { inputTokens: parsed.data.prompt_eval_count ?? 0 },
      native: answer as Record<string, unknown>,
    };
  }

  /** The vector of a legacy /api/embeddings answer (`{"embedding": [...]}`). */
  #legacyVector(answer: unknown): number[] {
    const parsed = ollamaEmbeddingResponseSchema.safeParse(answer);
    if (!parsed.success) throw this.#malformed("/api/embeddings");
    return parsed.data.embedding;
  }

  /**
   * The client's own load or unload request (an /api/chat or /api/generate body with no messages or
   * prompt; `keep_alive` 0 unloads), sent as written but for `model`: the upstream loads or unloads
   * the model, and its answer (`done_reason` load or unload) comes back as it sent it.
   */
  async loadModel(native: NativeRequest, upstreamModel: string, signal: AbortSignal): Promise<Record<string, unknown>> {
    const wire = ollamaNative(native);
    if (!wire) throw new GatewayError("internal", `${this.id}: a load request of another wire (${native.wire})`);
    const target = `${this.id}/${upstreamModel}`;
    const body = editedNativeBody(native, [["model", upstreamModel]]) ?? { ...native.body, model: upstreamModel };
    const path = OLLAMA_NATIVE_PATHS[wire.wire];
    const answer = await this.#client.json("POST", path, { headers: await this.#headers(), body, signal, target });
    if (typeof answer !== "object" || answer === null || Array.isArray(answer)) throw this.#malformed(path);
    return answer as Record<string, unknown>;
  }

  /** The upstream's own /api/show answer (capabilities, details, model_info...) for one of its models. */
  async describeModel(upstreamModel: string, signal: AbortSignal): Promise<Record<string, unknown>> {
    const target = `${this.id}/${upstreamModel}`;
    const answer = await this.#client.json("POST", "/api/show", {
      headers: await this.#headers(),
      body: { model: upstreamModel },
      signal,
      target,
    });
    if (typeof answer !== "object" || answer === null || Array.isArray(answer)) throw this.#malformed("/api/show");
    return answer as Record<string, unknown>;
  }

  async listModels(signal: AbortSignal): Promise<ModelInfo[]> {
    const answer = await this.#client.json("GET", "/api/tags", { headers: await this.#headers(), signal });
    const parsed = ollamaTagsResponseSchema.safeParse(answer);
    if (!parsed.success) throw this.#malformed("/api/tags");
    const models: ModelInfo[] = [];
    for (const model of parsed.data.models ?? []) {
      const id = model.model || model.name;
      if (!id) continue;
      const modified = model.modified_at ? Date.parse(model.modified_at) : Number.NaN;
      const dated = !Number.isNaN(modified) && modified > 0;
      const upstreamFile = upstreamModelFile(model, dated);
      models.push({
        id,
        ...(dated && { created: Math.floor(modified / 1000) }),
        ...(upstreamFile && { upstreamFile }),
      });
    }
    return models;
  }

  /** The model list rather than /api/version: it also proves the key works on servers that need one. */
  async probe(signal: AbortSignal): Promise<void> {
    await this.listModels(signal);
  }

  close(): Promise<void> {
    return this.#client.close();
  }

  /** `chosen`: the key rotation's pick for this request (model lists and probes take the source's). */
  #headers(chosen?: string): Promise<Record<string, string>> {
    return bearerHeaders(this.#options.apiKey, this.#options.headers, chosen);
  }

  #malformed(path: string): GatewayError {
    return new GatewayError("upstream_error", `${this.id}: Ollama answered ${path} with an unexpected shape`, {
      target: this.id,
    });
  }
}

/** The `options` and `keep_alive` of an embedding request tandem builds, as Ollama reads them. */
function ollamaEmbedSettings(request: ProviderEmbedRequest): { options?: Record<string, unknown>; keep_alive?: string | number } {
  return {
    ...(request.options === undefined ? {} : { options: request.options }),
    ...(request.keepAliveMs === undefined ? {} : { keep_alive: ollamaKeepAlive(request.keepAliveMs) }),
  };
}

/** A keep-alive in ms as Ollama's `keep_alive` reads it: a Go duration, or -1 (keep the model loaded). */
function ollamaKeepAlive(ms: number): string | number {
  return ms < 0 ? -1 : `${ms}ms`;
}

/**
 * A 200 to a streamed request is read as NDJSON lines whatever its content type (Ollama's own error
 * objects included), unless it is a web page (a proxy's): that is named with what it says, rather
 * than read as lines that are not JSON.
 */
const NOT_A_STREAM: EventStreamCheck = {
  maxBytes: 2000,
  streams: (contentType) => !isWebPage(contentType),
  expected: "an NDJSON stream",
};

/**
 * What an /api/tags entry says of its model's file, keeping only what it said; undefined when it
 * said nothing. `dated`: its `modified_at` is a time (one that is not is left out, as clients parse it).
 */
function upstreamModelFile(model: OllamaTagsEntry, dated: boolean): UpstreamModelFile | undefined {
  const d = model.details;
  const file: UpstreamModelFile = {
    ...(typeof model.size === "number" && Number.isSafeInteger(model.size) && model.size >= 0 && { bytes: model.size }),
    ...(model.digest && { digest: model.digest }),
    ...(dated && model.modified_at && { modifiedAt: model.modified_at }),
    ...(d?.parent_model != null && { parentModel: d.parent_model }),
    ...(d?.format && { format: d.format }),
    ...(d?.family && { family: d.family }),
    ...(d?.families != null && { families: d.families }),
    ...(d?.parameter_size && { parameterSize: d.parameter_size }),
    ...(d?.quantization_level && { quantization: d.quantization_level }),
  };
  return Object.keys(file).length > 0 ? file : undefined;
}
