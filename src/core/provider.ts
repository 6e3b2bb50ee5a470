import { GatewayError } from "./errors.js";
import type { EngineState, LoadedModelStatus, SlotLoad } from "./local-engine.js";
import type { CreateModelRequest, ModelSettings } from "./model-library.js";
import type { NativeRequest, NativeWire } from "./native.js";
import type { PullEvent, PullResult } from "./pull-events.js";
import type { ReasoningHistory } from "./reasoning.js";
import type { ChatRequest, EmbedResult, ProviderChatRequest, ProviderEmbedRequest } from "./request.js";
import type { StreamEvent } from "./stream.js";
import type { StrictTurns } from "./strict-turns.js";

/*
 * The provider contract, as capabilities: every provider chats; some embed; an embedded engine is also
 * a local engine. A provider has the methods of the capabilities it has and lacks the others (no
 * method that only throws), so callers ask `provider.embed` or `provider.pull`, never its kind.
 * Checked for every provider by the shared suite in test/providers/conformance.ts.
 */

/** A model an upstream offers, as its model list reports it. */
export interface ModelInfo {
  /** The upstream's own model id, e.g. `gpt-4o-mini`, `claude-sonnet-4-5`, `llama3.2:latest`. */
  id: string;
  /** Context window in tokens, when the upstream says. */
  contextWindow?: number;
  /**
   * The context the model was trained on, in tokens, when its provider knows it (the embedded
   * engine reads it from the GGUF): a window a request asks for is run at most this large
   * (requestedWindow), so the router fits a conversation to that, not to the size asked.
   */
  trainedContext?: number;
  ownedBy?: string;
  /** Unix seconds, when the upstream says. */
  created?: number;
  /** The model's file, for a model served from a file on this machine (the embedded engine's GGUF). */
  file?: ModelFile;
  /** The model's file on the upstream that serves it, as the upstream's model list describes it (an Ollama server's). */
  upstreamFile?: UpstreamModelFile;
}

/**
 * What an upstream that keeps model files of its own (an Ollama server, in its /api/tags) says of
 * one, in its own words: clients of tandem's Ollama API show a model's size, digest, date and kind,
 * and should see the upstream's, not blanks. Each field is absent when the upstream did not say.
 */
export interface UpstreamModelFile {
  /** The weights' size in bytes. */
  bytes?: number;
  /** The upstream's digest of the model (Ollama's: of its manifest, 64 hex digits). */
  digest?: string;
  /** When the upstream last changed the model, as it wrote it (RFC 3339, to the upstream's precision). */
  modifiedAt?: string;
  /** Ollama's `details`: `gguf`, `llama`, `3.2B`, `Q4_K_M`... */
  parentModel?: string;
  format?: string;
  family?: string;
  families?: string[];
  parameterSize?: string;
  quantization?: string;
}

/** What a local model's file says of it (a GGUF header), as Ollama's model details show it. */
export interface ModelFile {
  /** The file's size in bytes (all its parts, for a split model's first part: the first part's). */
  bytes: number;
  /** `general.architecture`, e.g. `llama`, `qwen2`. */
  architecture?: string;
  /** The weights' type, e.g. `Q4_K_M`, `F16`. */
  quantization?: string;
  /**
   * Whether its chat template has a thinking mode (Ollama's `thinking` capability): the model can be
   * asked to think, and the engine shows its reasoning. Absent where nobody read the file.
   */
  thinks?: boolean;
}

