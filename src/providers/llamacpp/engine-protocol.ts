/**
 * The messages between tandem and its engine child process (Node IPC, advanced serialization).
 * Every request carries an `id`; the child answers it with exactly one `result` or `error`, and a
 * chat streams `event`s before that. The parent decides when a request may start (slots, queue), so
 * the child never holds more work than a model has sequences.
 */
import {
  askedWindow,
  type EngineBackend,
  type EngineGpu,
  type EngineMemory,
  type ErrorCode,
  type LoadedModelInfo,
  type ProviderChatRequest,
  type StreamEvent,
} from "../../core/index.js";

export type { EngineBackend, EngineGpu, EngineMemory, LoadedModelInfo } from "../../core/index.js";

/** Tokens per sequence when a model's config sets no contextSize (a model trained on 128k would take gigabytes). */
export const DEFAULT_CONTEXT_CAP = 8192;

/**
 * The most tokens one sequence of a model holds: a window it is given (its config's contextSize, its
 * saved num_ctx, a request's num_ctx) at most the context it was trained on (core's askedWindow, by
 * which the router fits a conversation too); with none given, its trained context at most
 * DEFAULT_CONTEXT_CAP (undefined when that is unknown). The one rule for the window the engine loads, the memory check sizes, a request's
 * num_ctx claims and the model list reports.
 */
export function windowCap(given: number, trained: number | undefined): number;
export function windowCap(given: number | undefined, trained: number): number;
export function windowCap(given: number | undefined, trained: number | undefined): number | undefined;
export function windowCap(given: number | undefined, trained: number | undefined): number | undefined {
  if (given !== undefined) return askedWindow(given, trained);
  return trained === undefined ? undefined : Math.min(trained, DEFAULT_CONTEXT_CAP);
}

/** How the child loads one model. */
export interface ModelSpec {
  /** The model's name in tandem (`local/<name>`). */
  name: string;
  path: string;
  /** Tokens per sequence; undefined: the model's own, capped by what memory allows. */
  contextSize: number | undefined;
  /** Sequences (requests served at once). */
  parallel: number;
  /** CPU threads; undefined: llama.cpp's own choice, the cores useful for math (physical, performance ones). */
  threads: number | undefined;
  /** Layers offloaded to the GPU: "auto" fits them to free VRAM, "max" all of them, a number that many. */
  gpuLayers: GpuLayers;
  /**
   * Which load of the model this is: 0, one more each time the model is replaced or deleted. A
   * replaced model's requests in flight keep to the load they started on while new ones get a load
   * of their own, so both can be held at once (see instanceKey).
   */
  generation: number;
}

/** The key one load of a model is held under, in the engine and in tandem: its name, with its generation after a replace. */
export function instanceKey(model: Pick<ModelSpec, "name" | "generation">): string {
  return model.generation === 0 ? model.name : `${model.name}#${model.generation}`;
}

export type GpuLayers = "auto" | "max" | number;

export interface EngineOptions {
  gpu: EngineGpu;
  /**
   * A folder whose node_modules may hold node-llama-cpp's prebuilt binary packages (`tandem gpu
   * install` puts them in `<dataDir>/engine`); tried before node-llama-cpp's own. The engine installs
   * the CPU build there when node-llama-cpp finds no binary at all (an --omit=optional install).
   */
  binariesDir?: string;
}

/**
 * What loading a model would take by node-llama-cpp's own estimates (GgufInsights), and what is
 * free now. A `fit` request answers this without loading anything.
 */
export interface MemoryNeeds {
  path: string;
  gpuLayers: number;
  totalLayers: number;
  /** The context size the check was made for (per sequence), and the sequences. */
  contextSize: number;
  sequences: number;
  modelRam: number;
  modelVram: number;
  contextRam: number;
  contextVram: number;
  freeRam: number;
  freeVram: number;
  /** Set when node-llama-cpp itself found no configuration that fits (its message). */
  insufficient: string | undefined;
}

export type ParentMessage =
  | { op: "chat"; id: number; model: ModelSpec; request: ProviderChatRequest }
  /** `truncate`: cut an input past the embedding context to it, rather than refuse it (EmbedRequest.truncate). */
  | { op: "embed"; id: number; model: ModelSpec; input: string[]; truncate?: boolean }
  /** The tokens a chat request's prompt comes to, its template's included (generate-chat.ts countChatTokens). */
  | { op: "count"; id: number; model: ModelSpec; request: ProviderChatRequest }
  | { op: "load"; id: number; model: ModelSpec }
  | { op: "fit"; id: number; model: ModelSpec }
  /** Unloads one load of a model (its instanceKey). */
  | { op: "unload"; id: number; key: string }
  | { op: "cancel"; id: number }
  | { op: "ping"; id: number }
  /**
   * Liveness: answered at once from the child's event loop, touching neither llama.cpp nor the libuv
   * thread pool (which a model load holds), so only a frozen child leaves it unanswered.
   */
  | { op: "alive"; id: number };

export interface PingResult {
  rssBytes: number;
  models: LoadedModelInfo[];
  memory: EngineMemory;
}

export interface EmbedReply {
  embeddings: number[][];
  inputTokens: number;
}

export type ChildMessage =
  | { op: "ready"; pid: number; engine: string; backend: EngineBackend }
  /** A chat's events, in order: those generated since the last message (often one, more when tokens come fast). */
  | { op: "events"; id: number; events: StreamEvent[] }
  | { op: "result"; id: number; value?: unknown }
  /**
   * `param`: the request field at fault, for a client's error (a suffix for a model without FIM
   * tokens); `reason`: GatewayError.reason (UNSUPPORTED_BY_TARGET for what another target may serve).
   */
  | { op: "error"; id: number; code: ErrorCode; message: string; retryable?: boolean; param?: string; reason?: string }
  /**
   * The child is about to load a model (so a native abort during it can be pinned on that file), or
   * has loaded `progress` (0 to 1) of its weights: a load that goes on reporting is not hung.
   */
  | { op: "loading"; path: string; progress?: number }
  /**
   * node-llama-cpp found no prebuilt binary it can use here (tandem installed with --omit=optional);
   * the child exits after saying so, with node-llama-cpp's version (the binary package must match it).
   */
  | { op: "no-binary"; version: string; message: string };
