import { getLlama, getLlamaGpuTypes, type Llama, type LlamaOptions } from "node-llama-cpp";
import type { EngineBackend, EngineGpu, EngineMemory } from "../engine-protocol.js";

type Common = Pick<LlamaOptions, "logLevel" | "logger">;

/**
 * Starts llama.cpp on the backend asked for: "auto" takes the best one node-llama-cpp finds a working
 * prebuilt binary for (it tests each in a separate process first and falls back to the next), a
 * named one that one. When the one asked for cannot start, the engine runs on the CPU instead of not
 * at all, and says why.
 */
export async function startLlama(requested: EngineGpu, common: Common): Promise<{ llama: Llama; backend: EngineBackend }> {
  let llama: Llama;
  let fallback: string | undefined;
  try {
    llama = await getLlama({ ...common, gpu: requested, build: "never" });
  } catch (err) {
    if (requested === false) throw err;
    fallback = `${requested} was asked for but could not start (${oneLine((err as Error).message)}); running on the CPU`;
    llama = await getLlama({ ...common, gpu: false, build: "never" });
  }
  if (llama.gpu === false && requested !== false && fallback === undefined) fallback = await whyCpu(requested);
  const devices = llama.gpu === false ? [] : await llama.getGpuDeviceNames().catch(() => []);
  return {
    llama,
    backend: { requested, gpu: llama.gpu || "cpu", devices, fallback, cpuMathCores: llama.cpuMathCores },
  };
}

/** Why "auto" (or a named GPU that node-llama-cpp fell back from) ended on the CPU. */
async function whyCpu(requested: EngineGpu): Promise<string | undefined> {
  const found = (await getLlamaGpuTypes("supported").catch(() => [])).filter((g) => g !== false);
  if (found.length === 0) {
    const none = "no GPU found (no NVIDIA driver with the CUDA runtime, no Vulkan loader)";
    return requested === "auto" ? none : `${requested} was asked for but ${none}; running on the CPU`;
  }
  return `${found.join(", ")} found but no working prebuilt binary for it (run \`tandem gpu install\`); running on the CPU`;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim().slice(0, 300);
}

/** RAM and VRAM as node-llama-cpp counts them (on macOS its RAM figure includes memory the system can reclaim). */
export async function engineMemory(llama: Llama): Promise<EngineMemory> {
  const [ram, vram] = await Promise.all([llama.getRamState(), llama.getVramState()]);
  return {
    ram: { total: ram.total, free: ram.free },
    vram: { total: vram.total, used: vram.used, free: vram.free },
    rssBytes: process.memoryUsage.rss(),
  };
}
