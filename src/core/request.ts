import type { HostedToolInfo } from "./hosted-tools.js";
import type { LogprobsRequest } from "./logprobs.js";
import type { Message, ToolChoice, ToolDefinition } from "./messages.js";
import type { NativeRequest } from "./native.js";
import type { Sensitivity } from "./sensitivity.js";
import type { StoredHistory } from "./stored-history.js";

export type ResponseFormat =
  | { type: "text" }
  | { type: "json" }
  | {
      type: "json_schema";
      schema: Record<string, unknown>;
      name?: string;
      /**
       * OpenAI's `strict`, as an OpenAI client sent it (absent: its API's default, false).
       * `"where-possible"`: the client's API always holds the answer to the schema (Anthropic's
       * `output_config.format`, Ollama's `format`), so a target with a strict subset of JSON Schema
       * (OpenAI's) is asked for strict adherence when the schema is in that subset, and otherwise
       * sent it best-effort, the weaker guarantee named in x-tandem-warnings.
       */
      strict?: boolean | "where-possible";
      /**
       * The client's field that carried the schema, for an error about it: `response_format` (chat),
       * `text.format` (Responses), `output_config.format` (Anthropic), `format` (Ollama). Never sent.
       */
      param?: string;
    };

/**
 * Awaited with the exact body of each request to an upstream (its JSON text, or its bytes where the
 * body is serialized to bytes), before any byte of it is sent: it resolves once the body's
 * egress-audit row is committed. When it rejects, the body must not be sent (the rejection is the
 * attempt's error). The receipt's notSent() says, afterwards, that no byte of the body left after all
 * (the connection was never made).
 */
export type BeforeUpstreamBody = (body: string | Uint8Array) => Promise<EgressReceipt>;

export interface EgressReceipt {
  /** No byte of the body left (the connection was refused or never made, or the attempt ended first). Best-effort. */
  notSent(): void;
}

/**
 * How hard a model should think, least first: OpenAI's `reasoning_effort` levels (`xhigh` since
 * gpt-5.1-codex-max), Anthropic's `output_config.effort` (`xhigh` and `max`) and Ollama's `think`
 * (`max`). Each provider sends the nearest its wire has and names a level it lacks (ChatProvider.unsent).
 */
export type ReasoningEffort = "minimal" | "low" | "medium" | "high" | "xhigh" | "max";

/**
 * The client's reasoning control: Anthropic `thinking`, OpenAI `reasoning_effort`, Ollama `think`,
 * Responses `reasoning.effort`. Each provider says it in its own wire (an effort as a token budget
 * or back, see reasoning-controls.ts).
 */
export interface ReasoningControl {
  /** false: the client asked for no reasoning (`think: false`, `thinking.type: "disabled"`, `reasoning_effort: "none"`). */
  enabled: boolean;
  effort?: ReasoningEffort;
  /** Anthropic's `thinking.budget_tokens`. */
  budgetTokens?: number;
  /**
   * Anthropic's adaptive thinking (Claude Code sends it with `output_config.effort` on every request):
   * the model decides whether to think, and `effort` is a hint. A target with an effort field gets it
   * (OpenAI's `reasoning_effort`, the Responses API's `reasoning.effort`, Anthropic's adaptive
   * thinking with `output_config.effort`); the others keep their own default (Ollama, the local
   * engine), as the model deciding means.
   */
  adaptive?: true;
}

/**
 * A text to continue as it is, not a chat: legacy completions' `prompt`, Ollama's `/api/generate`
 * prompt with `raw: true`, and fill-in-the-middle's prefix with its `suffix` (both dialects). The
 * request's `messages` still hold the prompt as one user message, which a target that can only chat
 * is sent instead (see ProviderCapabilities.rawPrompts and infill).
 */
