import type { EventSourceMessage } from "eventsource-parser";
import {
  type ChatRequest,
  type EmbedResult,
  GatewayError,
  lazyStream,
  type NativeWire,
  type ProviderChatRequest,
  type ProviderEmbedRequest,
  type ReasoningHistory,
  type StreamEvent,
  unreadFiles,
  unsentEffort,
  unsentKeepAlive,
  unsentOllamaEmbedFields,
  unsentPenalties,
} from "../../core/index.js";
import {
  bearerHeaders,
  type EventStreamCheck,
  type RefusedSettings,
  RememberedModels,
  readSseBatches,
  relayUpstreamStream,
  sseBatchOf,
  streamedAnswer,
  UpstreamClient,
  type UpstreamResponse,
  upstreamInit,
} from "../http/index.js";
import type { ChatProvider, EmbeddingProvider, ModelInfo, ProviderCapabilities, RemoteProviderOptions } from "../provider.js";
import { chatCompletionAsChunks } from "./chat-completion-as-chunks.js";
import { convertToOpenAIChatRequest, type MaxTokensField } from "./convert-to-openai-chat-request.js";
import { OPENAI_FILE_TYPE } from "./convert-to-openai-messages.js";
import { convertToOpenAIResponsesRequest } from "./convert-to-openai-responses-request.js";
import { mapOpenAIErrorResponse } from "./map-openai-error.js";
import { OPENAI_EFFORTS, openAIEmbeddingResponseSchema, openAIModelListSchema } from "./openai-chat-api.js";
import { parseResponsesStream, responsesUpstreamBody, tapResponsesObject } from "./openai-responses-wire.js";
import { openAIStrictUnsent } from "./openai-strict-schema.js";
import { readOpenAIChatCompletion, readOpenAIChatStream } from "./read-openai-chat-stream.js";
import { refusedChatSettings, refusedResponsesSettings, refusesToolsWithEffort } from "./refused-openai-settings.js";
import { responseAsEvents } from "./response-as-events.js";
import { nativeOpenAIChatBody, tapOpenAIChatCompletion, tapOpenAIChatStream } from "./tap-openai-chat.js";

export interface OpenAIProviderOptions extends RemoteProviderOptions {
  /**
   * The field that carries the output token limit. api.openai.com deprecated `max_tokens` and
   * rejects it for reasoning models, so it gets `max_completion_tokens`; vLLM, llama-server,
   * LM Studio, Ollama, Groq and OpenRouter all read `max_tokens` (not all know the newer name).
   * Default: `max_completion_tokens` when the base URL's host is api.openai.com, else `max_tokens`.
   */
  maxTokensField?: MaxTokensField;
  /**
   * Whether the upstream speaks OpenAI's Responses API (`POST /responses`), so that Responses
   * requests reach it natively (config `responses`); `"only"`: it serves these models through the
   * Responses API alone (OpenAI's Responses-only models), so every other request is sent as a
   * Responses request too (convert-to-openai-responses-request.ts). With true, a request with function
   * tools and reasoning that the model refuses together on chat completions (api.openai.com's gpt-5.5
   * and later) goes as a Responses request, effort kept (else it goes again at effort none). Default:
   * true when the base URL's host is api.openai.com, else false.
   */
  responses?: boolean | "only";
  /**
   * Whether earlier turns' reasoning is sent back as `reasoning_content` on assistant messages (config
   * `reasoningContent`). Default: true when the base URL's host is DeepSeek's or Moonshot's API.
   */
  reasoningContent?: boolean;
}

/** Any OpenAI-compatible upstream (`baseUrl` ends in /v1): OpenAI, OpenRouter, vLLM, LM Studio, llama-server, Groq... */
export class OpenAIProvider implements ChatProvider, EmbeddingProvider {
  readonly id: string;
  readonly kind = "openai" as const;
  readonly answersWhole = true;
  readonly capabilities: ProviderCapabilities;
  readonly #options: OpenAIProviderOptions;
  readonly #client: UpstreamClient;
  readonly #maxTokensField: MaxTokensField;
  readonly #reasoningContent: boolean;
  /** What this upstream's models refused of the bodies tandem builds, per wire (see RefusedSettings). */
  readonly #refusedChat: RefusedSettings;
  readonly #refusedResponses = refusedResponsesSettings();
  /**
   * The models outside the family known by name (REFUSES_TOOLS_WITH_EFFORT_ON_CHAT) that refused
   * function tools beside a reasoning effort on chat completions, so that such requests go to them as
   * Responses requests from the start; undefined where the upstream does not speak the Responses API
   * too (there they go at effort none).
   */
  readonly #toolsWithEffortViaResponses: RememberedModels | undefined;

