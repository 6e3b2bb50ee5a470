/**
 * The messages between tandem and its engine child process (Node IPC, advanced serialization).
 * Every request carries an `id`; the child answers it with exactly one `result` or `error`, and a
 * chat streams `event`s before that. The parent decides when a request may start (slots, queue), so
 * the child never holds more work than a model has sequences.
 */
import type { ErrorCode, ProviderChatRequest, StreamEvent } from "../../core/index.js";

/** Tokens per sequence when a model's config sets no contextSize (a model trained on 128k would take gigabytes). */
export const DEFAULT_CONTEXT_CAP = 8192;

/** How the child loads one model. */
export interface ModelSpec {
  /** The model's name in tandem (`local/<name>`). */
  name: string;
  path: string;
  /** Tokens per sequence; undefined: the model's own, capped by what memory allows. */
  contextSize: number | undefined;
  /** Sequences (requests served at once). */
  parallel: number;
  threads: number;
}

export type EngineGpu = false | "auto" | "metal" | "cuda" | "vulkan";

export interface EngineOptions {
  gpu: EngineGpu;
}

export type ParentMessage =
  | { op: "chat"; id: number; model: ModelSpec; request: ProviderChatRequest }
  | { op: "embed"; id: number; model: ModelSpec; input: string[] }
  | { op: "tokenize"; id: number; model: ModelSpec; text: string }
  | { op: "load"; id: number; model: ModelSpec }
  | { op: "unload"; id: number; name: string }
  | { op: "cancel"; id: number }
  | { op: "ping"; id: number };

/** What the child knows about a loaded model. */
export interface LoadedModelInfo {
  name: string;
  path: string;
  /** Bytes of weights in memory. */
  modelBytes: number;
  contextSize: number;
  trainContextSize: number;
  embeddingSize: number;
  parallel: number;
  chatWrapper: string;
  /** `general.architecture`, e.g. llama, qwen2. */
  architecture: string;
  /** The weights' type, e.g. Q4_K_M, F16 (from the GGUF header; the parent fills it in). */
  quantization?: string;
  hasChatTemplate: boolean;
}

export interface PingResult {
  rssBytes: number;
  models: LoadedModelInfo[];
}

export interface EmbedReply {
  embeddings: number[][];
  inputTokens: number;
}

export type ChildMessage =
  | { op: "ready"; pid: number; engine: string }
  /** A chat's events, in order: those generated since the last message (often one, more when tokens come fast). */
  | { op: "events"; id: number; events: StreamEvent[] }
  | { op: "result"; id: number; value?: unknown }
  | { op: "error"; id: number; code: ErrorCode; message: string; retryable?: boolean }
  /** The child is about to load a model (so a native abort during it can be pinned on that file). */
  | { op: "loading"; path: string };