export interface CompletionPrompt {
  /** The text the answer continues (with a suffix: what comes before the gap). */
  prompt: string;
  /**
   * Fill-in-the-middle: the text after the gap; the answer is what goes between `prompt` and it.
   * Only a target that can insert takes it (ProviderCapabilities.infill): the others are skipped,
   * and when none can the request is a 400 naming `suffix`. Never empty (an empty suffix is none).
   */
  suffix?: string;
  /**
   * The client's field that asked for the raw text (Ollama's `raw`): a target that can send the
   * prompt only as a chat message names it in x-tandem-warnings. Unset: that chat message is the
   * documented meaning (legacy completions), and nothing is named.
   */
  rawParam?: string;
  /**
   * The prompt as token ids of the model's own vocabulary (legacy completions' token-id prompt):
   * a target that reads them (ProviderCapabilities.tokenPrompts, the embedded engine) evaluates
   * them as they are, and refuses an id outside its vocabulary with a 400 naming `prompt`; other
   * targets read `prompt`, the ids decoded as cl100k_base (OpenAI's completions models' encoding).
   */
  tokens?: number[];
  /** Text after the ids (the partial answer another target goes on from, see router/continuation.ts). */
  tokensThen?: string;
  /**
   * The ids are no cl100k_base tokens, so `prompt` (and the chat message) is empty: only a target
   * that reads the model's own ids can take the request; the others are skipped, and when none of
   * the route can, it is a 400 naming `prompt`.
   */
  tokensOnly?: true;
  /**
   * The client wants the prompt before the answer (legacy completions' `echo`): a target that reads
   * prompts as its own tokens reports the prompt as it read it (a `prompt` event). `logprobs`: with
   * each token's log probability given those before it and `ChatRequest.logprobs.topLogprobs`
   * alternatives (`echo` with `logprobs`), which only a target with ProviderCapabilities.promptLogprobs
   * can report: the others are skipped, and when none of the route can, it is a 400 naming `echo`.
   * Default: no echo (a dialect may still put its own copy of the prompt before the answer).
   */
  echo?: "text" | "logprobs";
}

/** One chat request, whatever API the client spoke. */
export interface ChatRequest {
  /** The name the client asked for: a target (`provider/model`) or a route. */
  model: string;
  messages: Message[];
  tools?: ToolDefinition[];
  toolChoice?: ToolChoice;
  parallelToolCalls?: boolean;
  responseFormat?: ResponseFormat;
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  /**
   * OpenAI's `presence_penalty` and `frequency_penalty` (Ollama's options of the same names): sent to
   * OpenAI-compatible chat targets and Ollama; a target whose API has neither (Anthropic, the
   * Responses API) or that does not apply them (the embedded engine) names them in x-tandem-warnings
   * (see unsentPenalties).
   */
  presencePenalty?: number;
  frequencyPenalty?: number;
  stop?: string[];
  seed?: number;
  /**
   * Which of the choices a request was fanned out into this one is (1 or more; absent for the first
   * or only one), when it has no seed: a seed the target supplies itself (a local model's saved
   * `seed` parameter) is stepped by it (choiceSeed), so that the choices differ as seeded ones do.
   */
  choice?: number;
  /** The client's reasoning control, when it sent one. */
  reasoning?: ReasoningControl;
  /**
   * false: the client is not shown the model's reasoning (an Anthropic client that did not turn
   * thinking on, an Ollama client that asked `think: false`), so reasoning alone is not yet some of
   * the answer for it: an answer that fails after reasoning only is failed over as one that had not
   * begun, and its headers wait for what the client sees. Default true.
   */
  reasoningShown?: boolean;
  /** An end-user id for abuse tracking, passed on where the upstream accepts one. */
  user?: string;
  /**
   * OpenAI's request settings of the same names (from a Responses client): sent to OpenAI-compatible
   * targets as `prompt_cache_key`, `safety_identifier`, `service_tier` and `verbosity`; other targets
   * name them in x-tandem-warnings (ChatProvider.unsent).
   */
  promptCacheKey?: string;
  safetyIdentifier?: string;
  serviceTier?: string;
  verbosity?: string;
  /**
   * The answer's token log probabilities, when the client asked for them (chat completions' and
   * Ollama's `logprobs: true`, a Responses `include: ["message.output_text.logprobs"]`, legacy
   * completions' `logprobs: N`): an OpenAI-compatible or Ollama target is sent `logprobs` and
   * `top_logprobs`, the embedded engine makes them, and the text-delta events carry them; a target
   * that cannot report them names them in x-tandem-warnings (ChatProvider.unsent, `unsentLogprobs`).
   * Default: not asked.
   */
  logprobs?: LogprobsRequest;
  /**
   * The prompt as text to continue, when the client sent one (see CompletionPrompt). Default: a
   * chat, `messages` only.
   */
  completion?: CompletionPrompt;
  /** Whether the client wants a stream (for dialects; what the upstream is asked for is ProviderChatRequest.whole). */
  stream: boolean;
  /** How long a local engine keeps the model loaded after this request (Ollama's keep_alive); -1 forever, 0 unload. */
  keepAliveMs?: number;
  /**
   * The context window, in tokens, the client asks the model to run with (Ollama's `options.num_ctx`).
   * A target with ProviderCapabilities.requestedWindow takes it (the embedded engine loads the model
   * with it, an Ollama upstream is sent it), and the router fits the conversation to it there; any
   * other target runs with its own window and names `options.num_ctx` in x-tandem-warnings.
   * Default: the model's own window.
   */
  contextSize?: number;
  /**
   * Whether the router may leave older turns out so that the conversation fits a target's window
   * (the Responses API's `truncation: "auto"`). false (`truncation: "disabled"`): a target whose
   * known window cannot hold the whole conversation is skipped, and when no target can, the request
   * fails with context_length_exceeded. Default true. Counting a request (Gateway.countTokens)
   * counts it as fitted to the first target's window only when this is true, as the Responses API's
   * input_tokens does for `truncation: "auto"`; other counts are of the whole request.
   */
  fitToWindow?: boolean;
  /**
   * The part of `messages` that comes from state tandem keeps (a stored response chain or
   * conversation), set by the dialect that composed it: when the conversation must be cut to fit a
   * window, the summary stored for its older turns goes in their place, and when a route names a
   * `summarizer` the router summarizes the left-out turns and hands the summary back through it to be
   * stored. Default: unset (a cut leaves the turns out, unsummarized).
   */
  history?: StoredHistory;
  /**
   * The least sensitive this request is, whatever detection finds in it: the level of the stored
   * state it carries (an earlier turn classified or declared `internal`), set by the dialect that
   * composed it. Detection still reads the request and may raise it (a later turn's own private
   * data); given as `x-tandem-sensitivity` instead, the level would stop that detection. The
   * client's own header still wins. Default: unset (detection alone).
   */
  sensitivityFloor?: Sensitivity;
  /**
   * What of this request was declared private where tandem kept it, each said for people (`a
   * private memory`, `a file uploaded as private`...), set by whoever put it in the request (memory
   * recall, the Files API's resolution, the stored state, file_search). Nothing detection finds says
   * what makes such content private, so redaction cannot make it safe: the request is private
   * whatever its header says, and a `redact` route keeps it on local targets (as it does a private
   * image). Default: none.
   */
  declaredPrivate?: string[];
  /**
   * The tools MCP servers listed earlier in this conversation, by server label, as the client was
   * shown them (a Responses conversation's `mcp_list_tools` items; the tool loop adds what it lists
   * for its later turns): a route's tool loop reads a server's tools here rather than listing them
   * again, and showing the client another `mcp_list_tools`, as for a request's own servers. Sent to
   * no upstream (the tools offered from it are). Default: none (a route's servers are listed).
   */
  listedTools?: ReadonlyMap<string, HostedToolInfo[]>;
  /**
   * The conversation's tool call ids as an Anthropic client wrote them (`toolu_…`), by the canonical
   * id each was read as (the Anthropic dialect takes the prefix off, so another upstream is asked
   * about its own ids, `call_…`): an Anthropic upstream is sent the client's own, so the body built
   * from the canonical form (a fitted conversation, a failover) has the ids, and the prompt cache
   * prefix, of the client's body. An id not here (one the tool loop or a redaction made) is sent as
   * the provider writes any other. Default: none.
   */
  anthropicToolIds?: ReadonlyMap<string, string>;
  /**
   * The client's own body and headers, for a target that speaks the client's wire format (set by
   * the dialects that can pass through). The canonical fields above are still what routing, privacy
   * and the checks read. The router hands it to a provider only when the provider speaks its wire,
   * with the route's redactions applied to its text.
   */
  native?: NativeRequest;
}