/** What a provider's models can take, where it is known. An absent field means "may": the upstream decides. */
export interface ProviderCapabilities {
  /** Images in the conversation. */
  vision?: boolean;
  /** Wire formats the provider can send a client's own body in (same-wire pass-through). Default none. */
  wires?: readonly NativeWire[];
  /** What it can be sent of earlier turns' reasoning (see ReasoningHistory). Default: none (left out, with a warning). */
  reasoningHistory?: ReasoningHistory;
  /**
   * The longest tool name its wire takes, in `[A-Za-z0-9_-]` (OpenAI's and Anthropic's: 64). A longer
   * name, or one with other characters (an MCP tool's), goes as its alias, and the answer's calls
   * come back under the client's name (see core/tool-name-aliases.ts). Default: any name.
   */
  maxToolNameLength?: number;
  /**
   * Its API refuses a conversation whose tool calls and results do not pair up, or with empty
   * messages (see StrictTurns): a translated conversation is mended on its way (core/strict-turns.ts,
   * each mend named in x-tandem-warnings), and one with nothing left it takes skips the provider.
   * Default: any conversation is sent as it is (Ollama, the local engine).
   */
  strictTurns?: StrictTurns;
  /**
   * Continues a raw prompt (ChatRequest.completion) as text, without a chat template. Default false:
   * the prompt is sent as one user message, and a client's explicit `raw` is named in x-tandem-warnings.
   */
  rawPrompts?: boolean;
  /**
   * Fills in the middle (ChatRequest.completion.suffix). Default false: a request with a suffix
   * skips the provider (see router/target-fit.ts).
   */
  infill?: boolean;
  /**
   * Reports the log probabilities of a raw prompt's own tokens (CompletionPrompt.echo `logprobs`).
   * Default false: such a request skips the provider (see router/target-fit.ts).
   */
  promptLogprobs?: boolean;
  /**
   * Evaluates a raw prompt's token ids as ids of its model's own vocabulary (CompletionPrompt.tokens).
   * Default false: the provider reads the prompt's cl100k_base text, and a prompt with no such text
   * (CompletionPrompt.tokensOnly) skips it.
   */
  tokenPrompts?: boolean;
  /**
   * Runs the model with the context window a request asks for (ChatRequest.contextSize, Ollama's
   * `num_ctx`), at most the model's trained context (askedWindow): the embedded engine loads it so,
   * an Ollama upstream is sent it. Default false: the model keeps its own window, and the request's
   * is named in x-tandem-warnings (unsentContextSize).
   */
  requestedWindow?: boolean;
  /**
   * Stops an answer at the end of its context window (as truncated) rather than refusing an output
   * limit the window cannot hold: the embedded engine, as llama.cpp and Ollama do. A conversation
   * fitted to its window then keeps room for such a limit only when a cut can make it, and otherwise
   * the room kept without a limit (see context/fit-conversation.ts). Default false: an upstream that
   * checks input + max_tokens against its window (Anthropic, vLLM) is never sent more.
   */
  endsAnswerAtWindow?: boolean;
}

/**
 * The window a model runs with when a request (or its saved settings) asks for `asked` tokens: at
 * most the context it was trained on, as Ollama caps num_ctx (the model was never trained to attend
 * further). A trained context unknown or 0 leaves the window as asked. The one rule for the window
 * the embedded engine loads (windowCap) and the one the router fits a conversation to (windowFor).
 */
export function askedWindow(asked: number, trained: number | undefined): number {
  return trained ? Math.min(asked, trained) : asked;
}

/**
 * The context window a request asks for (Ollama's `options.num_ctx`, the only field that sets it),
 * when the provider cannot run its model with it: for x-tandem-warnings.
 */
export function unsentContextSize(request: ChatRequest, capabilities: ProviderCapabilities | undefined): string[] {
  return request.contextSize === undefined || capabilities?.requestedWindow === true ? [] : ["options.num_ctx"];
}

/**
 * What of a raw prompt a provider that cannot continue it as text is not sent as asked: the client's
 * own `raw` field (CompletionPrompt.rawParam), for x-tandem-warnings. Empty for a chat, a legacy
 * completion (whose chat message is its documented meaning) and a provider with rawPrompts.
 */
export function unsentRawPrompt(request: ChatRequest, capabilities: ProviderCapabilities | undefined): string[] {
  const param = request.completion?.rawParam;
  return param === undefined || capabilities?.rawPrompts === true ? [] : [param];
}

/**
 * Chat, the capability every provider has. It turns canonical requests into its upstream's wire
 * format and the upstream's answers back into canonical stream events; it never knows which dialect
 * the client spoke.
 *
 * - `chat` starts the upstream request when iteration starts and yields `start`, then content events,
 *   then exactly one `finish` (usage events anywhere before it). Upstream failures throw a GatewayError
 *   whose status/code mirror the upstream's (429 stays rate_limited with retryAfterMs, etc.).
 * - A stream that ends without the upstream's own end marker throws (never a silent truncation).
 * - Aborting `signal` stops the upstream request at once; iteration then throws a canceled error.
 */
export interface ChatProvider {
  /** The provider's name in the config (the part of a target before the slash). */
  readonly id: string;
  /** The registry kind that built it (`openai`, `llamacpp`...): shown to people, never branched on. */
  readonly kind: string;
  /**
   * Whether `chat` honours `request.whole` (asks its upstream for a whole answer rather than a
   * stream). HTTP providers do; the local engine always streams, so its time limits keep watching tokens.
   */
  readonly answersWhole?: boolean;
  /** What its models can take; the router skips it for requests it cannot serve. Default: unknown (may). */
  readonly capabilities?: ProviderCapabilities;
  chat(request: ProviderChatRequest, signal: AbortSignal): AsyncIterable<StreamEvent>;
  /**
   * What of a canonical request its upstream is not sent, or not as asked (a setting its API lacks,
   * or one it refuses in this combination), by the field's name, for `x-tandem-warnings`. Default: nothing.
   */
  unsent?(request: ChatRequest): string[];
  /**
   * What a canonical request to `upstreamModel` can be sent of earlier turns' reasoning, where that
   * depends on the request (the wire the provider picks for it). Default: capabilities.reasoningHistory.
   */
  reasoningHistoryFor?(request: ChatRequest, upstreamModel: string): ReasoningHistory | undefined;
  /**
   * Whether a client's own body on `wire` (one of capabilities.wires) is what `upstreamModel` is sent
   * for this request. False where the model refuses that body as it is and the provider has a form it
   * takes: the request then goes in canonical form, what that leaves out named. Default: true.
   */
  takesOwnBody?(wire: NativeWire, request: ChatRequest, upstreamModel: string): boolean;
  /**
   * The output limit (max_tokens) its upstream is sent for a canonical request, when that is not the
   * request's own `maxTokens`: Anthropic's default when the client gave none, a thinking budget added.
   * A conversation is fitted to the target's window with room for what is really sent. Default: the
   * request's own.
   */
  sentMaxTokens?(request: ChatRequest): number | undefined;
  /** The upstream's model list (used for discovery and as a cheap health probe). */
  listModels(signal: AbortSignal): Promise<ModelInfo[]>;
  /** Throws a GatewayError when the upstream is not usable right now. */
  probe(signal: AbortSignal): Promise<void>;
  /** Releases connection pools and child processes. */
  close(): Promise<void>;
}