  constructor(options: OpenAIProviderOptions) {
    this.id = options.id;
    this.#options = options;
    this.#client = new UpstreamClient(options.baseUrl, {
      target: options.id,
      ...(options.connectTimeoutMs !== undefined && { connectTimeoutMs: options.connectTimeoutMs }),
      mapError: mapOpenAIErrorResponse,
      maxAnswerBytes: options.limits?.maxAnswerBytes,
    });
    this.#maxTokensField = options.maxTokensField ?? defaultMaxTokensField(options.baseUrl);
    this.#reasoningContent = options.reasoningContent ?? readsReasoningContent(options.baseUrl);
    const speaksResponses = options.responses === true || (options.responses === undefined && isOpenAI(options.baseUrl));
    this.#toolsWithEffortViaResponses = speaksResponses ? new RememberedModels() : undefined;
    this.#refusedChat = refusedChatSettings(speaksResponses);
    this.capabilities = {
      // OpenAI's function names: [A-Za-z0-9_-], 64 at most (an MCP tool's may be longer).
      maxToolNameLength: 64,
      // The chat and Responses APIs refuse unpaired tool calls and results; a system prompt alone they take.
      strictTurns: { needsTurn: false, refusesEmpty: false },
      wires:
        options.responses === "only"
          ? ["openai-responses"]
          : speaksResponses
            ? ["openai-chat", "openai-responses"]
            : ["openai-chat"],
      // A request tandem builds for it goes as a Responses request only to a Responses-only upstream,
      // which reads back the reasoning it sealed; on the chat wire, the reasoning's text where the
      // upstream reads it as `reasoning_content`, else none (OpenAI's chat wire has no such field).
      // One with tools and reasoning that goes to /responses because its model refused it on the chat
      // wire (#viaResponses) reads back what that model sealed (reasoningHistoryFor).
      ...(options.responses === "only"
        ? { reasoningHistory: "sealed" as const }
        : this.#reasoningContent && { reasoningHistory: "text" as const }),
    };
  }

  /** `topK` has no OpenAI field (see convertToOpenAIChatRequest); the Responses API has no `stop`, `seed` or penalties either. */
  unsent(request: ChatRequest): string[] {
    const named = request.topK === undefined ? [] : ["top_k"];
    named.push(...unsentKeepAlive(request));
    named.push(...unsentEffort(request.reasoning, OPENAI_EFFORTS));
    // A request that goes as a Responses request only once its model refused it on chat completions
    // names these then (see #viaResponses).
    if (this.#options.responses === "only") named.push(...unsentOnResponses(request));
    named.push(...unreadFiles(request, (type) => type === OPENAI_FILE_TYPE));
    named.push(...openAIStrictUnsent(request));
    return named;
  }

  /**
   * A request that goes to /responses because its model refuses it on chat completions (see
   * #viaResponses) reads back the reasoning that model sealed, as a Responses-only upstream does.
   * A model outside the family known by name is sent the chat wire's request, without it, until its
   * refusal is known.
   */
  reasoningHistoryFor(request: ChatRequest, upstreamModel: string): ReasoningHistory | undefined {
    if (this.#sendsToolsWithEffortViaResponses(upstreamModel) && asksEffortBesideTools(request)) return "sealed";
    return this.capabilities.reasoningHistory;
  }

  /**
   * A chat completions client's own request with function tools, which the model is known to refuse
   * on chat completions, goes in canonical form rather than to the refusal. With an effort: as a
   * Responses request where the upstream has the API (#viaResponses), as LiteLLM bridges it, else at
   * effort none, named. With no effort, to gpt-5.5 and later (which think by default): at effort none
   * once refused, as the refusal advises. `none` itself is taken on chat completions, as it came.
   */
  takesOwnBody(wire: NativeWire, request: ChatRequest, upstreamModel: string): boolean {
    if (wire !== "openai-chat" || (request.tools?.length ?? 0) === 0) return true;
    if (request.reasoning === undefined) return !REFUSES_TOOLS_ON_CHAT_UNLESS_NONE.test(upstreamModel);
    return !request.reasoning.enabled || !this.#refusesToolsWithEffortOnChat(upstreamModel);
  }

  chat(request: ProviderChatRequest, signal: AbortSignal): AsyncIterable<StreamEvent> {
    return lazyStream(() => this.#chat(request, signal));
  }

  async #chat(request: ProviderChatRequest, signal: AbortSignal): Promise<AsyncIterable<StreamEvent> | StreamEvent[]> {
    const target = `${this.id}/${request.upstreamModel}`;
    if (request.native?.wire === "openai-responses") return this.#responses(request, signal, target);
    if (this.#options.responses === "only") return this.#canonicalResponses(request, signal, target);
    const models = this.#toolsWithEffortViaResponses;
    if (models === undefined || request.native !== undefined || !asksEffortBesideTools(request))
      return this.#chatCompletions(request, signal, target);
    if (this.#sendsToolsWithEffortViaResponses(request.upstreamModel)) return this.#viaResponses(request, signal, target);
    try {
      return await this.#chatCompletions(request, signal, target);
    } catch (err) {
      // "To use function tools, use /v1/responses or set reasoning_effort to 'none'": the former keeps the effort asked.
      if (!refusesToolsWithEffort(err)) throw err;
      models.add(request.upstreamModel);
      return this.#viaResponses(request, signal, target);
    }
  }

  /** Whether function tools beside an effort go to `model` as a Responses request from the start: its family's refusal is known, or was met. */
  #sendsToolsWithEffortViaResponses(model: string): boolean {
    return this.#toolsWithEffortViaResponses !== undefined && this.#refusesToolsWithEffortOnChat(model);
  }

  /** Whether `model` is known to refuse function tools beside an effort on chat completions: by its family's name, or its refusal met. */
  #refusesToolsWithEffortOnChat(model: string): boolean {
    return REFUSES_TOOLS_WITH_EFFORT_ON_CHAT.test(model) || this.#toolsWithEffortViaResponses?.has(model) === true;
  }

  /** Chat completions: the client's own body on the same wire, else the one tandem builds. */
  async #chatCompletions(
    request: ProviderChatRequest,
    signal: AbortSignal,
    target: string,
  ): Promise<AsyncIterable<StreamEvent> | StreamEvent[]> {
    // Same wire: the client's body as it came (see tap-openai-chat.ts), with its OpenAI-Beta header.
    const native = request.native?.wire === "openai-chat" ? request.native : undefined;
    const body = native
      ? nativeOpenAIChatBody(native, request.upstreamModel, request.whole === true)
      : convertToOpenAIChatRequest(request, this.#maxTokensField, this.#reasoningContent);
    const init = upstreamInit(request, signal, body);
    const headers = await this.#headers(request.apiKey);
    if (native) {
      Object.assign(headers, native.headers);
      if (request.whole)
        return tapOpenAIChatCompletion(
          await this.#client.json("POST", "/chat/completions", { ...init, headers, target }),
          target,
        );
    }
    // A body tandem built: sent again without what the model refuses (the client's own body never is).
    const sent = <T>(send: () => Promise<T>) =>
      native ? send() : this.#refusedChat.send(request.upstreamModel, body as Record<string, unknown>, request.onUnsent, send);
    if (request.whole) {
      return readOpenAIChatCompletion(
        await sent(() => this.#client.json("POST", "/chat/completions", { ...init, headers, target })),
        target,
      );
    }
    const res = await sent(() =>
      this.#client.send("POST", "/chat/completions", { ...init, headers: { ...headers, accept: "text/event-stream" }, target }),
    );
    const answer = await streamedAnswer(res, target, CHAT_STREAM, this.#readJson(target));
    const lines = { target, maxLineBytes: this.#options.limits?.maxLineBytes };
    const maxHeld = this.#options.limits?.maxAnswerBytes;
    const read = (batches: AsyncIterable<EventSourceMessage[]>) =>
      native ? tapOpenAIChatStream(batches, target, maxHeld) : readOpenAIChatStream(batches, target);
    // A whole completion instead of the stream asked for: read as the stream it stands for.
    if ("whole" in answer) return read(sseBatchOf(chatCompletionAsChunks(answer.whole)));
    return relayUpstreamStream(answer.stream, signal, target, (stream) => read(readSseBatches(stream, lines)));
  }

  /** Same wire: a Responses request as the dialect prepared it, and the upstream's own events tapped (see openai-responses-wire.ts). */
  async #responses(request: ProviderChatRequest, signal: AbortSignal, target: string): Promise<AsyncIterable<StreamEvent>> {
    const native = request.native as NonNullable<ProviderChatRequest["native"]>;
    const whole = request.whole === true;
    const init = upstreamInit(request, signal, responsesUpstreamBody(native, target, request.upstreamModel, whole));
    const headers = { ...(await this.#headers(request.apiKey)), ...native.headers };
    if (whole) return tapResponsesObject(await this.#client.json("POST", "/responses", { ...init, headers, target }), target);
    const res = await this.#client.send("POST", "/responses", {
      ...init,
      headers: { ...headers, accept: "text/event-stream" },
      target,
    });
    return this.#responsesEvents(res, signal, target);
  }

  /** A streamed Responses answer's events (see parseResponsesStream), or a whole Response's, read as the stream it stands for. */
  async #responsesEvents(res: UpstreamResponse, signal: AbortSignal, target: string): Promise<AsyncIterable<StreamEvent>> {
    const answer = await streamedAnswer(res, target, RESPONSES_STREAM, this.#readJson(target));
    const maxHeld = this.#options.limits?.maxAnswerBytes;
    if ("whole" in answer) return parseResponsesStream([responseAsEvents(answer.whole)], target, maxHeld);
    const lines = { target, maxLineBytes: this.#options.limits?.maxLineBytes };
    return relayUpstreamStream(answer.stream, signal, target, (body) =>
      parseResponsesStream(readSseBatches(body, lines), target, maxHeld),
    );
  }

  /** Reads a whole JSON answer to a streamed request, within limits.maxAnswerBytes as any whole answer. */
  #readJson(target: string): (res: UpstreamResponse) => Promise<unknown> {
    return (res) => this.#client.readJson(res, target);
  }

  /**
   * A request with function tools and a reasoning effort to a model that takes them together only on
   * the Responses API (api.openai.com's gpt-5.5 and later), sent there: the effort kept. What that API
   * has no field for is named as on a Responses-only upstream; unsent() answered for the chat wire.
   */
  #viaResponses(request: ProviderChatRequest, signal: AbortSignal, target: string): Promise<AsyncIterable<StreamEvent>> {
    return this.#canonicalResponses(request, signal, target, unsentOnResponses(request));
  }

  /**
   * Any other request to a Responses-only upstream (and those of #viaResponses): the canonical
   * request as a Responses request, its answer read as canonical events (the upstream's own frames
   * dropped: the client is on another wire, or its dialect renders this answer itself). `unsent`: what
   * the body leaves out that unsent() did not name, told with what the model refused (onUnsent).
   */
  async #canonicalResponses(
    request: ProviderChatRequest,
    signal: AbortSignal,
    target: string,
    unsent: readonly string[] = [],
  ): Promise<AsyncIterable<StreamEvent>> {
    const whole = request.whole === true;
    const body = convertToOpenAIResponsesRequest(request, target);
    const init = upstreamInit(request, signal, body);
    const headers = await this.#headers(request.apiKey);
    // Sent again without what the model refuses (see RefusedSettings); each told once, when an answer is accepted.
    const sent = async <T>(send: () => Promise<T>) => {
      let refused: readonly string[] = [];
      const answer = await this.#refusedResponses.send(request.upstreamModel, body, (fields) => (refused = fields), send);
      const named = [...new Set([...unsent, ...refused])];
      if (named.length > 0) request.onUnsent?.(named);
      return answer;
    };
    if (whole)
      return withoutFrames(
        tapResponsesObject(await sent(() => this.#client.json("POST", "/responses", { ...init, headers, target })), target),
      );
    const res = await sent(() =>
      this.#client.send("POST", "/responses", { ...init, headers: { ...headers, accept: "text/event-stream" }, target }),
    );
    return withoutFrames(await this.#responsesEvents(res, signal, target));
  }

  async embed(request: ProviderEmbedRequest, signal: AbortSignal): Promise<EmbedResult> {
    const target = `${this.id}/${request.upstreamModel}`;
    const json = await this.#client.json("POST", "/embeddings", {
      headers: await this.#headers(request.apiKey),
      ...upstreamInit(request, signal, {
        model: request.upstreamModel,
        input: request.input,
        encoding_format: "float",
        ...(request.dimensions !== undefined && { dimensions: request.dimensions }),
        ...(request.user !== undefined && { user: request.user }),
      }),
    });
    const parsed = openAIEmbeddingResponseSchema.safeParse(json);
    if (!parsed.success || parsed.data.data.length !== request.input.length) {
      throw new GatewayError("upstream_error", `${target}: the embeddings answer does not match the request`, { target });
    }
    const data = [...parsed.data.data].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
    const unsent = unsentOllamaEmbedFields(request, false);
    return {
      embeddings: data.map((item) => item.embedding),
      usage: { inputTokens: parsed.data.usage?.prompt_tokens ?? 0 },
      ...(unsent.length > 0 && { unsent }),
    };
  }

  async listModels(signal: AbortSignal): Promise<ModelInfo[]> {
    const json = await this.#client.json("GET", "/models", { headers: await this.#headers(), signal });
    const parsed = openAIModelListSchema.safeParse(json);
    if (!parsed.success) {
      throw new GatewayError("upstream_error", `${this.id}: the model list has an unexpected shape`, { target: this.id });
    }
    return parsed.data.data.map((model): ModelInfo => {
      const info: ModelInfo = { id: model.id };
      const contextWindow = model.context_length ?? model.max_model_len;
      if (contextWindow != null) info.contextWindow = contextWindow;
      if (model.owned_by != null) info.ownedBy = model.owned_by;
      if (model.created != null) info.created = model.created;
      return info;
    });
  }

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
}

/** What a request asks that the Responses API has no field for: `stop`, `seed` and the penalties (see convertToOpenAIResponsesRequest). */
function unsentOnResponses(request: ChatRequest): string[] {
  const named: string[] = [];
  if (request.stop !== undefined && request.stop.length > 0) named.push("stop");
  if (request.seed !== undefined) named.push("seed");
  named.push(...unsentPenalties(request));
  return named;
}

/**
 * OpenAI's models known to refuse function tools beside a reasoning effort on chat completions:
 * gpt-5.2 and later of the gpt-5 line, with their suffixes and dated snapshots (`gpt-5.6-terra`,
 * `gpt-5.5-2026-04-23`), as LiteLLM and LibreChat send them to /v1/responses by name (gpt-5.2 and
 * gpt-5.4's refusals were reported from March 2026). Any other model is learned from its refusal,
 * one refused round trip an hour.
 */
const REFUSES_TOOLS_WITH_EFFORT_ON_CHAT = /^gpt-5\.(?:[2-9]|[1-9]\d)(?:[-.]|$)/;

/**
 * Those of them that think by default (gpt-5.5 and later): function tools on chat completions are
 * refused with no effort given too; only `reasoning_effort: "none"` is taken.
 */
const REFUSES_TOOLS_ON_CHAT_UNLESS_NONE = /^gpt-5\.(?:[5-9]|[1-9]\d)(?:[-.]|$)/;

/**
 * Whether a request has function tools and asks for reasoning (at any level: the canonical request
 * has no "none" level, only reasoning not enabled), which api.openai.com's gpt-5.5 and later refuse
 * together on chat completions.
 */
function asksEffortBesideTools(request: ChatRequest): boolean {
  return (request.tools?.length ?? 0) > 0 && request.reasoning?.enabled === true;
}

function defaultMaxTokensField(baseUrl: string): MaxTokensField {
  return isOpenAI(baseUrl) ? "max_completion_tokens" : "max_tokens";
}

/** The APIs whose thinking models want earlier turns' reasoning back as `reasoning_content` (see OpenAIProviderOptions). */
const READS_REASONING_CONTENT = new Set(["api.deepseek.com", "api.moonshot.ai", "api.moonshot.cn"]);

function readsReasoningContent(baseUrl: string): boolean {
  return READS_REASONING_CONTENT.has(hostOf(baseUrl) ?? "");
}

function isOpenAI(baseUrl: string): boolean {
  return hostOf(baseUrl) === "api.openai.com";
}

/** The base URL's host name, which the defaults above go by; undefined for a URL that does not parse. */
function hostOf(baseUrl: string): string | undefined {
  try {
    return new URL(baseUrl).hostname;
  } catch {
    return undefined;
  }
}

/** How a 200 to a streamed chat request is read (see streamedAnswer): a whole `chat.completion` is the answer. */
const CHAT_STREAM: EventStreamCheck = {
  maxBytes: 2000,
  wholeAnswer: (body) => Array.isArray((body as { choices?: unknown } | null)?.choices),
};

/** How a 200 to a streamed Responses request is read: a whole Response object is the answer. */
const RESPONSES_STREAM: EventStreamCheck = {
  maxBytes: 2000,
  wholeAnswer: (body) => (body as { object?: unknown } | null)?.object === "response",
};

/** Canonical events only: a Responses upstream's own frames are for a Responses client on the same-wire path. */
async function* withoutFrames(events: AsyncIterable<StreamEvent>): AsyncGenerator<StreamEvent> {
  for await (const event of events) if (event.type !== "frame") yield event;
}
