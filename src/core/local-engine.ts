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
  /**
   * The model file being loaded, while a load runs (its weights' progress, 0-1, as the engine last
   * reported it, and when the load started); absent otherwise.
   */
  loading?: { path: string; progress?: number; since: string };
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
  /**
   * Memory it holds in RAM and in VRAM (weights, KV cache, compute buffers; the embedding context
   * once used), by node-llama-cpp's estimates for what was actually loaded.
   */
  ramBytes: number;
  vramBytes: number;
}

/** A model the engine holds in memory, as /api/ps and /v1/status show it. */
export interface LoadedModelStatus extends LoadedModelInfo {
  target: string;
  /** When it unloads if unused (ISO time); undefined: never. */
  expiresAt: string | undefined;
  /**
   * It unloads as soon as the requests on it are done: an unload was asked while it served, or the
   * model was replaced or deleted (new requests then go to its new load, or get a 404).
   */
  unloading?: true;
  load: SlotLoad;
}

/** How busy one local model is: its parallel slots, those in use, requests waiting and how many may wait. */
export interface SlotLoad {
  slots: number;
  active: number;
  queued: number;
  maxQueue: number;
}