/** Embeddings: providers whose upstream has an embeddings API. Failures are GatewayErrors as for chat. */
export interface EmbeddingProvider {
  embed(request: ProviderEmbedRequest, signal: AbortSignal): Promise<EmbedResult>;
}

/** An engine on this machine: what runs in memory here and how busy it is, and the model files it keeps. */
export interface LocalEngine {
  /** How busy one model is (slots in use, requests waiting), for sending work elsewhere; undefined when not loaded. */
  load(model: string): SlotLoad | undefined;
  /** Models held in memory now (Ollama's /api/ps). */
  loadedModels(): LoadedModelStatus[];
  /** Loads a model and keeps it for keepAliveMs; 0 unloads it (Ollama's empty request with keep_alive). */
  preload(model: string, keepAliveMs: number | undefined, signal: AbortSignal): Promise<void>;
  /** The engine process: running, pid, restarts, why it last stopped. */
  engineState(): EngineState;
  /** Downloads a model into the engine's models folder (an alias, `repo:quant`, a repo). */
  pull(reference: string, onEvent: (event: PullEvent) => void, signal: AbortSignal): Promise<PullResult>;
  /** The tokens a chat request's prompt comes to on the model: its own tokenizer and chat template. */
  countTokens(model: string, request: ChatRequest, signal: AbortSignal): Promise<number>;
  /** A model's saved defaults (Ollama's create), undefined when it has none. */
  modelSettings(model: string): Promise<ModelSettings | undefined>;
  /** Removes a model's files (unloading it first). */
  deleteModel(model: string): Promise<void>;
  /** Copies a model under a new name; returns the name installed. */
  copyModel(source: string, destination: string): Promise<string>;
  /** Ollama's create; returns the name installed. */
  createModel(request: CreateModelRequest, onStatus: (status: string) => void, signal: AbortSignal): Promise<string>;
  /** Whether an uploaded blob (`sha256:<hex>`) is stored. */
  hasBlob(digest: string): Promise<boolean>;
  /** Stores an uploaded blob, checking its digest. */
  putBlob(digest: string, body: AsyncIterable<Uint8Array>, signal: AbortSignal): Promise<void>;
}

/**
 * An upstream that loads and unloads models on a client's own request: an Ollama server, whose
 * /api/chat or /api/generate with no messages or prompt loads the model (`keep_alive` 0 unloads it).
 * Asked only with a request of a wire the provider speaks (ProviderCapabilities.wires).
 */
export interface ModelLoader {
  /** Sends the client's own load or unload request for `upstreamModel`; resolves to the upstream's JSON answer. */
  loadModel(native: NativeRequest, upstreamModel: string, signal: AbortSignal): Promise<Record<string, unknown>>;
}

/**
 * An upstream that describes its models in Ollama's /api/show shape (an Ollama server): what it says
 * of a model (`capabilities`, `details`, `model_info`) is what an Ollama client asks tandem.
 */
export interface ModelDescriber {
  /** The upstream's own /api/show answer for `upstreamModel`, as it came. */
  describeModel(upstreamModel: string, signal: AbortSignal): Promise<Record<string, unknown>>;
}

/** One backend as the router holds it: chat, plus the methods of whichever other capabilities it has. */
export type Provider = ChatProvider &
  Partial<EmbeddingProvider> &
  Partial<LocalEngine> &
  Partial<ModelLoader> &
  Partial<ModelDescriber>;

/** The error for an embeddings request sent to a provider without the capability (a client's mistake, not the target's). */
export function noEmbeddings(provider: ChatProvider): GatewayError {
  return new GatewayError(
    "invalid_request",
    `${provider.id}: ${provider.kind} has no embeddings API; use another provider for embeddings`,
  );
}