/** The provider-side view of a request: the canonical request plus the upstream's own model id. */
export interface ProviderChatRequest extends ChatRequest {
  /** The model id as the upstream knows it (e.g. `gpt-4o-mini`), not the client's name. */
  upstreamModel: string;
  /**
   * Told, before the answer's first event, what of a request the provider built (not a same-wire body)
   * was left out because the upstream's model refused it, and the request sent again without it (see
   * providers/http/refused-settings.ts): each by its wire name, for `x-tandem-warnings`.
   */
  onUnsent?: (fields: readonly string[]) => void;
  /** The egress audit's gate, for cloud targets: awaited before each body is sent (see BeforeUpstreamBody). */
  beforeUpstreamBody?: BeforeUpstreamBody;
  /** The route's limit on establishing a connection, in ms (the provider's own limit applies when lower). */
  connectTimeoutMs?: number;
  /** The API key to send, when key rotation chose one for this request. Default: the provider's own key source. */
  apiKey?: string;
  /**
   * Ask the upstream for one whole answer instead of a stream (the router sets it for a client that
   * does not stream, on providers that can; see Provider.answersWhole). The events are the same;
   * they all arrive once the answer is complete.
   */
  whole?: boolean;
}

export interface EmbedRequest {
  model: string;
  input: string[];
  dimensions?: number;
  user?: string;
  /** As in ChatRequest. */
  keepAliveMs?: number;
  /**
   * Cut an input longer than the model takes to what it takes, rather than refuse it (Ollama's
   * `truncate`, on by default there). Only a target that counts the model's tokens can: the
   * embedded engine, an Ollama upstream (which is sent it); others refuse such an input as before.
   */
  truncate?: boolean;
  /**
   * The model's vectors as it pools them, not scaled to unit length. The embedded engine scales its
   * vectors to unit length unless this is set, as llama-server's /v1/embeddings and Ollama's
   * /api/embed do and OpenAI's models' vectors are; Ollama's legacy /api/embeddings asks for them
   * raw, as Ollama answers it. Other targets answer their upstream's vectors either way. Default false.
   */
  raw?: boolean;
  /**
   * Ollama's `options` for the model, as the client sent them (`num_ctx`, `num_thread`...): an Ollama
   * upstream is sent them; any other target names each (`options.<name>`, EmbedResult.unsent).
   */
  options?: Record<string, unknown>;
  /**
   * An Ollama client's own /api/embed or /api/embeddings body: an Ollama upstream is sent it as
   * written, on the same path, but for `model` (and answers its own JSON, EmbedResult.native); any
   * other target reads the fields above. Left out when the input was redacted for the target.
   */
  native?: NativeEmbedRequest;
}

