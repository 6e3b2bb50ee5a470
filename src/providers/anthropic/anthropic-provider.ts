import {
  type ChatRequest,
  GatewayError,
  lazyStream,
  type ProviderChatRequest,
  rememberSecret,
  type StreamEvent,
} from "../../core/index.js";
import {
  type EventStreamCheck,
  editedNativeBody,
  readSseBatches,
  relayUpstreamStream,
  streamedAnswer,
  UpstreamClient,
  upstreamInit,
} from "../http/index.js";
import type { ApiKeySource, ChatProvider, ModelInfo, RemoteProviderOptions } from "../provider.js";
import { ModelListSchema } from "./anthropic-api.js";
import { anthropicStreamError, mapAnthropicErrorResponse } from "./anthropic-error.js";
import { anthropicMaxTokens, anthropicUnsent, convertToAnthropicRequest } from "./convert-to-anthropic-request.js";
import { parseAnthropicStream } from "./parse-anthropic-stream.js";
import { anthropicMessageAsEvents, readAnthropicMessage, tapAnthropicMessage } from "./read-anthropic-message.js";
import { refusedAnthropicSettings } from "./refused-anthropic-settings.js";

export interface AnthropicProviderOptions extends RemoteProviderOptions {
  /** The `anthropic-version` header sent on every request. Default "2023-06-01". */
  anthropicVersion?: string;
  /** max_tokens when the client sent none (Anthropic requires it). Default 4096. */
  defaultMaxTokens?: number;
}

/** Pages of GET /v1/models read at most, so a misbehaving upstream cannot loop us. */
const MAX_MODEL_PAGES = 20;

/**
 * Anthropic's Messages API (https://api.anthropic.com, or anything that speaks it). Streams from the
 * upstream, or asks for one whole message when `request.whole`; see convert-to-anthropic-request.ts
 * for how canonical settings are adapted.
 */
/** Anthropic's Messages API. Chat only: Anthropic has no embeddings API, so this provider has no `embed`. */
export class AnthropicProvider implements ChatProvider {
  readonly id: string;
  readonly kind = "anthropic" as const;
  readonly answersWhole = true;
  readonly capabilities = {
    wires: ["anthropic-messages"] as const,
    reasoningHistory: "signed" as const,
    // Anthropic's tool names: [A-Za-z0-9_-], 64 at most (an MCP tool's may be longer).
    maxToolNameLength: 64,
    // Tool calls and results paired, no empty message, and at least one user or assistant message.
    strictTurns: { needsTurn: true, refusesEmpty: true },
  };
  readonly #client: UpstreamClient;
  readonly #apiKey: ApiKeySource;
  readonly #headers: Record<string, string>;
  readonly #version: string;
  readonly #defaultMaxTokens: number;
  readonly #maxLineBytes: number | undefined;
  readonly #maxAnswerBytes: number | undefined;
  /** What this upstream's models refused of the bodies tandem builds (see RefusedSettings). */
  readonly #refused = refusedAnthropicSettings();

