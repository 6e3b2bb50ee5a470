import type { EmbedResult, NativeWire, ProviderChatRequest, ProviderEmbedRequest, StreamEvent } from "../core/index.js";
import type { CreateModelRequest, ModelSettings, PullEvent, PullResult } from "../models/index.js";
import type { AnswerLimits } from "./http/answer-limits.js";
import type { EngineState, LoadedModelStatus, SlotLoad } from "./llamacpp/index.js";

/** A model an upstream offers, as its model list reports it. */
export interface ModelInfo {
  /** The upstream's own model id, e.g. `gpt-4o-mini`, `claude-sonnet-4-5`, `llama3.2:latest`. */
  id: string;
  /** Context window in tokens, when the upstream says. */
  contextWindow?: number;
  ownedBy?: string;
  /** Unix seconds, when the upstream says. */
  created?: number;
}

export type ProviderKind = "openai" | "anthropic" | "ollama" | "llamacpp";

/** What a provider's models can take, where it is known. An absent field means "may": the upstream decides. */
export interface ProviderCapabilities {
  /** Images in the conversation. */
  vision?: boolean;
  /** Wire formats the provider can send a client's own body in (same-wire pass-through). Default none. */
  wires?: readonly NativeWire[];
}

/**
 * One backend. Every provider turns canonical requests into its upstream's wire format and the
 * upstream's answers back into canonical stream events. It never knows which dialect the client spoke.
 *
 * Contract (checked by test/providers/conformance):
 * - `chat` starts the upstream request when iteration starts and yields `start`, then content events,
 *   then exactly one `finish` (usage events anywhere before it). Upstream failures throw a GatewayError
 *   whose status/code mirror the upstream's (429 stays rate_limited with retryAfterMs, etc.).
 * - A stream that ends without the upstream's own end marker throws (never a silent truncation).
 * - Aborting `signal` stops the upstream request at once; iteration then throws a canceled error.
 */
export interface Provider {
  /** The provider's name in the config (the part of a target before the slash). */
  readonly id: string;
  readonly kind: ProviderKind;
  /**
   * Whether `chat` honours `request.whole` (asks its upstream for a whole answer rather than a
   * stream). HTTP providers do; the local engine always streams, so its time limits keep watching tokens.
   */
  readonly answersWhole?: boolean;
  /** What its models can take; the router skips it for requests it cannot serve. Default: unknown (may). */
  readonly capabilities?: ProviderCapabilities;
  chat(request: ProviderChatRequest, signal: AbortSignal): AsyncIterable<StreamEvent>;
  embed(request: ProviderEmbedRequest, signal: AbortSignal): Promise<EmbedResult>;
  /** The upstream's model list (used for discovery and as a cheap health probe). */
  listModels(signal: AbortSignal): Promise<ModelInfo[]>;
  /** Throws a GatewayError when the upstream is not usable right now. */
  probe(signal: AbortSignal): Promise<void>;
  /** Releases connection pools and child processes. */
  close(): Promise<void>;

  // Local engines only: what runs in memory here, and how busy it is.
  /** How busy one model is (slots in use, requests waiting), for sending work elsewhere. */
  load?(model: string): SlotLoad | undefined;
  /** Models held in memory now (Ollama's /api/ps). */
  loadedModels?(): LoadedModelStatus[];
  /** Loads a model and keeps it for keepAliveMs; 0 unloads it (Ollama's empty request with keep_alive). */
  preload?(model: string, keepAliveMs: number | undefined, signal: AbortSignal): Promise<void>;
  /** The engine process: running, pid, restarts, why it last stopped. */
  engineState?(): EngineState;
  /** Downloads a model into the engine's models folder (an alias, `repo:quant`, a repo). */
  pull?(reference: string, onEvent: (event: PullEvent) => void, signal: AbortSignal): Promise<PullResult>;
  /** Tokens in a text by the model's own tokenizer. */
  countTokens?(model: string, text: string, signal: AbortSignal): Promise<number>;
  /** A model's saved defaults (Ollama's create), undefined when it has none. */
  modelSettings?(model: string): Promise<ModelSettings | undefined>;
  /** Removes a model's files (unloading it first). */
  deleteModel?(model: string): Promise<void>;
  /** Copies a model under a new name; returns the name installed. */
  copyModel?(source: string, destination: string): Promise<string>;
  /** Ollama's create; returns the name installed. */
  createModel?(request: CreateModelRequest, onStatus: (status: string) => void, signal: AbortSignal): Promise<string>;
  /** Whether an uploaded blob (`sha256:<hex>`) is stored. */
  hasBlob?(digest: string): Promise<boolean>;
  /** Stores an uploaded blob, checking its digest. */
  putBlob?(digest: string, body: AsyncIterable<Uint8Array>, signal: AbortSignal): Promise<void>;
}

/** Where a provider gets its API key for each request (keys can rotate, so it is asked every time). */
export type ApiKeySource = () => Promise<string | undefined>;

export interface RemoteProviderOptions {
  id: string;
  /** Base URL of the upstream API, e.g. `https://api.openai.com/v1` (OpenAI kind), `https://api.anthropic.com` (Anthropic), `http://127.0.0.1:11434` (Ollama). */
  baseUrl: string;
  apiKey: ApiKeySource;
  /** Extra headers sent on every upstream request. */
  headers?: Record<string, string>;
  /** Milliseconds to establish a connection. Default 10000. */
  connectTimeoutMs?: number;
  /** How much of an answer is held at once (config `limits`). Default: 32 MiB whole, 8 MiB a line. */
  limits?: AnswerLimits;
}
