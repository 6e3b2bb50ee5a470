import { z } from "zod";
import { MAX_TIMER_MS, TIMER_MS_MESSAGE } from "../../core/index.js";
import { KeyPool } from "../../secrets/index.js";
import type { ProviderKind } from "../provider-kind.js";
import { LlamaCppProvider } from "./llamacpp-provider.js";

const gpuLayers = z.union([z.literal("auto"), z.literal("max"), z.number().int().min(0)]);

const localModel = z.strictObject({
  /** GGUF file, absolute or relative to `dataDir`. */
  path: z.string().min(1),
  /** Context size in tokens per request. Default: the model's own, at most 8192. */
  contextSize: z.number().int().positive().optional(),
  /** Requests this model serves at once (one context sequence each). Default: the provider's `parallel`. */
  parallel: z.number().int().min(1).max(64).optional(),
  /** Layers offloaded to the GPU: "auto" (fit to free VRAM), "max", or a count (0: CPU only). Default: the provider's `gpuLayers`. */
  gpuLayers: gpuLayers.optional(),
  /** CPU threads this model runs with. Default: the provider's `threads`. */
  threads: z.number().int().positive().optional(),
});

const configSchema = z.strictObject({
  kind: z.literal("llamacpp"),
  /**
   * CPU threads each model runs with, unless its own `threads` says otherwise. Default: llama.cpp's own choice, the cores useful for math (physical
   * performance cores, as Ollama picks), at most the CPUs the process may use.
   */
  threads: z.number().int().positive().optional(),
  /**
   * GPU backend: "auto" takes the best one with a working binary (Metal on Apple silicon; CUDA or
   * Vulkan once `tandem gpu install` has added its binaries), else the CPU; false forces the CPU. A
   * backend that fails to start falls back to the CPU, with the reason in `tandem status`. Default "auto".
   */
  gpu: z.union([z.literal(false), z.enum(["auto", "metal", "cuda", "vulkan"])]).default("auto"),
  /** Layers offloaded to the GPU per model: "auto" (fit to free VRAM), "max", or a count. Default "auto". */
  gpuLayers: gpuLayers.default("auto"),
  /** Requests one model serves at once. Default 2. */
  parallel: z.number().int().min(1).max(64).default(2),
  /** Requests that may wait for a busy model; more are refused (the router sends them elsewhere). Default 16. */
  maxQueue: z.number().int().min(0).default(16),
  /** How long an unused model stays loaded, in ms; 0 unloads at once, -1 never. Default 900000 (15 min). */
  keepAliveMs: z.number().int().max(MAX_TIMER_MS, TIMER_MS_MESSAGE).min(-1).default(900_000),
  /**
   * A generation that sends nothing for this long, or a model load that makes no progress for this
   * long (no step done, no percent of its weights loaded), is taken for hung: the engine is killed
   * and restarted. Default 120000.
   */
  hangTimeoutMs: z.number().int().max(MAX_TIMER_MS, TIMER_MS_MESSAGE).positive().default(120_000),
  /** Models by name (`local/<name>`). Default: every GGUF file in `<dataDir>/models`. */
  models: z.record(z.string().min(1), localModel).default({}),
});

/**
 * `kind: llamacpp`: the embedded engine. Always on this machine, free, and it lists its own models
 * (the configured ones or the data dir's GGUF files, read again on every request).
 */
export const llamacppKind: ProviderKind<typeof configSchema> = {
  configSchema,
  capabilities: { local: true, pricing: "free", discovery: "engine" },
  create(name, config, context) {
    const env = context.env ?? process.env;
    const provider = new LlamaCppProvider({
      id: name,
      dataDir: context.dataDir,
      models: config.models,
      threads: config.threads,
      gpu: config.gpu,
      gpuLayers: config.gpuLayers,
      parallel: config.parallel,
      maxQueue: config.maxQueue,
      keepAliveMs: config.keepAliveMs,
      hangTimeoutMs: config.hangTimeoutMs,
      onLog: context.onEngineLog,
      env,
    });
    return { provider, keys: new KeyPool([], env), local: true, models: undefined };
  },
  // Always there, so `tandem models pull` and Ollama's /api/pull have somewhere to put models; its
  // preferred (else first) model of the data dir goes first in `auto`.
  discover: ({ localModels = [], preferredLocal }) => [
    {
      name: "local",
      config: { kind: "llamacpp" as const },
      tier: preferredLocal && localModels.includes(preferredLocal) ? preferredLocal : localModels[0],
    },
  ],
};