/** The client's own Ollama embedding request, kept beside its canonical form (EmbedRequest.native). */
export interface NativeEmbedRequest {
  wire: "ollama-embed" | "ollama-embeddings";
  /** The client's parsed JSON body (never modified: providers copy it). */
  body: Record<string, unknown>;
  /** The body's JSON text as the client sent it, when known (as NativeRequest.text). */
  text?: string;
}

/**
 * What of an Ollama client's embedding request a target other than an Ollama upstream is not sent:
 * each of its `options`, and `keep_alive` where the target keeps no model loaded (`keepsModels`
 * false: a cloud API). For EmbedResult.unsent.
 */
export function unsentOllamaEmbedFields(request: EmbedRequest, keepsModels: boolean): string[] {
  const named = Object.keys(request.options ?? {}).map((name) => `options.${name}`);
  if (!keepsModels) named.push(...unsentKeepAlive(request));
  return named;
}

export interface ProviderEmbedRequest extends EmbedRequest {
  upstreamModel: string;
  /** The egress audit's gate, for cloud targets: awaited before each body is sent (see BeforeUpstreamBody). */
  beforeUpstreamBody?: BeforeUpstreamBody;
  /** The route's limit on establishing a connection, in ms (the provider's own limit applies when lower). */
  connectTimeoutMs?: number;
  /** The API key to send, when key rotation chose one for this request. Default: the provider's own key source. */
  apiKey?: string;
}

export interface EmbedResult {
  embeddings: number[][];
  usage: { inputTokens: number };
  /** Fields of the request the target was not sent (by their wire names), for `x-tandem-warnings`. */
  unsent?: string[];
  /**
   * The upstream's own answer, when it was sent the client's body on the client's wire
   * (EmbedRequest.native): every field as it came (its durations, its vectors as it scaled them).
   */
  native?: Record<string, unknown>;
}

/** The penalties a request carries (presencePenalty, frequencyPenalty), by their wire names: for ChatProvider.unsent of targets without them. */
export function unsentPenalties(request: ChatRequest): string[] {
  const named: string[] = [];
  if (request.presencePenalty !== undefined) named.push("presence_penalty");
  if (request.frequencyPenalty !== undefined) named.push("frequency_penalty");
  return named;
}

/**
 * An image's `detail` (`low`, `high`, `original`), when a part asks for one: for ChatProvider.unsent
 * of the targets whose API has no such setting (Anthropic, Ollama), which see every image as sent.
 */
export function unsentImageDetail(request: ChatRequest): string[] {
  for (const message of request.messages) {
    if (typeof message.content === "string") continue;
    for (const part of message.content) {
      if (part.type === "image" && part.detail !== undefined && part.detail !== "auto") return ["detail of images"];
    }
  }
  return [];
}

/**
 * Ollama's `keep_alive`, when the request carries one: for ChatProvider.unsent of the targets that
 * keep no model loaded (a cloud API); the embedded engine and an Ollama upstream take it.
 */
export function unsentKeepAlive(request: { keepAliveMs?: number }): string[] {
  return request.keepAliveMs === undefined ? [] : ["keep_alive"];
}

/** The OpenAI-only settings a request carries (promptCacheKey...), by their wire names: for ChatProvider.unsent of other kinds. */
export function openAISettings(request: ChatRequest): string[] {
  const named: string[] = [];
  if (request.promptCacheKey !== undefined) named.push("prompt_cache_key");
  if (request.safetyIdentifier !== undefined) named.push("safety_identifier");
  if (request.serviceTier !== undefined) named.push("service_tier");
  if (request.verbosity !== undefined) named.push("verbosity");
  return named;
}
