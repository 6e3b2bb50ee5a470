import {
  GgufInsights,
  InsufficientMemoryError,
  type Llama,
  type LlamaContext,
  type LlamaModel,
  readGgufFileInfo,
} from "node-llama-cpp";
import { DEFAULT_CONTEXT_CAP, type MemoryNeeds, type ModelSpec, windowCap } from "../engine-protocol.js";

/**
 * The smallest context a model with no configured contextSize is checked for: it loads with the
 * largest that fits up to its own (capped), so what must fit is a usable one, not the cap.
 */
const MIN_AUTO_CONTEXT = 2048;

/** How many times all free memory a rough context estimate must exceed to skip the precise one. */
const FAR_OFF = 4;

/**
 * What loading `spec` would take, by node-llama-cpp's own estimates (the ones its loader refuses
 * with when `ignoreMemorySafetyChecks` is off): the GPU layers it would offload (fitted to free VRAM
 * for "auto"), the weights' and the context's RAM and VRAM, and what is free now. Nothing is loaded.
 */
export async function memoryNeeds(llama: Llama, spec: ModelSpec): Promise<MemoryNeeds> {
  const insights = await GgufInsights.from(await readGgufFileInfo(spec.path), llama);
  const resolver = insights.configurationResolver;
  const [ram, vram] = await Promise.all([llama.getRamState(), llama.getVramState()]);
  let insufficient: string | undefined;
  let gpuLayers = typeof spec.gpuLayers === "number" ? spec.gpuLayers : 0;
  try {
    ({ gpuLayers } = await resolver.resolveModelGpuLayersV2(spec.gpuLayers, { ignoreMemorySafetyChecks: false }));
  } catch (err) {
    if (!(err instanceof InsufficientMemoryError)) throw err;
    insufficient = err.message;
  }
  const train = insights.trainContextSize ?? DEFAULT_CONTEXT_CAP;
  // A configured window loads capped at the trained context (see ModelHost's load).
  const contextSize =
    spec.contextSize === undefined ? Math.min(train, MIN_AUTO_CONTEXT) : windowCap(spec.contextSize, insights.trainContextSize);
  const contextOptions = { contextSize, modelGpuLayers: gpuLayers, sequences: spec.parallel };
  const model = await insights.estimateModelResourceRequirementsV2({ gpuLayers });
  // The precise estimate simulates the context and takes minutes for an absurd size (a typo'd
  // contextSize); the quick formula (which errs high) settles the sizes that are far out of reach.
  const rough = insights.estimateContextResourceRequirements(contextOptions);
  const farOff = rough.cpuRam + rough.gpuVram > FAR_OFF * (ram.free + vram.free);
  const context = farOff ? rough : await insights.estimateContextResourceRequirementsV2(contextOptions);
  return {
    path: spec.path,
    gpuLayers,
    totalLayers: insights.totalLayers,
    contextSize,
    sequences: spec.parallel,
    modelRam: model.cpuRam,
    modelVram: model.gpuVram,
    contextRam: context.cpuRam,
    contextVram: context.gpuVram,
    freeRam: ram.free,
    freeVram: vram.free,
    insufficient,
  };
}

/** Memory a loaded model holds, in RAM and in VRAM: weights and contexts. */
export interface Footprint {
  ramBytes: number;
  vramBytes: number;
}

/**
 * What a loaded model's weights and chat context hold, by node-llama-cpp's estimates for the
 * configuration it actually loaded (layers offloaded, context size, sequences, batch). llama.cpp
 * reports no per-model usage; Ollama's `/api/ps` shows such an estimate too (weights, KV cache and
 * compute buffers). The weights' size is the floor if the estimate fails.
 */
export async function loadedFootprint(model: LlamaModel, context: LlamaContext): Promise<Footprint> {
  try {
    const [weights, cache] = await Promise.all([
      model.fileInsights.estimateModelResourceRequirementsV2({ gpuLayers: model.gpuLayers }),
      model.fileInsights.estimateContextResourceRequirementsV2({
        contextSize: context.contextSize,
        modelGpuLayers: model.gpuLayers,
        sequences: context.totalSequences,
        batchSize: context.batchSize,
        flashAttention: context.flashAttention,
      }),
    ]);
    return { ramBytes: weights.cpuRam + cache.cpuRam, vramBytes: weights.gpuVram + cache.gpuVram };
  } catch {
    return { ramBytes: model.size, vramBytes: 0 };
  }
}

/** What an embedding context of `contextSize` tokens adds beside the weights (zero if unknown). */
export async function embeddingFootprint(model: LlamaModel, contextSize: number): Promise<Footprint> {
  try {
    const cache = await model.fileInsights.estimateContextResourceRequirementsV2({
      contextSize,
      modelGpuLayers: model.gpuLayers,
      sequences: 1,
      isEmbeddingContext: true,
    });
    return { ramBytes: cache.cpuRam, vramBytes: cache.gpuVram };
  } catch {
    return { ramBytes: 0, vramBytes: 0 };
  }
}