  constructor(options: AnthropicProviderOptions) {
    this.id = options.id;
    this.#apiKey = options.apiKey;
    this.#headers = options.headers ?? {};
    this.#version = options.anthropicVersion ?? "2023-06-01";
    this.#defaultMaxTokens = options.defaultMaxTokens ?? 4096;
    this.#maxLineBytes = options.limits?.maxLineBytes;
    this.#maxAnswerBytes = options.limits?.maxAnswerBytes;
    this.#client = new UpstreamClient(options.baseUrl, {
      target: options.id,
      connectTimeoutMs: options.connectTimeoutMs,
      maxAnswerBytes: options.limits?.maxAnswerBytes,
      mapError: mapAnthropicErrorResponse,
    });
  }

  unsent(request: ChatRequest): string[] {
    return anthropicUnsent(request);
  }

  sentMaxTokens(request: ChatRequest): number {
    return anthropicMaxTokens(request, { defaultMaxTokens: this.#defaultMaxTokens });
  }

  chat(request: ProviderChatRequest, signal: AbortSignal): AsyncIterable<StreamEvent> {
    return lazyStream(() => this.#chat(request, signal));
  }

  async #chat(request: ProviderChatRequest, signal: AbortSignal): Promise<AsyncIterable<StreamEvent> | StreamEvent[]> {
    const target = `${this.id}/${request.upstreamModel}`;
    const native = request.native?.wire === "anthropic-messages" ? request.native : undefined;
    // Same wire: the client's body as it came, but for the upstream's model id and `stream` (the
    // router decides whether the upstream streams); its beta and version headers go with it.
    const body = native
      ? (editedNativeBody(native, [
          ["model", request.upstreamModel],
          ["stream", request.whole !== true],
        ]) ?? { ...native.body, model: request.upstreamModel, stream: request.whole !== true })
      : convertToAnthropicRequest(request, { defaultMaxTokens: this.#defaultMaxTokens });
    const init = upstreamInit(request, signal, body);
    const headers = await this.#requestHeaders(request.apiKey);
    if (native) Object.assign(headers, native.headers);
    // A body tandem built: sent again without what the model refuses (the client's own body never is).
    const sent = <T>(send: () => Promise<T>) =>
      native ? send() : this.#refused.send(request.upstreamModel, body as Record<string, unknown>, request.onUnsent, send);
    if (request.whole) {
      const json = await sent(() => this.#client.json("POST", "/v1/messages", { ...init, headers, target }));
      return native ? tapAnthropicMessage(json, target) : readAnthropicMessage(json, target);
    }
    const res = await sent(() =>
      this.#client.send("POST", "/v1/messages", { ...init, headers: { ...headers, accept: "text/event-stream" }, target }),
    );
    const answer = await streamedAnswer(res, target, MESSAGE_STREAM, (whole) => this.#client.readJson(whole, target));
    const tap = native !== undefined;
    // A whole message instead of the stream asked for: read as the stream it stands for.
    if ("whole" in answer)
      return parseAnthropicStream([anthropicMessageAsEvents(answer.whole, target)], target, tap, this.#maxAnswerBytes);
    const lines = { target, maxLineBytes: this.#maxLineBytes };
    return relayUpstreamStream(answer.stream, signal, target, (stream) =>
      parseAnthropicStream(readSseBatches(stream, lines), target, tap, this.#maxAnswerBytes),
    );
  }

  async listModels(signal: AbortSignal): Promise<ModelInfo[]> {
    const models: ModelInfo[] = [];
    let after: string | undefined;
    for (let page = 0; page < MAX_MODEL_PAGES; page++) {
      const query = `?limit=1000${after ? `&after_id=${encodeURIComponent(after)}` : ""}`;
      const raw = await this.#client.json("GET", `/v1/models${query}`, { headers: await this.#requestHeaders(), signal });
      const parsed = ModelListSchema.safeParse(raw);
      if (!parsed.success) {
        throw new GatewayError("upstream_error", `${this.id}: the model list is not in Anthropic's shape`, { target: this.id });
      }
      for (const m of parsed.data.data) {
        const info: ModelInfo = { id: m.id, ownedBy: "anthropic" };
        const created = m.created_at ? Date.parse(m.created_at) : Number.NaN;
        if (!Number.isNaN(created)) info.created = Math.floor(created / 1000);
        if (m.max_input_tokens != null) info.contextWindow = m.max_input_tokens;
        models.push(info);
      }
      const last = parsed.data.last_id ?? parsed.data.data.at(-1)?.id;
      if (parsed.data.has_more !== true || !last || last === after) break;
      after = last;
    }
    return models;
  }

  async probe(signal: AbortSignal): Promise<void> {
    await this.listModels(signal);
  }

  close(): Promise<void> {
    return this.#client.close();
  }

  /** `chosen`: the key rotation's pick for this request (model lists and probes take the source's). */
  async #requestHeaders(chosen?: string): Promise<Record<string, string>> {
    const key = chosen ?? (await this.#apiKey());
    // Whatever the key's source, an upstream that echoes it in an error cannot pass it on.
    rememberSecret(key);
    return {
      "anthropic-version": this.#version,
      ...(key !== undefined ? { "x-api-key": key } : {}),
      ...this.#headers,
    };
  }
}

/**
 * How a 200 to a streamed request is read (see streamedAnswer): SSE, also labelled text/plain or not
 * at all (as compatible servers send it) when it begins as SSE; a whole Message (a server that
 * ignores `stream`) is the answer; a JSON error object is that error, as it would be in an
 * `event: error`, and a page (a proxy's) is named with what it says, rather than read as a stream
 * that ends before message_stop.
 */
const MESSAGE_STREAM: EventStreamCheck = {
  maxBytes: 16_384,
  wholeAnswer: (body) => (body as { type?: unknown } | null)?.type === "message",
  errorIn: (body, target) => {
    if (typeof body !== "object" || body === null) return undefined;
    const { type, error } = body as { type?: unknown; error?: { type?: unknown; message?: unknown } };
    if (type !== "error" || typeof error !== "object" || error === null) return undefined;
    return anthropicStreamError(
      typeof error.type === "string" ? error.type : undefined,
      typeof error.message === "string" ? error.message : undefined,
      target,
    );
  },
};
