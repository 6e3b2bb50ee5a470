/*
 * The local model workflow as the gateway offers it to dialects (Ollama's pull, create, copy,
 * delete, blobs, show, ps). The files themselves are src/models/'s; these are only the shapes.
 */

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

/** A model a local engine holds in memory, as /api/ps shows it. */
export interface LoadedModel {
  /** `local/<name>`: the target it answers as. */
  target: string;
  /** Bytes of weights in memory. */
  modelBytes: number;
  /** All it holds (weights, KV cache, buffers) in RAM and in VRAM, as estimated for what was loaded. */
  ramBytes: number;
  vramBytes: number;
  contextSize: number;
  /** `general.architecture`, e.g. llama, qwen2. */
  architecture: string;
  /** The weights' type, e.g. Q4_K_M, F16, when known. */
  quantization?: string;
  /** When it unloads if unused (ISO time); undefined: never. */
  expiresAt: string | undefined;
}

/**
 * Ollama's model workflow over the local engine's models. Names are what clients send: `local/<name>`
 * or a bare `<name>`; a name that resolves to anything but a local model is refused.
 */
export interface ModelLibrary {
  /** Unloads and removes a model; not_found (404) when unknown. */
  delete(name: string): Promise<void>;
  /** Copies a model under a new name (a hard link where possible); returns the new target name. */
  copy(source: string, destination: string): Promise<string>;
  /** Ollama's create; reports each step as a status text; returns the new target name. */
  create(request: CreateModelRequest, onStatus: (status: string) => void, signal: AbortSignal): Promise<string>;
  hasBlob(digest: string): Promise<boolean>;
  putBlob(digest: string, body: AsyncIterable<Uint8Array>, signal: AbortSignal): Promise<void>;
  /** A local model's saved defaults, undefined when it has none; not_found (404) when it is not installed. */
  settings(name: string): Promise<ModelSettings | undefined>;
}
