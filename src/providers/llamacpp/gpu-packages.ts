import { join } from "node:path";
import type { EngineGpu } from "./engine-protocol.js";

/**
 * Where `tandem gpu install` puts node-llama-cpp's prebuilt GPU binary packages: a folder of tandem's
 * data dir with its own node_modules, writable for a global install as for a root one and out of
 * reach of package.json `overrides`. The engine child resolves `@node-llama-cpp/*` there first.
 */
export function engineDir(dataDir: string): string {
  return join(dataDir, "engine");
}

export type GpuBackend = Exclude<EngineGpu, false | "auto">;

/**
 * The prebuilt binary packages node-llama-cpp loads a backend from on a platform (as its
 * getPrebuiltBinariesPackageDirectoryForBuildOptions looks for them), without versions; empty when
 * it publishes none (the backend would have to be built from source). CUDA comes in two packages:
 * the binaries and the CUDA libraries they need.
 */
export function binaryPackages(platform: NodeJS.Platform, arch: string, gpu: GpuBackend): string[] {
  const os = platform === "linux" ? "linux" : platform === "win32" ? "win" : platform === "darwin" ? "mac" : undefined;
  if (!os) return [];
  if (os === "mac") return gpu === "metal" && arch === "arm64" ? ["@node-llama-cpp/mac-arm64-metal"] : [];
  if (arch !== "x64" || gpu === "metal") return [];
  return gpu === "cuda"
    ? [`@node-llama-cpp/${os}-x64-cuda`, `@node-llama-cpp/${os}-x64-cuda-ext`]
    : [`@node-llama-cpp/${os}-x64-vulkan`];
}
