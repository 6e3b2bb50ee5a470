/**
 * The local-engine capability's types: what an embedded engine reports about itself and its models,
 * how it downloads and creates models. Defined here, not in providers/llamacpp or models/, so the
 * provider contract (provider.ts) and everything that reads an engine's state (router, status,
 * dialects) depend on core only.
 */

/** The GPU backend a config asks the engine for; false forces the CPU. */
export type EngineGpu = false | "auto" | "metal" | "cuda" | "vulkan";

/** The compute backend the engine child runs on, as it found it at start. */
export interface EngineBackend {
  /** What the config asked for. */
  requested: EngineGpu;
  /** What runs: cpu, cuda, vulkan or metal. */
  gpu: "cpu" | "cuda" | "vulkan" | "metal";
  /** GPU device names (empty on CPU). */
  devices: string[];
  /** Why a GPU was asked for (or could be used) and the CPU runs instead; undefined when there is nothing to say. */
  fallback: string | undefined;
  /** The cores llama.cpp counts as useful for math (its default threads). */
  cpuMathCores: number;
}

/** Memory as the engine sees it (node-llama-cpp's RAM and VRAM state), in bytes. */
export interface EngineMemory {
  ram: { total: number; free: number };
  vram: { total: number; used: number; free: number };
  /** The engine process's resident memory. */
  rssBytes: number;
}

/** The engine process as `tandem status` and /v1/status show it. */
export interface EngineState {
  running: boolean;
  pid: number | undefined;
  /** llama.cpp's release and backend, once the engine has started. */
  engine: string | undefined;
  restarts: number;
  lastExit: string | undefined;
  /** The compute backend (cpu, cuda, vulkan, metal), its devices, and why a GPU is not used if it is not; once started. */
  backend: EngineBackend | undefined;
  /** RAM and VRAM (free, in use) and the engine's own resident memory, as of the last ping. */
  memory: EngineMemory | undefined;
}

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
  /** Layers on the GPU (0 on CPU) of the model's total. */
  gpuLayers: number;
  totalLayers: number;
  threads: number;
}

/** A model the engine holds in memory, as /api/ps and /v1/status show it. */
export interface LoadedModelStatus extends LoadedModelInfo {
  target: string;
  /** When it unloads if unused (ISO time); undefined: never. */
  expiresAt: string | undefined;
  load: SlotLoad;
}

/** How busy one local model is: its parallel slots, those in use, requests waiting and how many may wait. */
export interface SlotLoad {
  slots: number;
  active: number;
  queued: number;
  maxQueue: number;
}

/**
 * A local model's own defaults, as Ollama's `/api/create` sets them: kept in `<name>.json` beside
 * `<name>.gguf` and applied to requests that do not set them.
 */
export interface ModelSettings {
  /**
   * Ollama's parameters by their Ollama names (`temperature`, `top_p`, `top_k`, `seed`, `stop`,
   * `num_predict`, `num_ctx`...). Those tandem knows are applied; the rest are kept and shown.
   */
  parameters?: Record<string, unknown>;
  /** The system prompt used when a request has none. */
  system?: string;
  /** A prompt template (Go template syntax, as Ollama's). Kept and shown; the engine uses the GGUF's own chat template. */
  template?: string;
  license?: string;
  /** The model this one was created from. */
  from?: string;
}

/** Ollama's create request, as tandem takes it (`/api/create`). */
export interface CreateModelRequest {
  /** The new model's name (a plain file name). */
  name: string;
  /** An installed model to start from (its weights and settings). */
  from?: string;
  /** `{ "<file>.gguf": "sha256:<hex>" }`: a GGUF uploaded with POST /api/blobs/:digest. */
  files?: Record<string, string>;
  parameters?: Record<string, unknown>;
  system?: string;
  template?: string;
  license?: string | string[];
  quantize?: string;
  adapters?: Record<string, string>;
  messages?: unknown[];
}

/** Where a download stands; sent often while bytes arrive (at most every `progressIntervalMs`). */
export interface DownloadProgress {
  /** The installed model name (`qwen2.5-0.5b`). */
  name: string;
  /** The file's path in the repo. */
  file: string;
  /** The file's size, when the hub said. */
  totalBytes: number | undefined;
  /** Bytes on disk so far, including those of a resumed earlier attempt. */
  doneBytes: number;
  /** Bytes that were already on disk when this pull started (0 for a fresh download). */
  resumedFrom: number;
  /** Smoothed download speed. */
  bytesPerSecond: number;
  /** Seconds left at that speed; undefined until the speed and size are known. */
  etaSeconds: number | undefined;
  /** The file's sha256 (hex) as the hub gave it, once known. */
  sha256: string | undefined;
}

export interface PullResult {
  /** The installed model name: `local/<name>` refers to it. */
  name: string;
  /** Where it now is: `<dataDir>/models/<name>.gguf`. */
  path: string;
  repo: string;
  file: string;
  size: number;
  /** The sha256 (hex) that was checked, when the hub gave one. */
  sha256: string | undefined;
  /** True when the sha256 was given and matched. */
  verified: boolean;
  /** True when the model was installed already and nothing was downloaded. */
  alreadyInstalled: boolean;
  /** Bytes already on disk from an earlier, interrupted pull. */
  resumedFrom: number;
  /** Bytes received over the network by this pull. */
  downloadedBytes: number;
  /** Why this file was picked (an alias, a quant tag, the only GGUF...). */
  reason: string;
}

/**
 * The steps of a pull, in order: enough to draw a progress bar or to produce Ollama's
 * `/api/pull` stream (see ollamaPullStatus).
 */
export type PullEvent =
  /** Working out which repo and file to fetch (may ask the hub for the repo's file list). */
  | { type: "resolving"; reference: string }
  | {
      type: "resolved";
      repo: string;
      file: string;
      name: string;
      reason: string;
      size: number | undefined;
      sha256: string | undefined;
    }
  | ({ type: "progress" } & DownloadProgress)
  /** All bytes are on disk; checking the sha256 (when there is one) and the size. */
  | { type: "verifying"; sha256: string | undefined }
  /** Moving the finished file into place. */
  | { type: "installing"; path: string }
  | { type: "done"; result: PullResult };
