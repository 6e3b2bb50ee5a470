import type { IncomingHttpHeaders } from "node:http";
import { findInCauses } from "./errors.js";
import type { LoadedModel, ModelLibrary } from "./model-library.js";
import type { NativeRequest } from "./native.js";
import type { ModelFile, UpstreamModelFile } from "./provider.js";
import type { PullEvent, PullResult } from "./pull-events.js";
import type { ChatRequest, EmbedRequest, EmbedResult } from "./request.js";
import type { Sensitivity } from "./sensitivity.js";
import type { StreamEvent } from "./stream.js";

/** What the server knows about the client's request, beyond its body. */
export interface RequestContext {
  /** Aborted when the client disconnects; every upstream call must honour it. */
  signal: AbortSignal;
  headers: IncomingHttpHeaders;
  /**
   * For a request tandem makes of its own on behalf of a client's request to a route (the embedding
   * of a memory recall's or a `file_search` call's query): that route, whose `privacy`, `sensitivity`
   * and `imagesArePrivate` then decide where this request may go, as they would the client's, and
   * which its egress-audit rows name. Never set from a client's request.
   */
  privacyRoute?: string;
  /**
   * With privacyRoute: the least level of the client's request (ChatRequest.sensitivityFloor, a
   * stored conversation's), under which detection of this request's own text cannot go.
   */
  privacyFloor?: Sensitivity;
  /**
   * Told the route a chat request goes by as soon as it is known (undefined: a target named
   * directly), so that a request whose client leaves before any answer is counted under it.
   */
  onRouted?: (route: string | undefined) => void;
}

/** Which target answered and how: becomes the `x-tandem-*` headers. */
export interface ResponseMeta {
  /** The route the client named, or undefined when it named a target directly. */
  route: string | undefined;
  /** The target (`provider/model`) that answered; for a stream, the first one. */
  target: string;
  /** How many upstream attempts were made. */
  attempts: number;
  /** Why the answer is degraded (lower tier, mid-stream switch), or undefined when it is not. */
  degraded: string | undefined;
  /** The request's sensitivity, when it was classified (it is not when every target is local). */
  sensitivity?: Sensitivity;
  /**
   * The request held content declared private where tandem kept it (ChatRequest.declaredPrivate:
   * a private memory recalled into it, a file uploaded as private...), whichever target answered:
   * what the turn stores is marked so (StoredItem.declaredPrivate), since its answer may quote it.
   */
  declaredPrivate?: true;
  /** The answer comes from a target on the client's own wire: its frames are passed on as they are (see StreamEvent `frame`). */
  native?: boolean;
  /** What of the client's request could not cross to the target's wire (the `x-tandem-warnings` header). */
  warnings?: string[];
  /**
   * What else the client should be warned of, each a whole sentence (`x-tandem-warnings` entries
   * after those of `warnings`): the tool loop stopped at its limit with calls it did not run. Set as
   * late as the answer's end: a stream whose headers have left carries what came after them in its
   * end (an SSE comment; Ollama's final chunk, `tandem_warnings`).
   */
  notices?: string[];
  /** Tools tandem ran for the model while answering (`mcp:<server>/<tool>`, in order): the `x-tandem-tools` header. */
  tools?: string[];
  /** The ids of the memories recalled into the request (routes with `memory: on`): the `x-tandem-memory` header. */
  memory?: string[];
}

/** What the router knows of a request it could not answer: its `x-tandem-*` headers on the error answer. */
export interface ErrorMeta {
  route: string | undefined;
  /** The last target tried, when one was. */
  target?: string;
  attempts: number;
}

const ERROR_META = new WeakMap<object, ErrorMeta>();

/** Marks an error with the router's meta for it (the first marking stands: the innermost knows most). */
export function noteErrorMeta<E extends object>(error: E, meta: ErrorMeta): E {
  if (!ERROR_META.has(error)) ERROR_META.set(error, meta);
  return error;
}

/**
 * The router's meta for an error, or for the error it was made from (its `cause`, a few levels
 * deep): a dialect that words an error its own way (the Responses API's `context_length_exceeded`)
 * makes a new error of the router's, which still answers for the same route, target and attempts.
 */
export function errorMetaOf(error: object): ErrorMeta | undefined {
  return findInCauses(error, (at) => ERROR_META.get(at));
}

/** An answer in progress. The first event has already been received, so headers can be sent. */
export interface ChatStream {
  meta: ResponseMeta;
  events: AsyncIterable<StreamEvent>;
}

/** A name clients can use as `model`: a target or a route. */
export interface ModelEntry {
  /** `provider/model` for targets, the route's name for routes. */
  name: string;
  kind: "target" | "route";
  /** For targets: the provider's config name and kind, and the upstream's model id. */
  provider?: string;
  providerKind?: string;
  /** A model file the embedded engine serves from tandem's model folder (GGUF, with its settings in the model library). */
  engineModel?: boolean;
  upstreamModel?: string;
  /** For routes: the targets of each tier, in order. */
  tiers?: string[][];
  /**
   * For routes: the tools tandem runs for every client of the route, `mcp:<server>` each (its
   * `tools`, and `mcp:tandem-memory` with `memory: on`), as the gateway that runs them knows them.
   * Absent when there are none.
   */
  tools?: string[];
  contextWindow?: number;
  /** The context the model was trained on, where its provider knows it (ModelInfo.trainedContext). */
  trainedContext?: number;
  /** Unix seconds. */
  created?: number;
  /** For a model served from a file on this machine: what its file says (ModelInfo.file). */
  file?: ModelFile;
  /** For a model an upstream serves from a file of its own: what the upstream's list says of it (ModelInfo.upstreamFile). */
  upstreamFile?: UpstreamModelFile;
}

/** What Gateway.keepAlive did: the name resolved, and the upstream's own answer when it was sent the client's request. */
export interface KeptAlive {
  entry: ModelEntry;
  /** The upstream's JSON answer to the client's own load or unload request, as it came. */
  answer?: Record<string, unknown>;
}

/**
 * The gateway as dialects see it: the router implements it. Dialects never call providers directly.
 */
export interface Gateway {
  /** Resolves the model, starts the answer and waits for its first event; throws a GatewayError before that. */
  chat(request: ChatRequest, context: RequestContext): Promise<ChatStream>;
  embed(request: EmbedRequest, context: RequestContext): Promise<{ meta: ResponseMeta; result: EmbedResult }>;
  /** Every target and route a client can name. */
  models(): Promise<ModelEntry[]>;
  /** One name, resolved; throws not_found (listing what exists) when unknown. */
  model(name: string): Promise<ModelEntry>;
  /**
   * What the upstream of the target a name resolves to says of its model, in Ollama's /api/show
   * shape (ModelDescriber: an Ollama server); undefined for a route, a target whose upstream does not
   * describe its models, or one that could not say just now (the caller then describes it itself).
   */
  describeModel?(name: string, signal: AbortSignal): Promise<Record<string, unknown> | undefined>;
  /** Counts the input tokens the request would use on the target its model resolves to. */
  countTokens(request: ChatRequest, context: RequestContext): Promise<{ meta: ResponseMeta; inputTokens: number }>;
  /** Models the local engines hold in memory now. */
  loadedModels(): LoadedModel[];
  /**
   * Loads the model a name resolves to (a route: its first target that keeps models) and keeps it
   * for keepAliveMs; 0 unloads it. A local model is loaded here; an upstream that loads models on a
   * client's own request (ModelLoader: an Ollama server) is sent `native`, the client's load or
   * unload request, when it speaks its wire, and its answer comes back as `KeptAlive.answer`. Other
   * remote targets are always ready: the name is only resolved.
   */
  keepAlive(name: string, keepAliveMs: number | undefined, signal: AbortSignal, native?: NativeRequest): Promise<KeptAlive>;
  /** Downloads a model for the local engine; it is then `local/<name>`. */
  pull(reference: string, onEvent: (event: PullEvent) => void, signal: AbortSignal): Promise<PullResult>;
  /** The local engine's model files; throws unavailable when no local engine is configured. */
  modelLibrary(): ModelLibrary;
}
